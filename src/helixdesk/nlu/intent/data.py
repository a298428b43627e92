"""Training and evaluation data for the intent classifier.

Sources (`load_examples`):

- `"pack"` or a pack name (a folder under `helixdesk/packs/`): every `nlu/intents/*.yaml` file of the
  pack, each `{intent: NAME, examples: {zh-Hans: [...], zh-Hant: [...], en: [...]}}`;
- a YAML file in that format, or a folder of them;
- a CSV file with a header: a `text` column and a `label` (or `intent` / `category`) column;
- a JSON file holding a list of `{text, label}` objects (or `{"examples": [...]}`);
- a JSONL file, one `{text, label}` object per line (`intent` is accepted for `label`).

Out-of-scope labels (`oos`, `out_of_scope`) are canonicalised to `OOS_LABEL`.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helixdesk.core.errors import ValidationFailedError

OOS_LABEL = "out_of_scope"
OOS_ALIASES = frozenset({"oos", "out_of_scope", "out-of-scope"})
PACKS_ROOT = Path(__file__).resolve().parents[2] / "packs"
DEFAULT_PACK = "retail_bank"


class DataError(ValidationFailedError):
    code = "nlu_data_invalid"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    language: str = ""


def canonical_label(label: str) -> str:
    label = label.strip()
    return OOS_LABEL if label.lower() in OOS_ALIASES else label


def is_oos(label: str) -> bool:
    return label.strip().lower() in OOS_ALIASES


def pack_dir(name: str = DEFAULT_PACK) -> Path:
    return PACKS_ROOT / name


def pack_intents(root: Path) -> list[str]:
    """The intents a pack's training data names (`intent:` of each `nlu/intents/*.yaml`, read from
    the file's first lines without parsing its examples), sorted."""
    names: set[str] = set()
    for path in sorted((root / "nlu" / "intents").glob("*.y*ml")):
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.startswith("intent:"):
                    names.add(canonical_label(line.split(":", 1)[1].strip().strip("'\"")))
                    break
    return sorted(names)


def load_examples(source: str | Path) -> list[Example]:
    """Load labelled examples from `source` (see the module docstring)."""
    text = str(source)
    if text == "pack":
        return _load_pack(pack_dir(DEFAULT_PACK))
    path = Path(source)
    if not path.exists():
        if (PACKS_ROOT / text).is_dir() and "/" not in text:
            return _load_pack(PACKS_ROOT / text)
        raise DataError(
            f"training data not found: {path} (give a CSV/JSON/JSONL/YAML file, a folder, or 'pack')"
        )
    if path.is_dir():
        if (path / "nlu" / "intents").is_dir():
            return _load_pack(path)
        return _load_yaml_dir(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        examples = _load_csv(path)
    elif suffix == ".jsonl":
        examples = _load_jsonl(path)
    elif suffix == ".json":
        examples = _load_json(path)
    elif suffix in (".yaml", ".yml"):
        examples = _load_yaml(path)
    else:
        raise DataError(f"unsupported data file {path.name}: use .csv, .json, .jsonl or .yaml")
    if not examples:
        raise DataError(f"no labelled examples in {path}")
    return examples


def _load_pack(root: Path) -> list[Example]:
    folder = root / "nlu" / "intents"
    if not folder.is_dir():
        raise DataError(f"pack {root.name!r} has no nlu/intents folder with training examples")
    return _load_yaml_dir(folder)


def _load_yaml_dir(folder: Path) -> list[Example]:
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        raise DataError(f"no intent YAML files in {folder}")
    examples: list[Example] = []
    for file in files:
        examples.extend(_load_yaml(file))
    return examples


def _load_yaml(path: Path) -> list[Example]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise DataError(f"{path}: invalid YAML: {e}") from e
    if not isinstance(doc, dict) or "intent" not in doc or not isinstance(doc.get("examples"), dict):
        raise DataError(f"{path}: expected {{intent: NAME, examples: {{zh-Hans: [...], en: [...]}}}}")
    label = canonical_label(str(doc["intent"]))
    out: list[Example] = []
    for language, texts in doc["examples"].items():
        if not isinstance(texts, list):
            raise DataError(f"{path}: examples.{language} must be a list of strings")
        for t in texts:
            if isinstance(t, dict | list):
                raise DataError(
                    f"{path}: examples.{language} holds {t!r}, not a sentence (quote a sentence with "
                    '": " in it, or YAML reads it as a mapping)'
                )
        out.extend(Example(str(t), label, str(language)) for t in texts if str(t).strip())
    return out


def _row(obj: Any, where: str) -> Example:
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected an object with 'text' and 'label'")
    text = obj.get("text")
    label = obj.get("label", obj.get("intent"))
    if not isinstance(text, str) or label is None:
        raise DataError(f"{where}: expected an object with 'text' and 'label'")
    return Example(text, canonical_label(str(label)), str(obj.get("language", "")))


def _load_csv(path: Path) -> list[Example]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        label_col = next((c for c in ("label", "intent", "category") if c in fields), None)
        if "text" not in fields or label_col is None:
            raise DataError(f"{path}: the CSV header needs a 'text' and a 'label' column")
        return [
            Example(row["text"], canonical_label(row[label_col]))
            for row in reader
            if row["text"] and row[label_col]
        ]


def _load_json(path: Path) -> list[Example]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: invalid JSON: {e}") from e
    if isinstance(doc, dict):
        doc = doc.get("examples")
    if not isinstance(doc, list):
        raise DataError(f"{path}: expected a list of {{text, label}} objects")
    return [_row(obj, f"{path}[{i}]") for i, obj in enumerate(doc)]


def _load_jsonl(path: Path) -> list[Example]:
    out: list[Example] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{n}: invalid JSON: {e}") from e
            out.append(_row(obj, f"{path}:{n}"))
    return out


def data_sha256(examples: Iterable[Example]) -> str:
    """A fingerprint of the training data: order-independent, over (label, text)."""
    digest = hashlib.sha256()
    for label, text in sorted((e.label, e.text) for e in examples):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def split_xy(examples: Sequence[Example]) -> tuple[list[str], list[str]]:
    return [e.text for e in examples], [e.label for e in examples]
