"""OCR of customers' images: field-level accuracy and time per image, on images drawn at run time.

Draws `--per-cell` images for each language (zh-Hans, zh-Hant, English), kind (a card-charge
screenshot with its label and value apart on the row, a card-terminal receipt, a credit-card bill,
an app error screen) and degradation (clean; rotated 2-4 degrees; blurred; JPEG quality 30-50; dark
mode; low contrast) with Pillow and the machine's fonts (WenQuanYi Micro Hei, DejaVu), each with
its own random values (merchant, amount, currency, date and time, card tail, transaction id or
error code). Each image goes through what the server runs (`OcrReader.read`: RapidOCR, rows,
`fields.extract`) and every field drawn is compared with the field read.

A field counts as exact when the strings are equal; a merchant's name is compared without its
spaces (OCR drops spaces inside a line, and the transaction lookup compares names without them);
the strict figure (spaces too) is printed beside it. Printed: the fields exact overall, per
degradation, per language, per kind and per field, and the median and p90 seconds per image.
Nothing is written to disk.

    .venv/bin/python bench/ocr_bench.py [--per-cell 1] [--seed 7] [--threads 1] [--show-misses]
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helixdesk.ocr.reader import OcrReader, check_image  # noqa: E402

CJK = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LATIN = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LATIN_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
KINDS = ("charge", "receipt", "bill", "error")
DEGRADATIONS = ("clean", "rotated", "blurred", "jpeg", "dark", "low_contrast")

MERCHANTS = {
    "zh-Hans": ["星巴克咖啡", "美团外卖", "盒马鲜生", "滴滴出行", "京东商城", "肯德基", "中国石化加油站"],
    "zh-Hant": ["大家樂", "美心西餅", "百佳超級市場", "香港電訊", "八達通增值", "吉野家", "屈臣氏"],
    "en": ["AMAZON MARKETPLACE", "UBER TRIP", "TESCO STORES", "APPLE.COM BILL", "SHELL PETROL", "NETFLIX"],
}
CURRENCIES = {
    "zh-Hans": [("¥", "CNY"), ("RMB ", "CNY"), ("CNY ", "CNY")],
    "zh-Hant": [("HK$", "HKD"), ("HKD ", "HKD")],
    "en": [("USD ", "USD"), ("$", "USD"), ("HK$", "HKD")],
}
ERROR_CODES = ["E1023", "NET-502", "AUTH-401", "E2048", "PAY-1007", "SYS-300"]

LABELS = {
    "zh-Hans": {
        "title": "交易详情",
        "merchant": "商户",
        "amount": "金额",
        "time": "交易时间",
        "card": "卡号",
        "id": "交易编号",
        "receipt": "签购单",
        "ref": "参考号",
        "bill": "信用卡账单",
        "due": "本期应还金额",
        "due_date": "到期还款日",
        "tail": "卡号尾号",
        "error_title": "交易失败",
        "error": "错误代码",
        "retry": "请稍后重试或联系客服",
        "status": "交易成功",
    },
    "zh-Hant": {
        "title": "交易詳情",
        "merchant": "商戶",
        "amount": "金額",
        "time": "交易時間",
        "card": "卡號",
        "id": "交易編號",
        "receipt": "簽購單",
        "ref": "參考號",
        "bill": "信用卡月結單",
        "due": "本期應還金額",
        "due_date": "到期還款日",
        "tail": "卡號尾號",
        "error_title": "交易失敗",
        "error": "錯誤代碼",
        "retry": "請稍後重試或聯絡客服",
        "status": "交易成功",
    },
    "en": {
        "title": "Transaction details",
        "merchant": "Merchant",
        "amount": "Amount",
        "time": "Date",
        "card": "Card",
        "id": "Transaction ID",
        "receipt": "SALES SLIP",
        "ref": "Reference No",
        "bill": "Credit card statement",
        "due": "Amount due",
        "due_date": "Payment due",
        "tail": "Card ending",
        "error_title": "Payment failed",
        "error": "Error code",
        "retry": "Please try again later",
        "status": "Completed",
    },
}


@dataclass(frozen=True)
class Sample:
    language: str
    kind: str
    degradation: str
    image: bytes
    truth: dict[str, str]


def _content(rng: random.Random, language: str, kind: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Rows of (left, right) text and the fields they show."""
    lab = LABELS[language]
    sep = ": " if language == "en" else "："
    merchant = rng.choice(MERCHANTS[language])
    symbol, currency = rng.choice(CURRENCIES[language])
    amount = f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}"
    shown = f"{int(amount.split('.')[0]):,}.{amount.split('.')[1]}"
    day = date(2026, 1, 1) + timedelta(days=rng.randint(0, 330))
    clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    tail = f"{rng.randint(0, 9999):04d}"
    if kind == "charge":
        txn = f"TX{day:%Y%m%d}{rng.randint(0, 999999):06d}"
        rows = [
            (lab["title"], ""),
            (f"-{symbol}{shown}", ""),
            (lab["status"], ""),
            (lab["merchant"], merchant),
            (lab["time"], f"{day:%Y-%m-%d} {clock}"),
            (lab["card"], f"**** {tail}"),
            (lab["id"], txn),
        ]
        truth = {
            "merchant": merchant,
            "amount": amount,
            "currency": currency,
            "date": day.isoformat(),
            "time": clock,
            "card_tail": tail,
            "transaction_id": txn,
        }
        return rows, truth
    if kind == "receipt":
        ref = f"{rng.randint(10**11, 10**12 - 1)}"
        when = f"{day:%Y/%m/%d} {clock}:{rng.randint(0, 59):02d}"
        rows = [
            (lab["receipt"], ""),
            (f"{lab['merchant']}{sep}{merchant}", ""),
            (f"{lab['card']}{sep}6222 **** **** {tail}", ""),
            (f"{lab['time']}{sep}{when}", ""),
            (f"{lab['ref']}{sep}{ref}", ""),
            (f"{lab['amount']}{sep}{symbol}{shown}", ""),
        ]
        truth = {
            "merchant": merchant,
            "amount": amount,
            "currency": currency,
            "date": day.isoformat(),
            "time": clock,
            "card_tail": tail,
            "transaction_id": ref,
        }
        return rows, truth
    if kind == "bill":
        due = day.strftime("%d %b %Y") if language == "en" else f"{day:%Y-%m-%d}"
        rows = [
            (lab["bill"], ""),
            (f"{lab['tail']} {tail}", ""),
            (f"{lab['due']}{sep}{symbol}{shown}", ""),
            (f"{lab['due_date']}{sep}{due}", ""),
        ]
        truth = {"amount": amount, "currency": currency, "date": day.isoformat(), "card_tail": tail}
        return rows, truth
    code = rng.choice(ERROR_CODES)
    rows = [(lab["error_title"], ""), (f"{lab['error']}{sep}{code}", ""), (lab["retry"], "")]
    return rows, {"error_code": code}


