"""One customer's lifecycle at a glance: the stage with its rule, whether and when they churned,
and the churn risk with its reasons (what `helixdesk lifecycle show` prints)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from helixdesk.lifecycle.churn import churn_event
from helixdesk.lifecycle.config import LifecycleConfig
from helixdesk.lifecycle.customer import CustomerHistory
from helixdesk.lifecycle.features import feature_values
from helixdesk.lifecycle.model import ChurnModel
from helixdesk.lifecycle.stages import lifecycle_stage


def describe(
    history: CustomerHistory,
    config: LifecycleConfig,
    model: ChurnModel | None,
    *,
    model_version: str | None = None,
) -> dict[str, Any]:
    """The customer's stage, churn event and (with a model) churn risk as a JSON-ready mapping.

    The model's bands and number of reasons are the pack's current ones (`model:` of the pack's
    `lifecycle/rules.yaml`), so changing them needs no retraining.
    """
    event = churn_event(history.months, config.churn)
    out: dict[str, Any] = {
        "customer_ref": history.ref,
        "as_of": history.as_of.isoformat(),
        "months_of_history": len(history.months),
        "stage": lifecycle_stage(history, config).to_dict(),
        "churned": None if event is None else {"month": event.month.isoformat(), "reason": event.reason},
        "churn_risk": None,
    }
    if model is not None:
        score = replace(model, settings=config.model).score(history)
        values = feature_values(history)
        risk = score.to_dict()
        for reason in risk["reasons"]:
            reason["value"] = round(values[reason["feature"]], 4)
        risk["horizon_months"] = config.model.horizon_months
        risk["model_version"] = model_version
        out["churn_risk"] = risk
    return out
