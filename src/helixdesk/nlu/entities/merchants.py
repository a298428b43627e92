"""Merchants from a gazetteer YAML: canonical names with aliases in Chinese and English."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from helixdesk.core.errors import ConfigurationError
from helixdesk.nlu.entities.base import Candidate
from helixdesk.nlu.text import normalise

DEFAULT_MERCHANTS_PATH = (
    Path(__file__).resolve().parents[2] / "packs" / "retail_bank" / "nlu" / "merchants.yaml"
)


class MerchantGazetteer:
    """Finds merchant aliases in the matching text; the longest alias wins at each position."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._canonical = entries  # normalised alias → canonical name
        if not entries:
            self._pattern: re.Pattern[str] | None = None
            return
        parts = []
        for alias in sorted(entries, key=len, reverse=True):
            piece = re.escape(alias).replace(r"\ ", r"[\s-]?")
            if alias[0].isascii() and alias[0].isalnum():
                piece = r"(?<![a-z0-9])" + piece
            if alias[-1].isascii() and alias[-1].isalnum():
                piece += r"(?![a-z0-9])"
            parts.append(piece)
        self._pattern = re.compile("|".join(parts))
        self._loose = {re.sub(r"[\s-]", "", alias): name for alias, name in entries.items()}

    @classmethod
    def from_yaml(cls, path: str | Path) -> MerchantGazetteer:
        path = Path(path)
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise ConfigurationError(f"cannot read the merchant gazetteer {path}: {e}") from e
        items = data.get("merchants") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ConfigurationError(f"{path}: expected a top-level 'merchants' list of {{name, aliases}}")
        entries: dict[str, str] = {}
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str | int):
                raise ConfigurationError(f"{path}: merchants[{i}] needs a 'name'")
            name = str(item["name"])
            aliases = item.get("aliases") or []
            if not isinstance(aliases, list):
                raise ConfigurationError(f"{path}: merchants[{i}].aliases must be a list")
            for alias in [name, *aliases]:
                key = normalise(str(alias)).strip()
                if key:
                    entries.setdefault(key, name)
        return cls(entries)

    def find(self, norm: str) -> list[Candidate]:
        if self._pattern is None:
            return []
        out = []
        for m in self._pattern.finditer(norm):
            alias = m.group()
            name = self._canonical.get(alias) or self._loose.get(re.sub(r"[\s-]", "", alias))
            if name is not None:
                out.append(Candidate("merchant", name, m.start(), m.end()))
        return out
