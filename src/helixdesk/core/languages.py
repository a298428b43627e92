"""The languages the product speaks: Simplified Chinese, Traditional Chinese and English."""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("zh-Hans", "zh-Hant", "en")
DEFAULT_LANGUAGE = "zh-Hans"


def language_or_default(language: str | None) -> str:
    """`language` if the product speaks it, otherwise Simplified Chinese."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE
