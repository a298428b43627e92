"""Stage `entities`: bilingual money, dates, cards, ids, phones, references, merchants, periods."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.turn import Entity, Turn
from helixdesk.nlu.entities import EntityExtractor, MerchantGazetteer
from helixdesk.nlu.entities.cards import luhn_ok
from helixdesk.nlu.entities.identity import id_checksum_ok
from helixdesk.nlu.entities.numbers import parse_number
from helixdesk.nlu.pipeline import NLUPipeline
from helixdesk.nlu.stage import build_stage, registered_stages
from helixdesk.nlu.stages.entities import EntitiesStage
from helixdesk.nlu.text import normalise

REF = datetime(2024, 3, 13, 15, 30)  # a Wednesday

VISA = "4111111111111111"
UNIONPAY_19 = "6222021234567890128"
UNIONPAY_16 = "6225880137059011"
ID_X = "11010519491231002X"
ID_DIGIT = "440308199001011239"


@pytest.fixture(scope="module")
def stage() -> EntitiesStage:
    s = EntitiesStage()
    s.warm_up()
    return s


def extract(stage: EntitiesStage, text: str, ref: datetime | None = REF) -> tuple[Entity, ...]:
    turn = stage.run(Turn(text=text, normalized=normalise(text), reference_time=ref))
    for e in turn.entities:
        assert text[e.start : e.end] == e.text, e
    starts = [e.start for e in turn.entities]
    assert starts == sorted(starts)
    json.dumps(turn.to_dict(), ensure_ascii=False)
    return turn.entities


def of_type(stage: EntitiesStage, text: str, kind: str, ref: datetime | None = REF) -> list[Entity]:
    return [e for e in extract(stage, text, ref) if e.type == kind]


def only(stage: EntitiesStage, text: str, kind: str) -> Entity:
    found = of_type(stage, text, kind)
    assert len(found) == 1, (text, extract(stage, text))
    return found[0]


# --- numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("三千五", "3500"),
        ("1.2万", "12000"),
        ("两千", "2000"),
        ("十万八千", "108000"),
        ("一百零五", "105"),
        ("3千5", "3500"),
        ("一万二", "12000"),
        ("十五", "15"),
        ("两千零五", "2005"),
        ("一亿两千万", "120000000"),
        ("壹仟贰佰", "1200"),
        ("一点五万", "15000"),
        ("1,299.00", "1299"),
    ],
)
def test_parse_number(text: str, value: str) -> None:
    parsed = parse_number(text)
    assert parsed is not None
    assert parsed == type(parsed)(value)


@pytest.mark.parametrize("text", ["千万", "万一", "一二三", "", "百千"])
def test_parse_number_rejects_non_numbers(text: str) -> None:
    assert parse_number(text) is None


# --- money ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "amount", "currency"),
    [
        ("昨天被扣了三千五", "三千五", "3500.00", "CNY"),
        ("借我1.2万", "1.2万", "12000.00", "CNY"),
        ("我转了两千块给他", "两千块", "2000.00", "CNY"),
        ("手续费五百元", "五百元", "500.00", "CNY"),
        ("额度只有3千", "3千", "3000.00", "CNY"),
        ("贷了十万八千", "十万八千", "108000.00", "CNY"),
        ("一共一百零五块五", "一百零五块五", "105.50", "CNY"),
        ("才三块五毛钱", "三块五毛钱", "3.50", "CNY"),
        ("一百二十八元三角", "一百二十八元三角", "128.30", "CNY"),
        ("被扣了¥88", "¥88", "88.00", "CNY"),
        ("账单￥1,299.00", "￥1,299.00", "1299.00", "CNY"),
        ("多扣了88元", "88元", "88.00", "CNY"),
        ("人民币3500元", "人民币3500元", "3500.00", "CNY"),
        ("1.5万块", "1.5万块", "15000.00", "CNY"),
        ("转账3500给我妈", "3500", "3500.00", "CNY"),
        ("五毛钱", "五毛钱", "0.50", "CNY"),
        ("USD 45.99 was charged", "USD 45.99", "45.99", "USD"),
        ("I paid $20 for it", "$20", "20.00", "USD"),
        ("I paid $1,200.50", "$1,200.50", "1200.50", "USD"),
        ("扣了45.99美元", "45.99美元", "45.99", "USD"),
        ("HK$300 at the shop", "HK$300", "300.00", "HKD"),
        ("it cost me 500 bucks", "500 bucks", "500.00", "USD"),
        ("about 2k last week", "2k", "2000.00", "CNY"),
        ("€15 refund", "€15", "15.00", "EUR"),
        ("£9.99 subscription", "£9.99", "9.99", "GBP"),
        ("300港币", "300港币", "300.00", "HKD"),
        ("1000日元", "1000日元", "1000.00", "JPY"),
        ("20 euros", "20 euros", "20.00", "EUR"),
        ("300 hong kong dollars", "300 hong kong dollars", "300.00", "HKD"),
        ("1000 RMB", "1000 RMB", "1000.00", "CNY"),
        ("被扣了三千五百元", "三千五百元", "3500.00", "CNY"),
        # Traditional script and full-width characters
        ("被扣了兩千塊", "兩千塊", "2000.00", "CNY"),
        ("轉了1.2萬", "1.2萬", "12000.00", "CNY"),
        ("扣了５００元", "５００元", "500.00", "CNY"),
        ("ＵＳＤ ４５.９９", "ＵＳＤ ４５.９９", "45.99", "USD"),
        ("三千五百港幣", "三千五百港幣", "3500.00", "HKD"),
        # code-switched
        ("我在Amazon spent 45.99美元", "45.99美元", "45.99", "USD"),
        ("charged me 三千五", "三千五", "3500.00", "CNY"),
    ],
)
def test_money(stage: EntitiesStage, text: str, span: str, amount: str, currency: str) -> None:
    e = only(stage, text, "money")
    assert e.text == span
    assert e.value == {"amount": amount, "currency": currency}


@pytest.mark.parametrize(
    "text",
    [
        "我有3500个积分",
        "请问5号线怎么走",
        "一块去吃饭吧",
        "两块蛋糕",
        "跑了2km",
        "走了3千米",
        "我是第一次用",
        "等我一下",
        "还了3期",
        "3500",
        "my pin is 1234",
        "我千万不要被骗",
        "万一被盗刷怎么办",
        "1.2万人",
        "一共消费了3笔",
        "利率是3.5%",
    ],
)
def test_not_money(stage: EntitiesStage, text: str) -> None:
    assert of_type(stage, text, "money") == []


def test_money_default_currency_is_configurable() -> None:
    extractor = EntityExtractor(default_currency="HKD")
    (e,) = extractor.extract("about 2k", reference_time=REF)
    assert e.value == {"amount": "2000.00", "currency": "HKD"}


# --- currency ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "code"),
    [
        ("美元汇率多少", "美元", "USD"),
        ("日元汇率", "日元", "JPY"),
        ("what is the euro rate", "euro", "EUR"),
        ("我想换港币", "港币", "HKD"),
        ("GBP to CNY", "GBP", "GBP"),
        ("想換港幣", "港幣", "HKD"),
        ("人民币换美金", "人民币", "CNY"),
        ("buy some yen", "yen", "JPY"),
    ],
)
def test_currency(stage: EntitiesStage, text: str, span: str, code: str) -> None:
    found = of_type(stage, text, "currency")
    assert found, extract(stage, text)
    assert (found[0].text, found[0].value) == (span, code)


def test_currency_with_amount_is_money_not_currency(stage: EntitiesStage) -> None:
    types = [e.type for e in extract(stage, "换了100美元")]
    assert types == ["money"]


def test_currency_code_inside_word_is_not_currency(stage: EntitiesStage) -> None:
    assert of_type(stage, "the eurostar and a yentl film", "currency") == []


# --- dates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "start", "end", "grain"),
    [
        ("3月5日的扣款", "3月5日", "2024-03-05T00:00:00", "2024-03-06T00:00:00", "day"),
        ("2024-03-05", "2024-03-05", "2024-03-05T00:00:00", "2024-03-06T00:00:00", "day"),
        ("2023/12/25 那笔", "2023/12/25", "2023-12-25T00:00:00", "2023-12-26T00:00:00", "day"),
        ("5号那笔", "5号", "2024-03-05T00:00:00", "2024-03-06T00:00:00", "day"),
        ("on March 5", "March 5", "2024-03-05T00:00:00", "2024-03-06T00:00:00", "day"),
        ("5/3 charge", "5/3", "2024-05-03T00:00:00", "2024-05-04T00:00:00", "day"),
        ("25/12", "25/12", "2024-12-25T00:00:00", "2024-12-26T00:00:00", "day"),
        ("今天", "今天", "2024-03-13T00:00:00", "2024-03-14T00:00:00", "day"),
        ("昨天晚上", "昨天晚上", "2024-03-12T18:00:00", "2024-03-13T00:00:00", "part_of_day"),
        ("前天", "前天", "2024-03-11T00:00:00", "2024-03-12T00:00:00", "day"),
        ("上周五", "上周五", "2024-03-08T00:00:00", "2024-03-09T00:00:00", "day"),
        ("上个月", "上个月", "2024-02-01T00:00:00", "2024-03-01T00:00:00", "month"),
        ("这个月", "这个月", "2024-03-01T00:00:00", "2024-03-14T00:00:00", "month"),  # up to today
        ("呢個月", "呢個月", "2024-03-01T00:00:00", "2024-03-14T00:00:00", "month"),  # Cantonese "this"
        ("今個月", "今個月", "2024-03-01T00:00:00", "2024-03-14T00:00:00", "month"),
        ("呢個星期", "呢個星期", "2024-03-11T00:00:00", "2024-03-14T00:00:00", "week"),
        ("最近三天", "最近三天", "2024-03-11T00:00:00", "2024-03-14T00:00:00", "day"),
        ("近7天", "近7天", "2024-03-07T00:00:00", "2024-03-14T00:00:00", "day"),
        ("last Friday", "last Friday", "2024-03-08T00:00:00", "2024-03-09T00:00:00", "day"),
        ("yesterday", "yesterday", "2024-03-12T00:00:00", "2024-03-13T00:00:00", "day"),
        ("last month", "last month", "2024-02-01T00:00:00", "2024-03-01T00:00:00", "month"),
        ("3 days ago", "3 days ago", "2024-03-10T00:00:00", "2024-03-11T00:00:00", "day"),
        ("this week", "this week", "2024-03-11T00:00:00", "2024-03-14T00:00:00", "week"),
        ("上周", "上周", "2024-03-04T00:00:00", "2024-03-11T00:00:00", "week"),
        ("去年3月", "去年3月", "2023-03-01T00:00:00", "2023-04-01T00:00:00", "month"),
        ("今年", "今年", "2024-01-01T00:00:00", "2024-03-14T00:00:00", "year"),
        ("今晚", "今晚", "2024-03-13T18:00:00", "2024-03-14T00:00:00", "part_of_day"),
        ("2024年3月5日下午", "2024年3月5日下午", "2024-03-05T12:00:00", "2024-03-05T18:00:00", "part_of_day"),
        ("三月五号", "三月五号", "2024-03-05T00:00:00", "2024-03-06T00:00:00", "day"),
        ("二〇二四年三月五日", "二〇二四年三月五日", "2024-03-05T00:00:00", "2024-03-06T00:00:00", "day"),
        ("十五号", "十五号", "2024-03-15T00:00:00", "2024-03-16T00:00:00", "day"),
        ("这周五晚上", "这周五晚上", "2024-03-15T18:00:00", "2024-03-16T00:00:00", "part_of_day"),
        ("周五", "周五", "2024-03-08T00:00:00", "2024-03-09T00:00:00", "day"),
        ("星期三", "星期三", "2024-03-13T00:00:00", "2024-03-14T00:00:00", "day"),
        ("上上个月", "上上个月", "2024-01-01T00:00:00", "2024-02-01T00:00:00", "month"),
        ("两个月前", "两个月前", "2024-01-01T00:00:00", "2024-02-01T00:00:00", "month"),
        ("3天前", "3天前", "2024-03-10T00:00:00", "2024-03-11T00:00:00", "day"),
        ("上个月5号", "上个月5号", "2024-02-05T00:00:00", "2024-02-06T00:00:00", "day"),
        ("3月份", "3月份", "2024-03-01T00:00:00", "2024-03-14T00:00:00", "month"),
        (
            "the day before yesterday",
            "the day before yesterday",
            "2024-03-11T00:00:00",
            "2024-03-12T00:00:00",
            "day",
        ),
        (
            "yesterday afternoon",
            "yesterday afternoon",
            "2024-03-12T12:00:00",
            "2024-03-12T18:00:00",
            "part_of_day",
        ),
        ("last night", "last night", "2024-03-12T22:00:00", "2024-03-13T06:00:00", "part_of_day"),
        ("this morning", "this morning", "2024-03-13T06:00:00", "2024-03-13T12:00:00", "part_of_day"),
        ("on the 5th", "on the 5th", "2024-03-05T00:00:00", "2024-03-06T00:00:00", "day"),
        ("5th of March", "5th of March", "2024-03-05T00:00:00", "2024-03-06T00:00:00", "day"),
        ("December 25, 2023", "December 25, 2023", "2023-12-25T00:00:00", "2023-12-26T00:00:00", "day"),
        ("in March", "in March", "2024-03-01T00:00:00", "2024-03-14T00:00:00", "month"),
        ("last March", "last March", "2023-03-01T00:00:00", "2023-04-01T00:00:00", "month"),
        ("past 3 days", "past 3 days", "2024-03-11T00:00:00", "2024-03-14T00:00:00", "day"),
        ("2 weeks ago", "2 weeks ago", "2024-02-26T00:00:00", "2024-03-04T00:00:00", "week"),
        ("next Monday", "next Monday", "2024-03-18T00:00:00", "2024-03-19T00:00:00", "day"),
        ("a week ago", "a week ago", "2024-03-04T00:00:00", "2024-03-11T00:00:00", "week"),
        # Traditional script
        ("上個月5號", "上個月5號", "2024-02-05T00:00:00", "2024-02-06T00:00:00", "day"),
        ("上週五", "上週五", "2024-03-08T00:00:00", "2024-03-09T00:00:00", "day"),
        ("這個禮拜", "這個禮拜", "2024-03-11T00:00:00", "2024-03-14T00:00:00", "week"),
        ("最近三個月", "最近三個月", "2023-12-14T00:00:00", "2024-03-14T00:00:00", "month"),
    ],
)
def test_dates(stage: EntitiesStage, text: str, span: str, start: str, end: str, grain: str) -> None:
    e = only(stage, text, "date")
    assert e.text == span
    assert e.value == {"start": start, "end": end, "grain": grain}


@pytest.mark.parametrize(
    "text",
    ["5号线地铁站", "尾号6621", "2月30日", "分3个月", "33/44", "may I ask", "I march on", "第三期"],
)
def test_not_a_date(stage: EntitiesStage, text: str) -> None:
    assert of_type(stage, text, "date") == []


def test_day_first_option() -> None:
    extractor = EntityExtractor(day_first=True)
    (e,) = extractor.extract("5/3", reference_time=REF)
    assert e.value["start"] == "2024-03-05T00:00:00"


def test_dates_default_to_now_when_no_reference_time(stage: EntitiesStage) -> None:
    e = only_no_ref(stage, "今天")
    today = datetime.now().date()
    assert e.value["start"][:10] in {today.isoformat(), (today - timedelta(days=1)).isoformat()}


def only_no_ref(stage: EntitiesStage, text: str) -> Entity:
    (e,) = extract(stage, text, ref=None)
    return e


def test_timezone_aware_reference_uses_its_wall_clock(stage: EntitiesStage) -> None:
    ref = datetime(2024, 3, 13, 23, 30, tzinfo=timezone(timedelta(hours=8)))
    (e,) = extract(stage, "yesterday", ref=ref)
    assert e.value["start"] == "2024-03-12T00:00:00"


# --- cards ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "tail"),
    [
        ("我尾号6621的卡", "尾号6621", "6621"),
        ("末四位 1234", "末四位 1234", "1234"),
        ("my card ending in 4321", "card ending in 4321", "4321"),
        ("card ending 9876", "card ending 9876", "9876"),
        ("卡号后四位是5566", "卡号后四位是5566", "5566"),
        ("尾號8899那張卡", "尾號8899", "8899"),
        ("the last four digits are 2468", "last four digits are 2468", "2468"),
        ("**** **** **** 1357", "**** **** **** 1357", "1357"),
    ],
)
def test_card_tail(stage: EntitiesStage, text: str, span: str, tail: str) -> None:
    e = only(stage, text, "card_tail")
    assert (e.text, e.value) == (span, tail)


@pytest.mark.parametrize(
    ("text", "span", "digits"),
    [
        (f"卡号{VISA}", VISA, VISA),
        ("card 4111 1111 1111 1111 please", "4111 1111 1111 1111", VISA),
        ("4111-1111-1111-1111", "4111-1111-1111-1111", VISA),
        (f"银行卡{UNIONPAY_19}被冻结", UNIONPAY_19, UNIONPAY_19),
        ("6225 8801 3705 9011", "6225 8801 3705 9011", UNIONPAY_16),
        ("６２２５８８０１３７０５９０１１", "６２２５８８０１３７０５９０１１", UNIONPAY_16),
        ("卡号 6225 8801 3705 9011 金额 500", "6225 8801 3705 9011", UNIONPAY_16),
    ],
)
def test_card_number(stage: EntitiesStage, text: str, span: str, digits: str) -> None:
    e = only(stage, text, "card_number")
    assert (e.text, e.value) == (span, digits)
    assert of_type(stage, text, "phone") == []


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # Luhn fails
        "订单号 4111111111111111",  # a cue says order id
        "123456789012",  # too short
        "金额 12345678.90",
        "13812345678",
        "6222 0212 3456 7890",  # Luhn fails
    ],
)
def test_not_card_number(stage: EntitiesStage, text: str) -> None:
    assert of_type(stage, text, "card_number") == []


def test_luhn() -> None:
    assert luhn_ok(VISA)
    assert luhn_ok(UNIONPAY_19)
    assert not luhn_ok("4111111111111112")


# --- id numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        (f"身份证{ID_X}", ID_X, ID_X),
        ("身份证号 11010519491231002x", "11010519491231002x", ID_X),
        (f"my id is {ID_DIGIT}", ID_DIGIT, ID_DIGIT),
        ("440308 19900101 1239", "440308 19900101 1239", ID_DIGIT),
    ],
)
def test_id_number(stage: EntitiesStage, text: str, span: str, value: str) -> None:
    e = only(stage, text, "id_number")
    assert (e.text, e.value) == (span, value)
    assert of_type(stage, text, "card_number") == []


@pytest.mark.parametrize(
    "text",
    [
        "身份证110105194912310021",  # bad checksum
        "440308199001011238",  # bad checksum
        "110105194913310020",  # month 13
        "11010519491231002X1",  # 19 characters
    ],
)
def test_not_id_number(stage: EntitiesStage, text: str) -> None:
    assert of_type(stage, text, "id_number") == []


def test_id_checksum() -> None:
    assert id_checksum_ok(ID_X)
    assert id_checksum_ok(ID_DIGIT)
    assert not id_checksum_ok("110105194912310021")


# --- phones -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        ("手机13812345678", "13812345678", "+8613812345678"),
        ("+86 138-1234-5678", "+86 138-1234-5678", "+8613812345678"),
        ("call me on 8613912345678", "8613912345678", "+8613912345678"),
        ("打 159 1234 5678", "159 1234 5678", "+8615912345678"),
        ("联系电话 9123 4567", "9123 4567", "+85291234567"),
        ("+852 6123 4567", "+852 6123 4567", "+85261234567"),
        ("my mobile is 51234567", "51234567", "+85251234567"),
        ("電話：61234567", "61234567", "+85261234567"),
        ("００８５２９１２３４５６７", "００８５２９１２３４５６７", "+85291234567"),
    ],
)
def test_phone(stage: EntitiesStage, text: str, span: str, value: str) -> None:
    e = only(stage, text, "phone")
    assert (e.text, e.value) == (span, value)


@pytest.mark.parametrize(
    "text",
    ["91234567", "12812345678", "138123456789", "转了61234567", "ending 13812345678999"],
)
def test_not_phone(stage: EntitiesStage, text: str) -> None:
    assert of_type(stage, text, "phone") == []


# --- transaction ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        ("订单号20240305123456789", "20240305123456789", "20240305123456789"),
        ("交易号 TX2024030512345", "TX2024030512345", "TX2024030512345"),
        ("流水号：A1B2C3D4E5", "A1B2C3D4E5", "A1B2C3D4E5"),
        ("reference ABC123456", "ABC123456", "ABC123456"),
        ("txn id: 9f8e7d6c5b", "9f8e7d6c5b", "9F8E7D6C5B"),
        ("transaction id is 7788990011", "7788990011", "7788990011"),
        ("see tx1234567890123 please", "tx1234567890123", "TX1234567890123"),
        ("訂單號 4111111111111111", "4111111111111111", VISA),
        ("order number HK-2024-000123", "HK-2024-000123", "HK-2024-000123"),
    ],
)
def test_transaction_id(stage: EntitiesStage, text: str, span: str, value: str) -> None:
    e = only(stage, text, "transaction_id")
    assert (e.text, e.value) == (span, value)


@pytest.mark.parametrize(
    "text", ["a reference letter please", "订单号是多少", "TX123", "my txn was declined"]
)
def test_not_transaction_id(stage: EntitiesStage, text: str) -> None:
    assert of_type(stage, text, "transaction_id") == []


# --- merchants --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "name"),
    [
        ("美团扣了我两次", "美团", "美团"),
        ("Meituan charged twice", "Meituan", "美团"),
        ("在京东买的", "京东", "京东"),
        ("JD refund", "JD", "京东"),
        ("淘宝退款", "淘宝", "淘宝"),
        ("拼多多", "拼多多", "拼多多"),
        ("星巴克消费", "星巴克", "星巴克"),
        ("starbucks", "starbucks", "星巴克"),
        ("滴滴打车扣费", "滴滴打车", "滴滴"),
        ("携程订机票", "携程", "携程"),
        ("支付宝转账", "支付宝", "支付宝"),
        ("WeChat Pay didn't work", "WeChat Pay", "微信支付"),
        ("Apple charged me", "Apple", "Apple"),
        ("Amazon order", "Amazon", "Amazon"),
        ("麦当劳", "麦当劳", "麦当劳"),
        ("麥當勞", "麥當勞", "麦当劳"),
        ("McDonald's", "McDonald's", "麦当劳"),
        ("KFC", "KFC", "肯德基"),
        ("7-Eleven便利店", "7-Eleven", "7-Eleven"),
        ("中國石化加油", "中國石化", "中国石化"),
        ("12306买火车票", "12306", "12306"),
        ("盒马鲜生", "盒马鲜生", "盒马"),
        ("饿了么", "饿了么", "饿了么"),
        ("抖音充值", "抖音", "抖音"),
        ("NETFLIX subscription", "NETFLIX", "Netflix"),
    ],
)
def test_merchant(stage: EntitiesStage, text: str, span: str, name: str) -> None:
    e = only(stage, text, "merchant")
    assert (e.text, e.value) == (span, name)


@pytest.mark.parametrize("text", ["install the jdk", "kfcc", "my apple pie recipe is 123306"])
def test_merchant_alias_inside_a_word_is_not_a_merchant(stage: EntitiesStage, text: str) -> None:
    assert [e for e in of_type(stage, text, "merchant") if e.text.lower() in ("jd", "kfc", "12306")] == []


def test_custom_merchant_gazetteer(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "m.yaml"  # type: ignore[operator]
    path.write_text("merchants:\n  - name: 茶餐厅\n    aliases: [Cha Chaan Teng, 茶記]\n", encoding="utf-8")
    stage = build_stage("entities", merchants_path=path)
    stage.warm_up()
    turn = stage.run(Turn(text="在茶記和cha chaan teng各付了50元", reference_time=REF))
    merchants = [(e.text, e.value) for e in turn.entities if e.type == "merchant"]
    assert merchants == [("茶記", "茶餐厅"), ("cha chaan teng", "茶餐厅")]


def test_bad_gazetteer_fails_with_a_clear_error(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "bad.yaml"  # type: ignore[operator]
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="merchants"):
        MerchantGazetteer.from_yaml(path)
    with pytest.raises(ConfigurationError, match="cannot read"):
        MerchantGazetteer.from_yaml(path.parent / "missing.yaml")


# --- installment periods ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "n"),
    [
        ("分12期", "分12期", 12),
        ("我想分24期还", "分24期", 24),
        ("办了36期分期", "36期", 36),
        ("分成六期", "分成六期", 6),
        ("分十二期", "分十二期", 12),
        ("账单分期分3个月", "分3个月", 3),
        ("can I split it into 6 installments", "6 installments", 6),
        ("pay in installments over 12 months", "12 months", 12),
        ("12-month installment plan", "12-month", 12),
        ("想分12期 installment", "分12期", 12),
    ],
)
def test_period(stage: EntitiesStage, text: str, span: str, n: int) -> None:
    e = only(stage, text, "period")
    assert (e.text, e.value) == (span, n)


@pytest.mark.parametrize(
    "text", ["第3期还款", "12 months ago", "I have been a customer for 12 months", "逾期了", "这期间", "期货"]
)
def test_not_period(stage: EntitiesStage, text: str) -> None:
    assert of_type(stage, text, "period") == []


# --- whole messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "我尾号6621的卡昨天晚上在美团被扣了三千五",
            [("card_tail", "尾号6621"), ("date", "昨天晚上"), ("merchant", "美团"), ("money", "三千五")],
        ),
        (
            "我尾號6621的卡昨天晚上在美團被扣了三千五",
            [("card_tail", "尾號6621"), ("date", "昨天晚上"), ("merchant", "美團"), ("money", "三千五")],
        ),
        (
            "My card ending in 4321 was charged $45.99 by Netflix yesterday",
            [("card_tail", "card ending in 4321"), ("money", "$45.99"), ("merchant", "Netflix"),
             ("date", "yesterday")],
        ),
        (
            "上个月在Amazon spent USD 45.99, 想分12期",
            [("date", "上个月"), ("merchant", "Amazon"), ("money", "USD 45.99"), ("period", "分12期")],
        ),
        (
            f"卡号{VISA}，手机13812345678，身份证{ID_X}",
            [("card_number", VISA), ("phone", "13812345678"), ("id_number", ID_X)],
        ),
        (
            "流水号TX2024030512345，3月5日在星巴克扣了88元",
            [("transaction_id", "TX2024030512345"), ("date", "3月5日"), ("merchant", "星巴克"),
             ("money", "88元")],
        ),
        ("你好，我想问一下信用卡怎么还款", []),
    ],
)  # fmt: skip
def test_whole_messages(stage: EntitiesStage, text: str, expected: list[tuple[str, str]]) -> None:
    assert [(e.type, e.text) for e in extract(stage, text)] == expected


def test_offsets_index_the_original_text_with_full_width_and_traditional(stage: EntitiesStage) -> None:
    text = "ＨＫ＄３００在麥當勞，尾號６６２１"
    entities = extract(stage, text)
    assert [(e.type, e.text) for e in entities] == [
        ("money", "ＨＫ＄３００"),
        ("merchant", "麥當勞"),
        ("card_tail", "尾號６６２１"),
    ]
    assert entities[2].value == "6621"


def test_length_changing_lowercase_does_not_shift_offsets(stage: EntitiesStage) -> None:
    text = "İstanbul 2024-03-05 ¥88"
    entities = extract(stage, text)
    assert [e.type for e in entities] == ["date", "money"]


def test_types_option_restricts_extraction() -> None:
    extractor = EntityExtractor(types=["money"])
    assert [e.type for e in extractor.extract("昨天在美团扣了88元", reference_time=REF)] == ["money"]
    with pytest.raises(ValueError, match="unknown entity types"):
        EntityExtractor(types=["colour"])


def test_stage_is_registered_and_runs_in_a_pipeline() -> None:
    assert registered_stages()["entities"] is EntitiesStage
    pipeline = NLUPipeline.from_config(["normalise", "language", "entities"])
    turn = pipeline.parse("上週五在星巴克被扣了￥35", reference_time=REF)
    assert [(e.type, e.value) for e in turn.entities] == [
        ("date", {"start": "2024-03-08T00:00:00", "end": "2024-03-09T00:00:00", "grain": "day"}),
        ("merchant", "星巴克"),
        ("money", {"amount": "35.00", "currency": "CNY"}),
    ]


def test_stage_runs_without_the_normalise_stage(stage: EntitiesStage) -> None:
    turn = stage.run(Turn(text="轉了兩千塊", reference_time=REF))
    assert [(e.type, e.text) for e in turn.entities] == [("money", "兩千塊")]


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("23977.28", "23977.28"),
        ("两次都是1723.51，麻烦帮我退一笔", "1723.51"),
        ("FamilyMart charged me twice, 44.07.", "44.07"),
        ("1,280.50 that one", "1280.50"),
    ],
)
def test_an_amount_with_two_decimals_and_no_unit_is_money(text, amount):
    from helixdesk.nlu.entities.money import find_money
    from helixdesk.nlu.text import normalise

    found = [c.value for c in find_money(normalise(text).lower()) if c.type == "money"]
    assert {"amount": amount, "currency": "CNY"} in found


@pytest.mark.parametrize("text", ["利率3.15", "汇率是7.25吗", "v1.25版本", "it was 2.50% fee", "1.23.4"])
def test_rates_versions_and_percentages_with_two_decimals_are_not_money(text):
    from helixdesk.nlu.entities.money import find_money
    from helixdesk.nlu.text import normalise

    assert [c for c in find_money(normalise(text).lower()) if c.type == "money"] == []
