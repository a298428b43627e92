"""PII detection and masking: recall per type, false positives on look-alikes, throughput.

Uses the deterministic corpus of tests/privacy_corpus.py (fixed seed): messages with card, ID,
phone, e-mail, account numbers and secrets in varied formats, and look-alike numbers that are not
personal data. Throughput is the median over several runs of masking the whole corpus.

    .venv/bin/python bench/privacy_bench.py [--n 1200] [--runs 5] [--examples 10]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helixdesk.privacy import find_pii, mask_text
from helixdesk.privacy.crypto import Keyring, generate_key
from helixdesk.privacy.logs import mask_record
from tests.privacy_corpus import false_positives, lookalike_messages, pii_messages, recall


def _median_rate(texts: list[str], runs: int) -> tuple[float, float]:
    """(messages per second, microseconds per message), medians over `runs`."""
    per_msg = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for t in texts:
            mask_text(t)
        per_msg.append((time.perf_counter() - t0) / len(texts))
    median = statistics.median(per_msg)
    return 1 / median, median * 1e6


def _median_us(fn, n: int, runs: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1200, help="messages of each kind")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--examples", type=int, default=10, help="misses and false positives to print")
    args = parser.parse_args()

    pii = pii_messages(args.n)
    looks = lookalike_messages(args.n)
    items = sum(len(s.items) for s in pii)
    print(f"corpus: {len(pii)} messages with {items} personal-data items, {len(looks)} look-alike messages")

    r = recall(pii, find_pii)
    print("\nrecall per type (item fully covered by a masked span / right type too)")
    print(f"  {'type':<16}{'items':>7}{'recall':>9}{'typed':>9}")
    for kind in sorted(r.total):
        total = r.total[kind]
        print(
            f"  {kind:<16}{total:>7}{r.covered.get(kind, 0) / total:>9.1%}{r.typed.get(kind, 0) / total:>9.1%}"
        )
    covered = sum(r.covered.values())
    print(f"  {'all':<16}{items:>7}{covered / items:>9.1%}")
    for sample, item in r.misses[: args.examples]:
        print(f"  missed {item.type}: {item.text!r} in {sample.text!r}")

    fp = false_positives(looks, find_pii)
    print(f"\nfalse positives: {fp.flagged} of {fp.messages} look-alike messages ({fp.rate:.2%})")
    kinds = sorted({s.kind for s in looks})
    for kind in kinds:
        n = sum(1 for s in looks if s.kind == kind)
        print(f"  {kind:<16}{fp.by_kind.get(kind, 0):>5} / {n}")
    if fp.by_type:
        print("  flagged as: " + ", ".join(f"{k} {v}" for k, v in sorted(fp.by_type.items())))
    for sample, text in fp.examples[: args.examples]:
        print(f"  {sample.kind}: {text!r} in {sample.text!r}")

    texts = [s.text for s in pii] + [s.text for s in looks]
    per_s, us = _median_rate(texts, args.runs)
    pii_per_s, pii_us = _median_rate([s.text for s in pii], args.runs)
    clean = [s.text for s in looks]
    clean_per_s, clean_us = _median_rate(clean, args.runs)
    print(f"\nmasking throughput (median of {args.runs} runs, one core)")
    print(f"  whole corpus      {per_s:>9,.0f} messages/s  {us:6.1f} µs/message")
    print(f"  with PII          {pii_per_s:>9,.0f} messages/s  {pii_us:6.1f} µs/message")
    print(f"  look-alikes       {clean_per_s:>9,.0f} messages/s  {clean_us:6.1f} µs/message")

    ring = Keyring.parse(generate_key("bench"))
    token = ring.encrypt("6222021234567890128", aad="pii_values:m:0")
    enc = _median_us(lambda: ring.encrypt("6222021234567890128", aad="pii_values:m:0"), 5000, args.runs)
    dec = _median_us(lambda: ring.decrypt(token, aad="pii_values:m:0"), 5000, args.runs)
    print(f"  AES-GCM encrypt   {enc:6.1f} µs/value, decrypt {dec:6.1f} µs/value")

    def log_record() -> None:
        record = logging.LogRecord(
            "x", logging.INFO, __file__, 1, "turn %s for %s took %d ms", ("ok", "c-1", 9), None
        )
        mask_record(record)

    print(f"  log record mask   {_median_us(log_record, 5000, args.runs):6.1f} µs/record (no PII)")


if __name__ == "__main__":
    main()
