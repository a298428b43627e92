"""UI strings of the staff pages in zh-Hans, zh-Hant and en (`edge/i18n/console.yaml`), the words
for the codes they show (`edge/i18n/values.yaml`, merged with the pack's labels into one table by
the container), and the page language a person or a browser asks for."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from fastapi import Request

from helixdesk.core.languages import DEFAULT_LANGUAGE, LANGUAGES

UI_LANGUAGES = LANGUAGES
LANG_COOKIE = "hd_lang"
_FOLDER = Path(__file__).resolve().parent / "i18n"
_FILE = _FOLDER / "console.yaml"
VALUES_FILE = _FOLDER / "values.yaml"
_TRADITIONAL = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")


@lru_cache(maxsize=1)
def _strings() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(_FILE.read_text(encoding="utf-8")) or {}
    return {str(k): dict(v) for k, v in data.items()}


@lru_cache(maxsize=1)
def value_labels() -> dict[str, dict[str, dict[str, str]]]:
    """Group → code → language → words, for the codes of the bank, channels, staff and states."""
    data = yaml.safe_load(VALUES_FILE.read_text(encoding="utf-8")) or {}
    return {str(g): {str(k): dict(v) for k, v in entries.items()} for g, entries in data.items()}


def translate(key: str, language: str) -> str:
    entry = _strings().get(key)
    if entry is None:
        return key
    return entry.get(language) or entry.get("en") or key


def language_of_tag(tag: str) -> str | None:
    """One BCP 47 tag as a UI language: zh-TW, zh-HK, zh-MO and zh-Hant(-*) are Traditional, any
    other zh is Simplified, en(-*) is English; None for every other language."""
    tag = tag.strip().lower().replace("_", "-")
    if tag == "zh" or tag.startswith("zh-"):
        return "zh-Hant" if tag.startswith(_TRADITIONAL) else "zh-Hans"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def browser_language(accept_language: str | None) -> str | None:
    """The UI language of an `Accept-Language` header: its most preferred tag we speak, else English
    when it names only other languages; None without a header."""
    if not accept_language or not accept_language.strip():
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:32]):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and tag.strip():
            ranked.append((-quality, index, tag))
    for _, _, tag in sorted(ranked):
        found = language_of_tag(tag)
        if found is not None:
            return found
    return "en"


def ui_language(request: Request, preferred: str | None = None) -> str:
    """`?lang=` first, then the language cookie, the person's setting, the browser's language."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), preferred):
        if candidate in UI_LANGUAGES:
            return candidate
    return browser_language(request.headers.get("accept-language")) or DEFAULT_LANGUAGE


def all_keys() -> list[str]:
    return sorted(_strings())
