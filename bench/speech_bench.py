"""Speech recognition of bank requests: error rates, speed, and what the NLU makes of the transcripts.

The utterances are `bench/data/speech_utterances.jsonl` (zh-Hans and English bank requests, each with
the intent it asks). They are *synthetic speech*: rendered at run time with espeak-ng (and, with
`--piper`, English also with Piper's en_US-joe-medium voice when the optional extra is installed),
so the figures say how the recogniser copes with a robotic voice, not with customers' voices.

Each utterance is recognised as the server does (`helixdesk.speech.asr.SpeechRecognizer`, the
customer's language given) at 16 kHz (a voice note) and at 8 kHz (a phone call; the recogniser
resamples it), with and without the pack's bank vocabulary as the prompt. Printed per voice, rate and
prompt:

- CER for Mandarin (characters, after removing punctuation and spaces; the transcript is already
  Simplified) and WER for English (lower-cased words without punctuation);
- the median real-time factor (seconds of recognition per second of audio) on `--threads` threads;
- the NLU's intent accuracy on the transcripts, beside its accuracy on the typed texts (the product's
  NLU with the trained models of `--model-dir`).

    PYTHONPATH=src .venv/bin/python bench/speech_bench.py [--model-dir var/models] [--threads 2]
        [--limit N] [--piper] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helixdesk.core.settings import Settings  # noqa: E402
from helixdesk.edge.wiring import build_nlu  # noqa: E402
from helixdesk.packs.loader import load_pack  # noqa: E402
from helixdesk.speech.asr import SpeechRecognizer, pack_prompts  # noqa: E402
from helixdesk.speech.tts import EspeakSynthesizer, PiperSynthesizer, SpeechSynthesizer  # noqa: E402

DATA = ROOT / "bench" / "data" / "speech_utterances.jsonl"
RATES = (16000, 8000)
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Utterance:
    language: str
    intent: str
    text: str


def load(limit: int | None) -> list[Utterance]:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    out: list[Utterance] = []
    counts: dict[str, int] = {}
    for row in rows:
        u = Utterance(row["language"], row["intent"], row["text"])
        if limit is not None and counts.get(u.language, 0) >= limit:
            continue
        counts[u.language] = counts.get(u.language, 0) + 1
        out.append(u)
    return out


def edit_distance(a: list[str], b: list[str]) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def units(text: str, language: str) -> list[str]:
    """Characters of Mandarin, words of English, without punctuation."""
    if language.startswith("zh"):
        return list(_DROP.sub("", text))
    return [w for w in (_DROP.sub("", w).lower() for w in text.replace("'", "").split()) if w]


def error_rate(pairs: list[tuple[str, str, str]]) -> float:
    errors = sum(edit_distance(units(r, lang), units(h, lang)) for r, h, lang in pairs)
    total = sum(len(units(r, lang)) for r, _h, lang in pairs)
    return errors / total if total else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=ROOT / "var" / "models")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="utterances per language")
    parser.add_argument("--piper", action="store_true", help="also English with Piper (optional extra)")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()

    utterances = load(args.limit)
    voices: list[tuple[str, SpeechSynthesizer, tuple[str, ...]]] = [
        ("espeak-ng", EspeakSynthesizer(), ("zh-Hans", "en"))
    ]
    if args.piper:
        voices.append(("piper joe", PiperSynthesizer(), ("en",)))

    settings = Settings(_env_file=None, model_dir=args.model_dir)  # type: ignore[call-arg]
    nlu = build_nlu(settings, load_pack(settings.pack))
    nlu.warm_up()

    def intents(texts: list[str]) -> list[str | None]:
        turns = nlu.parse_batch(texts)
        return [t.intent.name if t.intent else None for t in turns]

    typed = intents([u.text for u in utterances])
    typed_ok = {
        lang: [p == u.intent for p, u in zip(typed, utterances, strict=True) if u.language == lang]
        for lang in ("zh-Hans", "en")
    }
    for lang, ok in typed_ok.items():
        print(f"NLU on the typed text, {lang}: {sum(ok)}/{len(ok)} intents right ({sum(ok) / len(ok):.1%})")

    recognizers = {
        "bank prompt": SpeechRecognizer(threads=args.threads),
        "no prompt": SpeechRecognizer(threads=args.threads, prompts={}),
    }
    started = time.perf_counter()
    recognizers["no prompt"].warm_up()
    print(f"model loaded in {time.perf_counter() - started:.1f} s; prompts: {pack_prompts()}")
    print()
    header = f"{'voice':<10} {'language':<8} {'rate':>6} {'prompt':<12} {'CER/WER':>8} {'RTF p50':>8} {'intent':>14}"
    print(header)
    print("-" * len(header))
    for voice_name, voice, languages in voices:
        for language in languages:
            chosen = [u for u in utterances if u.language == language]
            for rate in RATES:
                audio = [voice.synthesize(u.text, language, rate) for u in chosen]
                for prompt_name, recognizer in recognizers.items():
                    heard: list[str] = []
                    factors: list[float] = []
                    for pcm in audio:
                        began = time.perf_counter()
                        transcript = recognizer.transcribe(pcm, rate, language)
                        factors.append((time.perf_counter() - began) / max(transcript.duration_s, 1e-6))
                        heard.append(transcript.text)
                    rate_of_errors = error_rate(
                        [(u.text, h, language) for u, h in zip(chosen, heard, strict=True)]
                    )
                    got = intents(heard)
                    right = sum(g == u.intent for g, u in zip(got, chosen, strict=True))
                    print(
                        f"{voice_name:<10} {language:<8} {rate:>6} {prompt_name:<12} "
                        f"{rate_of_errors:>8.1%} {statistics.median(factors):>8.2f} "
                        f"{right:>4}/{len(chosen):<3} {right / len(chosen):>5.0%}",
                        flush=True,
                    )
                    if args.show_misses:
                        for u, h, g in zip(chosen, heard, got, strict=True):
                            if units(u.text, language) != units(h, language) or g != u.intent:
                                print(f"    {u.text!r} -> {h!r} [{g}]")
    print()
    print("CER/WER: edit distance over the typed text's characters (zh) or words (en). RTF: recognition")
    print("seconds per audio second. intent: the NLU's intent on the transcript equals the utterance's.")


if __name__ == "__main__":
    main()
