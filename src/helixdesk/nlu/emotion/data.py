"""Training and evaluation data for the emotion model.

Labels are the nine of `helixdesk.core.turn.EMOTIONS` (Plutchik's eight plus `neutral`). An example
may carry several labels (XED is multi-label); the model learns each label of a multi-label example
with weight 1/len(labels).

Sources:

- the pack's `nlu/emotions.yaml`: `{label: {zh-Hans: [...], zh-Hant: [...], en: [...]}}`
  (`load_pack_examples`);
- a held-out JSONL file, one `{"text", "label" (or "emotion"), "intensity"?, "language"?,
  "previous"?, "case"?}` per line (`load_jsonl_examples`): `previous` is the customer's message
  before this one in the same conversation (context), `case` a free tag for reporting (e.g.
  "sarcasm", "routine"); the pack's held-out files are `nlu/heldout/emotions*.jsonl`
  (`pack_heldout_files`);
- XED (Öhman et al., COLING 2020; CC BY 4.0) read from a local copy, never downloaded
  (`load_xed`). Files are `sentence<TAB>label[, label...]` with ids in alphabetical order:
  1 anger, 2 anticipation, 3 disgust, 4 fear, 5 joy, 6 sadness, 7 surprise, 8 trust. Every line of
  `neu_en.txt` is neutral (its id column reads 9 in our copy, 0 in the XED README).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.turn import EMOTIONS

NEUTRAL = "neutral"
NEGATIVE: tuple[str, ...] = ("anger", "disgust", "fear", "sadness")
XED_LABELS: dict[int, str] = {
    1: "anger",
    2: "anticipation",
    3: "disgust",
    4: "fear",
    5: "joy",
    6: "sadness",
    7: "surprise",
    8: "trust",
}
PACKS_ROOT = Path(__file__).resolve().parents[2] / "packs"
DEFAULT_PACK = "retail_bank"
PACK_EMOTIONS = Path("nlu") / "emotions.yaml"
PACK_HELDOUT = Path("nlu") / "heldout" / "emotions.jsonl"
PACK_HELDOUT_GLOB = "emotions*.jsonl"  # every held-out file of a pack: nlu/heldout/emotions*.jsonl
# The shared evaluation data sits next to the repository checkout (`../shared/data`).
DEFAULT_DATA_ROOT = Path(__file__).resolve().parents[4].parent / "shared" / "data"

# XED parts: (relative path, kind). "annotated" lines carry label ids; "neutral" lines are all neutral.
XED_PARTS: dict[str, tuple[str, str]] = {
    "en": ("AnnotatedData/en-annotated.tsv", "annotated"),
    "en_neutral": ("AnnotatedData/neu_en.txt", "neutral"),
    "cn": ("Projections/cn-projections.tsv", "annotated"),
    "tw": ("Projections/tw-projections.tsv", "annotated"),
}


class EmotionDataError(ValidationFailedError):
    code = "emotion_data_invalid"


@dataclass(frozen=True, slots=True)
class EmotionExample:
    text: str
    labels: tuple[str, ...]
    language: str = ""
    source: str = ""
    intensity: float | None = None
    previous: str = ""  # the customer's previous message in the conversation, when known
    case: str = ""  # a reporting tag of held-out lines ("sarcasm", "routine", ...)

    @property
    def label(self) -> str:
        """The first (primary) label."""
        return self.labels[0]


def pack_dir(name: str = DEFAULT_PACK) -> Path:
    return PACKS_ROOT / name


def default_xed_dir() -> Path:
    return DEFAULT_DATA_ROOT / "xed"


def canonical_emotion(label: str, where: str) -> str:
    name = label.strip().lower()
    if name not in EMOTIONS:
        raise EmotionDataError(f"{where}: unknown emotion {label!r}; expected one of {', '.join(EMOTIONS)}")
    return name


def load_pack_examples(path: Path) -> list[EmotionExample]:
    """Examples from a pack's `emotions.yaml` (or a pack folder holding `nlu/emotions.yaml`)."""
    if path.is_dir():
        path = path / PACK_EMOTIONS
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise EmotionDataError(f"emotion training data not found: {path}") from e
    except yaml.YAMLError as e:
        raise EmotionDataError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise EmotionDataError(f"{path}: expected a mapping {{emotion: {{language: [examples]}}}}")
    if isinstance(data.get("emotions"), dict):  # tolerate a top-level `emotions:` key
        data = data["emotions"]
    out: list[EmotionExample] = []
    for raw_label, by_lang in data.items():
        label = canonical_emotion(str(raw_label), str(path))
        if isinstance(by_lang, list):
            by_lang = {"": by_lang}
        if not isinstance(by_lang, dict):
            raise EmotionDataError(f"{path}: {raw_label}: expected {{language: [examples]}}")
        for lang, texts in by_lang.items():
            for text in texts or []:
                if isinstance(text, str) and text.strip():
                    out.append(EmotionExample(text.strip(), (label,), str(lang), "pack"))
    return out


