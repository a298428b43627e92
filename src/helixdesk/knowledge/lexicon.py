"""Bank-vocabulary concept groups for BM25: words that mean the same thing share one extra token.

An English token (lower-cased and stemmed) that belongs to a group, or a Chinese word of a group
found anywhere in the (Simplified) text, also emits `@group`, both when indexing and when querying,
so 泰国刷不了 meets 境外被拒, 碌卡 meets 刷卡 and "wire" meets "international transfer". Keep
groups small and unambiguous; add a group when a paraphrase keeps missing.
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
    # Hong Kong / Cantonese wording next to the mainland one (matched after Simplified conversion).
    "swipe": ("刷卡", "碌卡", "签账", "swipe"),
    "balance": ("余额", "结余", "balance"),
    "statement": ("流水", "对账单", "月结单", "结单", "statement"),
    "activate": ("激活", "开卡", "启用", "启动卡", "activat"),
    "freeze": ("冻结", "挂失", "止付", "锁卡", "freez", "block"),
    "unfreeze": ("解冻", "解除冻结", "解锁卡", "unfreez", "unblock"),
    "close": ("注销", "销户", "销卡", "cancel"),
    "progress": ("进度", "审批", "批了", "批下来", "批咗", "status", "progress", "approv"),
    "atm": ("atm", "柜员机", "取款机", "提款机"),
    "debit_card": ("借记卡", "储蓄卡", "提款卡", "扣账卡", "debit"),
    "transfer": ("转账", "过数", "转钱", "transfer"),
    "mobile_number": ("手机号", "电话号码", "预留手机", "号码"),
    "email": ("邮箱", "电邮", "email"),
    "time_deposit": ("定期", "定存"),
    "loan": ("贷款", "借钱", "借款", "loan", "borrow"),
    "fund": ("基金", "fund"),
    "invest": ("理财", "投资", "invest", "investment"),
    "redeem": ("赎回", "redeem", "redemption"),
    "scam": ("被骗", "诈骗", "骗子", "呃钱", "scam", "scammer", "fraudster", "trick"),
    "impersonation": ("冒充", "钓鱼", "自称", "扮", "pretend", "impersonat", "phish", "claim"),
    "hacked": ("盗号", "陌生设备", "被登录", "hack", "compromis"),
    "unauthorised": ("盗刷", "盗用", "unauthoris", "unauthoriz", "fraudulent"),
    "overdue": ("逾期", "晚还", "迟还", "迟咗", "overdu", "late"),
    "minimum": ("最低", "minimum"),
    "autopay": ("自动还款", "自动扣款", "自动扣", "自动转账", "autopay", "automatic", "automatically"),
    "annual": ("年费", "annual", "yearly"),
    "waive": ("减免", "免年费", "豁免", "waiv"),
    "temporary": ("临时", "短期", "temporary", "temporarily"),
    "increase": ("提额", "提高", "调高", "加额", "increas", "rais", "higher"),
    "exchange": ("汇率", "外汇", "外币", "换汇", "购汇", "结汇", "exchang", "currency", "currencies"),
    "delivery": ("寄出", "邮寄", "快递", "物流", "寄到", "deliver", "deliveri", "post", "mail", "dispatch"),
    "risk_profile": ("测评", "风险评估", "问卷", "questionnair", "assessment"),
    "login": ("登录", "登入", "登陆", "login", "log", "sign"),
    "crash": ("闪退", "崩溃", "报错", "死机", "crash", "error"),
    "opening_hours": ("营业时间", "几点", "开门", "关门", "周末", "hour", "weekend", "saturday", "sunday"),
    "appointment": ("预约", "取号", "appointment", "book"),
    "dispute": ("争议", "异议", "拒付", "申诉", "disput", "chargeback", "challeng", "contest"),
}


@lru_cache(maxsize=1)
def concept_map() -> dict[str, str]:
    out: dict[str, str] = {}
    for group, words in GROUPS.items():
        for word in words:
            out.setdefault(word, "@" + group)
    return out
