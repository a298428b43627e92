"""The bot's turn: decide, run each effect once, word the replies.

    turn = bot.respond(ctx, understood)        # in a worker thread: effects do I/O
    ... in the turn's transaction: bot.store_audit(s, turn) ...

`respond` calls `decide` until it needs nothing more, running each effect it asks for once
(`helixdesk.dialogue.executor`), then words the decision's replies (`helixdesk.nlg.replies`). It
writes nothing of the conversation: the conversation service stores the state, the replies, the
changes and the audit records in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from helixdesk.core.errors import AppError
from helixdesk.core.turn import Turn
from helixdesk.dialogue.context import TurnContext
from helixdesk.dialogue.decide import Decider, Decision
from helixdesk.dialogue.executor import Executor, TurnEffects
from helixdesk.nlg.replies import Reply, ReplyWriter

# More effects than any policy needs in one turn means a policy loops.
MAX_EFFECTS = 16


class TooManyEffectsError(AppError):
    code = "dialogue_loop"


@dataclass(frozen=True, slots=True)
class BotTurn:
    turn: Turn
    decision: Decision
    replies: tuple[Reply, ...]
    effects: TurnEffects


class Bot:
    def __init__(self, *, decider: Decider, executor: Executor, writer: ReplyWriter) -> None:
        self.decider = decider
        self.executor = executor
        self.writer = writer

    def respond(self, ctx: TurnContext, turn: Turn) -> BotTurn:
        done = TurnEffects()
        for _ in range(MAX_EFFECTS):
            decision = self.decider.decide(ctx, turn, done.results)
            if decision.pending is None:
                break
            self.executor.run(decision.pending, ctx, done)
        else:
            raise TooManyEffectsError(f"the dialogue asked for more than {MAX_EFFECTS} effects in one turn")
        replies = self.writer.write(
            decision.says,
            turn=turn,
            language=decision.language,
            style=decision.style,
            profile=ctx.customer.profile,
            conversation_id=ctx.conversation_id,
        )
        return BotTurn(turn=turn, decision=decision, replies=tuple(replies), effects=done)

    def store_audit(self, s: Session, turn: BotTurn) -> None:
        """Store the audit of the actions the turn ran, in the turn's transaction."""
        for record in turn.effects.records:
            self.executor.actions.record(s, record)