def load_jsonl_examples(path: Path) -> list[EmotionExample]:
    """Examples from a JSONL file of `{"text", "label"|"emotion", "intensity"?, "language"?}` objects."""
    out: list[EmotionExample] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise EmotionDataError(f"{where}: not valid JSON: {e}") from e
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise EmotionDataError(f"{where}: expected an object with a 'text' string")
        raw = row.get("label", row.get("emotion", row.get("labels")))
        raws: list[Any] = raw if isinstance(raw, list) else [raw]
        if not raws or not all(isinstance(r, str) for r in raws):
            raise EmotionDataError(f"{where}: expected a 'label' string")
        labels = tuple(canonical_emotion(str(r), where) for r in raws)
        intensity = row.get("intensity")
        previous = row.get("previous") or ""
        if not isinstance(previous, str):
            raise EmotionDataError(f"{where}: 'previous' must be a string")
        out.append(
            EmotionExample(
                row["text"],
                labels,
                str(row.get("language", row.get("lang", ""))),
                "jsonl",
                None if intensity is None else float(intensity),
                previous=previous,
                case=str(row.get("case") or ""),
            )
        )
    return out


def pack_heldout_files(pack_path: Path) -> list[Path]:
    """The pack's held-out files (`nlu/heldout/emotions*.jsonl`), `emotions.jsonl` first."""
    folder = (pack_path if pack_path.is_dir() else pack_path.parent.parent) / PACK_HELDOUT.parent
    if not folder.is_dir():
        return []
    files = sorted(folder.glob(PACK_HELDOUT_GLOB))
    return sorted(files, key=lambda f: (f.name != PACK_HELDOUT.name, f.name))


def load_examples(source: str | Path) -> list[EmotionExample]:
    """`"pack"`, a pack name, a pack folder, an `emotions.yaml` file or a JSONL file."""
    text = str(source)
    if text == "pack":
        return load_pack_examples(pack_dir())
    path = Path(source)
    if not path.exists() and "/" not in text and (PACKS_ROOT / text).is_dir():
        return load_pack_examples(PACKS_ROOT / text)
    if path.suffix.lower() == ".jsonl":
        return load_jsonl_examples(path)
    return load_pack_examples(path)


def _parse_xed(path: Path, kind: str, language: str, source: str) -> list[EmotionExample]:
    out: list[EmotionExample] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        if kind == "neutral":
            text = parts[1].strip()
            labels: tuple[str, ...] = (NEUTRAL,)
        else:
            text = parts[0].strip()
            ids = [p.strip() for p in parts[1].split(",")]
            if not ids or not all(i.isdigit() and int(i) in XED_LABELS for i in ids):
                continue  # malformed line (text in the label column)
            labels = tuple(dict.fromkeys(XED_LABELS[int(i)] for i in ids))
        if text:
            out.append(EmotionExample(text, labels, language, source))
    return out


def load_xed(xed_dir: Path, parts: Iterable[str] = ("en", "en_neutral", "cn", "tw")) -> list[EmotionExample]:
    """XED examples of the named `parts` (see `XED_PARTS`); missing files are skipped."""
    out: list[EmotionExample] = []
    for part in parts:
        rel, kind = XED_PARTS[part]
        path = xed_dir / rel
        if path.is_file():
            language = {"cn": "zh-Hans", "tw": "zh-Hant"}.get(part, "en")
            out.extend(_parse_xed(path, kind, language, f"xed:{part}"))
    return out


def xed_files(xed_dir: Path, parts: Iterable[str]) -> list[Path]:
    return [xed_dir / XED_PARTS[p][0] for p in parts if (xed_dir / XED_PARTS[p][0]).is_file()]


def examples_sha256(examples: Sequence[EmotionExample]) -> str:
    """A hash of the examples themselves (order-sensitive), for data given in memory."""
    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps([e.text, list(e.labels)], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def label_counts(examples: Sequence[EmotionExample]) -> dict[str, int]:
    counts: dict[str, Any] = dict.fromkeys(EMOTIONS, 0)
    for e in examples:
        for label in e.labels:
            counts[label] += 1
    return counts
