"""Identifiers: every row id is a random UUID in text form."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return str(uuid.uuid4())
