"""Send one message to a Helixdesk server as WeChat's servers would, and print the reply.

Checks an installation's WeChat settings end to end without WeChat: the message is signed with the
token and encrypted with the EncodingAESKey (safe mode), posted to the callback URL, and the reply
is checked and decrypted with the same settings.

    HELIXDESK_WECHAT_APP_ID=wx... HELIXDESK_WECHAT_TOKEN=... HELIXDESK_WECHAT_ENCODING_AES_KEY=... \\
    PYTHONPATH=src .venv/bin/python scripts/wechat_send.py http://127.0.0.1:8000 "信用卡年费怎么收？"
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from helixdesk.channels.wechat import xml as wx
from helixdesk.channels.wechat.crypto import MessageCrypto, signature
from helixdesk.core.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("server", help="the server's base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("text", help="what the customer writes")
    parser.add_argument("--openid", default="o-helixdesk-check", help="the customer's openid")
    args = parser.parse_args()
    settings = Settings()
    if not (settings.wechat_app_id and settings.wechat_token and settings.wechat_encoding_aes_key):
        print(
            "set HELIXDESK_WECHAT_APP_ID, _TOKEN and _ENCODING_AES_KEY as the server has them",
            file=sys.stderr,
        )
        return 2
    token = settings.wechat_token.get_secret_value()
    crypto = MessageCrypto(
        token=token,
        encoding_aes_key=settings.wechat_encoding_aes_key.get_secret_value(),
        app_id=settings.wechat_app_id,
    )
    plain = wx.text_reply(
        to_user="gh_check", from_user=args.openid, create_time=int(time.time()), content=args.text
    )
    plain = plain.replace("</Content></xml>", f"</Content><MsgId>{secrets.randbelow(10**18)}</MsgId></xml>")
    encrypted = crypto.encrypt(plain)
    ts, nonce = str(int(time.time())), secrets.token_hex(5)
    query = urllib.parse.urlencode(
        {
            "signature": signature(token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "encrypt_type": "aes",
            "msg_signature": crypto.msg_signature(ts, nonce, encrypted),
        }
    )
    body = (
        f"<xml><ToUserName>{wx.cdata('gh_check')}</ToUserName><Encrypt>{wx.cdata(encrypted)}</Encrypt></xml>"
    )
    request = urllib.request.Request(
        f"{args.server.rstrip('/')}/channels/wechat/mp?{query}", data=body.encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            reply = response.read().decode()
    except urllib.error.HTTPError as e:
        print(f"{e.code}: {e.read().decode()}", file=sys.stderr)
        return 1
    if reply == "success":
        print("success (the answer follows through the customer-service message API)")
        return 0
    envelope = wx.parse(reply)
    crypto.check(envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"])
    print(wx.parse(crypto.decrypt(envelope["Encrypt"]))["Content"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
