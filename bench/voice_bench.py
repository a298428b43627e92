"""The phone channel: menu choices, what the bot understands of spoken questions, error rates, speed.

Everything spoken here is *synthetic speech* (espeak-ng at the telephone's 8 kHz, rendered at run
time), so the figures describe a robotic voice on a clean line, not callers.

1. Menu by key: each item's key as an AudioSocket DTMF frame through the frame decoder and the menu.
2. Menu by voice: for each item, its lone digit ("one", "一") and its keyword ("balance", "余额"),
   spoken, cut by the call's voice activity detection and recognised as the call's first utterance
   (no language given: Mandarin or English detected), then matched by the menu.
3. Spoken questions: the bank requests of `bench/data/speech_utterances.jsonl` (our own texts, each
   with its intent; `--limit` per language), through the VAD and the recogniser in the caller's
   language: CER (Mandarin) / WER (English), the NLU's intent on the transcript against on the typed
   text, and the real-time factor (recognition seconds per second of audio, median).

    PYTHONPATH=src .venv/bin/python bench/voice_bench.py [--model-dir var/models] [--limit 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from speech_bench import error_rate, load  # noqa: E402

from helixdesk.channels.phone import audiosocket as aso  # noqa: E402
from helixdesk.channels.phone.call import CallConfig  # noqa: E402
from helixdesk.channels.phone.menu import VoiceMenu, listen_for_choice  # noqa: E402
from helixdesk.channels.phone.vad import Utterance, VoiceActivity  # noqa: E402
from helixdesk.core.settings import Settings  # noqa: E402
from helixdesk.edge.wiring import build_nlu  # noqa: E402
from helixdesk.packs.loader import load_pack  # noqa: E402
from helixdesk.speech.asr import SpeechRecognizer  # noqa: E402
from helixdesk.speech.tts import EspeakSynthesizer  # noqa: E402

# item -> the lone digit and the keyword a caller would say, per language
SAID: dict[str, dict[str, tuple[str, str]]] = {
    "balance": {"zh-Hans": ("一", "余额"), "en": ("one", "balance")},
    "cards": {"zh-Hans": ("二", "信用卡"), "en": ("two", "credit card")},
    "loans": {"zh-Hans": ("三", "贷款"), "en": ("three", "loan")},
    "lost_card": {"zh-Hans": ("四", "挂失"), "en": ("four", "lost card")},
    "person": {"zh-Hans": ("零", "人工客服"), "en": ("zero", "agent")},
}


def cut(pcm: bytes) -> bytes:
    """`pcm` as the call hears it: framed, with a second of silence after, cut by the VAD."""
    vad = VoiceActivity()
    stream = b"\x00" * 3200 + pcm + b"\x00" * 16000
    found = [
        e
        for i in range(0, len(stream), aso.FRAME_BYTES)
        for e in vad.push(stream[i : i + aso.FRAME_BYTES])
        if isinstance(e, Utterance)
    ]
    return b"".join(u.pcm16 for u in found) or pcm


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=ROOT / "var" / "models")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=10, help="spoken questions per language")
    args = parser.parse_args()

    menu = VoiceMenu.for_pack("retail_bank")
    voice = EspeakSynthesizer()
    recognizer = SpeechRecognizer(threads=args.threads)
    recognizer.warm_up()

    decoder = aso.FrameDecoder()
    keyed = [menu.by_key(f.digit) for f in decoder.feed(b"".join(aso.dtmf(i.key) for i in menu.items))]
    right = sum(1 for got, item in zip(keyed, menu.items, strict=True) if got is item)
    print(f"menu by key (DTMF): {right}/{len(menu.items)}")

    rtf: list[float] = []
    for language in ("zh-Hans", "en"):
        for which, index in (("lone digit", 0), ("keyword", 1)):
            first_ok = ok = wrong = 0
            misses = []
            for name, said in SAID.items():
                text = said[language][index]
                pcm = cut(voice.synthesize(text, language, aso.RATE))
                started = time.perf_counter()
                heard = recognizer.transcribe(pcm, aso.RATE, None)
                rtf.append((time.perf_counter() - started) / max(heard.duration_s, 0.1))
                got = menu.by_speech(heard.text)
                first_ok += got is not None and got.name == name
                again: list[str] = []
                if got is None and heard.duration_s <= CallConfig().menu_answer_seconds:
                    # As a call does: heard again expecting the menu's words, in either language.
                    got, _chosen, transcripts = listen_for_choice(
                        recognizer,
                        menu,
                        pcm,
                        aso.RATE,
                        None,
                        min_confidence=CallConfig().menu_choice_confidence,
                    )
                    again = [t.text for t in transcripts]
                if got is not None and got.name == name:
                    ok += 1
                else:
                    wrong += got is not None
                    misses.append(f"{text}->{[heard.text, *again]!r}")
            print(
                f"menu by voice, {language}, {which}: {ok}/{len(SAID)} right, {wrong} wrong "
                f"(first listen alone {first_ok} right)  misses: {'; '.join(misses) or '-'}"
            )

    settings = Settings(_env_file=None, model_dir=args.model_dir)  # type: ignore[call-arg]
    nlu = build_nlu(settings, load_pack(settings.pack))
    nlu.warm_up()
    utterances = load(args.limit)
    for language in ("zh-Hans", "en"):
        asked = [u for u in utterances if u.language == language]
        heard_texts = []
        for u in asked:
            pcm = cut(voice.synthesize(u.text, language, aso.RATE))
            started = time.perf_counter()
            heard = recognizer.transcribe(pcm, aso.RATE, language)
            rtf.append((time.perf_counter() - started) / max(heard.duration_s, 0.1))
            heard_texts.append(heard.text)
        typed = nlu.parse_batch([u.text for u in asked])
        spoken = nlu.parse_batch(heard_texts)
        typed_ok = sum(1 for t, u in zip(typed, asked, strict=True) if t.intent and t.intent.name == u.intent)
        spoken_ok = sum(
            1 for t, u in zip(spoken, asked, strict=True) if t.intent and t.intent.name == u.intent
        )
        rate = error_rate([(u.text, h, language) for u, h in zip(asked, heard_texts, strict=True)])
        measure = "CER" if language.startswith("zh") else "WER"
        print(
            f"questions, {language}: {measure} {rate:.1%}; intent on the transcript {spoken_ok}/{len(asked)} "
            f"(typed: {typed_ok}/{len(asked)})"
        )
    print(
        f"real-time factor: median {statistics.median(rtf):.2f}, max {max(rtf):.2f} on {args.threads} threads"
    )


if __name__ == "__main__":
    main()
