"""The customer's rating of a conversation (CSAT): a score of 1-5 and an optional comment.

- `check_rating` validates the score and the comment (stable codes: `invalid_score`,
  `comment_too_long`);
- `rate` stores the rating through the conversation writer, with its `ConversationRated` event in
  the same transaction. The comment is masked like a message, and gets the same NLU as a customer
  message (the parser the conversation service uses, with the emotion of the customer's last
  message as context): its NLU record, re-pointed at the masked text, is kept with the rating.
- `status` says whether the conversation is rated, whether a rating would be taken, and whether
  the chat should offer one now: when the conversation has closed, or when the customer's last
  message to the bot said they are done ("thanks, that's all": one of `closing_intents`).

A conversation is rated once; a second rating is refused (`already_rated`), never changed, so a
score the QA scorecards and reports have used stays what it was. A rating is taken while the
conversation is open and for `window_days` after it closed; never before the customer has written
(`nothing_to_rate`) and never once its text was removed (`rating_closed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

import anyio
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.conversations.errors import (
    AlreadyRatedError,
    CommentTooLongError,
    ConversationNotFoundError,
    InvalidScoreError,
    NothingToRateError,
    RatingClosedError,
)
from helixdesk.conversations.models import Conversation, ConversationState, CsatRating, Message, Sender
from helixdesk.conversations.ports import RelayPoke
from helixdesk.conversations.schemas import RatingOut, RatingStatus
from helixdesk.conversations.turns import previous_emotion
from helixdesk.conversations.writer import ConversationWriter, NewRating
from helixdesk.core.clock import utcnow
from helixdesk.core.languages import LANGUAGES
from helixdesk.core.turn import Emotion
from helixdesk.db.session import reading, transaction
from helixdesk.dialogue.state import load_state
from helixdesk.nlu.batcher import Parser
from helixdesk.privacy.transcripts import masked_nlu

SCORES = range(1, 6)
MAX_COMMENT_CHARS = 1000


@dataclass(frozen=True, slots=True)
class _Rateable:
    """What rating a conversation needs from it: the language and the customer's last emotion."""

    language: str | None
    previous_emotion: Emotion | None


