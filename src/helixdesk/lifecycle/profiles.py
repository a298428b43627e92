"""Customer profiles for the agent console: the bank read once per profile, the churn model loaded
once (when the server starts).

`CustomerProfiles.load` takes the newest churn model under `$HELIXDESK_MODEL_DIR/<pack>/churn`;
without one (or with one that cannot be loaded) every profile says so in its churn risk (`null`
with the reason) and the rest of the profile is shown: a missing model never fails a page.
The conversation signals are the caller's to gather (this package does not read conversations).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from helixdesk.bank.connector import BankConnector
from helixdesk.lifecycle.artefacts import ChurnModelError, default_root, load_churn_model
from helixdesk.lifecycle.config import LifecycleConfig
from helixdesk.lifecycle.customer import CustomerHistory
from helixdesk.lifecycle.model import ChurnModel
from helixdesk.lifecycle.profile import ConversationSignals, build_profile
from helixdesk.lifecycle.recommend import Snapshot
from helixdesk.lifecycle.service import describe

log = logging.getLogger(__name__)

RECENT_TRANSACTIONS = 50
HISTORY_MONTHS = 24
NO_MODEL = "no churn model is trained: train one with `helixdesk lifecycle train`"


@dataclass(frozen=True, slots=True)
class CustomerView:
    """A customer's profile (as the console shows it) and their `Snapshot` (as the strategies and the
    suitability gate see them). The snapshot says no complaint or fraud report is open and that the
    customer is not vulnerable: the caller, who knows the conversations, sets those
    (`dataclasses.replace`)."""

    profile: dict[str, Any]
    snapshot: Snapshot
    customer_since: date


class CustomerProfiles:
    def __init__(
        self,
        *,
        bank: BankConnector,
        config: LifecycleConfig,
        model: ChurnModel | None,
        model_version: str | None = None,
        unavailable: str | None = None,
    ) -> None:
        self._bank = bank
        self._config = config
        self._model = model
        self._version = model_version
        self._unavailable = unavailable or (None if model is not None else NO_MODEL)

    @classmethod
    def load(
        cls, *, bank: BankConnector, config: LifecycleConfig, model_dir: Path, pack: str
    ) -> CustomerProfiles:
        """With the newest churn model of the pack, or none (and why) when there is none to load."""
        root = default_root(model_dir, pack)
        if not root.exists():
            return cls(bank=bank, config=config, model=None)
        try:
            model, report = load_churn_model(root)
        except ChurnModelError as e:
            log.warning("customer profiles without a churn risk: %s", e)
            return cls(
                bank=bank, config=config, model=None, unavailable=f"the churn model cannot be used: {e}"
            )
        return cls(bank=bank, config=config, model=model, model_version=str(report.get("version")))

    @property
    def model_version(self) -> str | None:
        return self._version

    def profile(self, ref: str, signals: ConversationSignals, *, today: date) -> dict[str, Any] | None:
        """The profile of the bank's customer `ref`, or None when the bank does not know them."""
        view = self.read(ref, signals, today=today)
        return None if view is None else view.profile

    def read(self, ref: str, signals: ConversationSignals, *, today: date) -> CustomerView | None:
        """The profile and snapshot of the bank's customer `ref`, or None when the bank does not know
        them."""
        customer = self._bank.get_customer(ref)
        if customer is None:
            return None
        months = self._bank.monthly_activity(ref, months=HISTORY_MONTHS)
        history = CustomerHistory.of(
            ref=customer.ref,
            birth_date=customer.birth_date,
            customer_since=customer.customer_since,
            value_tier=customer.value_tier,
            months=months,
            today=today,
        )
        described = describe(history, self._config, self._model, model_version=self._version)
        churn_risk, unavailable = described["churn_risk"], self._unavailable
        if described["stage"]["rule"] == "churned" and described["churned"] is not None:
            # The model scores customers still with the bank: a risk for one who has left misleads.
            churned = described["churned"]
            churn_risk = None
            unavailable = (
                f"already churned in {churned['month'][:7]} ({churned['reason'].replace('_', ' ')}) and "
                "not come back: the churn model scores customers still with the bank"
            )
        profile = build_profile(
            customer=customer,
            accounts=self._bank.list_accounts(ref),
            cards=self._bank.list_cards(ref),
            transactions=self._bank.list_transactions(ref, limit=RECENT_TRANSACTIONS),
            months=history.months,
            stage=described["stage"],
            churn_risk=churn_risk,
            churn_unavailable=unavailable,
            signals=signals,
            rules=self._config.profile,
            today=today,
        )
        band = churn_risk.get("band") if churn_risk else None
        snapshot = Snapshot(
            ref=customer.ref,
            stage=described["stage"]["stage"],
            churn_band=band if isinstance(band, str) else None,
            interests=tuple(i["interest"] for i in profile["interests"]["value"]),
            risk_tolerance=profile["risk_tolerance"]["value"],
            age=customer.age(today),
        )
        return CustomerView(profile=profile, snapshot=snapshot, customer_since=customer.customer_since)
