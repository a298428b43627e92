"""The voice menu of the phone channel, from the pack (`packs/<pack>/phone/menu.yaml`).

`VoiceMenu.by_key` finds the item of a key; `by_speech` the item a transcript names: a lone digit
("一", "one", "1", "number one") only when it is all that was said, any other word of an item
(余额, balance, 人工, agent) wherever it is heard, and only when one item is named by a longer word than
any other ("lost card" is the lost-card item, not the cards item; "my card is lost" names both
equally and is a question for the bot). Both languages'
words are tried: the caller may answer the bilingual greeting in either.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helixdesk.channels.phone.errors import MenuConfigError
from helixdesk.core.languages import language_or_default
from helixdesk.packs.loader import load_pack
from helixdesk.speech.asr import SpeechRecognizer, Transcript

PROMPTS = ("greeting", "menu", "repeat", "no_input", "offer_person", "hold", "more", "goodbye")
_DIGIT_WORDS = frozenset(
    [
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "零",
        "一",
        "幺",
        "二",
        "两",
        "三",
        "四",
        "五",
        "六",
        "七",
        "八",
        "九",
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
    ]
)
_FILLERS = ("number", "press", "option", "按", "选", "号", "键")
_NOT_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class MenuItem:
    key: str
    name: str
    words: dict[str, tuple[str, ...]]  # recogniser language ("zh", "en") -> words
    ask: dict[str, str]  # the caller's language -> what the choice asks the bot
    person: bool = False

    def ask_in(self, language: str) -> str:
        return self.ask.get(language) or self.ask.get("zh-Hans" if language == "zh-Hant" else "en") or ""


@dataclass(frozen=True, slots=True)
class VoiceMenu:
    items: tuple[MenuItem, ...]
    prompts: dict[str, dict[str, str]]  # name -> language -> text
    english_key: str = "9"
    menu_key: str = "*"

    @classmethod
    def load(cls, path: Path) -> VoiceMenu:
        try:
            with path.open(encoding="utf-8") as f:
                data: Any = yaml.safe_load(f)
            return cls._parse(data)
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError, ValueError) as e:
            raise MenuConfigError(f"the voice menu {path} is not valid: {e}") from e

    @classmethod
    def for_pack(cls, pack: str) -> VoiceMenu:
        return cls.load(load_pack(pack).path / "phone" / "menu.yaml")

    @classmethod
    def _parse(cls, data: Any) -> VoiceMenu:
        items = tuple(
            MenuItem(
                key=str(i["key"]),
                name=str(i["name"]),
                words={str(lang): tuple(str(w) for w in ws) for lang, ws in i["words"].items()},
                ask={str(k): str(v) for k, v in (i.get("ask") or {}).items()},
                person=bool(i.get("person", False)),
            )
            for i in data["items"]
        )
        keys = [i.key for i in items]
        if len(set(keys)) != len(keys):
            raise ValueError("two items have the same key")
        for item in items:
            if not item.person and not {"zh-Hans", "en"} <= item.ask.keys():
                raise ValueError(f"item {item.name} needs `ask` in zh-Hans and en")
        prompts = {str(k): {str(lang): str(t) for lang, t in v.items()} for k, v in data["prompts"].items()}
        for name in PROMPTS:
            if not {"zh-Hans", "en"} <= prompts.get(name, {}).keys():
                raise ValueError(f"prompt {name} needs zh-Hans and en")
        english = str(data.get("english_key", "9"))
        menu_key = str(data.get("menu_key", "*"))
        if english in keys or menu_key in keys:
            raise ValueError("the english_key and menu_key must not be an item's key")
        return cls(items=items, prompts=prompts, english_key=english, menu_key=menu_key)

    def prompt(self, name: str, language: str) -> str:
        texts = self.prompts[name]
        language = language_or_default(language)
        return texts.get(language) or texts.get("zh-Hans" if language == "zh-Hant" else "en") or ""

    def all_prompts(self) -> list[tuple[str, str]]:
        """Every fixed prompt as (text, language), to render ahead of the first call."""
        return [(text, lang) for texts in self.prompts.values() for lang, text in texts.items()]

    def expected(self, language: str) -> str:
        """The words that choose an item in a recogniser language ("zh", "en"), as a recogniser's
        prompt: a short answer to the menu is heard as one of them more often than without."""
        words = [w for item in self.items for w in item.words.get(language, ()) if not w.isdigit()]
        return ("，" if language == "zh" else ", ").join(dict.fromkeys(words))

    def by_key(self, key: str) -> MenuItem | None:
        return next((i for i in self.items if i.key == key), None)

    def by_speech(self, text: str) -> MenuItem | None:
        said = normalised(text)
        if not said:
            return None
        bare = said
        for filler in _FILLERS:
            bare = bare.replace(filler, " ")
        bare = " ".join(bare.split())
        # Each item named, by the length of its longest word heard: "lost card" beats "card".
        found: list[tuple[int, MenuItem]] = []
        for item in self.items:
            heard = [
                len(n) for ws in item.words.values() for w in ws if _names(said, bare, n := normalised(w))
            ]
            if heard:
                found.append((max(heard), item))
        found.sort(key=lambda f: -f[0])
        if not found or (len(found) > 1 and found[1][0] == found[0][0]):
            return None
        return found[0][1]


def listen_for_choice(
    recognizer: SpeechRecognizer,
    menu: VoiceMenu,
    pcm16: bytes,
    rate: int,
    language: str | None,
    *,
    min_confidence: float,
) -> tuple[MenuItem | None, Transcript | None, list[Transcript]]:
    """A short answer to the menu that named no item, heard again expecting the menu's words: in
    the caller's language, or in each language when it is not known yet. Expecting words makes the
    recogniser hear them in anything, so a transcript counts only when it is sure (`min_confidence`,
    higher than for free speech) and not a loop, and two languages naming different items choose
    nothing. Returns the item chosen and the transcript that chose it (or None, None), and every
    transcript."""
    heard: list[Transcript] = []
    named: list[tuple[float, MenuItem, Transcript]] = []
    for lang in [language] if language else ["zh-Hans", "en"]:
        again = recognizer.transcribe(pcm16, rate, lang, prompt=menu.expected("en" if lang == "en" else "zh"))
        heard.append(again)
        item = menu.by_speech(again.text)
        if item is not None and again.confidence >= min_confidence and not looping(again.text):
            named.append((again.confidence, item, again))
    if len({item.name for _c, item, _t in named}) != 1:
        return None, None, heard
    _c, item, chosen = max(named, key=lambda n: n[0])
    return item, chosen, heard


def looping(text: str) -> bool:
    """The recogniser repeating itself ("贷款2贷款2贷款2", "card, card, card"): a prompt's words
    heard in noise or silence, not a caller's answer. A word, or two to four Chinese characters,
    three times or more."""
    said = normalised(text)
    words = said.split()
    if any(words.count(w) >= 3 for w in words):
        return True
    chinese = "".join(c for c in said if not c.isascii())
    return any(
        chinese.count(chinese[i : i + size]) >= 3
        for size in (2, 3, 4)
        for i in range(len(chinese) - size + 1)
    )


def normalised(text: str) -> str:
    """Lower case, full-width folded, punctuation as spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", text).split())


def _names(said: str, bare: str, word: str) -> bool:
    if not word:
        return False
    if word in _DIGIT_WORDS:
        return bare == word or bare.replace(" ", "") == word
    if word.isascii():
        return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", said) is not None
    return word in said.replace(" ", "")
