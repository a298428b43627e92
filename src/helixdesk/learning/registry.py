"""The model registry: every intent model with its version, the data it was trained on (its hash:
the pack's examples plus a dataset version) and its report on the fixed regression set; shadow
runs, promotion behind the gate, and rollback.

    registry = ModelRegistry.from_settings(settings, sessions, audit)
    candidate = registry.train(dataset="d3", actor=Actor.system("cli:alice"))   # never promotes
    registry.check_gate(candidate.version)            # GateResult: worse labels, if any
    registry.promote(candidate.version, actor=...)    # GateFailedError unless it passes, or
    registry.promote(v, actor=..., override=True, reason="...")   # audited
    registry.rollback(actor=...)                      # the version live before, in one step

Artefacts live in `MODEL_DIR/PACK/intent/<folder>`, as `helixdesk nlu train` writes them. Until the
registry writes a model of its own there, the newest folder is served, as always, and the registry
follows it (adopting it as live). Before it trains or registers a candidate it names the model
served now in the folder's `LIVE` file, and a promotion or a rollback names the new live one: from
then on that version is served, whatever is newer, and each server process loads a new one
without a restart (`learning.watch`). The database is the record; `sync_pointer` makes `LIVE`
agree with it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConflictError
from helixdesk.core.settings import Settings
from helixdesk.db.session import reading, transaction
from helixdesk.learning import shadow
from helixdesk.learning.errors import (
    AmbiguousVersionError,
    GateFailedError,
    ModelAlreadyLiveError,
    ModelExistsError,
    ModelNotFoundError,
    NoPreviousModelError,
    OverrideReasonError,
)
from helixdesk.learning.gate import GateResult, gate
from helixdesk.learning.models import ModelVersionRow
from helixdesk.learning.report import model_report, regression_set, summary
from helixdesk.nlu.artefacts import live_version, write_live_version
from helixdesk.nlu.intent.artefacts import ModelArtefactError, load_model, read_manifest, resolve_model_dir
from helixdesk.nlu.intent.model import IntentClassifier

KIND = "intent"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """A model as the registry lists it (`summary`: the report's headline figures)."""

    version: str
    kind: str
    status: str  # candidate, live or retired
    pinned: bool
    folder: str
    source: str  # adopted, trained or registered
    data_sha256: str
    pack_sha256: str | None
    dataset: str | None
    dataset_sha256: str | None
    examples: int | None
    summary: dict[str, Any]
    previous: str | None
    note: str
    created_by: str
    created_at: str
    promoted_by: str | None
    promoted_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _version(row: ModelVersionRow) -> ModelVersion:
    return ModelVersion(
        version=row.version,
        kind=row.kind,
        status=row.status,
        pinned=row.pinned,
        folder=row.folder,
        source=row.source,
        data_sha256=row.data_sha256,
        pack_sha256=row.pack_sha256,
        dataset=row.dataset,
        dataset_sha256=row.dataset_sha256,
        examples=row.examples,
        summary=summary(row.report),
        previous=row.previous,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at.isoformat(),
        promoted_by=row.promoted_by,
        promoted_at=row.promoted_at.isoformat() if row.promoted_at else None,
    )


def who(actor: Actor) -> str:
    return f"{actor.kind}:{actor.id}"


class ModelRegistry:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        model_dir: Path,
        pack: str = "retail_bank",
        tolerance: float = 0.05,
        audit: AuditLog | None = None,
    ) -> None:
        self.sessions = sessions
        self.pack = pack
        self.root = Path(model_dir) / pack / KIND
        self.tolerance = tolerance
        self._audit = audit

    @classmethod
    def from_settings(
        cls, settings: Settings, sessions: sessionmaker[Session], audit: AuditLog | None = None
    ) -> ModelRegistry:
        return cls(
            sessions=sessions,
            model_dir=settings.model_dir,
            pack=settings.pack,
            tolerance=settings.learning_gate_tolerance,
            audit=audit,
        )

    # ---- reading --------------------------------------------------------------------------------

    def versions(self) -> list[ModelVersion]:
        """Every registered version, newest first."""
        self._follow_disk()
        with reading(self.sessions) as s:
            rows = s.scalars(
                select(ModelVersionRow)
                .where(ModelVersionRow.kind == KIND)
                .order_by(ModelVersionRow.created_at.desc(), ModelVersionRow.version.desc())
            )
            return [_version(r) for r in rows]

    def get(self, version: str) -> ModelVersion:
        """A version by its name or a unique beginning of it."""
        self._follow_disk()
        with reading(self.sessions) as s:
            return _version(self._row(s, version))

    def live(self) -> ModelVersion | None:
        self._follow_disk()
        with reading(self.sessions) as s:
            row = _live(s)
            return _version(row) if row is not None else None

    def live_version(self) -> str | None:
        """The live version the database records (no look at the disk: the servers poll this)."""
        with reading(self.sessions) as s:
            row = _live(s)
            return row.version if row is not None else None

    def report(self, version: str) -> dict[str, Any]:
        """The version's report on the regression set, computed (and kept) when it has none on the
        current set."""
        examples, sha = regression_set(self.pack)
        with reading(self.sessions) as s:
            row = self._row(s, version)
            name, folder, stored = row.version, row.folder, row.report
        if stored and (stored.get("regression") or {}).get("sha256") == sha:
            return stored
        model, manifest = load_model(self.root / folder)
        report = model_report(model, manifest, examples, sha, pack=self.pack)
        with transaction(self.sessions) as s:
            found = s.get(ModelVersionRow, name)
            if found is not None:
                found.report = report
        return report

    def check_gate(self, version: str) -> GateResult:
        """The gate for making `version` live now."""
        live = self.live()
        candidate = self.report(version)
        if live is None or live.version == version:
            return gate(candidate, None, tolerance=self.tolerance, live_version=None)
        return gate(candidate, self.report(live.version), tolerance=self.tolerance, live_version=live.version)

    # ---- new versions ---------------------------------------------------------------------------

    def train(
        self,
        *,
        dataset: str | None,
        actor: Actor,
        seed: int = 0,
        note: str = "",
        progress: Progress | None = None,
    ) -> ModelVersion:
        """Train a candidate on the pack's examples plus dataset version `dataset` (None: the pack's
        alone), measure it, and register it. It is never made live here."""
        from helixdesk.learning.training import train_artefact

        self._pin_served()
        trained = train_artefact(self, dataset=dataset, seed=seed, progress=progress)
        return self._add(trained.model, trained.manifest, trained.folder, "trained", actor, note)

    def register(self, path: Path, *, actor: Actor, note: str = "") -> ModelVersion:
        """Register a model trained elsewhere (`helixdesk nlu train --out DIR`) as a candidate: it is
        verified, copied into the registry's folder when it is not there yet, and measured."""
        self._pin_served()
        model, manifest = load_model(path)
        source = resolve_model_dir(path)
        version = str(manifest["version"])
        with reading(self.sessions) as s:
            if s.get(ModelVersionRow, version) is not None:
                raise ModelExistsError(f"model {version} is registered already")
        if source.resolve().parent == self.root.resolve():
            folder = source
        else:
            folder = self.root / version
            if folder.exists():
                raise ModelExistsError(f"{folder} exists already")
            self.root.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source, folder)
        return self._add(model, manifest, folder, "registered", actor, note)

    def _add(
        self,
        model: IntentClassifier,
        manifest: dict[str, Any],
        folder: Path,
        source: str,
        actor: Actor,
        note: str,
    ) -> ModelVersion:
        examples, sha = regression_set(self.pack)
        report = model_report(model, manifest, examples, sha, pack=self.pack)
        version = str(manifest["version"])
        with transaction(self.sessions) as s:
            if s.get(ModelVersionRow, version) is not None:
                raise ModelExistsError(f"model {version} is registered already")
            row = ModelVersionRow(
                version=version,
                kind=KIND,
                status="candidate",
                pinned=False,
                folder=folder.name,
                source=source,
                data_sha256=str(manifest.get("data_sha256", "")),
                pack_sha256=manifest.get("pack_sha256"),
                dataset=manifest.get("dataset"),
                dataset_sha256=manifest.get("dataset_sha256"),
                examples=manifest.get("examples"),
                report=report,
                note=note.strip()[:500],
                created_by=who(actor),
                created_at=utcnow(),
            )
            s.add(row)
            self._record(
                s, actor, f"model.{source}", version, details={"dataset": row.dataset, "folder": row.folder}
            )
            s.flush()
            return _version(row)

    # ---- release --------------------------------------------------------------------------------

    def promote(
        self, version: str, *, actor: Actor, override: bool = False, reason: str = ""
    ) -> ModelVersion:
        """Make `version` live. Refused (`GateFailedError`) when it is worse than the live model on
        the regression set beyond the tolerance, unless `override` with a `reason` (audited)."""
        target = self.get(version)
        if target.status == "live":
            raise ModelAlreadyLiveError(f"model {target.version} is live already")
        result = self.check_gate(target.version)
        if not result.passed and not override:
            raise GateFailedError(
                f"model {target.version} {result.explain()}; to promote it anyway give --override with "
                "--reason (the override is audited)"
            )
        if not result.passed and len(reason.strip()) < 4:
            raise OverrideReasonError("an override needs a reason of at least 4 characters")
        with transaction(self.sessions) as s:
            rows = _locked(s)
            row = rows[target.version]
            live = next((r for r in rows.values() if r.status == "live"), None)
            if (live.version if live else None) != result.live_version:
                raise ConflictError("the live model changed while the gate was checked; try again")
            self._make_live(row, live, actor)
            row.previous = live.version if live is not None else row.previous
            self._record(
                s,
                actor,
                "model.promoted_override" if not result.passed else "model.promoted",
                row.version,
                reason=reason.strip(),
                details={
                    "previous": live.version if live else None,
                    "gate": "failed" if not result.passed else "passed",
                    "worse": [w.label for w in result.worse][:20],
                },
            )
            s.flush()
            promoted = _version(row)
        write_live_version(self.root, promoted.folder)
        return promoted

    def rollback(self, *, actor: Actor, reason: str = "") -> ModelVersion:
        """Make the version that was live before the live one live again (no gate: it was live)."""
        self._follow_disk()
        with transaction(self.sessions) as s:
            rows = _locked(s)
            live = next((r for r in rows.values() if r.status == "live"), None)
            target = rows.get(live.previous) if live is not None and live.previous else None
            if live is None or target is None:
                raise NoPreviousModelError("no earlier live model to roll back to")
            if not (self.root / target.folder).is_dir():
                raise ModelNotFoundError(
                    f"the artefact of {target.version} is gone ({self.root / target.folder})"
                )
            self._make_live(target, live, actor)
            self._record(
                s,
                actor,
                "model.rolled_back",
                target.version,
                reason=reason.strip(),
                details={"from": live.version},
            )
            s.flush()
            back = _version(target)
        write_live_version(self.root, back.folder)
        return back

    @staticmethod
    def _make_live(row: ModelVersionRow, live: ModelVersionRow | None, actor: Actor) -> None:
        if live is not None:
            live.status = "retired"
            live.pinned = False
        row.status, row.pinned = "live", True
        row.promoted_by, row.promoted_at = who(actor), utcnow()

    def sync_pointer(self) -> str | None:
        """Make the folder's `LIVE` file name the version the database made live (after a crash
        between the two); returns that version (None: the newest folder is served)."""
        with reading(self.sessions) as s:
            row = _live(s)
            if row is None or not row.pinned:
                return None
            version, folder = row.version, row.folder
        if live_version(self.root) != folder and (self.root / folder).is_dir():
            write_live_version(self.root, folder)
        return version

    # ---- shadow runs ----------------------------------------------------------------------------

    def start_shadow(self, version: str, *, actor: Actor) -> dict[str, Any]:
        """`version` parses live traffic beside the live model from now on (one shadow at a time)."""
        target = self.get(version)
        if target.status == "live":
            raise ModelAlreadyLiveError(f"model {target.version} is live: shadow a candidate")
        with transaction(self.sessions) as s:
            run = shadow.start(s, target.version, self.live_version(), who(actor))
            self._record(s, actor, "model.shadow_started", target.version, details={"shadow": run["id"]})
            return run

    def stop_shadow(self, *, actor: Actor) -> dict[str, Any]:
        with transaction(self.sessions) as s:
            run = shadow.stop(s, who(actor))
            self._record(s, actor, "model.shadow_stopped", run["version"], details={"shadow": run["id"]})
            return run

    def shadow_runs(self, version: str | None = None) -> list[dict[str, Any]]:
        """Shadow runs (of `version`, or all), newest first, with their agreement figures."""
        with reading(self.sessions) as s:
            name = self._row(s, version).version if version else None
            return shadow.runs(s, name)

    def disagreements(self, version: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """The messages the version's shadow runs understood differently from the live model."""
        with reading(self.sessions) as s:
            return shadow.disagreements(s, self._row(s, version).version, limit=limit)

    # ---- helpers --------------------------------------------------------------------------------

    def _row(self, s: Session, version: str | None) -> ModelVersionRow:
        name = (version or "").strip()
        row = s.get(ModelVersionRow, name) if name else None
        if row is not None:
            return row
        found = (
            list(
                s.scalars(
                    select(ModelVersionRow).where(ModelVersionRow.version.startswith(name, autoescape=True))
                )
            )
            if len(name) >= 4
            else []
        )
        if len(found) == 1:
            return found[0]
        if found:
            raise AmbiguousVersionError(
                f"{name!r} names several models: {', '.join(sorted(r.version for r in found)[:5])}"
            )
        raise ModelNotFoundError(f"no model {name!r} in the registry (see `helixdesk model list`)")

    def _follow_disk(self) -> None:
        """Without a `LIVE` file the newest folder is served: record it as the live version."""
        if live_version(self.root) is not None:
            return
        try:
            folder = resolve_model_dir(self.root)
            manifest = read_manifest(folder)
        except ModelArtefactError:
            return
        version = str(manifest.get("version") or folder.name)
        try:
            with transaction(self.sessions) as s:
                live = _live(s)
                if live is not None and live.pinned:  # promoted, its LIVE file not written yet
                    write_live_version(self.root, live.folder)
                    return
                if live is not None and live.version == version:
                    return
                row = s.get(ModelVersionRow, version)
                if row is None:
                    row = ModelVersionRow(
                        version=version,
                        kind=KIND,
                        folder=folder.name,
                        source="adopted",
                        data_sha256=str(manifest.get("data_sha256", "")),
                        examples=manifest.get("examples"),
                        created_by="system:registry",
                        created_at=_created(manifest),
                        note="served before the registry governed the model",
                    )
                    s.add(row)
                if live is not None:
                    live.status = "retired"
                row.status, row.pinned = "live", False
        except IntegrityError:  # another process adopted it at the same moment
            return

    def _pin_served(self) -> None:
        """Before a candidate goes into the folder, where it would be the newest: name the model
        served now in `LIVE`, so a restart keeps serving it (from here on the registry governs)."""
        self._follow_disk()
        if live_version(self.root) is not None:
            return
        with transaction(self.sessions) as s:
            live = _live(s)
            if live is None:
                return
            live.pinned = True
            folder = live.folder
        write_live_version(self.root, folder)

    def _record(
        self,
        s: Session,
        actor: Actor,
        action: str,
        version: str,
        *,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        if self._audit is not None:
            self._audit.record(
                s, actor=actor, action=action, target=Target("model", version), reason=reason, details=details
            )


def _live(s: Session) -> ModelVersionRow | None:
    return s.scalar(
        select(ModelVersionRow).where(ModelVersionRow.kind == KIND, ModelVersionRow.status == "live").limit(1)
    )


def _locked(s: Session) -> dict[str, ModelVersionRow]:
    """Every version of the kind, locked for this transaction (one release at a time)."""
    rows = s.scalars(select(ModelVersionRow).where(ModelVersionRow.kind == KIND).with_for_update())
    return {r.version: r for r in rows}


def _created(manifest: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(manifest["created_at"]))
    except (KeyError, ValueError):
        return utcnow()