class Ratings:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        writer: ConversationWriter,
        nlu: Parser,
        relay: RelayPoke | None = None,
        closing_intents: tuple[str, ...] = ("goodbye",),
        window_days: int = 7,
        max_comment_chars: int = MAX_COMMENT_CHARS,
        tz: tzinfo | None = None,
    ) -> None:
        self._sessions = sessions
        self._writer = writer
        self._nlu = nlu
        self._relay = relay
        self._closing = frozenset(closing_intents)
        self._window = timedelta(days=window_days)
        self._max_comment = max_comment_chars
        self._tz = tz  # the bank's time zone: dates in the comment are read in it

    # ---- check ----------------------------------------------------------------------------------

    def check_rating(self, score: object, comment: str) -> tuple[int, str]:
        """The score as a whole number from 1 to 5, and the comment trimmed ("" when blank)."""
        if isinstance(score, float) and score.is_integer():
            score = int(score)  # JSON's 5.0 is the integer 5
        if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
            raise InvalidScoreError(f"the score must be a whole number from 1 to 5, not {score!r:.40}")
        text = comment.strip()
        if len(text) > self._max_comment:
            raise CommentTooLongError(
                f"the comment has {len(text)} characters; the limit is {self._max_comment}"
            )
        return score, text

    def _check(self, s: Session, conv: Conversation, now: datetime) -> None:
        """A rating would be taken now (raises the reason it would not)."""
        if conv.anonymised_at is not None:
            raise RatingClosedError(f"conversation {conv.id} can no longer be rated")
        closed = conv.closed_at if conv.state == ConversationState.CLOSED.value else None
        if closed is not None and now - closed > self._window:
            raise RatingClosedError(
                f"conversation {conv.id} closed more than {self._window.days} days ago; "
                "it can no longer be rated"
            )
        if s.scalar(select(CsatRating.id).where(CsatRating.conversation_id == conv.id)) is not None:
            raise AlreadyRatedError(f"conversation {conv.id} has been rated already")
        wrote = s.scalar(
            select(Message.id)
            .where(Message.conversation_id == conv.id, Message.sender == Sender.CUSTOMER.value)
            .limit(1)
        )
        if wrote is None:
            raise NothingToRateError(f"nothing to rate yet: the customer has not written in {conv.id}")

    # ---- rate -----------------------------------------------------------------------------------

    async def rate(
        self, conversation_id: str, score: object, comment: str = "", *, now: datetime | None = None
    ) -> RatingOut:
        """Store the customer's rating; the comment's NLU runs before the transaction."""
        value, text = self.check_rating(score, comment)
        at = now or utcnow()
        # Refused before the NLU runs, and checked again under the conversation's lock below.
        found = await anyio.to_thread.run_sync(self._rateable, conversation_id, at)
        rating = NewRating(score=value, language=found.language)
        if text:
            masked = self._writer.privacy.mask(text)
            local = at.astimezone(self._tz) if self._tz is not None else at
            turn = await self._nlu.parse(text, reference_time=local, previous_emotion=found.previous_emotion)
            language = turn.language if turn.language in LANGUAGES else found.language
            rating = NewRating(score=value, comment=masked, nlu=masked_nlu(turn, masked), language=language)
        out = await anyio.to_thread.run_sync(self._store, conversation_id, rating, at)
        if self._relay is not None:
            self._relay.poke()
        return out

    def _rateable(self, conversation_id: str, now: datetime) -> _Rateable:
        with reading(self._sessions) as s:
            conv = s.get(Conversation, conversation_id)
            if conv is None:
                raise ConversationNotFoundError(f"no conversation {conversation_id}")
            self._check(s, conv, now)
            return _Rateable(conv.language, previous_emotion(load_state(s, conv.id)))

    def _store(self, conversation_id: str, rating: NewRating, now: datetime) -> RatingOut:
        try:
            with transaction(self._sessions) as s:
                conv = self._writer.lock(s, conversation_id, open_only=False)
                self._check(s, conv, now)
                return _rating_out(self._writer.rate(s, conv, rating))
        except IntegrityError as e:
            # Two ratings at once where the lock does not serialise them: the unique key did.
            raise AlreadyRatedError(f"conversation {conversation_id} has been rated already") from e

    # ---- read -----------------------------------------------------------------------------------

    async def status(self, conversation_id: str, *, now: datetime | None = None) -> RatingStatus:
        return await anyio.to_thread.run_sync(self._status, conversation_id, now or utcnow())

    def _status(self, conversation_id: str, now: datetime) -> RatingStatus:
        with reading(self._sessions) as s:
            conv = s.get(Conversation, conversation_id)
            if conv is None:
                raise ConversationNotFoundError(f"no conversation {conversation_id}")
            row = s.scalar(select(CsatRating).where(CsatRating.conversation_id == conversation_id))
            if row is not None:
                return RatingStatus(rating=_rating_out(row), can_rate=False, offer=False)
            try:
                self._check(s, conv, now)
            except (RatingClosedError, NothingToRateError):
                return RatingStatus(rating=None, can_rate=False, offer=False)
            if conv.state == ConversationState.CLOSED.value:
                return RatingStatus(rating=None, can_rate=True, offer=True)
            said_done = (
                conv.state == ConversationState.BOT.value and self._last_intent(s, conv.id) in self._closing
            )
            return RatingStatus(rating=None, can_rate=True, offer=said_done)

    def _last_intent(self, s: Session, conversation_id: str) -> str | None:
        """The intent the NLU read in the customer's last message (None before it is understood)."""
        meta = s.scalar(
            select(Message.meta)
            .where(Message.conversation_id == conversation_id, Message.sender == Sender.CUSTOMER.value)
            .order_by(Message.seq.desc())
            .limit(1)
        )
        intent = ((meta or {}).get("nlu") or {}).get("intent") or {}
        name = intent.get("name") if isinstance(intent, dict) else None
        return name if isinstance(name, str) else None


def _rating_out(row: CsatRating) -> RatingOut:
    return RatingOut(score=row.score, comment=row.comment, language=row.language, created_at=row.created_at)
