"""Waiting in tests for what a server does in the background."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(read: Callable[[], Any], timeout: float = 20.0) -> Any:
    """`read()` once it gives something truthy, or its last (falsy) answer after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = read()
        if found:
            return found
        time.sleep(0.25)
    return read()
