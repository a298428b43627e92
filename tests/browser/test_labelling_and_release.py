"""The learning loop in Debian's Chromium: an agent flags a customer message the bot misunderstood
from the conversation view; an annotator lands on the labelling queue, corrects an item's intent,
marks an entity by selecting the words and saves it; a supervisor reads a candidate's report,
is stopped by the gate on a worse one and promotes it only with an audited override, rolls back,
and starts and stops a shadow run."""

from __future__ import annotations

import json
import random
import re
import shutil

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from helixdesk.audit import Actor
from helixdesk.audit.models import AuditLogRow
from helixdesk.auth.service import StaffAccounts
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.learning.feed import LabellingFeed, store
from helixdesk.learning.models import Label, LabelItem
from helixdesk.learning.registry import ModelRegistry
from helixdesk.learning.sampling import Corrections, SamplingRates
from helixdesk.nlu.intent.artefacts import read_manifest, save_model
from helixdesk.nlu.intent.data import data_sha256, load_examples
from helixdesk.nlu.intent.model import IntentClassifier, IntentConfig
from helixdesk.packs.loader import load_pack
from tests.browser.test_agent_console import browser  # noqa: F401 (the fixture is used by name)
from tests.learning_data import add_conversation
from tests.serverproc import Server

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
ATM = "取款机把我的卡吞了，卡尾号****6621"


@pytest.fixture(scope="module")
def site(tmp_path_factory, model_root):
    """A server with its own model folder (the pack's model served), two candidates in the registry
    (the same model under another version, and one that saw three examples per intent), two
    sampled messages in the labelling queue, and the staff."""
    folder = tmp_path_factory.mktemp("learning")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    models = folder / "models"
    (models / "retail_bank" / "intent").mkdir(parents=True)
    (models / "retail_bank" / "emotion").symlink_to(model_root / "retail_bank" / "emotion")
    (models / "retail_bank" / "intent" / "v1").symlink_to(model_root / "retail_bank" / "intent" / "v1")
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    staff = StaffAccounts(sessions=sessions)
    for username, roles in (
        ("ann.he", ["annotator"]),
        ("sup.liu", ["supervisor"]),
        ("senior.wang", ["senior"]),
    ):
        staff.create_user(
            username=username, password=PASSWORD, display_name=username, roles=roles, ui_language="en"
        )
    feed = LabellingFeed(
        rates=SamplingRates(low_confidence=100, confidence_below=0.7),
        corrections=Corrections.load(load_pack("retail_bank").path),
        double_percent=0,
    )
    with transaction(sessions) as s:
        conv, _ = add_conversation(
            s, [("customer", ATM, "dispute_charge", 0.62), ("bot", "请问是哪一笔交易？")]
        )
        store(s, conv.id, feed.plan(s, conv.id))
    registry = ModelRegistry(sessions=sessions, model_dir=models)
    twin = folder / "twin"
    shutil.copytree(model_root / "retail_bank" / "intent" / "v1", twin)
    manifest = read_manifest(twin)
    manifest["version"] = "same-data-" + manifest["version"]
    (twin / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    good = registry.register(twin, actor=Actor.system("cli:test"), note="a retrain on the same data")
    by_label: dict[str, list] = {}
    for e in load_examples("pack"):
        by_label.setdefault(e.label, []).append(e)
    few = [e for group in by_label.values() for e in random.Random(5).sample(group, 3)]
    save_model(IntentClassifier.train(few, IntentConfig()), folder / "weak", data_sha256=data_sha256(few))
    bad = registry.register(folder / "weak", actor=Actor.system("cli:test"), note="three examples per intent")
    served = registry.live().version
    engine.dispose()
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_MODEL_DIR": str(models),
        "HELIXDESK_LOG_LEVEL": "warning",
        "HELIXDESK_LEARNING_RELOAD_SECONDS": "1",
    }
    server = Server(env, log=folder / "server.log").start()
    yield {"server": server, "url": url, "good": good.version, "bad": bad.version, "served": served}
    server.stop()


def staff_page(browser: Browser, base: str, path: str, username: str, violations: list[str]) -> Page:  # noqa: F811
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{base}{path}")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    return page


def rows(url: str, query):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            return s.execute(query).all()
    finally:
        engine.dispose()


