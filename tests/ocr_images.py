"""Screenshots drawn for the tests with Pillow (nothing is stored in the repository)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from helixdesk.bank.connector import Transaction

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
BANK_TZ = ZoneInfo("Asia/Shanghai")  # the pack's bank time zone (policies/bank.yaml)


def draw_lines(lines: Sequence[str], *, fmt: str = "PNG", size: int = 26) -> bytes:
    font = ImageFont.truetype(CJK_FONT, size)
    width = 40 + max(int(font.getlength(line)) for line in lines)
    img = Image.new("RGB", (max(width, 320), 40 + len(lines) * (size + 24)), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((20, 20 + i * (size + 24)), line, font=font, fill=(20, 20, 20))
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


def charge_lines(txn: Transaction, language: str = "zh-Hans") -> list[str]:
    local = txn.occurred_at.astimezone(BANK_TZ)
    amount = f"{-txn.amount:,.2f}"
    if language == "en":
        return [
            "Transaction details",
            f"Merchant: {txn.merchant}",
            f"Amount: -{txn.currency} {amount}",
            f"Date: {local:%Y-%m-%d %H:%M}",
            f"Card: **** {txn.card_last4}",
        ]
    return [
        "交易详情",
        f"商户：{txn.merchant}",
        f"金额：-¥{amount}",
        f"交易时间：{local:%Y-%m-%d %H:%M}",
        f"卡号尾号：{txn.card_last4}",
    ]
