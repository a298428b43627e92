"""A deterministic corpus for the PII detector: messages with personal data, and look-alikes without.

    pii_messages(n)        zh-Hans, zh-Hant and English messages with card, ID, phone, e-mail,
                           account numbers, HKIDs and secrets in varied formats (spaces, dashes,
                           full-width, embedded in sentences, several per message); each message
                           lists every item it holds with its type and exact position.
    lookalike_messages(n)  messages with numbers that are not personal data: order ids, transaction
                           references, amounts, dates, times, tracking numbers, invalid-Luhn
                           16-digit numbers, invalid-checksum IDs, hotlines, postcodes, versions.

Everything comes from `random.Random(seed)`; the same seed gives the same corpus. Used by
tests/unit/privacy/test_corpus.py and bench/privacy_bench.py.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from helixdesk.core.identifiers import (
    hkid_check_char,
    id_check_char,
    id_checksum_ok,
    luhn_check_digit,
    luhn_ok,
    resident_id_ok,
)

SEED = 20261123


@dataclass(frozen=True, slots=True)
class Item:
    type: str  # card_number, id_number, phone, email, account_number, secret
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    language: str
    items: tuple[Item, ...] = ()
    kind: str = ""  # look-alikes: what the number is


# ---- values ------------------------------------------------------------------------------------

_FULL = str.maketrans(string.digits + " -", "０１２３４５６７８９\u3000－")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _group(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, pos = [], 0
    for size in sizes:
        parts.append(digits[pos : pos + size])
        pos += size
    if pos < len(digits):
        parts.append(digits[pos:])
    return sep.join(p for p in parts if p)


_CARD_PREFIXES = [("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("62", 16), ("62", 19), ("6222", 19),
                  ("3528", 16), ("6011", 16), ("37", 15), ("34", 15), ("6225", 16)]  # fmt: skip


def card_number(rng: random.Random) -> str:
    while True:
        prefix, length = rng.choice(_CARD_PREFIXES)
        body = prefix + _digits(rng, length - len(prefix) - 1)
        number = body + luhn_check_digit(body)
        if not resident_id_ok(number):  # never both: an 18-digit card that is also a valid ID
            return number


def _card_format(rng: random.Random, number: str) -> str:
    style = rng.randrange(6)
    if len(number) == 15:
        sizes: tuple[int, ...] = (4, 6, 5)
    else:
        sizes = (4, 4, 4, 4, 3)
    if style == 0:
        return number
    if style == 1:
        return _group(number, sizes, " ")
    if style == 2:
        return _group(number, sizes, "-")
    if style == 3:
        return number.translate(_FULL)
    if style == 4:
        return _group(number, sizes, " ").translate(_FULL)
    return _group(number, sizes, rng.choice([" ", "-"]))


_REGIONS = ["110101", "110105", "310115", "440305", "440106", "320102", "510104", "330106", "420102",
            "500103", "610113", "210102", "370202", "350203", "810000", "820000", "830000", "230102"]  # fmt: skip


def resident_id(rng: random.Random) -> str:
    year = rng.randint(1940, 2006)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    first17 = f"{rng.choice(_REGIONS)}{year:04d}{month:02d}{day:02d}{_digits(rng, 3)}"
    return first17 + id_check_char(first17)


def _id_format(rng: random.Random, value: str) -> str:
    style = rng.randrange(5)
    if style == 1:
        value = f"{value[:6]} {value[6:14]} {value[14:]}"
    elif style == 2:
        value = value.translate(_FULL)
    elif style == 3:
        value = f"{value[:6]}-{value[6:14]}-{value[14:]}"
    return value.lower() if value.endswith("X") and rng.random() < 0.5 else value


def hkid(rng: random.Random) -> str:
    prefix = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.choice([1, 1, 1, 2])))
    digits = _digits(rng, 6)
    return f"{prefix}{digits}({hkid_check_char(prefix, digits)})"


def mainland_mobile(rng: random.Random) -> str:
    number = rng.choice(["13", "15", "17", "18", "19", "14", "16"]) + _digits(rng, 9)
    style = rng.randrange(8)
    formats = [
        number,
        f"{number[:3]} {number[3:7]} {number[7:]}",
        f"{number[:3]}-{number[3:7]}-{number[7:]}",
        f"+86 {number}",
        f"+86-{number[:3]}-{number[3:7]}-{number[7:]}",
        f"(+86){number}",
        f"0086 {number}",
        number.translate(_FULL),
    ]
    return formats[style]


def hk_phone(rng: random.Random) -> str:
    number = rng.choice("569") + _digits(rng, 7)
    return rng.choice(
        [
            f"+852 {number[:4]} {number[4:]}",
            f"+852-{number}",
            f"(852) {number[:4]} {number[4:]}",
            f"00852 {number}",
        ]
    )


_NAMES = ["zhang.san", "li_na", "wang.wei88", "chen.jing", "amy.wong", "peter.chan", "liu+bank", "sam.lee",
          "xiaoming2008", "j.smith", "lin_fang", "ho.kin.wai"]  # fmt: skip
_DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "example.com.cn", "mail.example.hk",
            "yahoo.com.hk", "foxmail.com", "corp.example.org"]  # fmt: skip


def email(rng: random.Random) -> str:
    value = f"{rng.choice(_NAMES)}@{rng.choice(_DOMAINS)}"
    return value.upper() if rng.random() < 0.1 else value


def account_number(rng: random.Random) -> str:
    number = rng.choice(["6217", "6228", "0200", "1001", "3100", "4420", "8888", "012"]) + _digits(
        rng, rng.randint(8, 18)
    )
    style = rng.randrange(4)
    if style == 1:
        return _group(number, (4, 4, 4, 4, 4, 4), " ")
    if style == 2:
        return number.translate(_FULL)
    return number


def secret_value(rng: random.Random, kind: str) -> str:
    if kind == "cvv":
        return _digits(rng, 3)
    if kind == "pin":
        return _digits(rng, rng.choice([4, 6]))
    if kind == "password":
        letters = "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(3, 8)))
        return letters + _digits(rng, rng.randint(2, 6)) + rng.choice(["", "!", "#", "@"])
    return _digits(rng, 6)


# ---- messages with personal data ---------------------------------------------------------------

# {slot:type} placeholders; `type` says which generator fills it.
_PII_TEMPLATES: dict[str, list[str]] = {
    "zh-Hans": [
        "我的卡号是{card}，麻烦帮我冻结一下",
        "银行卡{card}昨天晚上被盗刷了三千五",
        "{card}这张卡还能用吗？",
        "请帮我查一下尾号对不上的那张卡，完整卡号 {card}",
        "我的手机号是{mobile}，有问题打给我",
        "联系电话：{mobile}，身份证号{id}",
        "身份证{id}，帮我查一下名下的卡",
        "请把电子账单发到{email}，谢谢",
        "邮箱{email}一直收不到账单",
        "收款账号 {account}，户名张三，转了5000没到账",
        "我的账号是{account}，余额怎么不对",
        "验证码是{otp}，你们帮我看看是不是对的",
        "刚才有人让我报验证码{otp}，我已经说了",
        "我的取款密码是{pin}，是不是被人知道了",
        "信用卡{card}，CVV {cvv}，我在网上填过",
        "我手机{mobile}、卡{card}都丢了，邮箱{email}",
        "登录密码是{password}，老是提示错误",
        "我用{card}给{mobile}转了钱",
        "卡号{card}，身份证{id}，手机{mobile}，请核实",
        "对方账户{account}，我转错了能追回吗",
        "我的香港手机{hk}收不到短信",
    ],
    "zh-Hant": [
        "我的卡號是{card}，請幫我凍結",
        "信用卡{card}被人盜用了",
        "電話 {hk}，請盡快聯絡我",
        "我的手機號碼是{mobile}",
        "身份證號碼{id}，請幫我查一下",
        "香港身份證{hkid}，我想更新資料",
        "我的戶口號碼是{account}，結餘不對",
        "帳號：{account}，轉賬失敗",
        "電郵{email}收不到月結單",
        "驗證碼{otp}，我輸入了但是不行",
        "密碼是{password}，被鎖了",
        "{card}這張卡昨天在日本刷了兩次",
        "聯絡電話{hk}，卡號{card}",
        "PIN {pin}是不是太簡單了",
        "我的身份證是{hkid}，手機{hk}",
    ],
    "en": [
        "My card number is {card}, please block it",
        "Someone used my card {card} last night",
        "Is {card} still active?",
        "You can reach me on {mobile} or {email}",
        "My phone is {hk}, call me back please",
        "Please send the statement to {email}",
        "ID number {id}, can you check my accounts?",
        "My HKID is {hkid}",
        "Account no. {account}, the transfer did not arrive",
        "acct {account} shows the wrong balance",
        "The code is {otp}",
        "my verification code is {otp} but it says expired",
        "My PIN is {pin}, I think someone saw it",
        "card {card} exp 09/27 cvv {cvv}",
        "password: {password} does not work",
        "I paid with {card} and gave them my number {mobile}",
        "Card {card}, ID {id}, phone {mobile}",
        "my otp is {otp}",
        "wire it to a/c {account} please",
        "I lost both cards {card} and {card}",
    ],
}

_SLOT_TYPES = {
    "card": "card_number",
    "id": "id_number",
    "hkid": "id_number",
    "mobile": "phone",
    "hk": "phone",
    "email": "email",
    "account": "account_number",
    "otp": "secret",
    "pin": "secret",
    "cvv": "secret",
    "password": "secret",
}


def _fill(rng: random.Random, slot: str) -> str:
    fillers: dict[str, Callable[[], str]] = {
        "card": lambda: _card_format(rng, card_number(rng)),
        "id": lambda: _id_format(rng, resident_id(rng)),
        "hkid": lambda: hkid(rng),
        "mobile": lambda: mainland_mobile(rng),
        "hk": lambda: hk_phone(rng),
        "email": lambda: email(rng),
        "account": lambda: account_number(rng),
        "otp": lambda: secret_value(rng, "otp"),
        "pin": lambda: secret_value(rng, "pin"),
        "cvv": lambda: secret_value(rng, "cvv"),
        "password": lambda: secret_value(rng, "password"),
    }
    return fillers[slot]()


def _render(rng: random.Random, template: str) -> tuple[str, tuple[Item, ...]]:
    out, items, pos = [], [], 0
    length = 0
    while True:
        start = template.find("{", pos)
        if start < 0:
            out.append(template[pos:])
            break
        end = template.index("}", start)
        out.append(template[pos:start])
        length += start - pos
        slot = template[start + 1 : end]
        value = _fill(rng, slot)
        items.append(Item(_SLOT_TYPES[slot], length, length + len(value), value))
        out.append(value)
        length += len(value)
        pos = end + 1
    return "".join(out), tuple(items)


def pii_messages(n: int = 1200, *, seed: int = SEED) -> list[Sample]:
    rng = random.Random(seed)
    languages = sorted(_PII_TEMPLATES)
    out = []
    for i in range(n):
        language = languages[i % len(languages)]
        text, items = _render(rng, rng.choice(_PII_TEMPLATES[language]))
        out.append(Sample(text, language, items))
    return out


# ---- look-alikes -------------------------------------------------------------------------------


def _invalid_luhn(rng: random.Random) -> str:
    while True:
        number = rng.choice("3456") + _digits(rng, 15)
        if not luhn_ok(number):
            return number


def _invalid_id(rng: random.Random) -> str:
    valid = resident_id(rng)
    wrong = rng.choice([c for c in "0123456789X" if c != valid[-1]])
    value = valid[:17] + wrong
    assert not id_checksum_ok(value)
    return value


def _amount(rng: random.Random) -> str:
    value = rng.randint(1, 9_999_999) / 100
    return rng.choice(
        [f"¥{value:,.2f}", f"{value:.2f}元", f"USD {value:,.2f}", f"HK${value:,.2f}", f"{int(value)}块"]
    )


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(2015, 2027), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [f"{y}-{m:02d}-{d:02d}", f"{y}年{m}月{d}日", f"{y}{m:02d}{d:02d}", f"{d:02d}/{m:02d}/{y}"]
    )


def _time(rng: random.Random) -> str:
    h, mi, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    return rng.choice([f"{h:02d}:{mi:02d}", f"{h:02d}:{mi:02d}:{s:02d}", f"{h}点{mi}分"])


_LOOKALIKES: dict[str, list[Callable[[random.Random], tuple[str, str]]]] = {
    "order_id": [
        lambda r: ("zh-Hans", f"订单号{_digits(r, r.randint(16, 20))}一直显示未发货"),
        lambda r: ("zh-Hans", f"我的订单编号是 {_digits(r, 18)}，退款什么时候到"),
        lambda r: ("zh-Hant", f"訂單號：{_digits(r, 19)}，仍未收到貨"),
        lambda r: ("en", f"order number {_digits(r, 16)} was charged twice"),
        lambda r: ("en", f"Order ID: {r.choice(['A', 'B', 'JD'])}{_digits(r, 14)}"),
    ],
    "transaction_ref": [
        lambda r: ("zh-Hans", f"交易流水号 {_digits(r, 20)}，麻烦查一下"),
        lambda r: ("zh-Hans", f"流水号{_digits(r, 16)}的那笔是什么"),
        lambda r: ("zh-Hant", f"交易編號{_digits(r, 18)}有問題"),
        lambda r: ("en", f"transaction reference TX{_digits(r, 16)}"),
        lambda r: ("en", f"the reference is {_digits(r, 12)}"),
        lambda r: ("en", f"txn id {_digits(r, 19)} failed"),
    ],
    "amount": [
        lambda r: ("zh-Hans", f"昨天扣了{_amount(r)}，还有一笔{_amount(r)}"),
        lambda r: ("zh-Hant", f"結餘只剩{_amount(r)}"),
        lambda r: ("en", f"I was charged {_amount(r)} instead of {_amount(r)}"),
        lambda r: ("zh-Hans", f"转账金额 {r.randint(10_000_000, 99_999_999)}.00 元"),
    ],
    "date_time": [
        lambda r: ("zh-Hans", f"{_date(r)} {_time(r)} 的那笔消费"),
        lambda r: ("en", f"on {_date(r)} at {_time(r)} I tried to pay"),
        lambda r: ("zh-Hant", f"{_date(r)}下午{_time(r)}轉賬"),
        lambda r: ("en", f"between {_date(r)} and {_date(r)}"),
    ],
    "invalid_luhn": [
        lambda r: ("zh-Hans", f"这个号码 {_invalid_luhn(r)} 是什么"),
        lambda r: ("en", f"what is {_group(_invalid_luhn(r), (4, 4, 4, 4), ' ')} on my statement"),
        lambda r: ("zh-Hant", f"編號{_invalid_luhn(r)}"),
        lambda r: ("en", f"reference {_group(_invalid_luhn(r), (4, 4, 4, 4), '-')}"),
    ],
    "invalid_id": [
        lambda r: ("zh-Hans", f"编号{_invalid_id(r)}是什么意思"),
        lambda r: ("en", f"the letter shows {_invalid_id(r)}"),
        lambda r: ("zh-Hant", f"文件號 {_invalid_id(r)}"),
    ],
    "tracking": [
        lambda r: ("zh-Hans", f"快递单号 SF{_digits(r, 13)}，卡还没寄到"),
        lambda r: ("zh-Hans", f"运单号{_digits(r, 14)}"),
        lambda r: ("zh-Hant", f"快遞單號{_digits(r, 15)}查不到"),
        lambda r: ("en", f"tracking number {_digits(r, r.randint(12, 22))}"),
        lambda r: ("en", f"EMS EA{_digits(r, 9)}CN has not arrived"),
    ],
    "service_number": [
        lambda r: ("zh-Hans", "客服电话95588一直占线"),
        lambda r: ("zh-Hans", f"我打了400-{_digits(r, 3)}-{_digits(r, 4)}没人接"),
        lambda r: ("en", f"I called 800-{_digits(r, 3)}-{_digits(r, 4)}"),
        lambda r: ("zh-Hant", f"熱線 2{_digits(r, 3)} {_digits(r, 4)} 無人接聽"),
    ],
    "other_numbers": [
        lambda r: ("zh-Hans", f"邮编{_digits(r, 6)}，地址是建国路{r.randint(1, 999)}号{r.randint(1, 30)}楼"),
        lambda r: ("en", f"app version {r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 99)} crashes"),
        lambda r: ("zh-Hans", f"错误代码 E{_digits(r, 4)}"),
        lambda r: ("zh-Hans", f"分{r.choice([3, 6, 12, 24])}期每期多少"),
        lambda r: ("en", f"room {r.randint(100, 3999)}, floor {r.randint(1, 60)}"),
        lambda r: ("zh-Hans", f"电费户号{_digits(r, 12)}扣款失败"),
        lambda r: (
            "en",
            f"IP {r.randint(1, 255)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(0, 255)}",
        ),
        lambda r: ("zh-Hant", f"會員編號{_digits(r, 10)}的積分"),
        lambda r: ("en", f"my customer number is C{_digits(r, 6)}"),
        lambda r: ("zh-Hans", f"尾号{_digits(r, 4)}的卡"),
        lambda r: ("en", f"card ending {_digits(r, 4)}"),
    ],
}


def lookalike_messages(n: int = 1200, *, seed: int = SEED + 1) -> list[Sample]:
    rng = random.Random(seed)
    kinds = sorted(_LOOKALIKES)
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        language, text = rng.choice(_LOOKALIKES[kind])(rng)
        out.append(Sample(text, language, (), kind))
    return out


# ---- scoring -----------------------------------------------------------------------------------


class Span(Protocol):
    type: str
    start: int
    end: int


@dataclass
class Recall:
    """Per type: items, items covered by a detected span, items covered by a span of the right type."""

    total: dict[str, int] = field(default_factory=dict)
    covered: dict[str, int] = field(default_factory=dict)
    typed: dict[str, int] = field(default_factory=dict)
    misses: list[tuple[Sample, Item]] = field(default_factory=list)

    def rate(self, kind: str) -> float:
        return self.covered.get(kind, 0) / self.total[kind] if self.total.get(kind) else 1.0


def recall(samples: list[Sample], find: Callable[[str], Sequence[Span]]) -> Recall:
    out = Recall()
    for sample in samples:
        spans = find(sample.text)
        for item in sample.items:
            out.total[item.type] = out.total.get(item.type, 0) + 1
            over = [s for s in spans if s.start <= item.start and s.end >= item.end]
            if over:
                out.covered[item.type] = out.covered.get(item.type, 0) + 1
                if any(s.type == item.type for s in over):
                    out.typed[item.type] = out.typed.get(item.type, 0) + 1
            else:
                out.misses.append((sample, item))
    return out


@dataclass
class FalsePositives:
    messages: int = 0
    flagged: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    examples: list[tuple[Sample, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.flagged / self.messages if self.messages else 0.0


def false_positives(samples: list[Sample], find: Callable[[str], Sequence[Span]]) -> FalsePositives:
    out = FalsePositives()
    for sample in samples:
        out.messages += 1
        spans = find(sample.text)
        if not spans:
            continue
        out.flagged += 1
        out.by_kind[sample.kind] = out.by_kind.get(sample.kind, 0) + 1
        for s in spans:
            out.by_type[s.type] = out.by_type.get(s.type, 0) + 1
            out.examples.append((sample, sample.text[s.start : s.end]))
    return out