def test_an_agent_flags_a_message_and_an_annotator_corrects_it_with_an_entity(site, browser, tmp_path):  # noqa: F811
    base = site["server"].base
    violations: list[str] = []
    # A customer complains; the bot hands the conversation to the senior queue.
    created = httpx.post(
        f"{base}/api/v1/conversations", json={"channel": "web", "language": "zh-Hans"}
    ).json()
    sent = httpx.post(
        f"{base}/api/v1/conversations/{created['id']}/messages",
        json={"text": "我要投诉，你们服务太差了"},
        headers={"Authorization": f"Bearer {created['token']}"},
        timeout=30,
    )
    assert sent.json()["state"] == "waiting_for_agent", sent.text

    agent = staff_page(
        browser, base, f"/console/conversations/{created['id']}?lang=en", "senior.wang", violations
    )
    line = agent.locator('#transcript li.line--customer[data-seq="1"]')
    form = agent.locator("#flag-form")
    expect(form).to_be_hidden()  # until a message is flagged
    line.locator("button.flag-msg").click()
    expect(form).to_be_visible()
    form.locator("select[name=intent]").select_option("account_closing")
    form.locator("input[name=note]").fill("the customer wants to close the account")
    form.locator("#flag-send").click()
    expect(line.locator("button.flag-msg")).to_have_text("Flagged")
    expect(form).to_be_hidden()
    agent.screenshot(path=str(tmp_path / "flag.png"))
    flagged = rows(
        site["url"],
        select(LabelItem.reasons, LabelItem.flag_intent).where(LabelItem.conversation_id == created["id"]),
    )
    assert flagged == [(["flagged"], "account_closing")]

    # The annotator lands on the queue: the flag first, then the sampled message.
    ann = staff_page(browser, base, "/console?lang=en", "ann.he", violations)
    expect(ann).to_have_url(re.compile(r"/console/labelling"))
    expect(ann.locator("#nav-labelling")).to_have_text("Labelling")
    waiting = ann.locator("#waiting tbody tr[data-item]")
    expect(waiting).to_have_count(2)
    expect(waiting.first).to_contain_text("Flagged by an agent")
    expect(waiting.nth(1)).to_contain_text("Low confidence")
    expect(waiting.nth(1)).to_contain_text("****6621")
    ann.screenshot(path=str(tmp_path / "labelling-queue.png"))

    ann.click("#start-labelling")
    expect(ann.locator("#flag-note")).to_contain_text("Account closing")
    expect(ann.locator("body")).to_have_attribute("data-ready", "true")
    ann.click("#skip")  # leave the flag for later: the sampled message comes next
    expect(ann.locator("#message")).to_have_text(ATM)
    expect(ann.locator("#predicted-intent")).to_contain_text("0.62")
    expect(ann.locator("body")).to_have_attribute("data-ready", "true")
    ann.select_option("#intent", "card_reissue")
    ann.select_option("#emotion", "fear")
    start = ATM.index("****6621")
    ann.evaluate(
        """([start, end]) => { const node = document.querySelector('#message').firstChild;
            const r = document.createRange(); r.setStart(node, start); r.setEnd(node, end);
            const s = window.getSelection(); s.removeAllRanges(); s.addRange(r); }""",
        [start, start + 8],
    )
    ann.select_option("#entity-type", "card_tail")
    ann.click("#add-entity")
    expect(ann.locator("#entity-list li")).to_have_count(1)
    expect(ann.locator("#entity-list li")).to_contain_text("****6621")
    ann.screenshot(path=str(tmp_path / "label-item.png"), full_page=True)
    ann.click("#save-label")
    expect(ann.locator("#label-status")).to_have_text("Saved; the label is resolved.")
    expect(ann.locator("#flag-note")).to_be_visible()  # on to the next item: the skipped flag
    saved = rows(site["url"], select(Label.intent, Label.emotion, Label.entities, Label.changed))
    assert saved == [
        (
            "card_reissue",
            "fear",
            [{"type": "card_tail", "start": start, "end": start + 8, "text": "****6621"}],
            True,
        )
    ]
    assert violations == []


def test_a_supervisor_reads_the_report_is_stopped_by_the_gate_overrides_it_and_rolls_back(
    site,
    browser,  # noqa: F811
    tmp_path,
):
    base = site["server"].base
    violations: list[str] = []
    sup = staff_page(browser, base, "/console/models?lang=en", "sup.liu", violations)
    expect(sup.locator("#live-version")).to_have_text(site["served"])
    for version in (site["good"], site["bad"]):
        expect(sup.locator(f'#model-list tr[data-version="{version}"]')).to_contain_text("Candidate")

    sup.goto(f"{base}/console/models/{site['bad']}")
    expect(sup.locator("#gate-result")).to_contain_text("Refused")
    assert sup.locator("#worse tbody tr").count() > 5
    expect(sup.locator("#per-label tbody tr").first).to_be_visible()
    expect(sup.locator("#confusion")).to_be_visible()
    expect(sup.locator("#reliability tbody tr").first).to_be_visible()
    sup.screenshot(path=str(tmp_path / "report-refused.png"), full_page=True)
    expect(sup.locator("body")).to_have_attribute("data-ready", "true")
    sup.click("#promote-button")
    expect(sup.locator("#flash")).to_have_text("The gate refuses it: tick the override and give a reason.")
    sup.check("#override")
    sup.fill("#reason", "forced to compare in production")
    sup.click("#promote-button")
    expect(sup.locator("#model-status")).to_have_text("Live")
    audit = rows(
        site["url"],
        select(AuditLogRow.action, AuditLogRow.reason).where(AuditLogRow.target_id == site["bad"]),
    )
    assert ("model.promoted_override", "forced to compare in production") in audit

    sup.click("#rollback")
    expect(sup.locator("#model-status")).to_have_text("Retired")
    sup.goto(f"{base}/console/models")
    expect(sup.locator("#live-version")).to_have_text(site["served"])

    sup.goto(f"{base}/console/models/{site['good']}")
    expect(sup.locator("#gate-result")).to_contain_text("Passed")
    expect(sup.locator("body")).to_have_attribute("data-ready", "true")
    sup.click("#shadow")
    expect(sup.locator("#runs tbody tr[data-run] button.stop-shadow")).to_be_visible()
    sup.goto(f"{base}/console/models")
    expect(sup.locator("#shadow-running")).to_contain_text(site["good"])
    sup.click("#stop-shadow")
    expect(sup.locator("#shadow-running")).to_have_text("–")
    sup.screenshot(path=str(tmp_path / "models.png"), full_page=True)
    assert violations == []
