"""Whether a reply opens with empathy, and with which words: chosen by emotion and situation.

An opening is a promise that the bot noticed how the customer feels, so it is only used when there
is something to notice:

1. a situation that calls for it, whatever the emotion model reads: a bereavement (condolence),
   hardship such as a lost job, an illness or debts (support), a fraud report (reassurance: the
   money first), a complaint or a threat to go to the regulator, the press or a lawyer (apology);
2. otherwise a real negative emotion above its intensity threshold: anger or disgust (apology),
   fear (reassurance), sadness (sympathy). A routine request (a card reissue, a product question,
   a polite request for a person, small talk) needs a clearly stronger feeling, so a plain
   "我要补办银行卡" read as a little sad gets no opening.

Situations come from the turn's risk signals (`RiskSignal.type`, and `tag` when the pattern names
one: `vulnerability:bereavement` is a loss, `vulnerability:age` is not) and its intent. An intent
alone calls for the opening only when the message also reads as a negative emotion: the intent
model can take "没事了，刚才那笔是我老婆用我的卡买的" for a fraud report. A pleased or confident
customer (joy, trust) gets no situational opening: "thanks, you got the stolen money back" needs no
reassurance. The thresholds and lists are pack data (`nlg/style.yaml`, `empathy:`).

The result is `(opening, strong)`; the reply uses the template `empathy.<opening>.strong` when
`strong` and it exists, else `empathy.<opening>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.turn import Turn

NEGATIVE = ("anger", "disgust", "fear", "sadness")


@dataclass(frozen=True, slots=True)
class Situation:
    """A situation that calls for an opening: any of these intents, or any risk signal matching one
    of `risk` (a type such as "fraud", or "type:tag" such as "vulnerability:bereavement")."""

    intents: tuple[str, ...] = ()
    risk: tuple[str, ...] = ()

    def by_risk(self, turn: Turn) -> bool:
        return any(
            signal.type in self.risk or (signal.tag and f"{signal.type}:{signal.tag}" in self.risk)
            for signal in turn.risk
        )

    def by_intent(self, turn: Turn) -> bool:
        return turn.intent is not None and turn.intent.name in self.intents


_ROUTINE = (
    "greeting",
    "goodbye",
    "praise",
    "human_agent",
    "account_opening",
    "account_closing",
    "annual_fee",
    "balance_inquiry",
    "branch_info",
    "card_activation",
    "card_application",
    "card_delivery",
    "card_lost_or_stolen",
    "credit_card_repayment",
    "credit_limit_increase",
    "cross_border_remittance",
    "deposit_interest_rate",
    "exchange_rate",
    "fee_inquiry",
    "installment_inquiry",
    "loan_application",
    "loan_interest_rate",
    "mortgage_inquiry",
    "password_reset",
    "risk_assessment",
    "transaction_history",
    "transfer_limit",
    "update_personal_info",
    "wealth_product_inquiry",
)


@dataclass(frozen=True, slots=True)
class EmpathyPolicy:
    # opening: {emotion: minimum intensity}; the first opening whose emotion and minimum match wins.
    emotions: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: {
            "apology": {"anger": 0.45, "disgust": 0.5},
            "reassure": {"fear": 0.45},
            "sad": {"sadness": 0.5},
        }
    )
    # opening: situation, checked in this order before the emotion.
    situations: Mapping[str, Situation] = field(
        default_factory=lambda: {
            "condolence": Situation(risk=("vulnerability:bereavement",)),
            "hardship": Situation(
                intents=("loan_repayment_hardship",),
                risk=(
                    "vulnerability:job_loss",
                    "vulnerability:illness",
                    "vulnerability:debt",
                    "vulnerability:mental_health",
                    "vulnerability:self_harm",
                ),
            ),
            "fraud": Situation(intents=("card_fraud_report",), risk=("fraud",)),
            "apology": Situation(
                intents=("complaint",),
                risk=(
                    "escalation:complaint",
                    "escalation:regulator",
                    "escalation:media",
                    "escalation:legal",
                    "escalation:repeat_contact",
                ),
            ),
        }
    )
    routine_intents: tuple[str, ...] = _ROUTINE
    routine_min_intensity: float = 0.65  # the feeling a routine request must show for an opening
    strong: float = 0.7  # a negative emotion at least this intense gets the strong wording
    pleased: tuple[str, ...] = ("joy", "trust")  # emotions that rule out a situational opening

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, where: str = "empathy") -> EmpathyPolicy:
        """From the pack's `empathy:` mapping. The older form, `{opening: {emotion: minimum}}`
        alone, is read as `emotions` with the default situations."""
        if not data:
            return cls()
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"{where} must be a mapping", code="invalid_style_policy")
        known = {"emotions", "situations", "routine_intents", "routine_min_intensity", "strong", "pleased"}
        if not known & set(data):
            return cls(emotions=_thresholds(data, where))
        unknown = set(data) - known
        if unknown:
            raise ConfigurationError(
                f"{where}: unknown keys {', '.join(sorted(unknown))}", code="invalid_style_policy"
            )
        default = cls()
        try:
            situations = (
                {
                    str(name): Situation(intents=_names(spec.get("intents")), risk=_names(spec.get("risk")))
                    for name, spec in data["situations"].items()
                }
                if "situations" in data
                else default.situations
            )
            return cls(
                emotions=_thresholds(data["emotions"], f"{where}.emotions")
                if "emotions" in data
                else default.emotions,
                situations=situations,
                routine_intents=_names(data["routine_intents"])
                if "routine_intents" in data
                else default.routine_intents,
                routine_min_intensity=float(data.get("routine_min_intensity", default.routine_min_intensity)),
                strong=float(data.get("strong", default.strong)),
                pleased=_names(data["pleased"]) if "pleased" in data else default.pleased,
            )
        except (TypeError, ValueError, AttributeError) as e:
            raise ConfigurationError(f"{where}: {e}", code="invalid_style_policy") from e


def _names(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        raise TypeError(f"expected a list of names, got {raw!r}")
    return tuple(str(x) for x in raw)


def _thresholds(raw: Any, where: str) -> dict[str, dict[str, float]]:
    if not isinstance(raw, Mapping):
        raise ConfigurationError(
            f"{where} must map an opening to {{emotion: minimum}}", code="invalid_style_policy"
        )
    out: dict[str, dict[str, float]] = {}
    for opening, rules in raw.items():
        if not isinstance(rules, Mapping):
            raise ConfigurationError(
                f"{where}.{opening} must be {{emotion: minimum}}", code="invalid_style_policy"
            )
        out[str(opening)] = {str(label): float(minimum) for label, minimum in rules.items()}
    return out


def choose_empathy(turn: Turn, policy: EmpathyPolicy) -> tuple[str, bool] | None:
    """The opening for this message and whether it is strong, or None (see the module docstring)."""
    emotion = turn.emotion
    negative = emotion is not None and emotion.label in NEGATIVE
    strong = negative and emotion is not None and emotion.intensity >= policy.strong
    pleased = emotion is not None and emotion.label in policy.pleased
    if not pleased:
        for opening, situation in policy.situations.items():
            if situation.by_risk(turn) or (negative and situation.by_intent(turn)):
                return opening, strong
    if emotion is None or not negative:
        return None
    routine = turn.intent is not None and turn.intent.name in policy.routine_intents
    for opening, thresholds in policy.emotions.items():
        minimum = thresholds.get(emotion.label)
        if minimum is None:
            continue
        if routine:
            minimum = max(minimum, policy.routine_min_intensity)
        if emotion.intensity >= minimum:
            return opening, strong
    return None
