"""Questions the bot could not answer become proposed answers, drafted from what agents replied.

`Proposals.generate()` gathers the customer questions of the last `WINDOW` that the bot could not
answer, that went to a person, or whose answer the customer rejected (an agent's wrap-up as a
knowledge gap counts as not answered). It clusters them (average linkage on the insight features:
e5 centred per language plus intent probabilities; two groups join when their mean cosine is at
least `JOIN`) and, for every cluster of at least `MIN_VOLUME` questions not covered by a proposal
yet, most of which the bot could not answer or had its answer rejected (`UNANSWERED_SHARE`: a
cluster the bot answered and that went to a person for other reasons needs no new knowledge),
drafts a standard answer **extractively**: per language the customers used, the agents' reply
nearest the centre of all their replies in that language (so the answer most agents gave, in their
words), and as the question the customers' message nearest the cluster's centre. The proposal keeps
its sources (each conversation, the customer's question and the agent's reply) and its examples.

A supervisor approves it (optionally edited) through the knowledge drafts of the agent console:
one draft per language, with the customers' own wordings as alternatives, approved at once and
searchable at once. `effect()` then compares, for the rows near the proposal's centre, how the bot
did before and after approval.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Target
from helixdesk.audit.context import staff_actor
from helixdesk.auth.service import StaffView
from helixdesk.conversations.models import Message
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.core.languages import LANGUAGES
from helixdesk.db.lease import release, try_acquire
from helixdesk.db.session import reading, transaction
from helixdesk.handoff.drafts import KnowledgeDrafts
from helixdesk.insight.clusters import JOIN, pack, proposal_dict, stack_intents, unpack
from helixdesk.insight.effects import effect_of
from helixdesk.insight.embedder import latest_space
from helixdesk.insight.models import InsightMessage, InsightProposal
from helixdesk.insight.space import Space, style_of
from helixdesk.insight.topics import embed_messages

WINDOW = timedelta(days=30)
MIN_VOLUME = 5
MAX_QUESTIONS = 4000
UNANSWERED_SHARE = 0.5
MAX_SOURCES = 20
MAX_EXAMPLES = 12


@dataclass(frozen=True, slots=True)
class _Row:
    id: str
    conversation_id: str | None
    text: str
    language: str
    channel: str
    at: datetime
    vector: np.ndarray
    intents: np.ndarray | None
    topic_id: str | None
    unanswered: bool  # the bot could not answer, or its answer was rejected


class Proposals:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        drafts: KnowledgeDrafts | None = None,
        audit: Any = None,
        holder: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._drafts = drafts
        self._audit = audit
        self._holder = holder or f"proposals-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    # ---- finding ---------------------------------------------------------------------------------

    def generate(self, *, now: datetime | None = None) -> list[str]:
        """Propose answers for the clusters of unanswered questions not covered yet; returns the
        new proposals' ids. One process at a time (a lease), so no cluster is proposed twice."""
        now = now or utcnow()
        with transaction(self._sessions) as s:
            if not try_acquire(s, "insight-propose", self._holder, ttl=timedelta(minutes=5)):
                return []
        try:
            return self._generate(now)
        finally:
            with transaction(self._sessions) as s:
                release(s, "insight-propose", self._holder)

    def _generate(self, now: datetime) -> list[str]:
        with reading(self._sessions) as s:
            rows = _unanswered(s, now - WINDOW, now)
            covered = _covered(s)
            _, mined = latest_space(s)
            rows = [r for r in rows if r.id not in covered]
            if len(rows) < MIN_VOLUME:
                return []
            intents = stack_intents(rows)
            # The languages' means come from the latest mining run, or else from every row of the
            # window (the questions alone are too few: a language with one question would centre
            # it to nothing).
            space = (
                mined if mined is not None and mined.fits(intents) else _window_space(s, now - WINDOW, now)
            )
        languages = [r.language for r in rows]
        vectors = np.stack([r.vector for r in rows])
        if space is None or not space.fits(intents):
            return []
        if space.intent_means is None:
            intents = None
        feats = space.features(vectors, intents, languages, [style_of("chat", r.channel) for r in rows])
        norms = np.linalg.norm(feats, axis=1)
        keep = [i for i, n in enumerate(norms) if n > 1e-6]
        rows, feats = [rows[i] for i in keep], feats[keep] / norms[keep][:, None]
        if len(rows) < MIN_VOLUME:
            return []
        labels = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=1 - JOIN
        ).fit_predict(feats)
        created: list[str] = []
        for label, size in Counter(int(x) for x in labels).most_common():
            if size < MIN_VOLUME:
                break
            members = [i for i, x in enumerate(labels) if int(x) == label]
            if sum(1 for i in members if rows[i].unanswered) < UNANSWERED_SHARE * size:
                continue  # the bot answered these; they went to a person for another reason
            proposal = self._draft(space, feats, rows, members)
            if proposal is not None:
                created.append(proposal)
        return created

    def _draft(self, space: Space, feats: np.ndarray, rows: list[_Row], members: list[int]) -> str | None:
        centre = feats[members].mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-9)
        ranked = sorted(members, key=lambda i: -float(feats[i] @ centre))
        conversations = [c for c in (rows[i].conversation_id for i in ranked) if c]
        with reading(self._sessions) as s:
            replies = _agent_replies(s, conversations)
        answers: dict[str, str] = {}
        sources: list[dict[str, Any]] = []
        for i in ranked:
            reply = replies.get(rows[i].conversation_id or "")
            if reply is not None and len(sources) < MAX_SOURCES:
                sources.append(
                    {
                        "conversation_id": rows[i].conversation_id,
                        "message_id": rows[i].id,
                        "question": rows[i].text,
                        "reply_id": reply.id,
                        "reply": reply.text,
                        "language": rows[i].language,
                    }
                )
        by_language: dict[str, list[Message]] = {}
        for conv in dict.fromkeys(conversations):
            reply = replies.get(conv)
            if reply is not None:
                by_language.setdefault(_language_of(reply, rows, conv), []).append(reply)
        for language, candidates in by_language.items():
            if language in LANGUAGES:
                answers[language] = _central([m.text for m in candidates])
        if not answers:
            return None  # nobody answered these yet: nothing to draft from
        questions: dict[str, str] = {}
        for i in ranked:
            questions.setdefault(rows[i].language, rows[i].text[:500])
        questions = {lang: q for lang, q in questions.items() if lang in answers}
        examples = [
            {
                "id": rows[i].id,
                "text": rows[i].text,
                "language": rows[i].language,
                "conversation_id": rows[i].conversation_id,
            }
            for i in ranked[:MAX_EXAMPLES]
        ]
        topic = Counter(rows[i].topic_id for i in members if rows[i].topic_id).most_common(1)
        proposal = InsightProposal(
            topic_id=topic[0][0] if topic else None,
            status="open",
            questions=questions,
            answers=answers,
            keywords=[],
            sources=sources,
            examples=examples,
            volume=len(members),
            draft_ids=[],
            space=pack(space, centre, [rows[i].id for i in members]),
        )
        with transaction(self._sessions) as s:
            s.add(proposal)
            s.flush()
            return proposal.id

    # ---- reading ---------------------------------------------------------------------------------

    def listed(self, *, status: str | None = "open") -> list[dict[str, Any]]:
        with reading(self._sessions) as s:
            query = select(InsightProposal).order_by(
                InsightProposal.volume.desc(), InsightProposal.created_at.desc()
            )
            if status:
                query = query.where(InsightProposal.status == status)
            return [proposal_dict(p) for p in s.scalars(query.limit(100))]

    def get(self, proposal_id: str) -> dict[str, Any]:
        with reading(self._sessions) as s:
            return proposal_dict(_get(s, proposal_id))

    # ---- deciding --------------------------------------------------------------------------------

    def approve(
        self,
        user: StaffView,
        proposal_id: str,
        *,
        questions: Mapping[str, str] | None = None,
        answers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Approve a proposal (as drafted, or with the supervisor's edits): for each language, a
        knowledge draft with the customers' own wordings as alternatives, approved at once."""
        if self._drafts is None:
            raise ValidationFailedError(
                "this process cannot write knowledge drafts", code="proposal_read_only"
            )
        with reading(self._sessions) as s:
            proposal = _get(s, proposal_id)
            final_q = {**proposal.questions, **{k: v for k, v in (questions or {}).items() if v.strip()}}
            final_a = {**proposal.answers, **{k: v for k, v in (answers or {}).items() if v.strip()}}
            examples = list(proposal.examples)
        languages = [lang for lang in LANGUAGES if final_q.get(lang) and final_a.get(lang)]
        if (
            not languages
            or any(lang not in LANGUAGES for lang in (*final_q, *final_a))
            or any(
                len(final_q[lang].strip()) > 500 or len(final_a[lang].strip()) > 4000 for lang in languages
            )
        ):
            raise ValidationFailedError(
                "a proposal needs a question (up to 500 characters) and an answer (up to 4000) in at "
                "least one of zh-Hans, zh-Hant, en",
                code="invalid_proposal",
            )
        # Claimed first, in a locked transaction: a second approval (another supervisor, a double
        # click) finds it taken and writes nothing.
        with transaction(self._sessions) as s:
            proposal = _get(s, proposal_id, lock=True)
            if proposal.status != "open":
                raise ValidationFailedError(
                    f"this proposal was already {proposal.status}", code="proposal_decided"
                )
            proposal.status = "approving"
        try:
            draft_ids = self._approve_drafts(user, proposal_id, languages, final_q, final_a, examples)
        except Exception:
            with transaction(self._sessions) as s:
                _get(s, proposal_id, lock=True).status = "open"
            raise
        with transaction(self._sessions) as s:
            proposal = _get(s, proposal_id, lock=True)
            proposal.status = "approved"
            proposal.questions, proposal.answers = dict(final_q), dict(final_a)
            proposal.draft_ids = draft_ids
            proposal.decided_by = user.id
            proposal.decided_at = utcnow()
            if self._audit is not None:
                self._audit.record(
                    s,
                    actor=staff_actor(user.id),
                    action="insight.proposal_approved",
                    target=Target("insight_proposal", proposal.id),
                )
            return proposal_dict(proposal)

    def _approve_drafts(
        self,
        user: StaffView,
        proposal_id: str,
        languages: Sequence[str],
        final_q: Mapping[str, str],
        final_a: Mapping[str, str],
        examples: Sequence[Mapping[str, Any]],
    ) -> list[str]:
        assert self._drafts is not None
        draft_ids: list[str] = []
        for language in languages:
            wordings = [
                e["text"] for e in examples if e["language"] == language and e["text"] != final_q[language]
            ]
            draft = self._drafts.create(
                user,
                question=final_q[language],
                answer=final_a[language],
                language=language,
                alternatives=wordings,
            )
            self._drafts.review(user, draft["id"], approve=True, note=f"insight proposal {proposal_id}")
            draft_ids.append(draft["id"])
        return draft_ids

    def reject(self, user: StaffView, proposal_id: str, *, note: str = "") -> dict[str, Any]:
        with transaction(self._sessions) as s:
            proposal = _get(s, proposal_id, lock=True)
            if proposal.status != "open":
                raise ValidationFailedError(
                    f"this proposal was already {proposal.status}", code="proposal_decided"
                )
            proposal.status = "rejected"
            proposal.decided_by = user.id
            proposal.decided_at = utcnow()
            if self._audit is not None:
                self._audit.record(
                    s,
                    actor=staff_actor(user.id),
                    action="insight.proposal_rejected",
                    target=Target("insight_proposal", proposal.id),
                    reason=note.strip()[:500],
                )
            return proposal_dict(proposal)

    # ---- effect ----------------------------------------------------------------------------------

    def effects(self, *, now: datetime | None = None) -> list[dict[str, Any]]:
        """For every approved proposal, how the bot did on its cluster before and after approval."""
        now = now or utcnow()
        with reading(self._sessions) as s:
            approved = list(
                s.scalars(
                    select(InsightProposal)
                    .where(InsightProposal.status == "approved")
                    .order_by(InsightProposal.decided_at.desc())
                    .limit(50)
                )
            )
            return [
                effect_of(s, p, now) for p in approved if p.space is not None and p.decided_at is not None
            ]


# ---- helpers -------------------------------------------------------------------------------------


def _unanswered(s: Session, since: datetime, until: datetime) -> list[_Row]:
    found = s.execute(
        select(
            InsightMessage.id,
            InsightMessage.conversation_id,
            InsightMessage.text,
            InsightMessage.language,
            InsightMessage.channel,
            InsightMessage.at,
            InsightMessage.vector,
            InsightMessage.intents,
            InsightMessage.topic_id,
            InsightMessage.answered,
            InsightMessage.rejected,
        )
        .where(
            InsightMessage.source == "chat",
            InsightMessage.at >= since,
            InsightMessage.at < until,
            InsightMessage.vector.is_not(None),
            or_(InsightMessage.answered.is_(False), InsightMessage.handed_off, InsightMessage.rejected),
            InsightMessage.text != "",
        )
        # The latest few thousand: average linkage holds every pair of them in memory.
        .order_by(InsightMessage.at.desc())
        .limit(MAX_QUESTIONS)
    ).all()
    return [
        _Row(
            id=r.id,
            conversation_id=r.conversation_id,
            text=r.text,
            language=r.language,
            channel=r.channel,
            at=r.at,
            vector=np.frombuffer(r.vector, dtype=np.float32),
            intents=np.frombuffer(r.intents, dtype=np.float32) if r.intents is not None else None,
            topic_id=r.topic_id,
            unanswered=r.answered is False or bool(r.rejected),
        )
        for r in found
    ]


def _window_space(s: Session, since: datetime, until: datetime, sample: int = 5000) -> Space | None:
    """The per-language means of (a sample of) every row of the window that has its vector."""
    found = s.execute(
        select(
            InsightMessage.vector,
            InsightMessage.intents,
            InsightMessage.language,
            InsightMessage.source,
            InsightMessage.channel,
        )
        .where(InsightMessage.at >= since, InsightMessage.at < until, InsightMessage.vector.is_not(None))
        .order_by(InsightMessage.at.desc())
        .limit(sample)
    ).all()
    if not found:
        return None
    vectors = np.stack([np.frombuffer(r.vector, dtype=np.float32) for r in found])
    styles = [style_of(r.source, r.channel) for r in found]
    return Space.fit(vectors, stack_intents(found), [r.language for r in found], styles=styles)


def _covered(s: Session) -> set[str]:
    """Rows an open or approved proposal already holds, and those of proposals rejected lately."""
    recent = utcnow() - WINDOW
    out: set[str] = set()
    for proposal in s.scalars(
        select(InsightProposal).where(
            or_(InsightProposal.status.in_(("open", "approved")), InsightProposal.decided_at >= recent)
        )
    ):
        if proposal.space is not None:
            out.update(unpack(proposal.space)[2])
    return out


def _agent_replies(s: Session, conversations: Sequence[str]) -> dict[str, Message]:
    """Each conversation's most substantial agent reply (the longest of its agent messages)."""
    ids = [c for c in dict.fromkeys(conversations) if c]
    out: dict[str, Message] = {}
    for m in s.scalars(select(Message).where(Message.conversation_id.in_(ids), Message.sender == "agent")):
        if len(m.text.strip()) < 8:
            continue
        best = out.get(m.conversation_id)
        if best is None or len(m.text) > len(best.text):
            out[m.conversation_id] = m
    return out


def _language_of(reply: Message, rows: Sequence[_Row], conversation_id: str) -> str:
    """The language the agent replied in: the customer's language in that conversation."""
    return next((r.language for r in rows if r.conversation_id == conversation_id), "zh-Hans")


def _central(texts: Sequence[str]) -> str:
    """The text nearest the centre of all (the reply most agents gave, in their words)."""
    unique = list(dict.fromkeys(texts))
    if len(unique) == 1:
        return unique[0]
    vectors = embed_messages(unique)
    weights = np.array([texts.count(t) for t in unique], dtype=np.float32)
    centre = (vectors * weights[:, None]).sum(axis=0)
    return unique[int(np.argmax(vectors @ centre))]


def _get(s: Session, proposal_id: str, *, lock: bool = False) -> InsightProposal:
    proposal = s.get(InsightProposal, proposal_id, with_for_update=lock)
    if proposal is None:
        raise NotFoundError(f"no proposal {proposal_id}", code="proposal_not_found")
    return proposal
