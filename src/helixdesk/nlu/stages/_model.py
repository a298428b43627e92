"""What the stages backed by a trained model (intent, emotion) share: where the model lives,
`if_missing`, and loading plus a warm-up prediction on `warm_up()`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Generic, Literal, Protocol, TypeVar

from helixdesk.core.errors import ConfigurationError


class _Predictor(Protocol):
    def predict(self, texts: Sequence[str], /) -> object: ...


M = TypeVar("M", bound=_Predictor)


class ModelBackedStage(Generic[M]):
    """Base for a stage whose model is loaded from `model_dir`, or `model_root / model_name`.

    Subclasses set `load_error` (the artefact error their loader raises) and implement `_load` and
    `_model_present`. With `if_missing="skip"` a missing model disables the stage (one warning) and
    `run` leaves the turn as it is; a model that is present but broken always raises.
    """

    name: ClassVar[str]
    load_error: ClassVar[type[ConfigurationError]]

    def __init__(
        self,
        *,
        model_dir: str | Path | None,
        model_name: str,
        model_root: str | Path | None,
        if_missing: Literal["error", "skip"],
        model: M | None,
    ) -> None:
        if if_missing not in ("error", "skip"):
            raise ValueError(f"if_missing must be 'error' or 'skip', not {if_missing!r}")
        self.model_dir = model_dir
        self.model_name = model_name
        self.model_root = model_root
        self.if_missing = if_missing
        self.model = model
        self._missing = False

    @property
    def location(self) -> Path:
        if self.model_dir is not None:
            return Path(self.model_dir)
        if self.model_root is None:
            raise ConfigurationError(
                f"the {self.name} stage has no model location: pass model_root (the folder of models, "
                f"where {self.model_name!r} is looked up) or model_dir"
            )
        return Path(self.model_root) / self.model_name

    def _load(self, location: Path) -> M:
        """Load and verify the model at `location`; raise `load_error` when it is missing or invalid."""
        raise NotImplementedError

    def _model_present(self, location: Path) -> bool:
        """Whether a model is there at all (then a load error is raised even with if_missing=skip)."""
        raise NotImplementedError

    def warm_up(self) -> None:
        if self.model is None and not self._missing:
            location = self.location
            try:
                self.model = self._load(location)
            except self.load_error as e:
                if self.if_missing == "error" or self._model_present(location):
                    raise
                self._missing = True
                logging.getLogger(type(self).__module__).warning("%s stage disabled: %s", self.name, e.detail)
                return
        if self.model is not None:
            self.model.predict(["预热 warm up"])

    def reload(self) -> None:
        """Load the model at `location` again (the version its folder's `LIVE` file names now, or the
        newest), warm it up, then put it in place of the old one in one step: a batch being parsed
        keeps the model it started with. A model that fails to load leaves the old one serving and
        raises. A stage given its model object (no location) keeps it."""
        if self.model_dir is None and self.model_root is None:
            return
        location = self.location
        try:
            model = self._load(location)
        except self.load_error:
            if self.if_missing == "error" or self._model_present(location):
                raise
            return
        model.predict(["预热 warm up"])
        self.model = model
        self._missing = False

    def version(self) -> str | None:
        """The version of the model in use, when its manifest says."""
        return None

    def _loaded_model(self) -> M | None:
        """The model, loaded on first use; None when the stage is disabled (if_missing=skip)."""
        if self.model is None:
            self.warm_up()
        return self.model
