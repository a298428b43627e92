"""What the WeChat channel itself says (the bot's answers come from the pack's templates)."""

from __future__ import annotations

import re

_TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "zh-Hans": "欢迎关注！我是银行智能客服，可以帮您查询账户、信用卡、转账等业务。"
        "发送“绑定”可绑定您的银行客户身份。",
        "zh-Hant": "歡迎關注！我是銀行智能客服，可以幫您查詢帳戶、信用卡、轉帳等業務。"
        "發送「綁定」可綁定您的銀行客戶身份。",
        "en": "Welcome! I am the bank's assistant: accounts, cards, transfers and more. "
        "Send “bind” to link your bank customer number.",
    },
    "image": {
        "zh-Hans": "已收到您的图片。请用文字简单描述您的问题，以便我们更快为您处理。",
        "zh-Hant": "已收到您的圖片。請用文字簡單描述您的問題，以便我們更快為您處理。",
        "en": "We received your picture. Please describe your question in a few words so we can help faster.",
    },
    "voice": {
        "zh-Hans": "已收到您的语音。请用文字简单描述您的问题，以便我们更快为您处理。",
        "zh-Hant": "已收到您的語音。請用文字簡單描述您的問題，以便我們更快為您處理。",
        "en": "We received your voice message. Please type your question so we can help faster.",
    },
    "bind_ask_ref": {
        "zh-Hans": "请输入您在本行预留的手机号码或客户号（例如 C000001）。发送“取消”可退出绑定。",
        "zh-Hant": "請輸入您在本行預留的手機號碼或客戶號（例如 C000001）。發送「取消」可退出綁定。",
        "en": "Please send the phone number the bank has for you, or your customer number (e.g. C000001). "
        "Send “cancel” to stop.",
    },
    "bind_code_sent": {
        "zh-Hans": "如果该号码在本行有记录，验证码已发送到预留的手机。请输入验证码。",
        "zh-Hant": "如果該號碼在本行有記錄，驗證碼已發送到預留的手機。請輸入驗證碼。",
        "en": "If that number is ours, a code was sent to the phone on file. Please type the code.",
    },
    "bind_bad_ref": {
        "zh-Hans": "这不像手机号码或客户号（例如 C000001），请重新输入，或发送“取消”。",
        "zh-Hant": "這不像手機號碼或客戶號（例如 C000001），請重新輸入，或發送「取消」。",
        "en": "That looks like neither a phone number nor a customer number (e.g. C000001). "
        "Try again or send “cancel”.",
    },
    "bind_ask_code": {
        "zh-Hans": "请输入短信中的验证码，或发送“取消”。",
        "zh-Hant": "請輸入簡訊中的驗證碼，或發送「取消」。",
        "en": "Please type the code from the text message, or send “cancel”.",
    },
    "bind_wrong_code": {
        "zh-Hans": "验证码不正确，还可以再试 {left} 次。",
        "zh-Hant": "驗證碼不正確，還可以再試 {left} 次。",
        "en": "That code is not right; {left} tries left.",
    },
    "bind_failed": {
        "zh-Hans": "绑定未完成（验证码已失效或尝试次数过多）。如需绑定，请稍后再发送“绑定”。",
        "zh-Hant": "綁定未完成（驗證碼已失效或嘗試次數過多）。如需綁定，請稍後再發送「綁定」。",
        "en": "Binding did not complete (the code expired or too many tries). Send “bind” later to try again.",
    },
    "bind_done": {
        "zh-Hans": "绑定成功！现在可以直接查询您的账户和卡片。",
        "zh-Hant": "綁定成功！現在可以直接查詢您的帳戶和卡片。",
        "en": "You are linked! You can now ask about your accounts and cards here.",
    },
    "bind_already": {
        "zh-Hans": "您的微信已绑定银行客户身份。",
        "zh-Hant": "您的微信已綁定銀行客戶身份。",
        "en": "This WeChat is already linked to your bank customer number.",
    },
    "unbind_done": {
        "zh-Hans": "已解除绑定。如需再次绑定，请发送“绑定”。",
        "zh-Hant": "已解除綁定。如需再次綁定，請發送「綁定」。",
        "en": "This WeChat is no longer linked to your customer number. Send “bind” to link it again.",
    },
    "unbind_none": {
        "zh-Hans": "您的微信尚未绑定银行客户身份。",
        "zh-Hant": "您的微信尚未綁定銀行客戶身份。",
        "en": "This WeChat is not linked to a customer number.",
    },
    "bind_cancelled": {
        "zh-Hans": "已取消绑定。",
        "zh-Hant": "已取消綁定。",
        "en": "Binding cancelled.",
    },
    "too_long": {
        "zh-Hans": "消息太长了，请分几条发送。",
        "zh-Hant": "訊息太長了，請分幾條發送。",
        "en": "That message is too long; please send it in parts.",
    },
}

BIND_WORDS = frozenset({"绑定", "綁定", "bind", "link", "绑定账户", "綁定帳戶", "绑定客户", "綁定客戶"})
UNBIND_WORDS = frozenset({"解绑", "解綁", "unbind", "解除绑定", "解除綁定"})
CANCEL_WORDS = frozenset({"取消", "cancel", "stop", "退出"})
BIND_MENU_KEY = "HELIXDESK_BIND"

_TRAD = re.compile(r"[綁帳戶驗證碼機訊歡們]")
_CJK = re.compile(r"[\u3400-\u9fff]")


def language_of(text: str, default: str = "zh-Hans") -> str:
    """A rough language of a short message: Chinese script (traditional when it shows), else English."""
    if _CJK.search(text):
        return "zh-Hant" if _TRAD.search(text) else "zh-Hans"
    if re.search(r"[A-Za-z]", text):
        return "en"
    return default


def say(key: str, language: str | None, **values: object) -> str:
    texts = _TEXTS[key]
    return texts.get(language or "zh-Hans", texts["zh-Hans"]).format(**values)


def command(text: str) -> str:
    return text.strip().strip("。.!！").lower()
