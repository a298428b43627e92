"""Voice messages: a recording the customer sends (a voice note from the app or the chat page, a
WeChat voice message) is transcribed and answered as if typed.

`post_voice` checks the file (bytes: `audio_too_large`), decodes it (`audio_unreadable`,
`audio_too_long`: `helixdesk.speech.audio`), transcribes it in the conversation's language on a
worker thread (`helixdesk.speech.asr`; `audio_no_speech` when no words come out), encrypts the
original with the keyring's active key, and hands the transcript to the bot's turn
(`helixdesk.conversations.turns`) exactly as a typed message: the same checks, masking, NLU and
dialogue. The message's text is the transcript; `meta["voice"]` says it was spoken (length, the
recogniser's confidence, the language heard) and `message_audio` keeps the recording.
`post_heard` posts speech transcribed already (a phone call's utterance) the same way.

`open_recording` decrypts the original; the agent workspace
(`helixdesk.handoff.disclosure.Disclosure.open_audio`) gives it to a member of staff who may open
the conversation and states a reason, and audits it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.conversations.errors import AudioNotFoundError
from helixdesk.conversations.models import Conversation, MessageAudio
from helixdesk.conversations.originals import Enclosure, Original, open_original, sealed
from helixdesk.conversations.schemas import MessagePostResult
from helixdesk.conversations.service import ConversationService
from helixdesk.conversations.turns import Turns
from helixdesk.core.ids import new_id
from helixdesk.db.session import reading
from helixdesk.privacy.crypto import Keyring
from helixdesk.speech.asr import SpeechRecognizer, Transcript
from helixdesk.speech.audio import decode
from helixdesk.speech.errors import AudioTooLargeError, NoSpeechError


@dataclass(frozen=True, slots=True)
class Heard:
    """A recording and what was heard in it."""

    data: bytes  # the recording as it came (the file, or a WAV of a phone call's audio)
    content_type: str
    transcript: Transcript
    seconds: float  # spent recognising


class VoiceMessages:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        conversations: ConversationService,
        turns: Turns,
        recognizer: SpeechRecognizer,
        keyring: Keyring,
        max_bytes: int,
        max_seconds: float,
    ) -> None:
        self._sessions = sessions
        self._conversations = conversations
        self._turns = turns
        self._recognizer = recognizer
        self._keyring = keyring
        self._max_bytes = max_bytes
        self._max_seconds = max_seconds

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    async def post_voice(
        self,
        conversation_id: str,
        data: bytes,
        *,
        client_message_id: str | None = None,
        now: datetime | None = None,
        channel_meta: dict[str, str] | None = None,
    ) -> MessagePostResult:
        """Store the customer's voice message (its transcript as the text; `channel_meta` kept with
        the rest under `meta["voice"]`) and answer it (unless a person has the conversation)."""
        if len(data) > self._max_bytes:
            raise AudioTooLargeError(f"the recording has {len(data)} bytes; the limit is {self._max_bytes}")
        language = await anyio.to_thread.run_sync(self._language, conversation_id)
        audio = await anyio.to_thread.run_sync(lambda: decode(data, max_seconds=self._max_seconds))
        started = anyio.current_time()
        transcript = await anyio.to_thread.run_sync(
            self._recognizer.transcribe, audio.pcm16, audio.rate, language
        )
        heard = Heard(data, audio.content_type, transcript, seconds=anyio.current_time() - started)
        return await self.post_heard(
            conversation_id, heard, client_message_id=client_message_id, now=now, channel_meta=channel_meta
        )

    async def post_heard(
        self,
        conversation_id: str,
        heard: Heard,
        *,
        client_message_id: str | None = None,
        now: datetime | None = None,
        channel_meta: dict[str, str] | None = None,
    ) -> MessagePostResult:
        """`post_voice` for speech already transcribed (a phone call's utterance: its audio as a WAV,
        `helixdesk.speech.audio.wav_bytes`, and the transcript made while the caller spoke)."""
        if not heard.transcript.text.strip():
            raise NoSpeechError("no words could be made out in the recording; please say it again or type it")
        text = self._conversations.check_text(heard.transcript.text)
        enclosure = await anyio.to_thread.run_sync(self._enclosure, heard, channel_meta or {})
        return await self._turns.post(
            conversation_id, text, client_message_id=client_message_id, now=now, voice=enclosure
        )

    def _language(self, conversation_id: str) -> str | None:
        with reading(self._sessions) as s:
            return s.scalar(select(Conversation.language).where(Conversation.id == conversation_id))

    def _enclosure(self, heard: Heard, extra: dict[str, str]) -> Enclosure:
        audio_id = new_id()
        t = heard.transcript
        meta = {
            "id": audio_id,
            "content_type": heard.content_type,
            "size": len(heard.data),
            "duration_s": round(t.duration_s, 2),
            "confidence": round(t.confidence, 3),
            "language": t.language,
            "asr_seconds": round(heard.seconds, 3),
            **extra,
        }
        row = {
            "id": audio_id,
            "content_type": heard.content_type,
            "size": len(heard.data),
            "duration_ms": round(t.duration_s * 1000),
            "sha256": hashlib.sha256(heard.data).hexdigest(),
            "data": sealed(self._keyring, MessageAudio, audio_id, heard.data),
        }
        return Enclosure(kind="voice", meta=meta, table=MessageAudio, row=row)


def open_recording(sessions: sessionmaker[Session], keyring: Keyring, message_id: str) -> Original:
    """The original recording of a message, decrypted (the caller checks who asks, and audits)."""
    return open_original(
        sessions, keyring, MessageAudio, message_id, missing=AudioNotFoundError, what="recording"
    )
