"""The staff console in a real headless Chromium (tests/product/browser.py), at
phone size and desktop size (the sign-in and alert walk at both), against the real gateway app with a fake
Telegram Bot API behind it (no Rasa: the console never needs it).

An officer signs in by the link Lối Về sends to their Telegram chat, finds a
person on the "Cần chú ý" list, reads the worrying check-in's note,
acknowledges its alert with a reason; issues an enrollment code and sees its
QR code; opens a chart and its table. Screenshots: reports/console_*.png.
"""

from __future__ import annotations

import dataclasses
import re
import time

import pytest
import time_machine
from sqlalchemy import select

from bot.app import create_app
from bot.config import load_settings
from bot.storage.models import Alert
from harness.fakes.telegram import FakeTelegram
from harness.helpers import free_port, migrated_sessions, serve
from tests.db.test_console import OFFICER_CHAT, SECRET, START, seed
from tests.product.browser import browser, desktop, phone, screenshot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.stack
TAP = 44


@pytest.fixture(autouse=True)
def fixed_start():
    """From the same instant as tests/db/test_console.py (Monday 10:00 in Vietnam, ticking):
    nothing here depends on the real date or hour."""
    with time_machine.travel(START, tick=True):
        yield


@pytest.fixture
def console(tmp_path):
    fake = FakeTelegram()
    db_url = f"sqlite:///{tmp_path / 'console.db'}"
    with serve(fake.app()) as fake_url, migrated_sessions(db_url) as sessions:
        ids, alerts = seed(sessions)
        settings = dataclasses.replace(load_settings({}), database_url=db_url, rasa_port=free_port(),
                                       actions_port=free_port(), secret_key=SECRET, scheduler=False,
                                       telegram_token=fake.token, telegram_api_base=f"{fake_url}/bot")
        with serve(create_app(settings)) as url:
            yield url, fake, sessions, ids, alerts


def sign_in(page, url: str, fake: FakeTelegram, n: int = 1) -> None:  # noqa: ANN001
    page.goto(f"{url}/staff/caseload")
    assert page.url.endswith("/staff/login")                  # no session: sent to sign in
    page.fill("#name", "Trần Văn Cán")
    page.click("text=Gửi mã cho tôi")
    page.wait_for_url("**/staff/login/code")
    # The n-th sign-in message (the seeded alert's notice reaches the same chat, before or after).
    deadline = time.monotonic() + 30
    while len(texts := [m["text"] for m in fake.sent(OFFICER_CHAT) if "/staff/login/link" in m["text"]]) < n \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    text = texts[n - 1]
    assert "mã đăng nhập" in text
    link = re.search(r"(http://\S+/staff/login/link\?t=\S+)", text).group(1)
    page.goto(link)
    page.click("button:has-text('Đăng nhập')")
    page.wait_for_url("**/staff/caseload")


def unlabeled(page) -> list[str]:  # noqa: ANN001
    """Form controls without a label, and the page's language (a small stand-in for an axe check)."""
    return page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.name || el.id)""")


def small_targets(page) -> list[str]:  # noqa: ANN001
    return page.evaluate(f"""() => [...document.querySelectorAll('main button, .lists a, header nav a')]
        .filter(el => el.offsetParent && el.getBoundingClientRect().height < {TAP})
        .map(el => el.textContent.trim())""")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_officer_signs_in_reads_the_note_and_acknowledges_the_alert(console, size, request):
    url, fake, sessions, ids, alerts = console
    phone = request.getfixturevalue(size)
    sign_in(phone, url, fake)
    assert phone.evaluate("document.documentElement.lang") == "vi"
    phone.click(".lists a:has-text('Cần chú ý')")
    assert "list=attention" in phone.url
    person = phone.locator(".person", has_text="Nguyễn Văn Một")
    assert person.count() == 1 and "Đỗ Văn Hai" not in phone.content()   # another commune's person
    assert unlabeled(phone) == [] and small_targets(phone) == []
    # No sideways scrolling at phone width.
    assert phone.evaluate("document.scrollingElement.scrollWidth <= innerWidth + 1")
    screenshot(phone, f"console_{size}_caseload")
    person.locator("a.name").click()
    phone.wait_for_url(f"**/staff/people/{ids['mine']}")
    assert phone.locator("blockquote", has_text="Tôi mất việc, cần giúp đỡ").count() >= 1
    assert phone.locator("svg.chart").count() == 1 and phone.locator("table.data").count() >= 1
    assert unlabeled(phone) == []
    screenshot(phone, f"console_{size}_person")
    phone.select_option(f"#reason-{alerts['mine']}", "contacted")
    phone.click(f"form[action='/staff/alerts/{alerts['mine']}'] button[value='acknowledged']")
    phone.wait_for_url(f"**/staff/people/{ids['mine']}")
    assert phone.locator(f"#reason-{alerts['mine']}").count() == 0       # no longer open
    assert "Cảnh báo đã xử lý" in phone.content()
    screenshot(phone, f"console_{size}_acknowledged")
    with sessions() as s:
        a = s.scalar(select(Alert).where(Alert.id == alerts["mine"]))
        assert (a.status, a.reason_code, a.updated_by) == ("acknowledged", "contacted", ids["officer"])


def test_officer_on_a_desktop_issues_a_code_with_its_qr_and_reads_a_chart(console, desktop):
    url, fake, sessions, ids, alerts = console
    sign_in(desktop, url, fake)
    desktop.goto(f"{url}/staff/people/{ids['mine']}")
    desktop.click("button:has-text('Cấp mã đăng ký')")
    code = desktop.locator("#enroll-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{10}", code)
    assert desktop.locator(".qr svg").count() == 1 and "Các bước tiếp theo" in desktop.content()
    screenshot(desktop, "console_desktop_enroll_code")
    desktop.goto(f"{url}/staff/charts")
    assert desktop.locator("svg.chart").count() >= 3
    assert desktop.locator("#table-completion tbody tr").count() == 8
    assert unlabeled(desktop) == []
    screenshot(desktop, "console_desktop_charts")
    desktop.goto(f"{url}/staff/alerts?lang=en")
    assert "Needs attention" in desktop.content()
    desktop.goto(f"{url}/staff/caseload")                         # the language is remembered
    assert "My caseload" in desktop.content()
