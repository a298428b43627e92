"""An image without words: the bot says what it read and asks what the customer needs.

An image of a charge is understood as a doubted charge before the dialogue (its fields are the
turn's entities and the conversation service sets the intent), so only the other images (an error
screen, a bill, anything else) sent without a caption come here. With a caption the caption's
intent leads, and the image's fields fill its slots.
"""

from __future__ import annotations

from helixdesk.dialogue.flows.base import Deciding

# Field names as the reply shows them.
LABELS: dict[str, dict[str, str]] = {
    "zh-Hans": {
        "merchant": "商户",
        "amount": "金额",
        "date": "日期",
        "time": "时间",
        "card_tail": "卡号尾号",
        "transaction_id": "交易编号",
        "error_code": "错误代码",
    },
    "zh-Hant": {
        "merchant": "商戶",
        "amount": "金額",
        "date": "日期",
        "time": "時間",
        "card_tail": "卡號尾號",
        "transaction_id": "交易編號",
        "error_code": "錯誤代碼",
    },
    "en": {
        "merchant": "merchant",
        "amount": "amount",
        "date": "date",
        "time": "time",
        "card_tail": "card ending",
        "transaction_id": "transaction ID",
        "error_code": "error code",
    },
}
SHOWN_LINES = 3
SHOWN_CHARS = 120


def on_image(d: Deciding) -> bool:
    """Answer an image sent without a caption that is not a charge; False: the usual flow answers."""
    image = d.turn.attachment
    if image is None or d.turn.text.strip() or image.kind == "charge":
        return False
    labels = LABELS.get(d.language, LABELS["en"])
    sep = "; " if d.language == "en" else "；"
    colon = ": " if d.language == "en" else "："
    if image.read:
        read = sep.join(f"{labels.get(k, k)}{colon}{v}" for k, v in image.read)
    else:
        lines = [line for line in image.text.splitlines() if line.strip()][:SHOWN_LINES]
        read = sep.join(lines)[:SHOWN_CHARS]
    if not read:
        d.say("image.unread", kind="prompt")
    elif image.kind == "error":
        d.say("image.read_error", kind="prompt", read=read)
    else:
        d.say("image.read", kind="prompt", read=read)
    return True
