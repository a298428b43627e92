"""Reading what the facts are computed from: conversations, their messages (sender, time, NLU),
handoffs, ratings, the customer's value tier and whether they came back. In bulk, a few queries per
batch of conversations, for the consumer and for a rebuild alike."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.analytics.facts import REPEAT_DAYS, Conv, Fact, Hand, Msg, conversation_fact
from helixdesk.bank.models import BankCustomer
from helixdesk.conversations.models import Conversation, CsatRating, Customer, Message
from helixdesk.handoff.models import Handoff

_CHUNK = 500


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def load_facts(s: Session, conversation_ids: Sequence[str], *, tz: tzinfo) -> dict[str, Fact]:
    """The facts of these conversations as they stand (a conversation that is gone has none)."""
    out: dict[str, Fact] = {}
    for ids in _chunks(sorted(set(conversation_ids))):
        convs = s.execute(
            select(
                Conversation.id,
                Conversation.customer_id,
                Conversation.channel,
                Conversation.language,
                Conversation.state,
                Conversation.created_at,
                Conversation.closed_at,
            ).where(Conversation.id.in_(ids))
        ).all()
        if not convs:
            continue
        found = [c.id for c in convs]
        messages: dict[str, list[Msg]] = defaultdict(list)
        for cid, seq, sender, at, meta in s.execute(
            select(
                Message.conversation_id, Message.seq, Message.sender, Message.created_at, Message.meta
            ).where(Message.conversation_id.in_(found))
        ):
            nlu = (meta or {}).get("nlu") if sender == "customer" else None
            cites = _cites(meta) if sender == "bot" else ()
            messages[cid].append(
                Msg(seq=seq, sender=sender, at=at, nlu=nlu if isinstance(nlu, dict) else None, cites=cites)
            )
        handoffs: dict[str, list[Hand]] = defaultdict(list)
        for h in s.execute(
            select(
                Handoff.conversation_id,
                Handoff.queue,
                Handoff.reason,
                Handoff.status,
                Handoff.created_at,
                Handoff.claimed_at,
                Handoff.closed_at,
                Handoff.agent_id,
                Handoff.resolution,
                Handoff.sla_seconds,
                Handoff.negativity,
                Handoff.packet,
            ).where(Handoff.conversation_id.in_(found))
        ):
            handoffs[h.conversation_id].append(
                Hand(
                    queue=h.queue,
                    reason=h.reason,
                    status=h.status,
                    created_at=h.created_at,
                    claimed_at=h.claimed_at,
                    closed_at=h.closed_at,
                    agent_id=h.agent_id,
                    resolution=h.resolution,
                    sla_seconds=h.sla_seconds,
                    negativity=float(h.negativity or 0.0),
                    tier=_packet_tier(h.packet),
                )
            )
        csat = dict(
            s.execute(
                select(CsatRating.conversation_id, CsatRating.score).where(
                    CsatRating.conversation_id.in_(found)
                )
            ).all()
        )
        tiers = dict(
            s.execute(
                select(Conversation.id, BankCustomer.value_tier)
                .join(Customer, Customer.id == Conversation.customer_id)
                .join(BankCustomer, BankCustomer.ref == Customer.bank_ref)
                .where(Conversation.id.in_(found))
            ).all()
        )
        back = _came_back(s, [(c.id, c.customer_id, c.created_at) for c in convs])
        for c in convs:
            conv = Conv(
                id=c.id,
                customer_id=c.customer_id,
                channel=c.channel,
                language=c.language,
                state=c.state,
                created_at=c.created_at,
                closed_at=c.closed_at,
            )
            out[c.id] = conversation_fact(
                conv,
                messages.get(c.id, []),
                handoffs.get(c.id, []),
                csat=csat.get(c.id),
                tier=tiers.get(c.id),
                came_back=c.id in back,
                tz=tz,
            )
    return out


def _cites(meta: Any) -> tuple[str, ...]:
    """The knowledge a bot answer cites: each citation's entry id, else its document."""
    found = (meta or {}).get("citations") if isinstance(meta, dict) else None
    refs = []
    for c in found or ():
        if isinstance(c, dict):
            ref = c.get("ref") or c.get("source")
            if ref:
                refs.append(str(ref)[:128])
    return tuple(refs)


def _packet_tier(packet: Any) -> str | None:
    customer = (packet or {}).get("customer") if isinstance(packet, dict) else None
    tier = customer.get("value_tier") if isinstance(customer, dict) else None
    return str(tier) if tier else None


def _came_back(s: Session, convs: Sequence[tuple[str, str, datetime]]) -> set[str]:
    """The conversations whose customer started another within `REPEAT_DAYS` after them."""
    window = timedelta(days=REPEAT_DAYS)
    customers = sorted({c[1] for c in convs})
    starts: dict[str, list[datetime]] = defaultdict(list)
    earliest = min(c[2] for c in convs)
    latest = max(c[2] for c in convs) + window
    for i in range(0, len(customers), _CHUNK):
        for cid, at in s.execute(
            select(Conversation.customer_id, Conversation.created_at).where(
                Conversation.customer_id.in_(customers[i : i + _CHUNK]),
                Conversation.created_at > earliest,
                Conversation.created_at <= latest,
            )
        ):
            starts[cid].append(at)
    return {
        conv_id
        for conv_id, customer, at in convs
        if any(at < other <= at + window for other in starts.get(customer, ()))
    }


def earlier_of_same_customers(s: Session, conversation_ids: Sequence[str]) -> set[str]:
    """Conversations whose resolution a new conversation may change: the same customers' others
    started within `REPEAT_DAYS` before these."""
    out: set[str] = set()
    window = timedelta(days=REPEAT_DAYS)
    for ids in _chunks(sorted(set(conversation_ids))):
        new = s.execute(
            select(Conversation.customer_id, Conversation.created_at).where(Conversation.id.in_(ids))
        ).all()
        for customer, at in new:
            out |= set(
                s.scalars(
                    select(Conversation.id).where(
                        Conversation.customer_id == customer,
                        Conversation.created_at >= at - window,
                        Conversation.created_at < at,
                    )
                )
            )
    return out
