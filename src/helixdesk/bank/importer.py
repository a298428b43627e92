"""Load a bank JSON file (bank/schema.py) into the demo core bank: all or nothing.

Every problem is reported with the line of the JSON file it sits on, and nothing is written
unless the whole file is valid and no record clashes with what is already stored.
"""

from __future__ import annotations

import bisect
import json
import json.scanner
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.bank.models import (
    BankAccount,
    BankCard,
    BankCustomer,
    BankInstallmentPlan,
    BankMonthlyActivity,
    BankStatement,
    BankTransaction,
    BankTransfer,
)
from helixdesk.bank.money import to_minor
from helixdesk.bank.schema import BankFile
from helixdesk.core.errors import ValidationFailedError


@dataclass(frozen=True, slots=True)
class ImportProblem:
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f" ({self.path})" if self.path else ""
        if self.line <= 0:
            return f"{self.message}{where}"
        return f"line {self.line}{where}: {self.message}"


class BankImportError(ValidationFailedError):
    code = "bank_import_invalid"

    def __init__(self, problems: list[ImportProblem]) -> None:
        shown = "\n".join(str(p) for p in problems[:50])
        more = f"\n… and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) in the bank file; nothing was imported:\n{shown}{more}")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ImportSummary:
    customers: int
    accounts: int
    cards: int
    transactions: int
    transfers: int
    statements: int
    installment_plans: int
    monthly_activity: int


class _Located(dict[str, Any]):
    """A JSON object that remembers where it starts in the source text."""

    offset: int = 0


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)


def _decode_with_positions(text: str) -> Any:
    decoder = json.JSONDecoder()
    original: Callable[..., tuple[dict[str, Any], int]] = decoder.parse_object  # type: ignore[attr-defined]

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[dict[str, Any], int]:
        obj, end = original(s_and_end, *args)
        located = _Located(obj)
        located.offset = s_and_end[1] - 1
        return located, end

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder.decode(text)


def parse_bank_file(text: str) -> BankFile:
    """Validate a bank JSON document; raise `BankImportError` listing every problem with its line."""
    index = _LineIndex(text)
    try:
        raw = _decode_with_positions(text)
    except json.JSONDecodeError as e:
        raise BankImportError(
            [ImportProblem(e.lineno, "", f"not valid JSON: {e.msg} (column {e.colno})")]
        ) from e
    if not isinstance(raw, dict):
        raise BankImportError(
            [ImportProblem(1, "", "the file must hold one JSON object with a 'customers' list")]
        )
    try:
        return BankFile.model_validate(raw)
    except ValidationError as e:
        problems = [_locate(err, raw, index) for err in e.errors(include_url=False)]
        raise BankImportError(sorted(problems, key=lambda p: p.line)) from e


def _locate(err: Any, raw: Any, index: _LineIndex) -> ImportProblem:
    loc: tuple[Any, ...] = tuple(err["loc"])
    path = ""
    node = raw
    offset = getattr(raw, "offset", 0)
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, _Located):
            offset = node.offset
    if loc and isinstance(loc[-1], str) and not isinstance(node, _Located):
        key_at = index.text.find(f'"{loc[-1]}"', offset)
        if key_at >= 0:
            offset = key_at
    message = str(err["msg"]).removeprefix("Value error, ")
    duplicate = re.match(r"duplicate .+ '(.+)'$", message)
    if duplicate:
        needle = json.dumps(duplicate.group(1), ensure_ascii=False)
        first = index.text.find(needle)
        second = index.text.find(needle, first + 1) if first >= 0 else -1
        if second >= 0:
            offset = second
    return ImportProblem(index.line(offset), path, message)


