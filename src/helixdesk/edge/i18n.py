"""UI strings of the staff pages in zh-Hans, zh-Hant and en (`web/i18n/console.yaml`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from fastapi import Request

from helixdesk.core.languages import LANGUAGES

UI_LANGUAGES = LANGUAGES
LANG_COOKIE = "hd_lang"
_FILE = Path(__file__).resolve().parent / "i18n" / "console.yaml"


@lru_cache(maxsize=1)
def _strings() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(_FILE.read_text(encoding="utf-8")) or {}
    return {str(k): dict(v) for k, v in data.items()}


def translate(key: str, language: str) -> str:
    entry = _strings().get(key)
    if entry is None:
        return key
    return entry.get(language) or entry.get("en") or key


def ui_language(request: Request, preferred: str | None = None) -> str:
    """`?lang=` first, then the language cookie, the person's setting, the browser's language."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), preferred):
        if candidate in UI_LANGUAGES:
            return candidate
    accept = request.headers.get("accept-language", "").lower()
    if accept.startswith("en"):
        return "en"
    if "hant" in accept or accept.startswith(("zh-tw", "zh-hk", "zh-mo")):
        return "zh-Hant"
    return "zh-Hans"


def all_keys() -> list[str]:
    return sorted(_strings())
