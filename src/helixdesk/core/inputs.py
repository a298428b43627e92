"""The base of every request body: unknown fields are refused, and so is text no database can keep.

PostgreSQL's text cannot hold NUL (U+0000), and no UTF-8 store can hold an unpaired surrogate
(which JSON's `\\ud800` escapes can produce). Such text is refused at the edge with
`invalid_characters` (422), on SQLite and PostgreSQL alike, instead of failing in the database.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
INVALID_CHARACTERS = "invalid_characters"


def has_unstorable(value: Any) -> bool:
    """True when `value` (text, or lists and dicts of it) holds a character no database can keep."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, list | tuple):
        return any(has_unstorable(v) for v in value)
    if isinstance(value, dict):
        return any(has_unstorable(k) or has_unstorable(v) for k, v in value.items())
    return False


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if has_unstorable(value):
            raise PydanticCustomError(
                INVALID_CHARACTERS, "text may not contain NUL characters or unpaired surrogates"
            )
        return value
