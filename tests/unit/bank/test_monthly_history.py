"""The demo bank's monthly history: deterministic from the seed, the trajectories in their shares,
the window, agreement with today's accounts, and the optional `monthly_activity` of a bank file."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from helixdesk.bank.history import (
    NEW_DRIFTING_SHARE,
    TRAJECTORY_SHARES,
    add_months,
    demo_population,
    history_window,
    months_between,
)
from helixdesk.bank.importer import BankImportError, parse_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.lifecycle.churn import churn_event
from helixdesk.lifecycle.config import ChurnRules

AS_OF = date(2026, 11, 23)


@pytest.fixture(scope="module")
def population():
    return demo_population(3000, seed=5, as_of=AS_OF)


def test_the_same_seed_gives_the_same_history_and_another_seed_another():
    assert demo_population(200, seed=5, as_of=AS_OF) == demo_population(200, seed=5, as_of=AS_OF)
    assert demo_population(200, seed=6, as_of=AS_OF) != demo_population(200, seed=5, as_of=AS_OF)
    a = build_demo_bank(30, seed=9, as_of=AS_OF)
    b = build_demo_bank(30, seed=9, as_of=AS_OF)
    assert [c.monthly_activity for c in a.customers] == [c.monthly_activity for c in b.customers]
    assert a.model_dump() == b.model_dump()


def test_a_customers_history_does_not_change_with_the_population_size(population):
    small = demo_population(100, seed=5, as_of=AS_OF)
    assert small == population[:100]


def test_the_window_is_24_complete_months_and_none_before_joining(population):
    last = date(2026, 10, 1)
    assert history_window(date(2001, 3, 9), AS_OF) == [add_months(last, k) for k in range(-23, 1)]
    assert history_window(date(2026, 2, 14), AS_OF)[0] == date(2026, 2, 1)
    assert history_window(date(2026, 11, 2), AS_OF) == []  # joined this month: no complete month yet
    for c in population:
        months = [m.month for m in c.history.months]
        assert 1 <= len(months) <= 24 and months[-1] == last
        assert months == [add_months(months[0], k) for k in range(len(months))]
        assert months[0] >= c.profile.customer_since.replace(day=1)


def test_trajectories_come_in_their_shares(population):
    established = [c for c in population if months_between(c.profile.customer_since, AS_OF) >= 12]
    counts = Counter(c.history.trajectory for c in established)
    assert "new" not in counts
    total = sum(counts.values())
    for trajectory, share in TRAJECTORY_SHARES.items():
        assert counts[trajectory] / total == pytest.approx(share, abs=0.03), trajectory
    young = [c for c in population if months_between(c.profile.customer_since, AS_OF) < 12]
    leaving = sum(c.history.trajectory == "drifting" for c in young) / len(young)
    assert leaving == pytest.approx(NEW_DRIFTING_SHARE, abs=0.1)
    assert {c.history.trajectory for c in population} == set(TRAJECTORY_SHARES) | {"new"}


def test_the_trajectories_look_like_their_names(population):
    rules = ChurnRules()
    by = {
        t: [c for c in population if c.history.trajectory == t]
        for t in ("drifting", "steady", "returning", "new")
    }
    drained = [c for c in by["drifting"] if c.history.drained and len(c.history.months) >= 12]
    churned = sum(churn_event(c.history.months, rules) is not None for c in drained)
    assert churned / len(drained) > 0.9
    for kind in ("steady", "returning"):
        assert sum(churn_event(c.history.months, rules) is not None for c in by[kind]) / len(by[kind]) < 0.03
    for c in drained:
        assert not c.history.months[-1].payroll and c.history.months[-1].products_held == 1
    grown = [c for c in by["new"] if len(c.history.months) >= 6]
    assert all(c.history.months[-1].products_held >= c.history.months[0].products_held for c in grown)
    assert (
        sum(c.history.months[-1].products_held > c.history.months[0].products_held for c in grown)
        > len(grown) / 2
    )


def test_the_demo_bank_agrees_with_its_history():
    bank = build_demo_bank(200, seed=7, as_of=AS_OF)
    drained = 0
    for c in bank.customers:
        assert c.monthly_activity, c.ref
        savings = next(a for a in c.accounts if a.kind == "savings")
        last = c.monthly_activity[-1]
        assert last.balance == savings.balance  # the last month ends with today's deposits
        drained += last.balance < Decimal("2000") and any(
            m.balance > 20 * last.balance for m in c.monthly_activity
        )
        payroll_credits = [t for t in savings.transactions if t.category == "income"]
        assert bool(payroll_credits) == last.payroll, c.ref
        assert last.products_held >= 1
    assert drained >= 10  # the drained customers' accounts are near empty today


def test_a_bank_file_without_monthly_activity_is_still_valid():
    doc = build_demo_bank(2, as_of=AS_OF).model_dump(mode="json")
    for c in doc["customers"]:
        del c["monthly_activity"]
    parsed = parse_bank_file(json.dumps(doc))
    assert all(c.monthly_activity == [] for c in parsed.customers)


@pytest.mark.parametrize(
    ("change", "message", "path"),
    [
        ({"month": "2026-03-02"}, "month must be the first day of a month", "monthly_activity[3]"),
        ({"products_opened": 9}, "products_opened is larger than products_held", "monthly_activity[3]"),
        ({"logins": -1}, "greater than or equal to 0", "monthly_activity[3].logins"),
        ({"balance": "10.001"}, "decimal places", "monthly_activity[3].balance"),
        ({"colour": "red"}, "Extra inputs are not permitted", "monthly_activity[3].colour"),
        # checked against the customer's other fields: reported on the customer, naming the month
        ({"month": "1990-01-01"}, "monthly_activity 1990-01 is before customer_since", "customers[0]"),
    ],
)
def test_a_bad_month_is_reported_with_its_line(change, message, path):
    doc = build_demo_bank(1, as_of=AS_OF).model_dump(mode="json")
    doc["customers"][0]["monthly_activity"][3].update(change)
    text = json.dumps(doc, indent=1)
    with pytest.raises(BankImportError) as failed:
        parse_bank_file(text)
    [problem] = failed.value.problems
    assert message in problem.message and problem.path.endswith(path)
    months_start = text[: text.index('"monthly_activity"')].count("\n") + 1
    assert (problem.line > months_start) == (path != "customers[0]")


def test_a_month_given_twice_is_refused():
    doc = build_demo_bank(1, as_of=AS_OF).model_dump(mode="json")
    months = doc["customers"][0]["monthly_activity"]
    months.append(dict(months[0]))
    with pytest.raises(BankImportError, match="twice"):
        parse_bank_file(json.dumps(doc))
