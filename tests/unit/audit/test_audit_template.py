"""The supervisors' audit page template renders `search` results (the route comes with staff login)."""

from __future__ import annotations

from datetime import UTC, datetime

from jinja2 import Environment, FileSystemLoader, select_autoescape

from helixdesk.audit import Actor, AuditEntry, AuditQuery, Target
from helixdesk.edge.pages import WEB_DIR


def test_the_audit_page_lists_entries_escaped_and_pages_older():
    env = Environment(loader=FileSystemLoader(WEB_DIR / "templates"), autoescape=select_autoescape())
    env.globals["url_for"] = lambda name, path: f"/static/{path}"
    entry = AuditEntry(
        seq=42,
        at=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        actor=Actor.staff("u-7", ip="10.0.0.9"),
        action="customer.profile.viewed",
        target=Target.customer("C000001"),
        customer_ref="C000001",
        reason="<script>alert(1)</script>",
        details={"fields": ["phone"]},
        process="host:1",
        hash="0" * 64,
    )
    html = env.get_template("audit.html").render(
        title="Helixdesk",
        entries=[entry],
        query=AuditQuery(actor_kind="staff", customer_ref="C000001"),
        action_url="/console/audit",
        next_before_seq=42,
    )
    assert 'data-seq="42"' in html and "customer.profile.viewed" in html and "10.0.0.9" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "before_seq=42&amp;actor_kind=staff&amp;customer_ref=C000001" in html
    assert '<option value="staff" selected>' in html
