"""The XML WeChat sends and expects: parsing a callback body, writing a reply and its envelope."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from helixdesk.channels.wechat.errors import WeChatBadXmlError

_FORBIDDEN = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)

# The longest value of each field that is kept or looked up (its column, or what WeChat sends):
# an openid is 28 characters (a WeCom userid at most 64), a MsgId a 64-bit number, a MediaId 64.
LIMITS = {
    "FromUserName": 128,
    "ToUserName": 128,
    "MsgId": 32,
    "MediaId": 256,
    "PicUrl": 1024,
    "Format": 16,
    "Event": 64,
    "EventKey": 256,
    "AgentID": 16,
}
_ID = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces


def parse(body: bytes | str) -> dict[str, str]:
    """The flat fields of `<xml>...</xml>` (tag → text). UTF-8 only (as WeChat sends), no DTDs, no
    entities: the text is decoded first, so another encoding cannot hide a DOCTYPE."""
    try:
        text = body if isinstance(body, str) else body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise WeChatBadXmlError("the body is not UTF-8") from e
    if _FORBIDDEN.search(text) or re.search(r"<\?xml[^>]*encoding=[\"'](?!utf-?8)", text, re.IGNORECASE):
        raise WeChatBadXmlError(
            "XML with a DOCTYPE, an entity or an encoding other than UTF-8 is not accepted"
        )
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise WeChatBadXmlError(f"the body is not well-formed XML: {e}") from e
    if root.tag != "xml":
        raise WeChatBadXmlError("the root element must be <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


def require(fields: dict[str, str], *names: str) -> None:
    missing = [n for n in names if not fields.get(n)]
    if missing:
        raise WeChatBadXmlError(f"the message lacks {', '.join(missing)}")


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message or event as WeChat delivered it."""

    to_user: str  # the official account (gh_...) or the corp id
    from_user: str  # the customer's openid (WeCom: userid)
    create_time: int
    msg_type: str  # text, image, voice, event, ...
    msg_id: str | None
    content: str = ""
    media_id: str = ""
    pic_url: str = ""
    format: str = ""
    recognition: str = ""  # WeChat's own transcript of a voice message, when the account has it on
    event: str = ""
    event_key: str = ""
    agent_id: str = ""

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; FromUserName + CreateTime (+ event) for events, which have none."""
        if self.msg_id:
            return f"wx:{self.msg_id}"
        return f"wx:{self.from_user[-24:]}:{self.create_time}:{self.event[:12]}"


def incoming(fields: dict[str, str]) -> Incoming:
    require(fields, "ToUserName", "FromUserName", "CreateTime", "MsgType")
    for name, limit in LIMITS.items():
        if len(fields.get(name, "")) > limit:
            raise WeChatBadXmlError(f"{name} is longer than {limit} characters")
    for name in ("FromUserName", "MsgId"):
        if fields.get(name) and not _ID.fullmatch(fields[name]):
            raise WeChatBadXmlError(f"{name} must be printable ASCII without spaces")
    if not re.fullmatch(r"\d{1,11}", fields["CreateTime"]):
        raise WeChatBadXmlError("CreateTime must be a whole number of seconds")
    create_time = int(fields["CreateTime"])
    return Incoming(
        to_user=fields["ToUserName"],
        from_user=fields["FromUserName"],
        create_time=create_time,
        msg_type=fields["MsgType"].lower(),
        msg_id=fields.get("MsgId") or None,
        content=fields.get("Content", ""),
        media_id=fields.get("MediaId", ""),
        pic_url=fields.get("PicUrl", ""),
        format=fields.get("Format", ""),
        recognition=fields.get("Recognition", ""),
        event=fields.get("Event", "").lower(),
        event_key=fields.get("EventKey", ""),
        agent_id=fields.get("AgentID", ""),
    )


def text_reply(*, to_user: str, from_user: str, create_time: int, content: str) -> str:
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )


def envelope(*, encrypted: str, signature: str, timestamp: str, nonce: str) -> str:
    return (
        f"<xml><Encrypt>{cdata(encrypted)}</Encrypt><MsgSignature>{cdata(signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
    )
