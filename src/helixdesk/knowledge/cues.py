"""Question-type cues: what kind of answer a question asks for (why, how, status, cost, ...).

Sibling FAQ entries of one intent often differ only in this ("how do I apply" / "where is my
application", "what does it cost" / "can I"), so the re-ranker compares the cues of the customer's
question with the cues of each entry's questions. Cues are matched on the normalised text
(lower-cased, Simplified), in Chinese (mainland and Hong Kong wording) and English.

    cue_vector("信用卡申请批下来没有")   # 1.0 at CUES.index("status"), 0 elsewhere
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from helixdesk.nlu.text import normalise

_PATTERNS: dict[str, str] = {
    "why": r"为什么|为何|怎么回事|什么原因|原因|点解|\bwhy\b|how come|reason",
    "how": r"怎么|如何|怎样|点样|步骤|流程|办理|\bhow (?:do|can|to|does)\b|\bsteps?\b|\bprocess\b|\bway to\b",
    "status": r"进度|到哪|批了|批下来|批咗|审批|结果|状态|没消息|有消息|好了吗"
    r"|\bstatus\b|\bprogress\b|\bapproved\b|update on|heard back|\byet\b|happening with",
    "cost": r"多少钱|费用|手续费|收费|费率|利息多少|\bcosts?\b|\bfees?\b|\bcharges?\b|how much|\bprice\b",
    "when": r"什么时候|多久|几天|几时|几耐|哪天|\bwhen\b|how long|how many days",
    "can": r"能不能|能否|可以|可不可以|可唔可以|能吗|得唔得|\bcan (?:i|you|my)\b|is it possible|\bmay i\b|do i need",
    "consequence": r"会怎样|会不会|会怎么样|影响|后果|会点|what happens|\baffect|\bhurt\b|consequence|downside",
    "not_received": r"没收到|没到|未收到|还没|一直没|冇收到|未到|haven't|hasn't|not arrived|\bnever\b|\bstill\b"
    r"|didn't arrive|not received",
    "where": r"哪里|在哪|哪儿|边度|\bwhere\b",
    "failure": r"失败|不成功|不了|唔到|被拒|拒绝|\bfail|\bdeclin|\breject|won't|doesn't work|not working|can't",
}

CUES: tuple[str, ...] = tuple(_PATTERNS)
_COMPILED = tuple(re.compile(p) for p in _PATTERNS.values())


def cue_vector(text: str) -> npt.NDArray[np.float64]:
    """1.0 for every cue the text carries, 0.0 for the others, in the order of CUES."""
    norm = normalise(text)
    return np.array([1.0 if p.search(norm) else 0.0 for p in _COMPILED], dtype=np.float64)


def mean_cues(texts: list[str]) -> npt.NDArray[np.float64]:
    """The share of `texts` carrying each cue (the cue profile of a FAQ entry's questions)."""
    if not texts:
        return np.zeros(len(CUES), dtype=np.float64)
    return np.asarray(np.mean([cue_vector(t) for t in texts], axis=0), dtype=np.float64)


__all__ = ["CUES", "cue_vector", "mean_cues"]
