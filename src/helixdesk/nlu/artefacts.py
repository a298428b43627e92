"""What the intent and emotion model artefacts share: file checksums, library versions, and finding
the model folder (a folder with a manifest, its named sub-folder, the version its `LIVE` file names,
or else the newest versioned sub-folder).

`LIVE` is written by the model registry (`helixdesk.learning.registry`) when a version is promoted
or rolled back: from then on that version is served, whatever is newer in the folder.

Each model module keeps its own file names, error class and messages and passes them in.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import uuid
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from helixdesk.core.errors import ConfigurationError

LIVE_FILE = "LIVE"  # in a folder of versions: the name of the version to serve


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
    that folder exists; else the sub-directory its `LIVE` file names; else the newest sub-directory
    holding `manifest_file` (by its `created_at`, then by name; hidden ones, versions still being
    written, are skipped). Raises `error(missing(path))` when there is none, or when `LIVE` names a
    folder without a model (never a silent fallback)."""
    root = Path(path)
    if (root / manifest_file).is_file():
        return root
    if (root / subfolder).is_dir():
        return resolve_model_dir(
            root / subfolder, manifest_file=manifest_file, subfolder=subfolder, error=error, missing=missing
        )
    live = live_version(root)
    if live is not None:
        if not (root / live / manifest_file).is_file():
            raise error(f"{root / LIVE_FILE} names {live!r}, which holds no model ({manifest_file} missing)")
        return root / live
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


def live_version(root: Path) -> str | None:
    """The folder name `root/LIVE` names, or None when there is no such file (or it is empty)."""
    try:
        name = (Path(root) / LIVE_FILE).read_text("utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not name:
        return None
    if "/" in name or "\\" in name or name.startswith("."):
        raise ConfigurationError(f"{Path(root) / LIVE_FILE}: {name!r} is not a version folder name")
    return name


def write_live_version(root: Path, name: str) -> None:
    """Make `root/name` the version served from `root` (written to a temporary file, then renamed over
    `LIVE`, so a reader sees the old name or the new one, never half of one)."""
    root = Path(root)
    tmp = root / f".{LIVE_FILE}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(name + "\n", "utf-8")
    os.replace(tmp, root / LIVE_FILE)


__all__ = [
    "LIVE_FILE",
    "check_same_minor",
    "file_sha256",
    "live_version",
    "package_version",
    "package_versions",
    "resolve_model_dir",
    "write_live_version",
]
