"""Per-message latency of the `entities` and `risk` stages over 2,000 varied messages.

Run: .venv/bin/python bench/nlu_entities_risk_bench.py [--n 2000]
Prints the median and p95 per message for each stage (normalisation is timed separately).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime

from helixdesk.core.turn import Turn
from helixdesk.nlu.stages.entities import EntitiesStage
from helixdesk.nlu.stages.risk import RiskStage
from helixdesk.nlu.text import normalise

PARTS = {
    "zh": [
        "我尾号{tail}的卡{date}在{merchant}被扣了{money}",
        "{date}{merchant}扣了我{money}，不是我本人消费的，请马上处理",
        "我想把{money}的账单分{n}期",
        "我的手机号是{phone}，卡号{card}",
        "订单号{ref}，{date}付款{money}没到账",
        "你好，我想查一下信用卡额度",
        "我失业了，这个月还不上，能不能分{n}期",
        "有人冒充客服让我把验证码给了他，我是不是被骗了",
        "这是我第三次打电话了，再不解决我就投诉到银保监",
        "我没有被骗，只是想问一下{merchant}的退款",
        "美元汇率是多少",
        "身份证{id}，帮我查一下",
    ],
    "zh-Hant": [
        "我尾號{tail}的卡{date}在{merchant}被扣了{money}",
        "請馬上凍結我的卡，我被騙了",
        "上個月{merchant}扣了{money}",
    ],
    "en": [
        "My card ending in {tail} was charged {money_en} by {merchant_en} {date_en}",
        "I didn't make these charges, someone used my card",
        "Can I split {money_en} into {n} installments?",
        "My mobile is +852 6123 4567, please call me asap",
        "Transaction id {ref}, I was charged twice {date_en}",
        "What's the GBP rate today?",
        "I lost my job and can't afford the repayments",
        "I've called three times, I'll go to the regulator",
        "How do I reset my online banking password?",
    ],
    "mixed": [
        "我的card {date_en}在{merchant_en}被扣了{money}，please help",
        "上个月在Amazon spent {money_en}, 想分{n}期",
    ],
}
FILL = {
    "tail": ["6621", "1234", "4321", "9876"],
    "date": ["昨天晚上", "上周五", "3月5日", "5号", "上个月", "最近三天", "前天", "2024-03-05"],
    "date_en": ["yesterday", "last Friday", "on March 5", "3 days ago", "last month", "this week"],
    "merchant": ["美团", "京东", "淘宝", "拼多多", "星巴克", "滴滴", "携程", "麦当劳", "12306"],
    "merchant_en": ["Meituan", "Amazon", "Netflix", "Starbucks", "Apple", "KFC", "7-Eleven"],
    "money": ["三千五", "1.2万", "两千块", "五百元", "¥88", "￥1,299.00", "一百零五块五", "45.99美元"],
    "money_en": ["$20", "USD 45.99", "HK$300", "500 bucks", "2k", "£9.99"],
    "n": ["3", "6", "12", "24"],
    "phone": ["13812345678", "+86 139-1234-5678"],
    "card": ["4111 1111 1111 1111", "6222021234567890128"],
    "ref": ["TX2024030512345", "20240305123456789", "A1B2C3D4E5"],
    "id": ["11010519491231002X", "440308199001011239"],
}


def messages(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    templates = [t for group in PARTS.values() for t in group]
    out = []
    for _ in range(n):
        template = rng.choice(templates)
        out.append(template.format(**{k: rng.choice(v) for k, v in FILL.items()}))
    return out


def time_stage(run: object, turns: list[Turn]) -> list[float]:
    samples = []
    for turn in turns:
        t0 = time.perf_counter()
        run(turn)  # type: ignore[operator]
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95)]
    print(f"{name:<12} median {statistics.median(samples):.3f} ms   p95 {p95:.3f} ms   n={len(samples)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    texts = messages(args.n)
    ref = datetime(2024, 3, 13, 15, 30)
    entities, risk = EntitiesStage(), RiskStage()
    entities.warm_up()
    risk.warm_up()
    norm_samples = []
    turns = []
    for text in texts:
        t0 = time.perf_counter()
        normalized = normalise(text)
        norm_samples.append((time.perf_counter() - t0) * 1000)
        turns.append(Turn(text=text, normalized=normalized, reference_time=ref))
    time_stage(entities.run, turns[:200])  # warm caches
    report("normalise", norm_samples)
    report("entities", time_stage(entities.run, turns))
    report("risk", time_stage(risk.run, turns))
    found = sum(len(entities.run(t).entities) for t in turns)
    print(f"entities found: {found} over {len(turns)} messages")


if __name__ == "__main__":
    main()
