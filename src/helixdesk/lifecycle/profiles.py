"""Customer profiles for the agent console: the bank read once per profile, the churn model loaded
when the server starts and again when a newer one is trained.

`CustomerProfiles.load` takes the newest churn model under `$HELIXDESK_MODEL_DIR/<pack>/churn`, and
each profile read looks whether that folder changed since (one `stat`) and loads the newest then;
without one (or with one that cannot be loaded) every profile says so in its churn risk (`null`
with the reason) and the rest of the profile is shown: a missing model never fails a page.
The conversation signals are the caller's to gather (this package does not read conversations).
"""

from __future__ import annotations

import logging
import threading
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
from helixdesk.lifecycle.words import churn_reason, said

log = logging.getLogger(__name__)

RECENT_TRANSACTIONS = 50
HISTORY_MONTHS = 24
NO_MODEL = said(
    "no churn model is trained: train one with `helixdesk lifecycle train`",
    "尚未训练流失模型：请用 `helixdesk lifecycle train` 训练",
)


def cannot_use(error: ChurnModelError) -> dict[str, str]:
    return said(f"the churn model cannot be used: {error}", f"流失模型无法使用：{error}")


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
        unavailable: dict[str, str] | None = None,
        root: Path | None = None,
    ) -> None:
        self._bank = bank
        self._config = config
        self._model = model
        self._version = model_version
        self._unavailable = unavailable or (None if model is not None else NO_MODEL)
        # Where newer models appear (`load`): looked at again when the folder changes.
        self._root = root
        self._seen: int | None = self._stamp()
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, *, bank: BankConnector, config: LifecycleConfig, model_dir: Path, pack: str
    ) -> CustomerProfiles:
        """With the newest churn model of the pack, or none (and why) when there is none to load; a
        model trained later is picked up by the next profile read (`refresh`)."""
        root = default_root(model_dir, pack)
        if not root.exists():
            return cls(bank=bank, config=config, model=None, root=root)
        try:
            model, report = load_churn_model(root)
        except ChurnModelError as e:
            log.warning("customer profiles without a churn risk: %s", e)
            return cls(bank=bank, config=config, model=None, unavailable=cannot_use(e), root=root)
        return cls(bank=bank, config=config, model=model, model_version=str(report.get("version")), root=root)

    def _stamp(self) -> int | None:
        """When the models' folder last changed (a new version is a new sub-folder), or None."""
        try:
            return None if self._root is None else self._root.stat().st_mtime_ns
        except OSError:
            return None

    def refresh(self) -> None:
        """Load the newest churn model when a version was added since the last look: `helixdesk
        lifecycle train` needs no restart. A version that cannot be loaded leaves the current model in
        place (and is said when there is none)."""
        root, stamp = self._root, self._stamp()
        if root is None or stamp is None or stamp == self._seen:
            return
        with self._lock:
            if stamp == self._seen:
                return
            self._seen = stamp
            try:
                model, report = load_churn_model(root)
            except ChurnModelError as e:
                log.warning("the newest churn model cannot be used, keeping %s: %s", self._version, e)
                if self._model is None:
                    self._unavailable = cannot_use(e)
                return
            version = str(report.get("version"))
            if version != self._version:
                log.info("churn model %s loaded (was %s)", version, self._version)
            self._model, self._version, self._unavailable = model, version, None

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
        self.refresh()
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
            reason_en, reason_zh = churn_reason(churned["reason"])
            unavailable = said(
                f"already churned in {churned['month'][:7]} ({reason_en}) and "
                "not come back: the churn model scores customers still with the bank",
                f"已于 {churned['month'][:7]} 流失（{reason_zh}）且没有回来：流失模型只为仍在本行的客户评分",
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
