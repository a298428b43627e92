"""Days of customer traffic for the drift tests and bench: an ordinary day, and a shifted one.

- An **ordinary day** draws its messages from the pack's held-out intent examples
  (`nlu/heldout/intents.jsonl`): phrasings the model was not trained on, in the three languages,
  with their usual share of out-of-scope questions.
- A **shifted day** is the day a new topic floods in: questions about the digital yuan (e-CNY)
  wallet the bank has just launched, which no intent covers (written here, in the three
  languages); chatter the bot has no business with; and ordinary traffic for the rest.

Every message goes through the real NLU (`nlu.parse_batch`) and is written as a past conversation
with a bot reply (`conversations.history.import_past`, with its events), so the drift consumer
reads it as it reads a live turn. Original text written for Helixdesk.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.conversations.history import PastConversation, PastMessage, import_past
from helixdesk.conversations.models import Sender
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.core.clock import utcnow
from helixdesk.core.timezones import zone
from helixdesk.db.session import transaction
from helixdesk.drift.models import DriftDay, DriftToken
from helixdesk.drift.worker import drift_consumer
from helixdesk.nlu.intent.data import load_examples
from helixdesk.packs.loader import load_pack
from helixdesk.privacy.crypto import Keyring
from helixdesk.privacy.transcripts import TranscriptPrivacy
from tests.events import publish_stored

NEW_TOPIC: dict[str, tuple[str, ...]] = {
    "zh-Hans": (
        "数字人民币钱包怎么开通",
        "我想把工资卡绑定到数字人民币子钱包",
        "数字人民币的硬钱包在哪里领",
        "数币钱包充值一直提示失败",
        "怎么把数字人民币兑回到银行卡",
        "数字人民币红包抽中了怎么用",
        "碰一碰支付用不了是怎么回事",
        "数字人民币钱包升级成二类钱包要什么材料",
        "数字人民币硬钱包丢了余额还能找回吗",
        "你们银行支持数字人民币双离线支付吗",
        "数币钱包的限额是多少，想调高",
        "数字人民币消费券什么时候到账",
        "开了数字人民币钱包为什么看不到",
        "数字人民币钱包怎么注销",
    ),
    "zh-Hant": (
        "數字人民幣錢包點樣開通",
        "我想將糧卡綁定到數字人民幣子錢包",
        "數字人民幣硬錢包喺邊度領取",
        "數幣錢包增值一直顯示失敗",
        "數字人民幣點樣兌回銀行戶口",
        "抽中咗數字人民幣紅包要點用",
        "碰一碰付款用唔到係咩事",
        "數字人民幣錢包升級要咩文件",
        "數字人民幣硬錢包唔見咗結餘仲攞得返嗎",
        "你哋支唔支援數字人民幣雙離線支付",
        "數幣錢包上限係幾多，想調高啲",
    ),
    "en": (
        "how do I open an e-CNY wallet",
        "can I link my salary card to my digital yuan sub-wallet",
        "where can I pick up an e-CNY hardware wallet",
        "topping up my digital yuan wallet keeps failing",
        "how do I redeem digital yuan back to my card",
        "I won an e-CNY red packet, how do I spend it",
        "tap to pay with the digital yuan wallet is not working",
        "what documents do I need to upgrade my e-CNY wallet tier",
        "I lost my e-CNY hardware wallet, can I recover the balance",
        "does your bank support offline digital yuan payments",
        "what is the e-CNY wallet limit and can I raise it",
        "when do the digital yuan vouchers arrive",
    ),
}
CHATTER: dict[str, tuple[str, ...]] = {
    "zh-Hans": (
        "今晚的双色球开奖号码是多少",
        "帮我写一首关于秋天的诗",
        "你们食堂今天中午吃什么",
        "哪个手游最好玩，推荐一个",
        "我家的猫不吃饭怎么办",
        "演唱会门票在哪里抢",
    ),
    "zh-Hant": (
        "今晚六合彩攪珠結果係乜",
        "幫我作一首關於秋天嘅詩",
        "邊隻手機遊戲最好玩",
        "我隻貓唔肯食嘢點算",
    ),
    "en": (
        "what are tonight's lottery numbers",
        "write me a poem about autumn",
        "which mobile game should I play",
        "my cat stopped eating, what should I do",
        "where can I get concert tickets",
    ),
}
LANGUAGE_MIX = (("zh-Hans", 0.55), ("zh-Hant", 0.2), ("en", 0.25))
TZ = zone("Asia/Shanghai")


def days_ago(n: int) -> date:
    """The day `n` days before today in the bank's time zone (alarms are raised for the last week's days)."""
    return utcnow().astimezone(TZ).date() - timedelta(days=n)


def held_out() -> dict[str, list[str]]:
    """The pack's held-out intent examples by language."""
    out: dict[str, list[str]] = {"zh-Hans": [], "zh-Hant": [], "en": []}
    for e in load_examples(load_pack("retail_bank").path / "nlu" / "heldout" / "intents.jsonl"):
        out.setdefault(e.language, []).append(e.text)
    return out