def _draw(rows: list[tuple[str, str]], language: str, rng: random.Random) -> Image.Image:
    size = rng.choice([24, 26, 28])
    regular = ImageFont.truetype(CJK if language != "en" or rng.random() < 0.3 else LATIN, size)
    bold = ImageFont.truetype(CJK if language != "en" else LATIN_BOLD, size + 6)
    width = 620
    height = 40 + len(rows) * (size + 26)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    for i, (left, right) in enumerate(rows):
        y = 20 + i * (size + 26)
        font = bold if i < 2 and not right else regular
        draw.text((24, y), left, font=font, fill=(25, 25, 25))
        if right:
            w = draw.textlength(right, font=regular)
            draw.text((width - 24 - w, y), right, font=regular, fill=(25, 25, 25))
    return img


def _degrade(img: Image.Image, how: str, rng: random.Random) -> bytes:
    fmt, quality = "PNG", None
    if how == "rotated":
        img = img.rotate(
            rng.choice([-1, 1]) * rng.uniform(2, 4), expand=True, fillcolor="white", resample=Image.BICUBIC
        )
    elif how == "blurred":
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 1.2)))
    elif how == "jpeg":
        fmt, quality = "JPEG", rng.randint(30, 50)
    elif how == "dark":
        img = ImageOps.invert(img).point(lambda v: min(255, v + 18))  # light text on a dark grey
    elif how == "low_contrast":
        img = img.point(lambda v: 150 + int(v * 0.3))  # grey text on a light grey ground
    out = io.BytesIO()
    if quality is not None:
        img.save(out, format=fmt, quality=quality)
    else:
        img.save(out, format=fmt)
    return out.getvalue()


def samples(per_cell: int, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    out = []
    for language in LANGUAGES:
        for kind in KINDS:
            for degradation in DEGRADATIONS:
                for _ in range(per_cell):
                    rows, truth = _content(rng, language, kind)
                    image = _degrade(_draw(rows, language, rng), degradation, rng)
                    out.append(Sample(language, kind, degradation, image, truth))
    return out


def _same(field: str, got: str | None, want: str, *, strict: bool) -> bool:
    if got is None:
        return False
    if field == "merchant" and not strict:
        return "".join(got.split()).casefold() == "".join(want.split()).casefold()
    return got == want


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-cell", type=int, default=1, help="images per language, kind and degradation")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--threads", type=int, default=1, help="ONNX Runtime threads (the server's ocr_threads)"
    )
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)

    drawn = samples(args.per_cell, args.seed)
    reader = OcrReader(threads=args.threads)
    reader.warm_up()
    tally: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    seconds = []
    misses = []
    for sample in drawn:
        reading = reader.read(check_image(sample.image, max_bytes=10**8, max_pixels=10**8))
        seconds.append(reading.seconds)
        got = reading.fields.found()
        for field, want in sample.truth.items():
            ok = _same(field, got.get(field), want, strict=False)
            strict = _same(field, got.get(field), want, strict=True)
            for group, key in (
                ("overall", "all"),
                ("degradation", sample.degradation),
                ("language", sample.language),
                ("kind", sample.kind),
                ("field", field),
            ):
                cell = tally[group][key]
                cell[0] += ok
                cell[1] += strict
                cell[2] += 1
            if not ok:
                misses.append((sample.language, sample.kind, sample.degradation, field, want, got.get(field)))

    def show(group: str, keys: tuple[str, ...] | list[str]) -> None:
        print(f"\n{group}:")
        for key in keys:
            ok, strict, n = tally[group][key]
            print(f"  {key:<14} {ok / n:7.1%} exact   ({ok}/{n}; strict {strict / n:.1%})")

    n_fields = tally["overall"]["all"][2]
    print(f"{len(drawn)} images, {n_fields} fields; RapidOCR threads={args.threads}")
    show("overall", ["all"])
    show("degradation", DEGRADATIONS)
    show("language", LANGUAGES)
    show("kind", KINDS)
    show("field", sorted(tally["field"]))
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    print(
        f"\nseconds per image: median {statistics.median(seconds):.2f}, p90 {p90:.2f}, max {ordered[-1]:.2f}"
    )
    if args.show_misses:
        print("\nmisses (language, kind, degradation, field, drawn, read):")
        for miss in misses:
            print("  ", miss)


if __name__ == "__main__":
    main()
