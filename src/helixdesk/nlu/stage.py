"""The stage protocol and the registry that builds stages by name.

A stage is a small class: keyword-only configuration in `__init__`, heavy loading in `warm_up()`,
and a typed `run(turn) -> turn`. Stages register themselves with `@register_stage("name")`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from helixdesk.core.errors import UnknownStageError
from helixdesk.core.turn import Turn


@runtime_checkable
class Stage(Protocol):
    name: ClassVar[str]

    def warm_up(self) -> None:
        """Load models or data. Called once before the first `run`."""

    def run(self, turn: Turn) -> Turn:
        """Return a new turn with this stage's findings added."""


_REGISTRY: dict[str, type[Stage]] = {}

S = TypeVar("S", bound=type[Any])


def register_stage(name: str) -> Callable[[S], S]:
    """Class decorator: make a stage buildable by `name` from pack configuration."""

    def decorate(cls: S) -> S:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"stage name {name!r} is already registered by {existing.__qualname__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def registered_stages() -> dict[str, type[Stage]]:
    _load_builtin_stages()
    return dict(_REGISTRY)


def build_stage(name: str, **config: Any) -> Stage:
    stages = registered_stages()
    cls = stages.get(name)
    if cls is None:
        known = ", ".join(sorted(stages)) or "(none)"
        raise UnknownStageError(
            f"unknown NLU stage {name!r}. Registered stages: {known}. "
            "Check the stage name in the pack's pipeline configuration, or register a custom stage "
            "with @register_stage and import its module before building the pipeline."
        )
    return cls(**config)


def _load_builtin_stages() -> None:
    # Importing the package registers every built-in stage.
    import helixdesk.nlu.stages  # noqa: F401
