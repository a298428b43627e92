"""A deterministic, realistic demo dataset for the embedded core bank.

The same `seed` and `as_of` date always produce the same file. Dates are placed relative to
`as_of` so "last month's transactions" and "the transfer I sent yesterday" exist in a demo run today.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from helixdesk.bank.history import attach_history
from helixdesk.bank.schema import BankFile
from helixdesk.core.identifiers import luhn_check_digit

# The demo bank's time zone unless the caller gives the bank's own (`bank_timezone`).
DEMO_TZ: tzinfo = ZoneInfo("Asia/Shanghai")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
)
_SURNAME_PINYIN = {
    "王": "Wang",
    "李": "Li",
    "张": "Zhang",
    "刘": "Liu",
    "陈": "Chen",
    "杨": "Yang",
    "黄": "Huang",
    "赵": "Zhao",
    "吴": "Wu",
    "周": "Zhou",
    "徐": "Xu",
    "孙": "Sun",
    "马": "Ma",
    "朱": "Zhu",
    "胡": "Hu",
    "郭": "Guo",
    "何": "He",
    "高": "Gao",
    "林": "Lin",
    "罗": "Luo",
    "郑": "Zheng",
    "梁": "Liang",
    "谢": "Xie",
    "宋": "Song",
    "唐": "Tang",
    "许": "Xu",
    "韩": "Han",
    "冯": "Feng",
    "邓": "Deng",
    "曹": "Cao",
    "彭": "Peng",
    "曾": "Zeng",
    "肖": "Xiao",
    "田": "Tian",
    "董": "Dong",
    "袁": "Yuan",
    "潘": "Pan",
    "蒋": "Jiang",
    "蔡": "Cai",
    "余": "Yu",
    "杜": "Du",
    "叶": "Ye",
    "程": "Cheng",
    "魏": "Wei",
    "苏": "Su",
    "吕": "Lyu",
    "丁": "Ding",
    "任": "Ren",
    "沈": "Shen",
    "姚": "Yao",
    "卢": "Lu",
}
_GIVEN = [
    ("伟", "Wei"),
    ("芳", "Fang"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("丽", "Li"),
    ("强", "Qiang"),
    ("磊", "Lei"),
    ("军", "Jun"),
    ("洋", "Yang"),
    ("勇", "Yong"),
    ("艳", "Yan"),
    ("杰", "Jie"),
    ("娟", "Juan"),
    ("涛", "Tao"),
    ("明", "Ming"),
    ("超", "Chao"),
    ("秀英", "Xiuying"),
    ("桂兰", "Guilan"),
    ("建华", "Jianhua"),
    ("志强", "Zhiqiang"),
    ("晓明", "Xiaoming"),
    ("雨涵", "Yuhan"),
    ("子轩", "Zixuan"),
    ("欣怡", "Xinyi"),
    ("浩然", "Haoran"),
    ("思远", "Siyuan"),
    ("佳怡", "Jiayi"),
    ("文博", "Wenbo"),
    ("淑珍", "Shuzhen"),
]
_EN_FIRST = [
    "James",
    "Emma",
    "Oliver",
    "Sophia",
    "Daniel",
    "Olivia",
    "Michael",
    "Chloe",
    "David",
    "Grace",
    "Thomas",
    "Hannah",
    "Ryan",
    "Mia",
    "Lucas",
    "Amelia",
    "Ethan",
    "Isabella",
    "Noah",
    "Charlotte",
]
_EN_LAST = [
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Davies",
    "Evans",
    "Walker",
    "Wright",
    "Hughes",
    "Green",
    "Hall",
    "Wood",
    "Clarke",
    "Patel",
    "Murphy",
    "Khan",
    "Lewis",
    "Cooper",
    "Turner",
]
_EN_ZH = {
    "James": "詹姆斯",
    "Emma": "艾玛",
    "Oliver": "奥利弗",
    "Sophia": "索菲亚",
    "Daniel": "丹尼尔",
    "Olivia": "奥利维亚",
    "Michael": "迈克尔",
    "Chloe": "克洛伊",
    "David": "大卫",
    "Grace": "格蕾丝",
    "Thomas": "托马斯",
    "Hannah": "汉娜",
    "Ryan": "瑞安",
    "Mia": "米娅",
    "Lucas": "卢卡斯",
    "Amelia": "阿米莉亚",
    "Ethan": "伊森",
    "Isabella": "伊莎贝拉",
    "Noah": "诺亚",
    "Charlotte": "夏洛特",
}
_CITIES_ZH = ["上海", "北京", "深圳", "广州", "杭州", "成都", "南京", "武汉", "苏州", "西安"]
_CITIES_HANT = ["香港", "台北", "澳門"]
_INTERESTS = [
    "funds",
    "wealth",
    "cross_border",
    "travel",
    "mortgage",
    "insurance",
    "credit_card_rewards",
    "education",
    "retirement",
    "gold",
]

# merchant, category, channel, typical amount range (CNY), currency
_MERCHANTS: list[tuple[str, str, str, tuple[int, int], str]] = [
    ("美团外卖", "dining", "online", (18, 120), "CNY"),
    ("京东商城", "shopping", "online", (39, 3999), "CNY"),
    ("淘宝", "shopping", "online", (9, 899), "CNY"),
    ("拼多多", "shopping", "online", (5, 299), "CNY"),
    ("星巴克 Starbucks", "dining", "pos", (28, 88), "CNY"),
    ("滴滴出行", "transport", "online", (12, 96), "CNY"),
    ("携程旅行", "travel", "online", (299, 4800), "CNY"),
    ("12306 铁路", "transport", "online", (54, 933), "CNY"),
    ("盒马鲜生", "groceries", "pos", (35, 420), "CNY"),
    ("中国石化加油站", "fuel", "pos", (200, 600), "CNY"),
    ("麦当劳 McDonald's", "dining", "pos", (25, 90), "CNY"),
    ("肯德基 KFC", "dining", "pos", (25, 95), "CNY"),
    ("饿了么", "dining", "online", (20, 110), "CNY"),
    ("Apple.com/bill", "digital", "online", (6, 68), "CNY"),
    ("全家 FamilyMart", "groceries", "pos", (8, 60), "CNY"),
    ("国家电网", "utilities", "online", (80, 460), "CNY"),
    ("中国移动", "utilities", "online", (58, 198), "CNY"),
    ("Amazon", "shopping", "online", (15, 250), "USD"),
    ("Netflix", "digital", "online", (10, 23), "USD"),
    ("7-Eleven", "groceries", "pos", (15, 120), "HKD"),
    ("Uniqlo 优衣库", "shopping", "pos", (99, 699), "CNY"),
]
_PAYEES = [
    ("王建国", "中国工商银行"),
    ("李秀梅", "中国建设银行"),
    ("上海某某贸易有限公司", "招商银行"),
    ("张伟", "中国农业银行"),
    ("刘芳", "交通银行"),
    ("Tom Baker", "HSBC UK"),
    ("陈小红", "中国银行"),
]
_FAIL_REASONS = [
    "收款人账号与户名不符 / payee name does not match the account",
    "收款行系统维护 / the receiving bank is under maintenance",
    "超过单日转账限额 / the daily transfer limit was exceeded",
    "收款账户已销户 / the payee account is closed",
]


def build_demo_bank(
    customers: int = 200,
    *,
    seed: int = 7,
    as_of: date | None = None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> BankFile:
    """Generate the demo dataset as a validated `BankFile`.

    Nothing lies in the future: `now` (default: the clock; with only `as_of`, the end of that day
    in the bank's time) bounds every transaction, transfer and statement, and "today" is the bank's
    local day in `tz` (default Asia/Shanghai). Each customer has up to 24 months of monthly activity
    (bank/history.py) up to the month before today's.
    """
    zone = tz or DEMO_TZ
    if customers < 1:
        raise ValueError("customers must be at least 1")
    rng = random.Random(seed)
    if now is None:
        now = (
            datetime.combine(as_of + timedelta(days=1), datetime.min.time(), zone) - timedelta(seconds=1)
            if as_of is not None
            else datetime.now(UTC)
        )
    today = as_of or now.astimezone(zone).date()
    records = [_customer(rng, i, today, now, zone) for i in range(1, customers + 1)]
    attach_history(records, seed=seed, as_of=today)  # its own random streams: the above is unchanged
    return BankFile.model_validate({"version": 1, "customers": records})


def _money(value: float) -> str:
    return str(Decimal(str(round(value, 2))).quantize(Decimal("0.01")))


def _luhn_account(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    return body + luhn_check_digit(body)


def _customer(rng: random.Random, i: int, today: date, now: datetime, tz: tzinfo) -> dict[str, Any]:
    english = rng.random() < 0.25
    hant = not english and rng.random() < 0.12
    if english:
        first, last = rng.choice(_EN_FIRST), rng.choice(_EN_LAST)
        name_en = f"{first} {last}"
        name_zh = _EN_ZH[first]
        language = "en"
        city = rng.choice(["上海", "北京", "深圳", "香港"])
    else:
        surname = rng.choice(_SURNAMES)
        given_zh, given_en = rng.choice(_GIVEN)
        name_zh = surname + given_zh
        name_en = f"{_SURNAME_PINYIN[surname]} {given_en}"
        language = "zh-Hant" if hant else "zh-Hans"
        city = rng.choice(_CITIES_HANT) if hant else rng.choice(_CITIES_ZH)
    age = rng.choice([rng.randint(22, 35), rng.randint(36, 59), rng.randint(60, 82)])
    birth = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
    tier = rng.choices(["standard", "silver", "gold", "platinum", "vip"], weights=[50, 22, 15, 8, 5])[0]
    segment = {"vip": "private", "platinum": "affluent", "gold": "affluent"}.get(tier, "mass")
    if rng.random() < 0.06:
        segment = "small_business"
    risk = (
        "conservative"
        if age >= 65
        else rng.choice(["conservative", "moderate", "balanced", "growth", "aggressive"])
    )
    interests = sorted(rng.sample(_INTERESTS, rng.randint(0, 3)))
    phone = (
        f"+852{rng.choice('569')}{rng.randrange(10**7):07d}"
        if hant and city == "香港"
        else (f"+861{rng.choice('3456789')}{rng.randrange(10**9):09d}")
    )
    since = today - timedelta(days=rng.randint(30, 6000))
    wealth = {"standard": 20_000, "silver": 80_000, "gold": 300_000, "platinum": 1_200_000, "vip": 6_000_000}[
        tier
    ]
    savings_balance = rng.uniform(0.05, 1.0) * wealth
    ref = f"C{i:06d}"
    accounts: list[dict[str, Any]] = []

    debit_last4 = f"{rng.randrange(10000):04d}"
    savings_txns = _transactions(
        rng, ref, "S", today, debit_last4, count=rng.randint(15, 35), salary=True, now=now, tz=tz
    )
    savings = {
        "number": _luhn_account(rng, "621700", 19),
        "kind": "savings",
        "currency": "CNY",
        "balance": _money(savings_balance),
        "available": _money(savings_balance),
        "status": "active",
        "opened_on": since.isoformat(),
        "cards": [
            {
                "kind": "debit",
                "product": "借记卡 Debit Card",
                "last4": debit_last4,
                "status": rng.choices(["active", "frozen", "inactive"], weights=[94, 3, 3])[0],
                "daily_limit": "50000.00",
                "expires": f"{rng.randint(1, 12):02d}/{(today.year + rng.randint(1, 5)) % 100:02d}",
                "overseas_enabled": rng.random() < 0.3,
            }
        ],
        "transactions": savings_txns,
        "transfers": _transfers(rng, ref, today, now, tz),
    }
    accounts.append(savings)

    if rng.random() < 0.75:
        credit_last4 = f"{rng.randrange(10000):04d}"
        while credit_last4 == debit_last4:
            credit_last4 = f"{rng.randrange(10000):04d}"
        limit = rng.choice([10_000, 20_000, 30_000, 50_000, 80_000, 150_000])
        txns = _transactions(
            rng, ref, "C", today, credit_last4, count=rng.randint(10, 30), salary=False, now=now, tz=tz
        )
        spent = sum(
            (-Decimal(t["amount"]) for t in txns if Decimal(t["amount"]) < 0 and t["status"] == "posted"),
            Decimal(0),
        )
        owed = min(spent, Decimal(limit))
        accounts.append(
            {
                "number": _luhn_account(rng, "622588", 16),
                "kind": "credit",
                "currency": "CNY",
                "balance": str(-owed),
                "available": str(Decimal(limit) - owed),
                "status": "active",
                # Opened after the customer joined, and never after today.
                "opened_on": min(since + timedelta(days=rng.randint(0, 300)), today).isoformat(),
                "cards": [
                    {
                        "kind": "credit",
                        "product": rng.choice(
                            ["白金信用卡 Platinum Credit", "金卡 Gold Credit", "旅行信用卡 Travel Credit"]
                        ),
                        "last4": credit_last4,
                        "status": "active",
                        "credit_limit": f"{limit}.00",
                        "daily_limit": f"{limit}.00",
                        "expires": f"{rng.randint(1, 12):02d}/{(today.year + rng.randint(1, 5)) % 100:02d}",
                        "overseas_enabled": rng.random() < 0.5,
                        "statements": _statements(rng, today, spent),
                        "installment_plans": _plans(rng, ref, today),
                    }
                ],
                "transactions": txns,
                "transfers": [],
            }
        )

    return {
        "ref": ref,
        "name_zh": name_zh,
        "name_en": name_en,
        "gender": rng.choice(["F", "M"]),
        "birth_date": birth.isoformat(),
        "segment": segment,
        "value_tier": tier,
        "risk_tolerance": risk,
        "preferred_language": language,
        "phone": phone,
        "email": None if age >= 65 else f"{name_en.lower().replace(' ', '.')}{i}@example.com",
        "city": city,
        "customer_since": since.isoformat(),
        "interests": interests,
        # Demo relationship managers RM001-RM004 look after the platinum and VIP customers.
        "relationship_manager": f"RM{i % 4 + 1:03d}" if tier in ("vip", "platinum") else None,
        "accounts": accounts,
    }


def _not_after(when: datetime, now: datetime) -> datetime:
    """A generated time later than `now` (later today) moves back a day: the past only."""
    while when > now:
        when -= timedelta(days=1)
    return when


def _transactions(
    rng: random.Random,
    ref: str,
    kind: str,
    today: date,
    last4: str,
    *,
    count: int,
    salary: bool,
    now: datetime,
    tz: tzinfo,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n in range(count):
        merchant, category, channel, (lo, hi), currency = rng.choice(_MERCHANTS)
        when = datetime.combine(
            today - timedelta(days=rng.randint(0, 89)), datetime.min.time(), tz
        ) + timedelta(minutes=rng.randint(7 * 60, 23 * 60 + 30))
        when = _not_after(when, now)
        status = rng.choices(["posted", "pending", "failed"], weights=[90, 6, 4])[0]
        out.append(
            {
                "ref": f"TX{ref[1:]}{kind}{n:03d}",
                "occurred_at": when.isoformat(),
                "amount": "-" + _money(rng.uniform(lo, hi)),
                "currency": currency,
                "merchant": merchant,
                "category": category,
                "channel": channel,
                "status": status,
                "card_last4": last4,
            }
        )
    if salary:
        for month_back in range(3):
            pay_day = (today.replace(day=1) - timedelta(days=28 * month_back)).replace(day=10)
            if datetime.combine(pay_day, datetime.min.time(), tz).replace(hour=9) > now:
                continue
            out.append(
                {
                    "ref": f"TX{ref[1:]}{kind}P{month_back}",
                    "occurred_at": datetime.combine(pay_day, datetime.min.time(), tz)
                    .replace(hour=9)
                    .isoformat(),
                    "amount": _money(rng.uniform(6000, 38000)),
                    "currency": "CNY",
                    "merchant": "工资代发 Payroll",
                    "category": "income",
                    "channel": "transfer",
                    "status": "posted",
                }
            )
    if rng.random() < 0.15 and out:
        # A duplicate charge: the same merchant and amount twice within minutes.
        first = next(t for t in out if Decimal(t["amount"]) < 0)
        dup = dict(first)
        dup["ref"] = first["ref"] + "D"
        dup["occurred_at"] = _not_after(
            datetime.fromisoformat(first["occurred_at"]) + timedelta(minutes=2), now
        ).isoformat()
        dup["status"] = "posted"
        out.append(dup)
    out.sort(key=lambda t: t["occurred_at"])
    return out


def _transfers(rng: random.Random, ref: str, today: date, now: datetime, tz: tzinfo) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n in range(rng.randint(0, 4)):
        payee, bank = rng.choice(_PAYEES)
        cross = bank == "HSBC UK"
        created = datetime.combine(
            today - timedelta(days=rng.randint(0, 20)), datetime.min.time(), tz
        ) + timedelta(minutes=rng.randint(8 * 60, 22 * 60))
        created = _not_after(created, now)
        status = rng.choices(["completed", "pending", "failed", "returned"], weights=[70, 14, 10, 6])[0]
        arrival = created + (timedelta(days=3) if cross else timedelta(hours=2))
        if status == "completed" and arrival > now:
            status = "pending"  # it has not arrived yet: expected, not completed
        out.append(
            {
                "ref": f"TR{ref[1:]}{n:02d}",
                "payee_name": payee,
                "payee_account": _luhn_account(rng, "6222", 19) if not cross else "GB29NWBK60161331926819",
                "payee_bank": bank,
                "amount": _money(rng.uniform(200, 50000)),
                "currency": "CNY",
                "kind": "cross_border" if cross else "domestic",
                "status": status,
                "failure_reason": rng.choice(_FAIL_REASONS) if status in ("failed", "returned") else None,
                "created_at": created.isoformat(),
                "expected_arrival": arrival.isoformat(),
                "completed_at": arrival.isoformat() if status == "completed" else None,
            }
        )
    return out


def _statements(rng: random.Random, today: date, spent: Decimal) -> list[dict[str, Any]]:
    """The card's last three statements, all issued: a statement is dated the 5th, and one dated
    after today does not exist yet (this cycle's spending is not a bill before its statement date)."""
    out: list[dict[str, Any]] = []
    first_of_month = today.replace(day=1)
    if today.day < 5:
        first_of_month = (first_of_month - timedelta(days=1)).replace(day=1)
    for back in range(3):
        month_start = first_of_month
        for _ in range(back):
            month_start = (month_start - timedelta(days=1)).replace(day=1)
        statement_date = month_start.replace(day=5)
        due = statement_date + timedelta(days=20)
        due_amount = spent if back == 0 else Decimal(_money(rng.uniform(500, 12000)))
        due_amount = due_amount.quantize(Decimal("0.01"))
        minimum = (due_amount * Decimal("0.10")).quantize(Decimal("0.01"))
        # The latest bill is still to pay while its due date has not passed; earlier ones are paid.
        paid = Decimal(0) if back == 0 and due >= today else due_amount
        out.append(
            {
                "period": statement_date.strftime("%Y-%m"),
                "statement_date": statement_date.isoformat(),
                "due_date": due.isoformat(),
                "amount_due": str(due_amount),
                "minimum_payment": str(minimum),
                "paid": str(paid),
                "currency": "CNY",
            }
        )
    return out


def _plans(rng: random.Random, ref: str, today: date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n in range(rng.choice([0, 0, 1, 1, 2])):
        periods = rng.choice([3, 6, 12, 24])
        paid = rng.randint(0, periods - 1)
        start = today - timedelta(days=30 * paid + rng.randint(1, 25))
        item = rng.choice(
            [
                "iPhone 分期 iPhone installment",
                "账单分期 Bill installment",
                "家电分期 Appliance installment",
                "旅游分期 Travel installment",
            ]
        )
        out.append(
            {
                "ref": f"IP{ref[1:]}{n:02d}",
                "description": item,
                "principal": f"{rng.choice([3000, 6000, 8999, 12000, 24000, 36000])}.00",
                "periods": periods,
                "periods_paid": paid,
                "fee_rate_per_period": rng.choice(["0.0060", "0.0065", "0.0070", "0.0075"]),
                "start_date": start.isoformat(),
                "currency": "CNY",
                "status": "active",
            }
        )
    return out
