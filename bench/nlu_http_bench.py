"""NLU parse over HTTP: Helixdesk `POST /api/v1/nlu/parse` next to a Rasa 3.6 NLU server.

    .venv/bin/python bench/nlu_http_bench.py                      # wrk, 1 and 8 connections, 10 s, 3 runs
    .venv/bin/python bench/nlu_http_bench.py --client httpx       # Python asyncio client instead of wrk
    .venv/bin/python bench/nlu_http_bench.py --compare cb8f635    # also an older commit, same run
    bash bench/rasa_baseline.sh                                    # builds the Rasa baseline (once)

Texts: the Banking77 test set (`$HELIXDESK_SHARED_DATA/banking77/test.csv`, default
`../shared/data` next to the checkout), whitespace collapsed and duplicates dropped, JSON-encoded
once into request bodies. Every level of every run gets a freshly started server (empty caches), is
warmed up with training-set sentences, and is then sent the test sentences in order, each once: a
server only sees a sentence again if it answers more of them than the set holds within `--seconds`
(the `passes` column then shows more than 1.0 and a note is printed; use fewer seconds).

Load: closed loop for `--seconds` at each `--clients` level, one connection per client. By default
`wrk` (Debian package `wrk`) with one thread and a Lua script that cycles through the bodies and
records nothing but wrk's own latency statistics; without wrk, or with `--client httpx`, an httpx
asyncio client does the same (each client sends its next request when the last one was answered).
Errors are connection errors and timeouts; non-2xx are HTTP error answers (wrk counts status >= 400).

Servers: Helixdesk from this checkout with one worker, on a SQLite database of its own with an API
key of scope `nlu` and every per-client rate limit off; Rasa (`rasa run --enable-api`, one process)
when `--rasa-dir` holds `venv/` and `project/models/banking77-nlu.tar.gz`; and with `--compare REV`
Helixdesk at REV, from a temporary worktree on the same venv and models. One server runs at a time
and their order rotates from run to run so machine noise hits all of them alike. The table shows
medians over `--runs` runs (errors summed) and the ratio of each Helixdesk to Rasa per level.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import worktree  # noqa: E402

from tests.serverproc import Server, free_port  # noqa: E402

HELIXDESK_PATH = "/api/v1/nlu/parse"
RASA_PATH = "/model/parse"
RASA_MODEL = "project/models/banking77-nlu.tar.gz"
KEY_ENV = "NLU_BENCH_API_KEY"
WARMUP = 150

# One wrk thread: `request()` hands out the pre-built requests in order, wrapping at the end; the
# counter is read back in `done()`, which prints wrk's own figures on one line.
WRK_LUA = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  local key = os.getenv("NLU_BENCH_API_KEY")
  if key and key ~= "" then
    headers["X-Api-Key"] = key
  end
  prepared = {}
  for body in io.lines(args[1]) do
    prepared[#prepared + 1] = wrk.format("POST", args[2], headers, body)
  end
  sent = 0
end

function request()
  local req = prepared[sent % #prepared + 1]
  sent = sent + 1
  return req
end

function done(summary, latency, _)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("sent")
  end
  local e = summary.errors
  io.write(string.format(
    "NLU_BENCH requests=%.0f duration_us=%.0f p50_us=%.0f p99_us=%.0f sent=%.0f errors=%.0f non2xx=%.0f\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), total,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass
class Target:
    label: str
    path: str
    env: dict[str, str] | None = None  # a Helixdesk server's settings; None: Rasa
    key: str | None = None
    runs: dict[int, list[dict[str, float]]] = field(default_factory=dict)


def shared_data() -> Path:
    return Path(os.environ.get("HELIXDESK_SHARED_DATA", ROOT.parent / "shared/data")) / "banking77"


def sentences(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        texts = (" ".join(row["text"].split()) for row in csv.DictReader(f))
        return list(dict.fromkeys(t for t in texts if t))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# --- servers -------------------------------------------------------------------------------------


def helixdesk_env(src: Path, tmp: Path, model_dir: str) -> dict[str, str]:
    # Generated keys (encryption) go next to the SQLite file, in tmp.
    return {
        "PYTHONPATH": str(src),
        "HELIXDESK_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "HELIXDESK_MODEL_DIR": str(Path(model_dir).resolve()),
        "HELIXDESK_LOG_LEVEL": "warning",
        "HELIXDESK_SECRET_KEY": "n" * 40,
        # One client address and one API key send everything: no per-client limits.
        "HELIXDESK_RATE_LIMIT_IP_PER_MINUTE": "0",
        "HELIXDESK_RATE_LIMIT_API_KEY_PER_MINUTE": "0",
    }


def api_key(env: dict[str, str]) -> str:
    """Migrate the database and create a key of scope `nlu` with the same code and settings."""
    full = {**os.environ, **env}
    for cmd in (
        ["db", "upgrade"],
        ["apikeys", "create", "--name", "bench", "--channel", "api", "--scope", "nlu"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "helixdesk", *cmd], env=full, capture_output=True, text=True
        )
        if done.returncode != 0:
            sys.exit(f"`helixdesk {' '.join(cmd)}` failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1].strip()


@contextlib.contextmanager
def helixdesk(env: dict[str, str], log: Path) -> Iterator[str]:
    server = Server(env, workers=1, log=log)
    try:  # stopped also when start-up is interrupted
        try:
            server.start(timeout=180)
        except RuntimeError as exc:
            sys.exit(f"Helixdesk did not start ({exc}); see {log}")
        yield server.base
    finally:
        server.stop()


@contextlib.contextmanager
def rasa(rasa_dir: Path, log: Path) -> Iterator[str]:
    port = free_port()
    cmd = [str(rasa_dir / "venv/bin/rasa"), "run", "--enable-api", "-m", str(rasa_dir / RASA_MODEL)]
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*cmd, "-i", "127.0.0.1", "-p", str(port)],
            cwd=rasa_dir / "project",
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                sys.exit(f"Rasa exited with {proc.returncode}; see {log}")
            try:
                if httpx.post(base + RASA_PATH, json={"text": "hello"}, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"Rasa did not answer within 300 s; see {log}")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


# --- load ----------------------------------------------------------------------------------------


def wrk_level(
    url: str, key: str | None, clients: int, seconds: float, bodies: Path, lua: Path
) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(lua)]
    env = {**os.environ, KEY_ENV: key or ""}
    path = httpx.URL(url).path
    done = subprocess.run([*cmd, url, "--", str(bodies), path], env=env, capture_output=True, text=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("NLU_BENCH ")), None)
    if done.returncode != 0 or line is None:
        sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout[-1000:]}{done.stderr[-1000:]}")
    got = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}
    return {
        "rps": got["requests"] / (got["duration_us"] / 1e6),
        "p50": got["p50_us"] / 1000,
        "p99": got["p99_us"] / 1000,
        "errors": got["errors"],
        "non2xx": got["non2xx"],
        "sent": got["sent"],
    }


async def httpx_level(
    url: str, key: str | None, clients: int, seconds: float, bodies: list[bytes]
) -> dict[str, float]:
    latencies: list[float] = []
    errors = non2xx = sent = 0
    headers = {"Content-Type": "application/json", **({"X-Api-Key": key} if key else {})}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:

        async def worker() -> None:
            nonlocal errors, non2xx, sent
            while time.perf_counter() < deadline:
                body = bodies[sent % len(bodies)]
                sent += 1
                began = time.perf_counter()
                try:
                    r = await client.post(url, content=body)
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - began) * 1000)
                non2xx += not 200 <= r.status_code < 300

        began = time.perf_counter()
        deadline = began + seconds
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": pct(latencies, 99) if latencies else float("nan"),
        "errors": errors,
        "non2xx": non2xx,
        "sent": sent,
    }


async def warm_up(url: str, key: str | None, texts: list[str]) -> None:
    """A few hundred parses of sentences outside the test set: lazy loading, first-call costs."""
    headers = {"X-Api-Key": key} if key else {}
    todo = iter(texts[:WARMUP])
    async with httpx.AsyncClient(timeout=60, headers=headers) as client:

        async def worker() -> None:
            for text in todo:
                (await client.post(url, json={"text": text})).raise_for_status()

        await asyncio.gather(*(worker() for _ in range(4)))


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--client", choices=["wrk", "httpx"], default="wrk", help="load generator")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8], help="connections per level")
    parser.add_argument("--seconds", type=float, default=10, help="length of each level")
    parser.add_argument("--runs", type=int, default=3, help="runs of every level; the table shows medians")
    parser.add_argument("--compare", metavar="REV", help="also measure Helixdesk at this commit")
    parser.add_argument(
        "--rasa-dir",
        type=Path,
        default=Path(os.environ.get("RASA_DIR", Path(__file__).resolve().parents[1] / "var" / "rasa")),
        help="holds venv/ and project/models/banking77-nlu.tar.gz (bench/rasa_baseline.sh)",
    )
    parser.add_argument("--model-dir", default="var/models", help="trained Helixdesk NLU models")
    args = parser.parse_args()

    data = shared_data()
    if not (data / "test.csv").is_file():
        sys.exit(
            f"Banking77 not found: {data / 'test.csv'} is missing. Set HELIXDESK_SHARED_DATA to the "
            "folder that holds banking77/ (test.csv: text,category)."
        )
    if not (Path(args.model_dir) / "retail_bank").is_dir():
        sys.exit(f"no trained models in {args.model_dir}: run `helixdesk nlu train` first")
    texts = sentences(data / "test.csv")
    test_set = set(texts)
    warm = (
        [t for t in sentences(data / "train.csv") if t not in test_set]
        if (data / "train.csv").is_file()
        else []
    )
    warm = warm or ["hello", "where is my card?", "what is the exchange rate today?"] * (WARMUP // 3)
    client = args.client
    if client == "wrk" and shutil.which("wrk") is None:
        print("wrk not found (apt-get install wrk); falling back to --client httpx", file=sys.stderr)
        client = "httpx"
    rasa_ok = (args.rasa_dir / "venv/bin/rasa").is_file() and (args.rasa_dir / RASA_MODEL).is_file()
    if not rasa_ok:
        print(
            f"no Rasa baseline in {args.rasa_dir} (venv/bin/rasa, {RASA_MODEL}); measuring Helixdesk only. "
            "bash bench/rasa_baseline.sh builds one; point --rasa-dir or RASA_DIR at it.",
            file=sys.stderr,
        )

    # SIGTERM ends the run like ctrl-C does: every server and the worktree are cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        bodies = tmp / "bodies.jsonl"
        bodies.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="ascii")
        body_bytes = bodies.read_bytes().splitlines()
        lua = tmp / "parse.lua"
        lua.write_text(WRK_LUA, encoding="utf-8")

        trees = {"helixdesk": ROOT / "src"}
        if args.compare:
            old = stack.enter_context(worktree(args.compare)) / "src"
            trees = {f"hd@{args.compare[:9]}": old, **trees}
        targets: list[Target] = []
        for label, src in trees.items():
            where = tmp / label.replace("@", "-")
            where.mkdir()
            env = helixdesk_env(src, where, args.model_dir)
            targets.append(Target(label, HELIXDESK_PATH, env, api_key(env)))
        if rasa_ok:
            targets.append(Target("rasa", RASA_PATH))

        for run in range(args.runs):
            turn = run % len(targets)
            for clients in args.clients:
                for target in targets[turn:] + targets[:turn]:
                    log = tmp / f"{target.label.replace('@', '-')}-{run}-{clients}.log"
                    server = helixdesk(target.env, log) if target.env else rasa(args.rasa_dir, log)
                    with server as base:
                        url, key = base + target.path, target.key
                        asyncio.run(warm_up(url, key, warm))
                        if client == "wrk":
                            found = wrk_level(url, key, clients, args.seconds, bodies, lua)
                        else:
                            found = asyncio.run(httpx_level(url, key, clients, args.seconds, body_bytes))
                    target.runs.setdefault(clients, []).append(found)
                    print(
                        f"  run {run + 1}/{args.runs} {target.label:<14} {clients:>3} conn  "
                        f"{found['rps']:7.1f} req/s  p50 {found['p50']:6.1f} ms",
                        file=sys.stderr,
                        flush=True,
                    )

    generator = "wrk, 1 thread" if client == "wrk" else "httpx asyncio"
    print(
        f"\nPOST parse, {generator}, closed loop, {len(texts)} distinct Banking77 test sentences, "
        f"{args.seconds:g} s a level, fresh server each level, medians of {args.runs} run(s)"
    )
    print(
        f"{'server':<14} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'non-2xx':>8} {'passes':>7}"
    )
    medians: dict[tuple[str, int], dict[str, float]] = {}
    wrapped = False
    for clients in args.clients:
        for target in targets:
            runs = target.runs[clients]
            med = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")}
            medians[target.label, clients] = med
            passes = max(r["sent"] for r in runs) / len(texts)
            wrapped |= passes > 1
            print(
                f"{target.label:<14} {clients:>5} {med['rps']:>8.1f} {med['p50']:>8.1f} {med['p99']:>8.1f} "
                f"{int(sum(r['errors'] for r in runs)):>7} {int(sum(r['non2xx'] for r in runs)):>8} {passes:>7.2f}"
            )
    if rasa_ok:
        print("\nHelixdesk / Rasa (req/s above 1: Helixdesk serves more; latency below 1: it answers sooner)")
        for clients in args.clients:
            base = medians["rasa", clients]
            for label in trees:
                own = medians[label, clients]
                print(
                    f"{label:<14} {clients:>5} conns  req/s x{own['rps'] / base['rps']:.2f}  "
                    f"p50 x{own['p50'] / base['p50']:.2f}  p99 x{own['p99'] / base['p99']:.2f}"
                )
    if wrapped:
        print(
            f"\nnote: some server answered more than the {len(texts)} sentences within {args.seconds:g} s, "
            "so it saw sentences again (passes > 1) and a cache could help it; use fewer --seconds."
        )


if __name__ == "__main__":
    main()