def import_bank_file(session: Session, bank: BankFile) -> ImportSummary:
    """Write a validated file in the caller's transaction. Existing refs are a conflict, not an update."""
    clashes = _existing(session, bank)
    if clashes:
        raise BankImportError([ImportProblem(0, "", c) for c in clashes])
    counts = dict.fromkeys(
        (
            "customers",
            "accounts",
            "cards",
            "transactions",
            "transfers",
            "statements",
            "installment_plans",
            "monthly_activity",
        ),
        0,
    )
    for c in bank.customers:
        customer = BankCustomer(
            ref=c.ref,
            name_zh=c.name_zh,
            name_en=c.name_en,
            gender=c.gender,
            birth_date=c.birth_date,
            segment=c.segment,
            value_tier=c.value_tier,
            risk_tolerance=c.risk_tolerance,
            preferred_language=c.preferred_language,
            phone=c.phone,
            email=c.email,
            city=c.city,
            customer_since=c.customer_since,
            interests=",".join(c.interests),
            relationship_manager=c.relationship_manager,
        )
        session.add(customer)
        session.flush()
        counts["customers"] += 1
        session.add_all(
            BankMonthlyActivity(
                customer_id=customer.id,
                month=m.month,
                balance_minor=to_minor(m.balance, "CNY"),
                transactions=m.transactions,
                card_spend_minor=to_minor(m.card_spend, "CNY"),
                payroll=m.payroll,
                remittances=m.remittances,
                products_held=m.products_held,
                products_opened=m.products_opened,
                products_closed=m.products_closed,
                logins=m.logins,
            )
            for m in c.monthly_activity
        )
        counts["monthly_activity"] += len(c.monthly_activity)
        for a in c.accounts:
            account = BankAccount(
                number=a.number,
                customer_id=customer.id,
                kind=a.kind,
                currency=a.currency,
                balance_minor=to_minor(a.balance, a.currency),
                available_minor=to_minor(a.available, a.currency),
                status=a.status,
                opened_on=a.opened_on,
            )
            session.add(account)
            session.flush()
            counts["accounts"] += 1
            card_ids: dict[str, int] = {}
            for k in a.cards:
                card = BankCard(
                    customer_id=customer.id,
                    account_id=account.id,
                    kind=k.kind,
                    product=k.product,
                    last4=k.last4,
                    status=k.status,
                    credit_limit_minor=None if k.credit_limit is None else to_minor(k.credit_limit, "CNY"),
                    daily_limit_minor=to_minor(k.daily_limit, "CNY"),
                    expires=k.expires,
                    overseas_enabled=k.overseas_enabled,
                )
                session.add(card)
                session.flush()
                card_ids[k.last4] = card.id
                counts["cards"] += 1
                for st in k.statements:
                    session.add(
                        BankStatement(
                            card_id=card.id,
                            period=st.period,
                            statement_date=st.statement_date,
                            due_date=st.due_date,
                            amount_due_minor=to_minor(st.amount_due, st.currency),
                            minimum_payment_minor=to_minor(st.minimum_payment, st.currency),
                            paid_minor=to_minor(st.paid, st.currency),
                            currency=st.currency,
                        )
                    )
                    counts["statements"] += 1
                for p in k.installment_plans:
                    session.add(
                        BankInstallmentPlan(
                            ref=p.ref,
                            card_id=card.id,
                            description=p.description,
                            principal_minor=to_minor(p.principal, p.currency),
                            periods=p.periods,
                            periods_paid=p.periods_paid,
                            fee_rate_per_period=str(p.fee_rate_per_period),
                            start_date=p.start_date,
                            currency=p.currency,
                            status=p.status,
                        )
                    )
                    counts["installment_plans"] += 1
            session.add_all(
                BankTransaction(
                    ref=t.ref,
                    account_id=account.id,
                    card_id=None if t.card_last4 is None else card_ids[t.card_last4],
                    occurred_at=t.occurred_at,
                    amount_minor=to_minor(t.amount, t.currency),
                    currency=t.currency,
                    merchant=t.merchant,
                    category=t.category,
                    channel=t.channel,
                    status=t.status,
                    description=t.description,
                )
                for t in a.transactions
            )
            counts["transactions"] += len(a.transactions)
            session.add_all(
                BankTransfer(
                    ref=t.ref,
                    account_id=account.id,
                    payee_name=t.payee_name,
                    payee_account=t.payee_account,
                    payee_bank=t.payee_bank,
                    amount_minor=to_minor(t.amount, t.currency),
                    currency=t.currency,
                    kind=t.kind,
                    status=t.status,
                    failure_reason=t.failure_reason,
                    created_at=t.created_at,
                    expected_arrival=t.expected_arrival,
                    completed_at=t.completed_at,
                )
                for t in a.transfers
            )
            counts["transfers"] += len(a.transfers)
    session.flush()
    return ImportSummary(**counts)


def _existing(session: Session, bank: BankFile) -> list[str]:
    refs = [c.ref for c in bank.customers]
    numbers = [a.number for c in bank.customers for a in c.accounts]
    clashes: list[str] = []
    for chunk in _chunks(refs):
        clashes += [
            f"customer {r} already exists"
            for r in session.scalars(select(BankCustomer.ref).where(BankCustomer.ref.in_(chunk)))
        ]
    for chunk in _chunks(numbers):
        clashes += [
            f"account {n} already exists"
            for n in session.scalars(select(BankAccount.number).where(BankAccount.number.in_(chunk)))
        ]
    txns = [t.ref for c in bank.customers for a in c.accounts for t in a.transactions]
    for chunk in _chunks(txns):
        clashes += [
            f"transaction {r} already exists"
            for r in session.scalars(select(BankTransaction.ref).where(BankTransaction.ref.in_(chunk)))
        ]
    transfers = [t.ref for c in bank.customers for a in c.accounts for t in a.transfers]
    for chunk in _chunks(transfers):
        clashes += [
            f"transfer {r} already exists"
            for r in session.scalars(select(BankTransfer.ref).where(BankTransfer.ref.in_(chunk)))
        ]
    return clashes


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
