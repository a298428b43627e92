"""The strategy store on SQLite and PostgreSQL: seeded from the pack once, an edit is validated
within the bank's limits, versioned and audited, and the active set is what recommendations read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from helixdesk.audit.service import AuditLog, AuditQuery, Target, search
from helixdesk.db.session import reading
from helixdesk.lifecycle.errors import InvalidStrategyError, StrategyChangedError, StrategyNotFoundError
from helixdesk.lifecycle.models import StrategyRow, StrategyVersionRow
from helixdesk.lifecycle.recommend import Snapshot, recommend
from helixdesk.lifecycle.store import Editor, StrategyStore
from helixdesk.lifecycle.strategies import load_strategies
from helixdesk.lifecycle.suitability import load_suitability
from helixdesk.packs.loader import load_pack

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
PACK = load_pack("retail_bank")
SUPERVISOR = Editor("staff-7", "Li Supervisor", ip="10.0.0.7")


@pytest.fixture
def store(sessions: Any) -> StrategyStore:
    return StrategyStore(
        sessions=sessions, pack_set=load_strategies(PACK), audit=AuditLog(key=b"k" * 32), clock=lambda: NOW
    )


def test_the_store_is_seeded_from_the_pack_once(store: StrategyStore, sessions: Any) -> None:
    assert store.seed() == len(load_strategies(PACK).strategies)
    assert store.seed() == 0
    assert [s.id for s in store.active().strategies] == [s.id for s in load_strategies(PACK).strategies]
    with reading(sessions) as s:
        assert s.scalar(select(func.count()).select_from(StrategyVersionRow)) == s.scalar(
            select(func.count()).select_from(StrategyRow)
        )


def test_an_edit_is_versioned_audited_and_read_by_recommendations(
    store: StrategyStore, sessions: Any
) -> None:
    before = store.get("retention_fee_waiver")
    definition = dict(before["definition"])
    definition["texts"] = {**definition["texts"], "en": "Waive a year's annual fee (100 CNY)."}
    after = store.update(SUPERVISOR, "retention_fee_waiver", definition, version=before["version"])
    assert after["version"] == before["version"] + 1
    assert [v["version"] for v in after["versions"]] == [2, 1]
    assert after["versions"][0]["actor"] == "staff-7"
    with reading(sessions) as s:
        (entry,) = search(s, AuditQuery(action="lifecycle.strategy_updated"))
    assert entry.target == Target("strategy", "retention_fee_waiver") and entry.actor.id == "staff-7"
    assert entry.details["fields"] == ["texts"] and entry.details["version"] == 2
    shown = recommend(Snapshot(ref="C1", stage="decline", churn_band="high"), store.active().strategies,
                      load_suitability(PACK)).shown  # fmt: skip
    assert (
        next(r for r in shown if r.strategy_id == "retention_fee_waiver")
        .texts["en"]
        .startswith("Waive a year")
    )
    # The same definition again changes nothing and records nothing.
    assert store.update(SUPERVISOR, "retention_fee_waiver", definition)["version"] == 2


def test_an_edit_beyond_the_banks_limit_or_invalid_is_refused_and_changes_nothing(
    store: StrategyStore,
) -> None:
    definition = dict(store.get("retention_fee_waiver")["definition"])
    with pytest.raises(InvalidStrategyError) as e:
        store.update(
            SUPERVISOR, "retention_fee_waiver", {**definition, "what": {**definition["what"], "value": "999"}}
        )
    assert e.value.code == "invalid_strategy" and "limit" in e.value.detail
    with pytest.raises(InvalidStrategyError):
        store.update(SUPERVISOR, "retention_fee_waiver", {**definition, "id": "other"})
    with pytest.raises(InvalidStrategyError):
        store.update(SUPERVISOR, "retention_fee_waiver", {**definition, "skip_suitability": True})
    assert store.get("retention_fee_waiver")["version"] == 1


def test_a_stale_version_or_an_unknown_strategy_is_refused(store: StrategyStore) -> None:
    definition = dict(store.get("first_steps_app")["definition"])
    store.update(SUPERVISOR, "first_steps_app", {**definition, "enabled": False}, version=1)
    with pytest.raises(StrategyChangedError) as e:
        store.update(SUPERVISOR, "first_steps_app", definition, version=1)
    assert e.value.code == "strategy_changed"
    with pytest.raises(StrategyNotFoundError) as missing:
        store.update(SUPERVISOR, "nope", {**definition, "id": "nope"})
    assert missing.value.code == "strategy_not_found"


def test_an_edited_strategy_still_cannot_pass_the_gate(store: StrategyStore) -> None:
    """A strategy aimed at everyone with the highest-risk product reaches only whom the gate allows."""
    definition = dict(store.get("equity_fund")["definition"])
    wide = {
        **definition,
        "when": {"interests": ["funds"]},
        "what": {**definition["what"], "item": {"type": "product", "ref": "equity_fund", "risk": "R5"}},
    }
    store.update(SUPERVISOR, "equity_fund", wide)
    policy = load_suitability(PACK)
    strategies = store.active().strategies
    elderly = Snapshot(
        ref="C1",
        stage="stability",
        churn_band="low",
        interests=("funds",),
        risk_tolerance="aggressive",
        age=80,
    )
    young = Snapshot(
        ref="C2",
        stage="stability",
        churn_band="low",
        interests=("funds",),
        risk_tolerance="aggressive",
        age=30,
    )
    assert "equity_fund" not in [r.strategy_id for r in recommend(elderly, strategies, policy).shown]
    assert "equity_fund" in [r.strategy_id for r in recommend(young, strategies, policy).shown]
