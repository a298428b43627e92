"""An image in the bot's turn: what is stored with the message, and the turn it makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helixdesk.conversations.models import MessageImage
from helixdesk.conversations.originals import Enclosure
from helixdesk.core.turn import Attachment, Entity, Intent, Turn


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image sent with the message (`helixdesk.conversations.images`): what is stored with the
    message (`meta`, under `meta["image"]`; the encrypted original `row` of `message_images`), and
    what the turn gets (`attachment`, `entities`; `charge`: it shows a charge)."""

    meta: dict[str, Any]
    row: dict[str, Any]
    attachment: Attachment
    entities: tuple[Entity, ...]
    charge: bool

    @property
    def enclosure(self) -> Enclosure:
        return Enclosure(kind="image", meta=self.meta, table=MessageImage, row=self.row)


def with_image(turn: Turn, image: ImagePart, *, charge_intent: str, keeps: frozenset[str]) -> Turn:
    """The turn with the image's fields as entities (the caption's own entities of a type win),
    and, for an image of a charge, `charge_intent` unless the caption asks one of `keeps`."""
    said = {e.type for e in turn.entities}
    entities = (*turn.entities, *(e for e in image.entities if e.type not in said))
    intent, ranking = turn.intent, turn.intent_ranking
    if image.charge and (intent is None or intent.name not in keeps):
        intent = Intent(charge_intent, 1.0)
        ranking = (intent, *(i for i in ranking if i.name != charge_intent))
    return turn.with_(entities=entities, intent=intent, intent_ranking=ranking, attachment=image.attachment)
