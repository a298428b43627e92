"""Bank-vocabulary concept groups for BM25: words that mean the same thing share one extra token.

A token (after jieba / lower-casing / stemming) that belongs to a group also emits `@group`, both
when indexing and when querying, so 泰国刷不了 meets 境外被拒 and "wire" meets "international
transfer". Keep groups small and unambiguous; add a group when a paraphrase keeps missing.
"""

from __future__ import annotations

from functools import lru_cache

GROUPS: dict[str, tuple[str, ...]] = {
    "abroad": (
        "境外",
        "海外",
        "国外",
        "出国",
        "外国",
        "abroad",
        "overseas",
        "foreign",
        "international",
        "泰国",
        "日本",
        "美国",
        "英国",
        "韩国",
        "欧洲",
        "新加坡",
        "澳洲",
        "加拿大",
        "旅行",
        "旅游",
        "travel",
        "trip",
    ),
    "remit": ("汇款", "电汇", "汇钱", "汇到", "remit", "remitt", "remittance", "wire", "swift", "跨境"),
    "decline": (
        "拒",
        "被拒",
        "拒绝",
        "刷不了",
        "刷不出",
        "失败",
        "不成功",
        "declin",
        "refus",
        "reject",
        "fail",
    ),
    "twice": ("两次", "重复", "二次", "twice", "duplicat", "double"),
    "lost": (
        "丢",
        "丢了",
        "丢失",
        "遗失",
        "不见",
        "找不到",
        "被偷",
        "被盗",
        "lost",
        "lose",
        "stolen",
        "missing",
    ),
    "pin": ("密码", "pin", "password", "passcode"),
    "otp": ("验证码", "短信码", "动态码", "otp", "code"),
    "app": ("app", "手机银行", "网银", "网上银行", "应用"),
    "fee": ("手续费", "费用", "收费", "fee", "charg", "cost"),
    "rate": ("利率", "利息", "年化", "rate", "interest", "apr"),
    "mortgage": ("房贷", "按揭", "mortgag"),
    "installment": ("分期", "installment", "instalment"),
    "refund": ("退款", "退钱", "退回", "refund"),
    "complaint": ("投诉", "complain", "complaint"),
    "branch": ("网点", "分行", "支行", "柜台", "branch", "counter"),
    "limit": ("限额", "额度", "上限", "limit"),
}


@lru_cache(maxsize=1)
def concept_map() -> dict[str, str]:
    out: dict[str, str] = {}
    for group, words in GROUPS.items():
        for word in words:
            out.setdefault(word, "@" + group)
    return out
