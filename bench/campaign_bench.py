"""An incident campaign over a big bank on SQLite: how long targeting takes, and how fast the notices
drain at the configured rate.

    .venv/bin/python bench/campaign_bench.py [--customers 5000] [--rate 60] [--page 500]
        [--products credit_card]

A fresh SQLite database gets the demo bank with `--customers` customers. Two campaigns run, one after
the other, through the outreach process's own code (`CampaignSender`), with the demo outbox gateway:

- an incident that names no product (every customer: targeting reads only the customer list), and
- one that names `--products` (targeting reads each customer's accounts, cards and transactions).

Printed for each: the customers targeted and the wall time targeting took (pages of `--page`); then
the drain at `--rate` messages per minute on a simulated clock (a step every second of bank time):
the bank time it takes (minutes), and the wall time the sending itself took (the process's own
ceiling, messages per second). Nothing is asserted; figures only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helixdesk.audit import AuditLog  # noqa: E402
from helixdesk.bank.demo import DemoBankConnector  # noqa: E402
from helixdesk.bank.importer import import_bank_file  # noqa: E402
from helixdesk.bank.seed import build_demo_bank  # noqa: E402
from helixdesk.db.migrate import upgrade_engine  # noqa: E402
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction  # noqa: E402
from helixdesk.incidents.checks import IncidentDraft  # noqa: E402
from helixdesk.incidents.models import IncidentRow  # noqa: E402
from helixdesk.incidents.register import Author, IncidentRegister, incident_of  # noqa: E402
from helixdesk.incidents.rules import Incident  # noqa: E402
from helixdesk.notifications.notifier import OutboxNotifier  # noqa: E402
from helixdesk.outreach.campaign_rules import CampaignConfig  # noqa: E402
from helixdesk.outreach.campaign_sender import CampaignSender  # noqa: E402
from helixdesk.outreach.campaigns import Campaigns  # noqa: E402
from helixdesk.privacy.crypto import Keyring, generate_key  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
OPS = Author("u-bench", "bench")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=60, help="messages per minute")
    parser.add_argument("--page", type=int, default=500, help="customers targeted per step")
    parser.add_argument("--products", default="credit_card")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="campaign-bench-"))
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    began = time.perf_counter()
    bank_file = build_demo_bank(args.customers)
    with transaction(sessions) as s:
        import_bank_file(s, bank_file)
    print(f"demo bank: {args.customers} customers loaded in {time.perf_counter() - began:.1f} s")

    now = datetime.now(UTC).replace(microsecond=0)
    clock = {"now": now}
    audit = AuditLog(key=b"b" * 32, clock=lambda: clock["now"])
    register = IncidentRegister(sessions=sessions, audit=audit, clock=lambda: clock["now"])
    config = CampaignConfig(messages_per_minute=args.rate, quiet_hours=None, page_size=args.page)
    campaigns = Campaigns(sessions=sessions, config=config, tz=TZ, audit=audit, clock=lambda: clock["now"])
    sender = CampaignSender(
        sessions=sessions,
        bank=DemoBankConnector(session_factory=sessions),
        notifier=OutboxNotifier(sessions=sessions, keyring=Keyring.parse(generate_key("bench"))),
        config=config,
        tz=TZ,
        audit=audit,
        clock=lambda: clock["now"],
    )
    print(f"rate {args.rate}/min, pages of {args.page}, quiet hours off\n")
    print(
        f"{'incident':<22}{'targeted':>10}{'target s':>10}{'drain (bank min)':>18}{'send wall s':>13}{'msg/s ceiling':>15}"
    )
    for name, products in (("every customer", []), (f"holders of {args.products}", [args.products])):
        incident_id = register.create(
            OPS,
            IncidentDraft(
                kind="outage",
                title={"zh-Hans": "故障"},
                explanation={"zh-Hans": "系统故障，我们正在处理。", "en": "We are fixing an outage."},
                products=products,
                channels=[],
                regions=[],
                started_at=clock["now"] - timedelta(minutes=1),
            ),
        )["id"]
        campaign = campaigns.start(OPS, incident_id, channel="sms")
        t0 = time.perf_counter()
        targeted = 0
        for _ in range(args.customers // args.page + 2):  # targeting alone, page by page
            targeted += sender.target_page(campaign["id"], _incident(sessions, incident_id), clock["now"])
        target_s = time.perf_counter() - t0
        start_bank = clock["now"]
        send_wall = 0.0
        while campaigns.current(incident_id)["status"] == "running":
            t1 = time.perf_counter()
            sender.step(clock["now"])
            send_wall += time.perf_counter() - t1
            clock["now"] += timedelta(seconds=1)
        counts = campaigns.current(incident_id)["counts"]
        minutes = (clock["now"] - start_bank).total_seconds() / 60
        ceiling = counts["sent"] / send_wall if send_wall else 0.0
        print(f"{name:<22}{targeted:>10}{target_s:>10.1f}{minutes:>18.1f}{send_wall:>13.1f}{ceiling:>15.0f}")
        assert counts["targeted"] == targeted  # the bench's own bookkeeping, not a timing
    engine.dispose()


def _incident(sessions: sessionmaker[Session], incident_id: str) -> Incident:
    with reading(sessions) as s:  # the row, as the sender reads it
        row = s.get(IncidentRow, incident_id)
        assert row is not None
        return incident_of(row)


if __name__ == "__main__":
    main()
