"""Run the configured stages in order over a `Turn`."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from helixdesk.core.errors import AppError, StageError
from helixdesk.core.turn import Emotion, Turn
from helixdesk.nlu.stage import Stage, build_stage, registered_stages


def _accepts(stage_name: str, option: str) -> bool:
    cls = registered_stages().get(stage_name)
    return cls is not None and option in inspect.signature(cls.__init__).parameters


class NLUPipeline:
    def __init__(self, *, stages: Sequence[Stage]) -> None:
        self.stages = tuple(stages)
        self._warm = False

    @classmethod
    def from_config(
        cls, config: Sequence[dict[str, Any] | str], *, defaults: dict[str, Any] | None = None
    ) -> NLUPipeline:
        """Build from pack configuration: a list of names or `{name: ..., <option>: ...}` mappings.

        `defaults` are options the application supplies (e.g. `model_root` from settings); each is
        passed to the stages whose `__init__` accepts it, unless the pack sets it itself.
        """
        stages: list[Stage] = []
        for item in config:
            options: dict[str, Any] = {"name": item} if isinstance(item, str) else dict(item)
            name = str(options.pop("name"))
            for key, value in (defaults or {}).items():
                if key not in options and _accepts(name, key):
                    options[key] = value
            stages.append(build_stage(name, **options))
        return cls(stages=stages)

    def warm_up(self) -> None:
        if self._warm:
            return
        for stage in self.stages:
            try:
                stage.warm_up()
            except AppError:
                raise
            except Exception as e:
                raise StageError(stage.name, f"warm_up: {e}") from e
        self._warm = True

    def reload(self) -> dict[str, str | None]:
        """Reload every stage backed by a model (see `ModelBackedStage.reload`); returns each such
        stage's model version now in use."""
        versions: dict[str, str | None] = {}
        for stage in self.stages:
            reload = getattr(stage, "reload", None)
            if reload is None:
                continue
            try:
                reload()
            except AppError:
                raise
            except Exception as e:
                raise StageError(stage.name, f"reload: {e}") from e
            versions[stage.name] = stage.version()  # type: ignore[attr-defined]
        return versions

    def model_versions(self) -> dict[str, str | None]:
        """Each model-backed stage's model version in use (None before it is loaded)."""
        return {
            s.name: s.version()  # type: ignore[attr-defined]
            for s in self.stages
            if callable(getattr(s, "version", None))
        }

    def parse(
        self,
        text: str,
        *,
        reference_time: datetime | None = None,
        previous_emotion: Emotion | None = None,
    ) -> Turn:
        """Understand one message; `previous_emotion` is the emotion of the customer's previous
        message in the conversation, when the caller knows it (the emotion stage weighs it in)."""
        self.warm_up()
        turn = Turn(text=text, reference_time=reference_time, previous_emotion=previous_emotion)
        for stage in self.stages:
            try:
                turn = stage.run(turn)
            except AppError:
                raise
            except Exception as e:
                raise StageError(stage.name, str(e)) from e
        return turn

    def parse_batch(
        self,
        texts: Sequence[str],
        *,
        reference_times: Sequence[datetime | None] | None = None,
        previous_emotions: Sequence[Emotion | None] | None = None,
    ) -> list[Turn]:
        """Like `parse` for many texts at once: stages with `run_batch` (the models) see the whole
        batch, so the embeddings of every message are computed together."""
        self.warm_up()
        times = list(reference_times) if reference_times is not None else [None] * len(texts)
        previous = list(previous_emotions) if previous_emotions is not None else [None] * len(texts)
        turns = [
            Turn(text=t, reference_time=r, previous_emotion=p)
            for t, r, p in zip(texts, times, previous, strict=True)
        ]
        if not turns:
            return []
        for stage in self.stages:
            batch_run = getattr(stage, "run_batch", None)
            try:
                turns = list(batch_run(turns)) if batch_run is not None else [stage.run(t) for t in turns]
            except AppError:
                raise
            except Exception as e:
                raise StageError(stage.name, str(e)) from e
        return turns
