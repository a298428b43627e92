"""Text helpers of the knowledge base: language detection and BM25 tokens (jieba + English words).

Chinese is matched in Simplified form (Traditional is converted with OpenCC, as in
helixdesk.nlu.text), so a zh-Hant question finds a zh-Hans document and the reverse.
"""

from __future__ import annotations

import re
from functools import lru_cache

from helixdesk.core.languages import LANGUAGES
from helixdesk.knowledge.lexicon import concept_map
from helixdesk.nlu.text import cjk_count, is_traditional, latin_words, normalise, to_simplified

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")

# Function words that carry no topic; BM25's IDF handles the rest.
_ZH_STOP_TEXT = (
    "的 了 吗 呢 吧 啊 呀 我 你 您 他 她 它 们 我们 你们 是 在 有 和 与 或 就 都 也 还 要 会 能 可以 "
    "请问 请 一下 这 那 这个 那个 怎么 怎样 如何 什么 为什么 哪 哪里 多少 么 个 把 被 给 让 对 "
    "一 不 没 没有 很 太 又 再 才 嘛 哦 呃 吗? 想 问 问一下 一个 下 上 里 中 着 过 得 地"
)
_EN_STOP_TEXT = (
    "a an the i me my mine you your we our us it its is are was were be been am do does did "
    "to of in on at for from by with and or but if so as this that these those there here "
    "can could would should will shall may might must have has had how what why when where which "
    "who whom please hi hello just any some get got im i'm dont don't isnt can't cant"
)
_ZH_STOP = frozenset(_ZH_STOP_TEXT.split())
_EN_STOP = frozenset(_EN_STOP_TEXT.split())


@lru_cache(maxsize=1)
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


def detect_language(text: str) -> str:
    """zh-Hans, zh-Hant or en for a chunk of text (Chinese wins when it has a fair share)."""
    cjk = cjk_count(text)
    latin = sum(len(w) for w in latin_words(text))
    if cjk and cjk * 2 >= latin * 0.5:
        return "zh-Hant" if is_traditional(text) else "zh-Hans"
    return "en"


def _stem(word: str) -> str:
    """A very small English stemmer: decline/declined/declines -> declin, charges -> charg."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                break
            word = word[: -len(suffix)] + keep
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


@lru_cache(maxsize=1)
def _concepts() -> dict[str, str]:
    """The lexicon's English words in token form (stemmed like the text)."""
    return {_stem(w): c for w, c in concept_map().items() if w.isascii()}


@lru_cache(maxsize=1)
def _cjk_concepts() -> tuple[tuple[str, str], ...]:
    """The lexicon's Chinese words (Simplified), matched as substrings: jieba cuts HK wording oddly."""
    return tuple((to_simplified(w), c) for w, c in concept_map().items() if not w.isascii())


@lru_cache(maxsize=50_000)
def tokens(text: str) -> tuple[str, ...]:
    """BM25 tokens: jieba search-mode words for Chinese (Simplified), stemmed lowercase English words."""
    norm = normalise(text)
    out: list[str] = []
    jieba = _jieba()
    for run in _CJK_RUN.findall(norm):
        for word in jieba.cut_for_search(run):  # type: ignore[attr-defined]
            if word not in _ZH_STOP:
                out.append(word)
        # Character bigrams catch paraphrases that jieba segments differently (提额 / 提高额度).
        out.extend("#" + run[i : i + 2] for i in range(len(run) - 1))
    for word in _WORD.findall(norm):
        if word not in _EN_STOP:
            out.append(_stem(word))
    concepts = _concepts()
    found = [concepts[t] for t in out if t in concepts]
    found += [c for word, c in _cjk_concepts() if word in norm]
    out.extend(dict.fromkeys(found))
    return tuple(out)


__all__ = ["LANGUAGES", "detect_language", "tokens"]
