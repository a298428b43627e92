"""The bank's active strategies, in the database, seeded from the pack and edited by staff.

The first read finds the table empty and seeds it from the pack's `lifecycle/strategies.yaml`
(version 1 of each, by `system:pack`). An edit replaces one strategy's definition: it is validated
as the pack's file is, within the pack's limits (`limits.max_offer_value`), gets the next version,
and writes a version row and an audit entry (`lifecycle.strategy_updated`) in the same transaction.
The suitability gate's limits are not here and cannot be edited: they are the pack's
`lifecycle/suitability.yaml`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit.service import Actor, AuditLog, Target
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConfigurationError
from helixdesk.db.session import reading, transaction
from helixdesk.lifecycle.errors import InvalidStrategyError, StrategyChangedError, StrategyNotFoundError
from helixdesk.lifecycle.models import StrategyRow, StrategyVersionRow
from helixdesk.lifecycle.strategies import Strategy, StrategySet, parse_strategy

SEEDER = "system:pack"


@dataclass(frozen=True, slots=True)
class Editor:
    id: str
    name: str
    ip: str | None = None


def _definition(strategy: Strategy) -> dict[str, Any]:
    return strategy.model_dump(mode="json")


class StrategyStore:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        pack_set: StrategySet,
        audit: AuditLog | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._pack = pack_set
        self._audit = audit
        self.clock = clock

    @property
    def limits(self) -> Any:
        return self._pack.limits

    def seed(self) -> int:
        """Store the pack's strategies when the store is empty; how many were stored (0: it was not)."""
        with reading(self._sessions) as s:
            if s.scalar(select(func.count()).select_from(StrategyRow)):
                return 0
        now = self.clock()
        try:
            with transaction(self._sessions) as s:
                if s.scalar(select(func.count()).select_from(StrategyRow)):
                    return 0
                for position, strategy in enumerate(self._pack.strategies):
                    definition = _definition(strategy)
                    s.add(StrategyRow(id=strategy.id, position=position, definition=definition,
                                      version=1, updated_by=SEEDER, updated_at=now))  # fmt: skip
                    s.add(StrategyVersionRow(strategy_id=strategy.id, version=1, definition=definition,
                                             actor=SEEDER, actor_name="pack", created_at=now))  # fmt: skip
        except IntegrityError:
            return 0  # another process seeded it first
        return len(self._pack.strategies)

    def active(self) -> StrategySet:
        """The active strategy set: the stored strategies in order, with the pack's limits."""
        return self.active_versions()[0]

    def active_versions(self) -> tuple[StrategySet, dict[str, int]]:
        """The active strategy set and each strategy's version, read together."""
        self.seed()
        with reading(self._sessions) as s:
            rows = s.scalars(select(StrategyRow).order_by(StrategyRow.position, StrategyRow.id)).all()
            try:
                strategies = tuple(Strategy.model_validate(r.definition) for r in rows)
            except ValueError as e:  # only a hand-edited table gets here
                raise ConfigurationError(f"stored strategies: {e}", code="invalid_strategies") from e
            versions = {r.id: r.version for r in rows}
        return StrategySet(limits=self._pack.limits, strategies=strategies), versions

    def strategies(self) -> list[dict[str, Any]]:
        self.seed()
        with reading(self._sessions) as s:
            rows = s.scalars(select(StrategyRow).order_by(StrategyRow.position, StrategyRow.id)).all()
            return [_view(r) for r in rows]

    def get(self, strategy_id: str) -> dict[str, Any]:
        """One strategy with its versions, newest first."""
        self.seed()
        with reading(self._sessions) as s:
            row = s.get(StrategyRow, strategy_id)
            if row is None:
                raise StrategyNotFoundError(f"no strategy {strategy_id}")
            versions = s.scalars(
                select(StrategyVersionRow)
                .where(StrategyVersionRow.strategy_id == strategy_id)
                .order_by(StrategyVersionRow.version.desc())
            ).all()
            return {
                **_view(row),
                "versions": [
                    {
                        "version": v.version,
                        "actor": v.actor,
                        "actor_name": v.actor_name,
                        "created_at": v.created_at.isoformat(),
                        "definition": v.definition,
                    }
                    for v in versions
                ],
            }

    def update(
        self, by: Editor, strategy_id: str, definition: Mapping[str, Any], *, version: int | None = None
    ) -> dict[str, Any]:
        """Replace the strategy's definition (its id stays). `version`: the version the caller read,
        refused with `strategy_changed` when it moved on."""
        data = dict(definition)
        if data.setdefault("id", strategy_id) != strategy_id:
            raise InvalidStrategyError(f"the id is {strategy_id}; it cannot be changed to {data['id']!r}")
        try:
            strategy = parse_strategy(data, self._pack.limits, source=f"strategy {strategy_id}")
        except ConfigurationError as e:
            raise InvalidStrategyError(e.detail) from e
        self.seed()
        now = self.clock()
        with transaction(self._sessions) as s:
            row = s.get(StrategyRow, strategy_id, with_for_update=True)
            if row is None:
                raise StrategyNotFoundError(f"no strategy {strategy_id}")
            if version is not None and version != row.version:
                raise StrategyChangedError(
                    f"strategy {strategy_id} is at version {row.version}, not {version}; read it again"
                )
            new = _definition(strategy)
            if new != row.definition:
                changed = sorted(k for k in new if new[k] != row.definition.get(k))
                row.definition = new
                row.version += 1
                row.updated_by = by.id[:128]
                row.updated_at = now
                s.add(StrategyVersionRow(strategy_id=strategy_id, version=row.version, definition=new,
                                         actor=by.id[:128], actor_name=by.name[:128], created_at=now))  # fmt: skip
                if self._audit is not None:
                    self._audit.record(
                        s,
                        actor=Actor.staff(by.id, ip=by.ip, channel="console"),
                        action="lifecycle.strategy_updated",
                        target=Target("strategy", strategy_id),
                        reason="changed: " + ", ".join(changed),
                        details={"version": row.version, "fields": changed},
                    )
        return self.get(strategy_id)


def _view(row: StrategyRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "version": row.version,
        "updated_by": row.updated_by,
        "updated_at": row.updated_at.isoformat(),
        "definition": row.definition,
    }
