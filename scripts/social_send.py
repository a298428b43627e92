"""Post one webhook request to a Helixdesk server as a social platform would, and show what comes back.

Checks an installation's social platforms end to end without the platform: the JSON body is
signed with the platform's secret and scheme from the platforms file (the server's
`HELIXDESK_SOCIAL_PLATFORMS_FILE` and the environment it names), posted to
`/channels/social/<platform>`, and the answer printed. With `--listen PORT` the script also plays
the platform's outbound URL (point the platform's outbound URL at `http://127.0.0.1:PORT/`) and
prints the replies that arrive within `--wait` seconds.

    HELIXDESK_SOCIAL_PLATFORMS_FILE=docs/config/social-platforms.yaml HELIXDESK_SOCIAL_WEIBO_SECRET=... \\
    HELIXDESK_SOCIAL_WEIBO_OUTBOUND_URL=http://127.0.0.1:8099/ ... \\
    PYTHONPATH=src .venv/bin/python scripts/social_send.py http://127.0.0.1:8000 weibo \\
        '{"events": [{"id": "e1", "type": "private_message", "sender": {"id": "42"}, "text": "信用卡年费怎么收？"}]}' \\
        --listen 8099
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from helixdesk.channels.social.config import load_platforms
from helixdesk.core.settings import Settings


def listen(port: int) -> tuple[ThreadingHTTPServer, list[str]]:
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(raw.decode("utf-8", errors="replace"))
            print(f"<- {self.path} {raw.decode('utf-8', errors='replace')}", flush=True)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("server", help="the server's base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("platform", help="the platform's name in the platforms file")
    parser.add_argument("body", help="the JSON body, as the platform would send it")
    parser.add_argument("--listen", type=int, default=0, help="also receive the replies on this port")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds to wait for replies")
    args = parser.parse_args()

    settings = Settings()
    if settings.social_platforms_file is None:
        print("HELIXDESK_SOCIAL_PLATFORMS_FILE is not set", file=sys.stderr)
        return 2
    platform = load_platforms(settings.social_platforms_file)[args.platform]
    body = json.dumps(json.loads(args.body), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **platform.scheme.sign(platform.secret, body, time.time())}
    server, received = listen(args.listen) if args.listen else (None, [])
    request = urllib.request.Request(
        f"{args.server.rstrip('/')}/channels/social/{args.platform}",
        data=body,
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print(f"-> {response.status} {response.read().decode()}")
    except urllib.error.HTTPError as e:
        print(f"-> {e.code} {e.read().decode()}")
        e.close()
        return 1
    if server is not None:
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline:
            time.sleep(0.1)
        server.shutdown()
        server.server_close()
        print(f"{len(received)} message(s) received on the outbound URL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
