"""The demo contact centre's staff, one or more per role (for the demo server and its tests).

Every demo account shares one password, given by the caller; never use these in production.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from helixdesk.auth.service import StaffAccounts, StaffView


@dataclass(frozen=True, slots=True)
class DemoStaff:
    username: str
    display_name: str
    roles: tuple[str, ...]
    languages: tuple[str, ...] = ("zh", "en")
    skills: tuple[str, ...] = ()
    employee_code: str | None = None
    max_concurrent: int = 3


DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("agent.li", "李娜", ("agent",), skills=("cards", "accounts", "digital")),
    DemoStaff("agent.chen", "陈明", ("agent",), languages=("zh",), skills=("transfers", "loans")),
    DemoStaff("agent.amy", "Amy Ho", ("agent",), languages=("en", "zh"), skills=("cards", "transfers")),
    DemoStaff("senior.wang", "王芳", ("senior",), skills=("cards", "loans")),
    DemoStaff("fraud.zhao", "赵强", ("fraud",), skills=("cards",)),
    DemoStaff("rm.sun", "孙悦", ("relationship_manager",), skills=("wealth",), employee_code="RM001"),
    DemoStaff("rm.zhou", "周杰", ("relationship_manager",), skills=("wealth",), employee_code="RM002"),
    DemoStaff("rm.wu", "吴静", ("relationship_manager",), skills=("wealth",), employee_code="RM003"),
    DemoStaff("rm.zheng", "郑浩", ("relationship_manager",), skills=("wealth",), employee_code="RM004"),
    DemoStaff("sup.liu", "刘洋", ("supervisor",)),
    DemoStaff("qa.huang", "黄敏", ("qa_reviewer",)),
    DemoStaff("kb.lin", "林静", ("knowledge_editor",)),
    DemoStaff("mgr.gao", "高峰", ("manager",)),
    DemoStaff("ops.zhou", "周航", ("operator",)),
    DemoStaff("ann.he", "何琳", ("annotator",)),
    DemoStaff("ann.ma", "马丽", ("annotator",)),
    DemoStaff("admin", "系统管理员", ("admin",)),
)


# The demo accounts' shared password when none is given: `HELIXDESK_DEMO_STAFF_PASSWORD`, else this
# (scripts/demo.sh seeds the accounts with the same).
DEMO_PASSWORD_ENV = "HELIXDESK_DEMO_STAFF_PASSWORD"
DEFAULT_DEMO_PASSWORD = "helixdesk-demo-2026"


def demo_password() -> str:
    return os.environ.get(DEMO_PASSWORD_ENV) or DEFAULT_DEMO_PASSWORD


def seed_demo_staff(accounts: StaffAccounts, *, password: str) -> list[StaffView]:
    """Create the demo accounts that do not exist yet; returns the ones created."""
    existing = {u.username for u in accounts.list_users()}
    created: list[StaffView] = []
    for d in DEMO_STAFF:
        if d.username in existing:
            continue
        created.append(
            accounts.create_user(
                username=d.username,
                password=password,
                display_name=d.display_name,
                roles=d.roles,
                languages=d.languages,
                skills=d.skills,
                employee_code=d.employee_code,
                max_concurrent=d.max_concurrent,
                ui_language="en" if d.languages[0] == "en" else "zh-Hans",
            )
        )
    return created
