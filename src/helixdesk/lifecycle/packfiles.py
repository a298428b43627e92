"""Reading the lifecycle's pack files (`lifecycle/*.yaml`): the YAML, then the model that checks it,
each failure a `ConfigurationError` with the file's own stable code."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from helixdesk.core.errors import ConfigurationError

M = TypeVar("M", bound=BaseModel)


def problems(e: ValidationError) -> str:
    """A validation error as one line: each field's path and what is wrong with it."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in e.errors())


def validated(model: type[M], data: Any, *, source: str, code: str) -> M:
    """`data` (a mapping) as `model`; `ConfigurationError(code)` naming `source` when it is not one."""
    if not isinstance(data, dict):
        raise ConfigurationError(f"{source} must hold a mapping", code=code)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigurationError(f"{source}: {problems(e)}", code=code) from e


def read_yaml(path: Path, *, code: str) -> Any:
    """The file's YAML; `ConfigurationError(code)` when it is not valid YAML."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigurationError(f"{path}: not valid YAML: {e}", code=code) from e