def _language(rng: random.Random) -> str:
    return rng.choices([lang for lang, _ in LANGUAGE_MIX], weights=[w for _, w in LANGUAGE_MIX])[0]


def ordinary_day(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """`n` (language, text) of an ordinary day."""
    pool = held_out()
    out = []
    for _ in range(n):
        language = _language(rng)
        out.append((language, rng.choice(pool[language])))
    return out


def shifted_day(
    rng: random.Random, n: int, *, new_topic: float = 0.45, chatter: float = 0.2
) -> list[tuple[str, str]]:
    """`n` (language, text) of the day a new topic floods in, with unusual chatter."""
    pool = held_out()
    out = []
    for _ in range(n):
        language = _language(rng)
        draw = rng.random()
        if draw < new_topic:
            out.append((language, rng.choice(NEW_TOPIC[language])))
        elif draw < new_topic + chatter:
            out.append((language, rng.choice(CHATTER[language])))
        else:
            out.append((language, rng.choice(pool[language])))
    return out


def write_days(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    nlu: object,
    days: dict[date, Sequence[tuple[str, str]]],
    tz: tzinfo,
) -> int:
    """Write each day's messages as past conversations (the customer's message, understood by
    `nlu`, and the bot's reply), spread over the day's bank hours; returns how many."""
    texts = sorted({text for messages in days.values() for _, text in messages})
    turns = dict(zip(texts, nlu.parse_batch(texts), strict=True))  # type: ignore[attr-defined]
    writer = ConversationWriter(privacy=TranscriptPrivacy(keyring=keyring))
    written = 0
    for day, messages in sorted(days.items()):
        opens = datetime.combine(day, time(8), tzinfo=tz).astimezone(UTC)
        step = timedelta(seconds=12 * 3600 / max(1, len(messages)))
        with transaction(sessions) as s:
            for i, (language, text) in enumerate(messages):
                at = opens + step * i
                past = PastConversation(
                    channel="web",
                    language=language,
                    messages=[
                        PastMessage(Sender.CUSTOMER, text, at, turn=turns[text]),
                        PastMessage(
                            Sender.BOT,
                            "好的" if language != "en" else "Sure",
                            at + timedelta(seconds=1),
                            meta={"kind": "text"},
                            reply_to=0,
                        ),
                    ],
                )
                import_past(s, writer, past)
                written += 1
    return written


async def consume(sessions: sessionmaker[Session], tz: tzinfo, *, batch: int = 1000) -> int:
    """Publish the stored events and let the `drift` consumer (as `helixdesk drift run` builds
    it) catch up with them; returns how many events it handled."""
    await publish_stored(sessions)
    consumer = drift_consumer(sessions, tz, batch=batch)
    try:
        return await consumer.catch_up()
    finally:
        await consumer.stop()


def stored_day(s: Session, day: date, n: int, words: dict[str, int], *, oos: int = 0) -> None:
    """A day's figures as the consumer stores them, without the conversations behind them:
    `n` Simplified-Chinese messages (`oos` of them out of scope), confidence 0.95, these words."""
    s.add(
        DriftDay(
            day=day,
            language="zh-Hans",
            messages=n,
            oos=oos,
            scored=n,
            confidence_sum=0.95 * n,
            confidence_squares=0.91 * n,
            tokens=sum(words.values()),
            intents={"balance_inquiry": n - oos, "out_of_scope": oos} if oos else {"balance_inquiry": n},
            updated_at=utcnow(),
        )
    )
    for token, count in words.items():
        s.add(DriftToken(day=day, language="zh-Hans", token=token, count=count))
