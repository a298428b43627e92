"""One phone call: the voice menu, then the caller's own words through the bot's turn.

The call listens and speaks at once: `_listen` reads the caller's frames (audio through the voice
activity detector, keys, hangup) into a queue, and stops the bot's speech the moment the caller
speaks or presses a key (barge-in); the call's dialogue takes inputs from that queue.

1. **Greeting** in Mandarin and English. The caller answers in either: by key (the menu's keys; the
   `english_key` switches to English), or by voice — their language is the one heard in their first
   utterance. A menu word (余额, balance, 人工, agent, a lone digit) chooses an item; anything else
   heard clearly is taken as the caller's question.
2. **A choice** asks the bot the item's request in the caller's language (`ask`); the person item
   queues the call for a person. Then the caller speaks freely.
3. **Each utterance** is recognised on a worker thread and, when the recogniser is sure enough
   (`min_confidence`), posted through the same turn as typed text (`VoiceMessages.post_heard`: stored
   with its confidence and the call's audio, then answered); the bot's replies are spoken. Unsure:
   the caller is asked to repeat, nothing is guessed.
4. **Misses** (nothing said, not understood): the prompt again, then the offer of a person, then
   the person (during the menu) or goodbye.
5. **Handoff** (the bot's or the caller's): the conversation is in the console's queue with the
   call's transcript; the caller hears the hold message, and what they say is still stored.

Conversations are keyed by the call: one per call, created at its first message, with the
channel `voice` (the phone channel) and client message ids `<call id>:<n>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import re
from dataclasses import dataclass, field

import anyio

from helixdesk.channels.phone.audiosocket import RATE, Frame, Kind, hangup, read_frame
from helixdesk.channels.phone.errors import AudioSocketError, NoCallIdError, PeerError
from helixdesk.channels.phone.menu import MenuItem, VoiceMenu, listen_for_choice
from helixdesk.channels.phone.playback import Player
from helixdesk.channels.phone.vad import Onset, Utterance, VadConfig, VoiceActivity
from helixdesk.conversations.schemas import MessagePostResult
from helixdesk.conversations.service import ConversationService
from helixdesk.conversations.voice import Heard, VoiceMessages
from helixdesk.core.errors import AppError
from helixdesk.speech.asr import SpeechRecognizer, Transcript
from helixdesk.speech.audio import wav_bytes
from helixdesk.speech.tts import SpeechSynthesizer

log = logging.getLogger(__name__)

CHANNEL = "voice"  # the phone channel's name on conversations, API keys and SLA rules
_URL = re.compile(r"https?://\S+")
_MARKUP = re.compile(r"[*_`#>|]+")


@dataclass(frozen=True, slots=True)
class CallConfig:
    vad: VadConfig = field(default_factory=VadConfig)
    min_confidence: float = 0.15
    # An utterance in the menu this short that names no item is heard again expecting the menu's
    # words (`Call._listen_for_choice`); a longer one is a question for the bot.
    menu_answer_seconds: float = 2.5
    # How sure that second listen must be: expecting the menu's words, the recogniser hears them in
    # noise too (bench/voice_bench.py: below this, most of its choices were wrong).
    menu_choice_confidence: float = 0.35
    no_input_seconds: float = 6.0
    max_reply_chars: int = 400


@dataclass(frozen=True, slots=True)
class PhoneDesk:
    """What calls use: the conversation service, voice messages, speech both ways, the menu."""

    conversations: ConversationService
    voice: VoiceMessages
    recognizer: SpeechRecognizer
    synthesizer: SpeechSynthesizer
    menu: VoiceMenu
    config: CallConfig = field(default_factory=CallConfig)


@dataclass(frozen=True, slots=True)
class Key:
    digit: str


@dataclass(frozen=True, slots=True)
class Ended:
    error: AudioSocketError | None = None


Input = Key | Utterance | Ended


@dataclass
class CallRecord:
    """What happened on a call (logged at its end; the tests and the bench read it)."""

    call_id: str = ""
    conversation_id: str | None = None
    language: str | None = None
    choices: list[str] = field(default_factory=list)  # "balance:key", "person:speech", ...
    heard: list[Transcript] = field(default_factory=list)
    said: list[str] = field(default_factory=list)  # every text the bot spoke, in order
    interruptions: int = 0
    error: str | None = None  # the protocol error's code that ended the call


class Call:
    def __init__(self, desk: PhoneDesk, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._desk = desk
        self._menu = desk.menu
        self._cfg = desk.config
        self._reader = reader
        self._writer = writer
        self._vad = VoiceActivity(desk.config.vad)
        self._player = Player(writer)
        self._inputs: asyncio.Queue[Input] = asyncio.Queue()
        self.record = CallRecord()
        self._language: str | None = None
        self._phase = "menu"  # menu -> free (after a choice or a question) -> held (for a person)
        self._misses = 0
        self._sent = 0
        self._in_next = False

    @property
    def waiting(self) -> bool:
        """The call waits for the caller: nothing to say, nothing heard or being heard."""
        return self._in_next and self._inputs.empty() and not self._vad.speaking

    async def run(self) -> CallRecord:
        listening: asyncio.Task[None] | None = None
        try:
            first = await read_frame(self._reader)
            if first is None or first.kind is not Kind.UUID:
                raise NoCallIdError("the first frame of a call must be its id (kind 0x01)")
            self.record.call_id = first.call_id
            listening = asyncio.create_task(self._listen())
            await self._converse()
        except AudioSocketError as e:
            self._failed(e)
        finally:
            if listening is not None:
                listening.cancel()
                await asyncio.gather(listening, return_exceptions=True)
            await self._close()
        self.record.interruptions = self._player.interruptions
        self.record.language = self._language
        return self.record

    # ---- the caller's side ----------------------------------------------------------------------

    async def _listen(self) -> None:
        try:
            while True:
                frame = await read_frame(self._reader)
                if frame is None or frame.kind is Kind.HANGUP:
                    break
                self._heard(frame)
            self._inputs.put_nowait(Ended())
        except AudioSocketError as e:
            self._inputs.put_nowait(Ended(e))
        except ConnectionError:
            self._inputs.put_nowait(Ended())

    def _heard(self, frame: Frame) -> None:
        if frame.kind is Kind.ERROR:
            raise PeerError(f"Asterisk reported an error on the call: {frame.payload.hex() or 'none'}")
        if frame.kind is Kind.DTMF:
            self._player.stop()
            self._vad.reset()
            self._inputs.put_nowait(Key(frame.digit))
        elif frame.kind is Kind.AUDIO:
            for event in self._vad.push(frame.payload):
                if isinstance(event, Onset):
                    self._player.stop()
                else:
                    self._inputs.put_nowait(event)
        # A second call id frame changes nothing.

    async def _next(self) -> Input | None:
        """The caller's next input; None when they said and pressed nothing for `no_input_seconds`."""
        while True:
            self._in_next = True
            try:
                return await asyncio.wait_for(self._inputs.get(), self._cfg.no_input_seconds)
            except TimeoutError:
                if not self._vad.speaking:
                    return None
            finally:
                self._in_next = False

    # ---- the dialogue ---------------------------------------------------------------------------

    async def _converse(self) -> None:
        await self._say(
            self._menu.prompt("greeting", "zh-Hans"), self._menu.prompt("greeting", "en"), fixed=True
        )
        while True:
            got = await self._next()
            if isinstance(got, Ended):
                if got.error is not None:
                    self._failed(got.error)
                return
            if got is None:
                if not await self._missed(no_input=True):
                    return
            elif isinstance(got, Key):
                await self._key(got.digit)
            else:
                await self._utterance(got)

    async def _key(self, digit: str) -> None:
        if self._phase == "held":
            return
        if digit == self._menu.english_key and self._phase == "menu":
            self._language = "en"
            await self._prompt("menu")
            return
        if digit == self._menu.menu_key:
            await self._prompt("menu")
            return
        item = self._menu.by_key(digit)
        if item is None:
            await self._missed(no_input=False)
            return
        await self._choose(item, "key")

    async def _utterance(self, utterance: Utterance) -> None:
        heard = await self._recognise(utterance)
        if heard is None:
            return
        transcript, seconds = heard
        if self._phase == "held":
            await self._post_heard(utterance, transcript, seconds)
            return
        item = None
        if self._phase == "menu":
            item = self._menu.by_speech(transcript.text)
            if item is None and utterance.seconds <= self._cfg.menu_answer_seconds:
                item, transcript = await self._listen_for_choice(utterance, transcript)
        self._language = self._language or transcript.language
        if item is not None:
            await self._choose(item, "speech", (utterance, transcript, seconds))
            return
        self._misses = 0
        self._phase = "free"
        result = await self._post_heard(utterance, transcript, seconds)
        await self._answer(result)

    async def _listen_for_choice(
        self, utterance: Utterance, heard: Transcript
    ) -> tuple[MenuItem | None, Transcript]:
        item, chosen, again = await anyio.to_thread.run_sync(
            functools.partial(
                listen_for_choice,
                self._desk.recognizer,
                self._menu,
                utterance.pcm16,
                RATE,
                self._language,
                min_confidence=self._cfg.menu_choice_confidence,
            )
        )
        self.record.heard.extend(again)
        return item, chosen or heard

    async def _recognise(self, utterance: Utterance) -> tuple[Transcript, float] | None:
        """The transcript and the seconds it took; None (and the caller asked to repeat) when unsure."""
        started = anyio.current_time()
        transcript = await anyio.to_thread.run_sync(
            self._desk.recognizer.transcribe, utterance.pcm16, RATE, self._language
        )
        seconds = anyio.current_time() - started
        self.record.heard.append(transcript)
        if transcript.text.strip() and transcript.confidence >= self._cfg.min_confidence:
            return transcript, seconds
        log.info(
            "call %s: not sure what was said (confidence %.2f)", self.record.call_id, transcript.confidence
        )
        if self._phase != "held":
            await self._missed(no_input=False)
        return None

    async def _choose(
        self, item: MenuItem, how: str, spoken: tuple[Utterance, Transcript, float] | None = None
    ) -> None:
        self._misses = 0
        self._language = self._language or "zh-Hans"
        self.record.choices.append(f"{item.name}:{how}")
        if item.person:
            await self._to_person()
            if spoken is not None:
                await self._post_heard(*spoken)
            return
        self._phase = "free"
        ask = item.ask_in(self._language)
        result: MessagePostResult | None
        if spoken is None:
            conversation = await self._conversation()
            result = await self._desk.conversations.post_customer_message(
                conversation, ask, client_message_id=self._next_id()
            )
        else:
            utterance, transcript, seconds = spoken
            asked = dataclasses.replace(transcript, text=ask)
            result = await self._post_heard(
                utterance, asked, seconds, {"menu": item.name, "heard": transcript.text}
            )
        await self._answer(result)

    async def _post_heard(
        self,
        utterance: Utterance,
        transcript: Transcript,
        seconds: float,
        extra: dict[str, str] | None = None,
    ) -> MessagePostResult | None:
        conversation = await self._conversation()
        heard = Heard(wav_bytes(utterance.pcm16, RATE), "audio/wav", transcript, seconds)
        try:
            return await self._desk.voice.post_heard(
                conversation,
                heard,
                client_message_id=self._next_id(),
                channel_meta={"call_id": self.record.call_id, **(extra or {})},
            )
        except AppError as e:
            log.warning("call %s: the utterance was not taken: %s (%s)", self.record.call_id, e, e.code)
            return None

    async def _answer(self, result: MessagePostResult | None) -> None:
        if result is None:
            await self._prompt("repeat")
            return
        await self._say(*(r.text for r in result.replies))
        if result.state != "bot":
            self._phase = "held"
            await self._prompt("hold")

    async def _to_person(self) -> None:
        conversation = await self._conversation()
        await self._desk.conversations.request_person(conversation)
        self._phase = "held"
        await self._prompt("hold")

    async def _missed(self, *, no_input: bool) -> bool:
        """A prompt for a miss; False when the call should end."""
        if self._phase == "held":
            return True
        self._misses += 1
        if self._misses == 1:
            if no_input:
                await self._prompt("more" if self._phase == "free" else "no_input")
            else:
                await self._prompt("repeat")
            if self._phase == "menu":
                await self._prompt("menu")
        elif self._misses == 2:
            await self._prompt("offer_person")
        elif self._phase == "menu":
            await self._to_person()
        else:
            await self._prompt("goodbye")
            return False
        return True

    # ---- the bot's side -------------------------------------------------------------------------

    async def _conversation(self) -> str:
        if self.record.conversation_id is None:
            created = await self._desk.conversations.create_conversation(
                channel=CHANNEL, language=self._language or "zh-Hans"
            )
            self.record.conversation_id = created.id
        return self.record.conversation_id

    def _next_id(self) -> str:
        self._sent += 1
        return f"{self.record.call_id}:{self._sent}"

    async def _prompt(self, name: str) -> None:
        await self._say(self._menu.prompt(name, self._language or "zh-Hans"), fixed=True)

    async def _say(self, *texts: str, fixed: bool = False) -> None:
        """Speak `texts` one after the other, until the caller cuts in."""
        for text in texts:
            spoken = _speakable(text, self._cfg.max_reply_chars)
            if not spoken:
                continue
            language = self._language or _language_of(spoken)
            pcm = await anyio.to_thread.run_sync(self._desk.synthesizer.synthesize, spoken, language, RATE)
            self.record.said.append(spoken)
            if not await self._player.play(pcm):
                return

    # ---- the end --------------------------------------------------------------------------------

    def _failed(self, error: AudioSocketError) -> None:
        self.record.error = error.code
        log.warning("call %s ended: %s (%s)", self.record.call_id or "?", error.detail, error.code)

    async def _close(self) -> None:
        try:
            if not self._writer.is_closing():
                self._writer.write(hangup())
                await self._writer.drain()
        except ConnectionError:
            pass
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


def _speakable(text: str, limit: int) -> str:
    """A reply as words to speak: no links or markup, at most `limit` characters (to a sentence end)."""
    text = " ".join(_MARKUP.sub(" ", _URL.sub(" ", text)).split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(p) for p in "。！？.!?")
    return cut[: end + 1] if end > limit // 3 else cut


def _language_of(text: str) -> str:
    return "zh-Hans" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"
