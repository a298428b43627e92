"""Where the current request came from, for audit entries written deep inside services.

The HTTP edge sets `caller_ip` per request (`helixdesk.edge.http.ClientIpContext`); anyio's worker
threads inherit it, so a service writing an audit entry needs no IP parameter.
"""

from __future__ import annotations

from contextvars import ContextVar

from helixdesk.audit.service import Actor

caller_ip: ContextVar[str | None] = ContextVar("helixdesk_caller_ip", default=None)


def staff_actor(staff_id: str, *, channel: str = "console") -> Actor:
    return Actor.staff(staff_id, ip=caller_ip.get(), channel=channel)
