"""Transaction references: an id after a cue ("流水号", "reference", "txn") or a strong pattern (TX + 10 digits).

Cues are listed in both scripts, so the finder also works on text not converted to Simplified.
"""

from __future__ import annotations

import re

from helixdesk.nlu.entities.base import Candidate

_CUE = (
    r"(?:交易单号|交易流水号|交易编号|交易号|流水号|订单编号|订单号|商户单号|单号|参考号|凭证号|业务编号|受理编号|受理号"
    r"|交易單號|交易流水號|交易編號|交易號|流水號|訂單編號|訂單號|商戶單號|單號|參考號|憑證號|業務編號|受理編號|受理號"
    r"|(?<![a-z])(?:transaction\s(?:id|ref(?:erence)?|number|no\.?|#)|txn(?:\s?(?:id|no\.?|ref|#))?|trx(?:\s?id)?"
    r"|ref(?:erence)?(?:\s(?:number|no\.?|code|id))?|order\s(?:id|number|no\.?|#)|confirmation\s(?:number|code)))"
)
_CUED = re.compile(
    rf"{_CUE}\s?(?:是|为|:|：|#|is|number|no\.?)?\s?(?:是|:|：|#)?\s?(?P<id>[a-z0-9][a-z0-9_-]{{5,39}})(?![a-z0-9_-])"
)
_STRONG = re.compile(r"(?<![a-z0-9])(?P<id>(?:tx|txn|trx|ref|ord|hx|tr)\d{10,30})(?![a-z0-9])")


def find_transaction_ids(norm: str, text: str) -> list[Candidate]:
    out: list[Candidate] = []
    for m in _CUED.finditer(norm):
        ident = m["id"]
        if not any(ch.isdigit() for ch in ident):
            continue
        start, end = m.start("id"), m.end("id")
        out.append(Candidate("transaction_id", text[start:end].upper(), start, end, bonus=20))
    for m in _STRONG.finditer(norm):
        start, end = m.start("id"), m.end("id")
        out.append(Candidate("transaction_id", text[start:end].upper(), start, end))
    return out
