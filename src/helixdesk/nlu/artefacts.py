"""What the intent and emotion model artefacts share: file checksums, library versions, and finding
the model folder (a folder with a manifest, its named sub-folder, or the newest versioned sub-folder).

Each model module keeps its own file names, error class and messages and passes them in.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from helixdesk.core.errors import ConfigurationError


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_version(name: str) -> str:
    """The installed version of distribution `name`, or "absent"."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """`{"python": ..., name: version or "absent", ...}` for a manifest."""
    versions = {"python": platform.python_version()}
    for name in names:
        versions[name] = package_version(name)
    return versions


def check_same_minor(package: str, trained: str, where: Path, error: type[ConfigurationError]) -> None:
    """Raise `error` unless `trained` has the running `package`'s major.minor version (pickles of
    scikit-learn objects do not carry across minor versions)."""
    current = package_version(package)
    if trained.split(".")[:2] != current.split(".")[:2]:
        raise error(f"{where}: trained with {package} {trained}, running {current}; retrain the model")


def resolve_model_dir(
    path: str | Path,
    *,
    manifest_file: str,
    subfolder: str,
    error: type[ConfigurationError],
    missing: Callable[[Path], str],
) -> Path:
    """`path` itself when it holds `manifest_file`; else `path/subfolder` (resolved the same way) when
    that folder exists; else the newest sub-directory holding `manifest_file` (by its `created_at`,
    then by name; hidden ones are skipped). Raises `error(missing(path))` when there is none."""
    root = Path(path)
    if (root / manifest_file).is_file():
        return root
    if (root / subfolder).is_dir():
        return resolve_model_dir(
            root / subfolder, manifest_file=manifest_file, subfolder=subfolder, error=error, missing=missing
        )
    # Hidden folders are versions still being written.
    candidates = (
        [d for d in root.iterdir() if not d.name.startswith(".") and (d / manifest_file).is_file()]
        if root.is_dir()
        else []
    )
    if not candidates:
        raise error(missing(root))

    def created(d: Path) -> str:
        try:
            manifest = json.loads((d / manifest_file).read_text("utf-8"))
        except (OSError, ValueError):  # unreadable or not JSON: sorts as the oldest
            return ""
        return str(manifest.get("created_at", "")) if isinstance(manifest, dict) else ""

    return max(candidates, key=lambda d: (created(d), d.name))


__all__ = ["check_same_minor", "file_sha256", "package_version", "package_versions", "resolve_model_dir"]
