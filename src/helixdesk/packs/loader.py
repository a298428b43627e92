"""Load a domain pack's configuration (pack.yaml) and locate its files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helixdesk.core.errors import ConfigurationError

PACKS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    path: Path
    config: dict[str, Any]

    @property
    def nlu_pipeline(self) -> list[dict[str, Any] | str]:
        pipeline = self.config.get("nlu", {}).get("pipeline", [])
        if not isinstance(pipeline, list):
            raise ConfigurationError(f"pack {self.name}: nlu.pipeline must be a list")
        return pipeline


def load_pack(name: str) -> Pack:
    path = PACKS_DIR / name
    config_file = path / "pack.yaml"
    if not config_file.is_file():
        known = sorted(p.name for p in PACKS_DIR.iterdir() if (p / "pack.yaml").is_file())
        raise ConfigurationError(
            f"unknown pack {name!r}; available packs: {', '.join(known)}", code="unknown_pack"
        )
    with config_file.open(encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    if not isinstance(config, dict):
        raise ConfigurationError(f"{config_file} must hold a mapping")
    return Pack(name=name, path=path, config=config)
