"""Paths into a platform's JSON payload: a JSON pointer (`/sender/id`, RFC 6901) or dotted
(`sender.id`); a number steps into a list (`entry.0.id`, `/entry/0/id`). In the path to a batch's
list of events, `*` steps into every item of a list (`entry.*.messaging`).

Paths are parsed once, when the platforms are loaded; a bad one is a configuration error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WILDCARD = "*"
_MISSING = object()


class BadPathError(ValueError):
    """The text is not a path (empty step, a bad `~` escape, a wildcard where none is allowed)."""


@dataclass(frozen=True, slots=True)
class Path:
    text: str  # as written in the configuration (error messages quote it)
    steps: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, *, wildcard: bool = False) -> Path:
        """`""` is the whole document; `/a/b` a JSON pointer; anything else dotted."""
        if text == "":
            steps: tuple[str, ...] = ()
        elif text.startswith("/"):
            steps = tuple(_unescape(token, text) for token in text[1:].split("/"))
        else:
            steps = tuple(text.split("."))
            if any(step == "" for step in steps):
                raise BadPathError(f"{text!r} has an empty step (two dots, or a dot at an end)")
        if not wildcard and WILDCARD in steps:
            raise BadPathError(f"{text!r}: '*' is allowed only in the path to the list of events")
        return cls(text, steps)

    def get(self, document: Any) -> Any:
        """The value at the path, or `MISSING` (see `found`) when any step is absent."""
        value = document
        for step in self.steps:
            value = _step(value, step)
            if value is _MISSING:
                return _MISSING
        return value

    def get_all(self, document: Any) -> list[Any] | None:
        """Every value the path reaches, stepping into each item of a list at a `*`; None when a
        step is absent (or a `*` meets something other than a list)."""
        values = [document]
        for step in self.steps:
            nxt: list[Any] = []
            for value in values:
                if step == WILDCARD:
                    if not isinstance(value, list):
                        return None
                    nxt.extend(value)
                    continue
                found = _step(value, step)
                if found is _MISSING:
                    return None
                nxt.append(found)
            values = nxt
        return values


def found(value: Any) -> bool:
    return value is not _MISSING


def _step(value: Any, step: str) -> Any:
    if isinstance(value, dict):
        return value.get(step, _MISSING)
    if isinstance(value, list) and step.isdigit() and step.isascii():
        index = int(step)
        return value[index] if index < len(value) else _MISSING
    return _MISSING


def _unescape(token: str, text: str) -> str:
    # RFC 6901: "~1" is "/", "~0" is "~"; any other "~" is an error.
    out, i = [], 0
    while i < len(token):
        ch = token[i]
        if ch == "~":
            nxt = token[i + 1 : i + 2]
            if nxt not in ("0", "1"):
                raise BadPathError(f"{text!r}: '~' must be followed by 0 or 1 in a JSON pointer")
            out.append("~" if nxt == "0" else "/")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
