"""In Debian's Chromium: an identified customer asks the bot something, gets the answer, and after it
the bank's one suggestion for them (the lifecycle touch), shown as a suggestion in their language;
asking again brings no second one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from helixdesk.bank.demo import DemoBankConnector
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.lifecycle.profile import ConversationSignals
from helixdesk.lifecycle.profiles import CustomerProfiles
from helixdesk.lifecycle.recommend import bot_touch, moment
from helixdesk.lifecycle.strategies import in_holdout, load_strategies
from helixdesk.lifecycle.suitability import load_suitability
from helixdesk.packs.loader import load_pack
from tests.browser.test_agent_console import browser, customer_page, say
from tests.seeded import seeded_database
from tests.serverproc import Server

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the shared Chromium fixture

QUESTION = {"zh-Hans": "今天美元汇率是多少", "en": "What is the US dollar exchange rate today?"}
TAG = {"zh-Hans": "为您推荐", "en": "A suggestion for you"}


@pytest.fixture(scope="module")
def desk(tmp_path_factory, model_root):
    """A server on the demo bank (no churn model) and, per language, a customer whom the pack's
    strategies give a bot touch today, with the touch they must see."""
    folder = tmp_path_factory.mktemp("touch")
    url = f"sqlite:///{folder / 'helixdesk.db'}"
    engine, sessions = seeded_database(url)
    pack = load_pack("retail_bank")
    profiles = CustomerProfiles(
        bank=DemoBankConnector(session_factory=sessions), config=load_lifecycle_config(pack), model=None
    )
    strategies, policy = load_strategies(pack).strategies, load_suitability(pack)
    by_id = {s.id: s for s in strategies}
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    touches = []
    for i in range(1, 61):
        view = profiles.read(f"C{i:06d}", ConversationSignals(), today=today)
        touch = (
            bot_touch(view.snapshot, strategies, policy, given=(), trigger=moment(view.customer_since, today))
            if view
            else None
        )
        # A customer in the strategy's holdout group is told nothing: not one for this test.
        if touch is not None and not in_holdout(by_id[touch.strategy_id], f"C{i:06d}"):
            touches.append((f"C{i:06d}", touch))
    assert len(touches) >= 2, "the demo bank has too few customers with a bot touch today"
    server = Server(
        {
            "HELIXDESK_DATABASE_URL": url,
            "HELIXDESK_MODEL_DIR": str(model_root),
            "HELIXDESK_LOG_LEVEL": "warning",
        },
        log=folder / "server.log",
    ).start()
    yield {"server": server, "touches": touches}
    server.stop()
    engine.dispose()


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_the_answer_comes_first_then_one_suggestion_in_the_customers_language(desk, browser, lang, tmp_path):
    ref, touch = desk["touches"][0 if lang == "zh-Hans" else 1]
    page = customer_page(browser, desk["server"].base, f"customer={ref}&lang={lang}")
    answers = page.locator(".msg--bot:not(.msg--touch):not(.msg--welcome)")
    suggestion = page.locator(".msg--touch")
    # The touch comes after the first answer with nothing else added to it: a tip the bot adds to
    # an answer (some customers get one with the rate) puts it off to the next answer.
    turns = 0
    while turns < 3:
        turns += 1
        before = answers.count()
        say(page, QUESTION[lang])
        expect(answers.nth(before)).to_contain_text("USD", timeout=20000)
        page.wait_for_timeout(1500)  # anything else the turn says has arrived by now
        if suggestion.count():
            break
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_contain_text(touch.texts[lang])
    expect(suggestion.locator(".msg__tag")).to_have_text(TAG[lang])
    # It follows the answer of its turn.
    seq = lambda loc: int(loc.get_attribute("data-seq") or 0)  # noqa: E731
    assert seq(answers.last) < seq(suggestion)
    page.screenshot(path=str(tmp_path / f"touch-{lang}.png"), full_page=True)

    if turns < 3:  # one more answer brings no second touch
        before = answers.count()
        say(page, QUESTION[lang])
        expect(answers.nth(before)).to_contain_text("USD", timeout=20000)
        page.wait_for_timeout(1500)
        expect(suggestion).to_have_count(1)
