"""What a customer holds, in the register's product names (`rules.PRODUCTS`), from the bank connector.

    customer_products(bank, "C000042", now=now)     # frozenset({"mobile_app", "debit_card", ...})

`products_of` is the pure part, over the connector's records:

- `debit_card`, `credit_card`: a card of that kind that is not cancelled;
- `savings_account`, `current_account`, `time_deposit`: an account of that kind that is not closed;
- `transfer` and `mobile_app`: a savings or current account that is not closed (transfers are made
  from them, and mobile banking comes with them);
- `payroll`: a salary credit (a posted credit of category `income`) in the last `PAYROLL_DAYS` days;
- `wealth`: a wealth customer (segment `affluent` or `private`) or one interested in wealth products
  (`wealth`, `funds`, `gold`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from helixdesk.bank.connector import Account, BankConnector, Card, Customer, Transaction

PAYROLL_DAYS = 62  # two monthly pay days
_ACCOUNT_PRODUCTS = {
    "savings": "savings_account",
    "current": "current_account",
    "time_deposit": "time_deposit",
}
_DEPOSIT_KINDS = frozenset({"savings", "current"})
_WEALTH_SEGMENTS = frozenset({"affluent", "private"})
_WEALTH_INTERESTS = frozenset({"wealth", "funds", "gold"})


def products_of(
    customer: Customer | None,
    accounts: Iterable[Account],
    cards: Iterable[Card],
    credits: Iterable[Transaction] = (),
) -> frozenset[str]:
    """The products of one customer from their records (see the module doc); `credits` are their
    recent transactions (only posted `income` credits count)."""
    held: set[str] = set()
    for account in accounts:
        if account.status == "closed":
            continue
        if account.kind in _ACCOUNT_PRODUCTS:
            held.add(_ACCOUNT_PRODUCTS[account.kind])
        if account.kind in _DEPOSIT_KINDS:
            held |= {"transfer", "mobile_app"}
    for card in cards:
        if card.status != "cancelled" and card.kind in ("debit", "credit"):
            held.add(f"{card.kind}_card")
    if any(t.category == "income" and t.status == "posted" and t.amount > 0 for t in credits):
        held.add("payroll")
    if customer is not None and (
        customer.segment in _WEALTH_SEGMENTS or _WEALTH_INTERESTS & set(customer.interests)
    ):
        held.add("wealth")
    return frozenset(held)


def customer_products(
    bank: BankConnector, customer_ref: str, *, now: datetime, customer: Customer | None = None
) -> frozenset[str]:
    """Read what the customer holds from the bank connector (`customer`: their record, when the
    caller has it already)."""
    profile = customer if customer is not None else bank.get_customer(customer_ref)
    if profile is None:
        return frozenset()
    credits = bank.list_transactions(customer_ref, since=now - timedelta(days=PAYROLL_DAYS), limit=500)
    return products_of(profile, bank.list_accounts(customer_ref), bank.list_cards(customer_ref), credits)
