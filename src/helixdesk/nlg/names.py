"""Names from the bank's data in the reply language: merchants, products, banks, failure reasons.

The core bank hands over free text, often bilingual ("星巴克 Starbucks", "借记卡 Debit Card",
"收款行系统维护 / the receiving bank is under maintenance") and always in Simplified Chinese. A
reply shows the part in the reply's language, in the reply's script:

- `name_in("星巴克 Starbucks", "en")` -> "Starbucks"; in zh-Hans -> "星巴克"; in zh-Hant -> "星巴克";
- `name_in("家电分期 Appliance installment", "zh-Hant")` -> "家電分期";
- a name with no part in the reply's language ("王建国" in an English reply) is a proper name and
  is shown as it is (in Traditional script for zh-Hant); the pack's glossary (`label.name.*`) can
  give it a translation ("中国工商银行" -> "Industrial and Commercial Bank of China").
"""

from __future__ import annotations

import re

from helixdesk.nlu.text import to_simplified, to_traditional

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SLASH = re.compile(r"\s+/\s+")


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def split_bilingual(text: str) -> tuple[str, str]:
    """(Chinese part, English part) of a bilingual name; either may be empty.

    "a / b" is split at the slash; otherwise at the words: the Chinese part runs to the last word
    with a Chinese character ("iPhone 分期 iPhone installment" -> "iPhone 分期"), the English part
    is what follows it, or else what comes before the first such word ("Uniqlo 优衣库" -> "Uniqlo").
    """
    text = text.strip()
    if _SLASH.search(text):
        parts = [p.strip() for p in _SLASH.split(text) if p.strip()]
        zh = " / ".join(p for p in parts if has_cjk(p))
        en = " / ".join(p for p in parts if not has_cjk(p))
        return zh, en
    words = text.split()
    marks = [i for i, w in enumerate(words) if has_cjk(w)]
    if not marks:
        return "", text
    first, last = marks[0], marks[-1]
    zh = " ".join(words[: last + 1])
    en = " ".join(words[last + 1 :]) or " ".join(words[:first])
    return zh, en


def name_in(text: str, language: str) -> str:
    """The part of a name from the bank's data in `language`, in its script (see the module doc)."""
    if not text:
        return text
    zh, en = split_bilingual(str(text))
    if language == "en":
        return en or str(text)
    chosen = zh or str(text)
    return to_traditional(chosen) if language == "zh-Hant" else to_simplified(chosen)
