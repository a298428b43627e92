"""`ActionRunner`: runs a named business action for a customer: validated, confirmed, idempotent, audited.

    runner = ActionRunner(bank=container.bank, sessions=container.sessions,
                          policies=load_action_policies(container.pack))
    out = runner.run("get_balance", customer_ref="C000001", params={}, conversation_id=conv_id)
    out = runner.run("freeze_card", customer_ref="C000001", params={"card_last4": "1234", "reason": "lost"},
                     conversation_id=conv_id, confirmed=True, idempotency_key=f"{conv_id}:freeze:1234")

- `params` are validated into the action's input model (`invalid_params` with pydantic's message).
- State-changing actions (`ActionSpec.changes_state`: freeze_card, request_card_reissue,
  open_dispute) raise `confirmation_required` unless `confirmed=True`.
- With an `idempotency_key`, a state-changing action runs at most once: the key is claimed in
  `action_idempotency` (unique), the first result is stored and returned again for the same key.
  A second run while the first is still going waits up to `in_progress_wait` seconds for it, then
  raises `action_in_progress`. The same key with another action, customer or input raises
  `idempotency_key_reused`. A run that fails releases its key so it can be retried.
- Every run, read or write, success or failure, appends one `action_audit` row and, in the same
  transaction, one entry to the tamper-evident audit log (`action.<name>`; helixdesk.audit).
  `run` stores them at once; `execute` returns them for the caller's own transaction (the bot
  stores them with the turn's replies).

The runner is synchronous (it calls the connector and the database); call it from async code with
`anyio.to_thread.run_sync`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.actions.base import (
    ActionContext,
    ActionInProgressError,
    ActionInput,
    ActionOutput,
    ActionSpec,
    ConfirmationRequiredError,
    IdempotencyKeyReusedError,
    InvalidParamsError,
    UnknownActionError,
    add_audit,
    dumps,
    json_safe,
)
from helixdesk.actions.models import ActionIdempotency
from helixdesk.actions.policies import ActionPolicies
from helixdesk.actions.registry import registered_actions
from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.bank.connector import BankConnector
from helixdesk.core.errors import AppError
from helixdesk.db.session import reading, transaction

ACTORS = ("bot", "agent", "api")
_POLL_SECONDS = 0.05


log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """What the audit keeps of one run (`ActionRunner.record` stores it)."""

    at: datetime
    actor: str
    by: Actor
    action: str
    known: bool
    customer_ref: str | None
    conversation_id: str | None
    params: Any
    confirmed: bool
    status: str
    summary: str
    error: AppError | None
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class ActionRun:
    output: ActionOutput | None
    error: AppError | None
    record: ActionRecord


class ActionRunner:
    def __init__(
        self,
        *,
        bank: BankConnector,
        sessions: sessionmaker[Session],
        policies: ActionPolicies,
        audit: AuditLog,
        clock: Callable[[], datetime] = _utcnow,
        in_progress_wait: float = 10.0,
    ) -> None:
        self._bank = bank
        self._sessions = sessions
        self._policies = policies
        self._audit = audit
        self._clock = clock
        self._wait = in_progress_wait
        self._actions = registered_actions()

    @property
    def actions(self) -> Mapping[str, ActionSpec]:  # type: ignore[type-arg]
        return self._actions

    def run(
        self,
        name: str,
        *,
        customer_ref: str | None,
        params: Mapping[str, Any],
        conversation_id: str | None,
        confirmed: bool = False,
        idempotency_key: str | None = None,
        actor: str = "bot",
        by: Actor | None = None,
    ) -> ActionOutput:
        """Run one action and return its typed output; raises `AppError` subclasses with stable codes.

        The run is audited in a transaction of its own. `by` is who runs it for the audit log (a
        staff member, an API key); by default the bot, or the system for `actor="agent"`/`"api"`
        runs that do not say who.
        """
        done = self.execute(
            name,
            customer_ref=customer_ref,
            params=params,
            conversation_id=conversation_id,
            confirmed=confirmed,
            idempotency_key=idempotency_key,
            actor=actor,
            by=by,
        )
        with transaction(self._sessions) as s:
            self.record(s, done.record)
        if done.error is not None:
            raise done.error
        assert done.output is not None
        return done.output

    def execute(
        self,
        name: str,
        *,
        customer_ref: str | None,
        params: Mapping[str, Any],
        conversation_id: str | None,
        confirmed: bool = False,
        idempotency_key: str | None = None,
        actor: str = "bot",
        by: Actor | None = None,
    ) -> ActionRun:
        """Run one action without raising: its output or its error, and the audit record to store
        with `record` in the caller's transaction (the bot stores it with the turn)."""
        now = self._clock()
        error: AppError | None = None
        out: ActionOutput | None = None
        status, summary = "failed", ""
        try:
            out, replayed, summary = self._execute(
                name,
                now=now,
                customer_ref=customer_ref,
                params=params,
                conversation_id=conversation_id,
                confirmed=confirmed,
                idempotency_key=idempotency_key,
                actor=actor,
            )
            status = "replayed" if replayed else "ok"
        except AppError as e:
            error, summary = e, e.detail
        except Exception as e:  # an action's bug is recorded like a refusal, then raised by `run`
            log.exception("action %s failed", name)
            error = AppError(f"{type(e).__name__}: {e}")
            summary = error.detail
        record = ActionRecord(
            at=now,
            actor=actor,
            by=by or _audit_actor(actor),
            action=name,
            known=name in self._actions,
            customer_ref=customer_ref,
            conversation_id=conversation_id,
            params=json_safe(dict(params)),
            confirmed=confirmed,
            status=status,
            summary=summary,
            error=error,
            idempotency_key=idempotency_key,
        )
        return ActionRun(output=out, error=error, record=record)

    def record(self, s: Session, record: ActionRecord) -> None:
        """Store the audit of one run: its `action_audit` row and its entry in the audit log."""
        add_audit(
            s,
            at=record.at,
            actor=record.actor,
            action=record.action,
            customer_ref=record.customer_ref,
            conversation_id=record.conversation_id,
            params=record.params,
            status=record.status,
            summary=record.summary,
            error=record.error,
            idempotency_key=record.idempotency_key,
        )
        self._audit.record(
            s,
            actor=record.by,
            action=f"action.{record.action}" if record.known else "action.unknown",
            target=Target.customer(record.customer_ref)
            if record.customer_ref
            else Target("action", record.action[:128]),
            details={
                "action": record.action[:64],
                "status": record.status,
                "error_code": None if record.error is None else record.error.code,
                "conversation_id": record.conversation_id,
                "confirmed": record.confirmed,
                "params": record.params,
            },
        )

    def _execute(
        self,
        name: str,
        *,
        now: datetime,
        customer_ref: str | None,
        params: Mapping[str, Any],
        conversation_id: str | None,
        confirmed: bool,
        idempotency_key: str | None,
        actor: str,
    ) -> tuple[ActionOutput, bool, str]:
        spec = self._actions.get(name)
        if spec is None:
            raise UnknownActionError(f"no action named {name!r}")
        if actor not in ACTORS:
            raise InvalidParamsError(f"actor must be one of {', '.join(ACTORS)}")
        args = _validate(spec, params)
        if spec.changes_state and not confirmed:
            raise ConfirmationRequiredError(f"{name} changes the customer's data; ask them to confirm first")
        ctx = ActionContext(
            bank=self._bank,
            sessions=self._sessions,
            policies=self._policies,
            now=now,
            customer_ref=customer_ref,
            conversation_id=conversation_id,
            idempotency_key=idempotency_key,
        )
        if spec.changes_state and idempotency_key:
            out, replayed = self._once(spec, ctx, args, idempotency_key)
        else:
            out, replayed = spec.handler(ctx, args), False
        return out, replayed, spec.summarise(out) if spec.summarise else name

    # --- idempotency ---------------------------------------------------------------------------

    def _once(
        self,
        spec: ActionSpec,  # type: ignore[type-arg]
        ctx: ActionContext,
        args: ActionInput,
        key: str,
    ) -> tuple[ActionOutput, bool]:
        request = dumps({"action": spec.name, "customer_ref": ctx.customer_ref, "params": args})
        for _attempt in range(3):
            try:
                with transaction(self._sessions) as s:
                    s.add(
                        ActionIdempotency(
                            key=key,
                            action=spec.name,
                            customer_ref=ctx.customer_ref,
                            request_json=request,
                            state="running",
                            created_at=ctx.now,
                        )
                    )
                break
            except IntegrityError:
                replayed = self._replay(spec, key, request)
                if replayed is not None:
                    return replayed, True
                # The other run failed and released the key: claim it again.
        else:
            raise ActionInProgressError(f"could not claim idempotency key {key!r}")
        try:
            out = spec.handler(ctx, args)
        except BaseException:
            with transaction(self._sessions) as s:
                s.execute(delete(ActionIdempotency).where(ActionIdempotency.key == key))
            raise
        with transaction(self._sessions) as s:
            row = s.scalars(select(ActionIdempotency).where(ActionIdempotency.key == key)).one()
            row.state, row.result_json, row.finished_at = "done", out.model_dump_json(), self._clock()
        return out, False

    def _replay(self, spec: ActionSpec, key: str, request: str) -> ActionOutput | None:  # type: ignore[type-arg]
        """The stored result for `key`, waiting for a running first run; None if the key was released."""
        deadline = time.monotonic() + self._wait
        pause = threading.Event()
        while True:
            with reading(self._sessions) as s:
                row = s.scalar(select(ActionIdempotency).where(ActionIdempotency.key == key))
                found = None if row is None else (row.request_json, row.state, row.result_json)
            if found is None:
                return None
            if found[0] != request:
                raise IdempotencyKeyReusedError(
                    f"idempotency key {key!r} was used for another action, customer or input"
                )
            if found[1] == "done" and found[2] is not None:
                result: ActionOutput = spec.output.model_validate_json(found[2])
                return result
            if time.monotonic() >= deadline:
                raise ActionInProgressError(f"a run with idempotency key {key!r} has not finished yet")
            # The first run is still going: look again shortly.
            pause.wait(_POLL_SECONDS)


def _audit_actor(actor: str) -> Actor:
    return Actor.bot() if actor == "bot" else Actor.system(f"actions:{actor}"[:128])


def _validate(spec: ActionSpec, params: Mapping[str, Any]) -> ActionInput:  # type: ignore[type-arg]
    try:
        args: ActionInput = spec.input.model_validate(dict(params))
    except ValidationError as e:
        raise InvalidParamsError(f"{spec.name}: {_first_errors(e)}") from e
    return args


def _first_errors(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:3]:
        where = ".".join(str(x) for x in err["loc"]) or "params"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
