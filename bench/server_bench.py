"""Server start-up time and memory per worker, with the trained NLU models loaded.

    .venv/bin/python bench/server_bench.py [--runs 3] [--model-dir var/models]

Start-up is measured from launching `helixdesk serve` to the first successful `/healthz` (the
lifespan has loaded and warmed every model by then). Memory is the resident set size of the
server process after start-up and after 200 parsed messages.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.serverproc import Server


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model-dir", default="var/models")
    args = parser.parse_args()
    model_dir = Path(args.model_dir).resolve()
    if not (model_dir / "retail_bank").is_dir():
        sys.exit(f"no trained models in {model_dir}: run `helixdesk nlu train` first")
    starts, idle, busy = [], [], []
    texts = ["我的卡丢了怎么办", "my transfer hasn't arrived", "請問匯率多少", "昨天被扣了三千五，不是我买的"]
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                "HELIXDESK_DATABASE_URL": f"sqlite:///{tmp}/s.db",
                "HELIXDESK_MODEL_DIR": str(model_dir),
                "HELIXDESK_LOG_LEVEL": "warning",
            }
            started = time.perf_counter()
            server = Server(env, log=Path(tmp) / "server.log").start()
            starts.append(time.perf_counter() - started)
            try:
                assert server.proc is not None
                idle.append(rss_mb(server.proc.pid))
                with httpx.Client(base_url=server.base) as client:
                    for i in range(200):
                        client.post("/api/v1/nlu/parse", json={"text": f"{texts[i % 4]} {i}"})
                busy.append(rss_mb(server.proc.pid))
            finally:
                server.stop()
    print(
        f"server start-up with trained models (incl. migrations), median of {args.runs}: "
        f"{statistics.median(starts):.2f} s  (runs: {', '.join(f'{s:.2f}' for s in starts)})"
    )
    print(
        f"memory per worker (RSS): {statistics.median(idle):.0f} MB after start-up, "
        f"{statistics.median(busy):.0f} MB after 200 parses"
    )


if __name__ == "__main__":
    main()
