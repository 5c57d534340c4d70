"""The web chat page in a real headless Chromium (tests/product/browser.py) against the
running product, at phone size (390×844, touch) and desktop size (1280×800).

Only the network between the page and the product is steered, where a test
needs a moment it cannot otherwise catch: an answer held back while the page
waits for it (then passed on to the product unchanged), or a failed request.
Screenshots go to reports/web_chat_*.png.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from bot.i18n import gettext
from tests.product.browser import browser, desktop, phone, screenshot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.stack

VIETNAMESE = re.compile("[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.I)
PRODUCT_NAME = "Lối Về"
TAP = 44   # px: the smallest comfortable tap target
MESSAGES = "**/api/messages"


def open_chat(page, url: str, lang: str | None = None) -> None:  # noqa: ANN001
    """Load the page and wait until the greeting (with the topic buttons) is shown."""
    page.goto(f"{url}/" + (f"?lang={lang}" if lang else ""))
    page.wait_for_selector(".msg.bot .buttons button")
    page.wait_for_function("!document.getElementById('send').disabled")


def send(page, text: str) -> None:  # noqa: ANN001
    """Type ``text``, press Send and wait until the answer is shown."""
    before = page.locator(".msg.bot, .msg.err").count()
    page.fill("#t", text)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('.msg.bot:not(#typing), .msg.err').length > {before}"
                           " && !document.getElementById('typing')")


def geometry(page) -> dict:  # noqa: ANN001
    """Where the newest messages are relative to #log's visible box, and who scrolls."""
    return page.evaluate("""() => {
      const log = document.getElementById('log'), box = log.getBoundingClientRect();
      const msgs = [...log.querySelectorAll('.msg')];
      const rect = el => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; };
      const mine = [...log.querySelectorAll('.msg.me')].pop();
      const mineAt = msgs.indexOf(mine);
      return {
        log: {top: box.top, bottom: box.bottom, scrollTop: log.scrollTop, scrollHeight: log.scrollHeight,
              clientHeight: log.clientHeight, overflowY: getComputedStyle(log).overflowY},
        page: {scrollHeight: document.scrollingElement.scrollHeight, innerHeight: innerHeight},
        newest: rect(msgs[msgs.length - 1]),
        mine: mine ? rect(mine) : null,
        firstAnswer: mineAt >= 0 && msgs[mineAt + 1] ? rect(msgs[mineAt + 1]) : null,
      };
    }""")


def visible_in_log(g: dict, r: dict, whole: bool = True) -> bool:
    top, bottom = g["log"]["top"] - 1, g["log"]["bottom"] + 1
    return top <= r["top"] and r["bottom"] <= bottom if whole else top <= r["top"] < bottom


def hold(page) -> list:  # noqa: ANN001
    """Hold every POST /api/messages at the network: ``.continue_()`` sends a
    held one on to the product, unchanged; ``page.unroute(MESSAGES)`` ends it."""
    held: list = []
    page.route(MESSAGES, lambda route: held.append(route))
    return held


def posts(page) -> list[str]:  # noqa: ANN001
    """Collect the texts of every POST /api/messages the page makes, as it makes them."""
    sent: list[str] = []
    page.on("request", lambda req: sent.append(json.loads(req.post_data)["text"])
            if req.method == "POST" and req.url.endswith("/api/messages") else None)
    return sent


# --- scrolling ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_each_new_message_is_scrolled_into_view(product, request, size):
    page = request.getfixturevalue(size)
    open_chat(page, product.url)
    for i, text in enumerate(["xin chào", "cảm ơn", "xin chào", "cảm ơn", "xin chào", "cảm ơn"]):
        send(page, text)
        g = geometry(page)
        # The page itself never scrolls: #log does, and it is where the messages are.
        assert g["page"]["scrollHeight"] <= g["page"]["innerHeight"] + 1, g
        assert g["log"]["overflowY"] == "auto", g
        # These answers are short: the question and the whole answer are in view.
        assert visible_in_log(g, g["mine"]) and visible_in_log(g, g["newest"]), (i, g)
    assert g["log"]["scrollHeight"] > g["log"]["clientHeight"] and g["log"]["scrollTop"] > 0, g
    # Scrolled to the end: the newest message is the last thing in the log.
    assert g["log"]["scrollTop"] + g["log"]["clientHeight"] >= g["log"]["scrollHeight"] - 1, g
    screenshot(page, f"web_chat_{size}")


def test_a_long_answer_is_shown_from_its_beginning(product, phone):
    """When the question and its answer do not fit, the page shows the question
    and the start of the answer (read first), not the end of the last bubble.
    At the height left by an open phone keyboard, where this matters most."""
    phone.set_viewport_size({"width": 390, "height": 460})
    open_chat(phone, product.url)
    send(phone, "xin chào")
    send(phone, "xóa án tích")   # the rule with its conditions: taller than what is left of the screen
    g = geometry(phone)
    assert g["newest"]["bottom"] - g["mine"]["top"] > g["log"]["bottom"] - g["log"]["top"], \
        ("the answer fits: this test needs a longer one", g)
    assert visible_in_log(g, g["mine"]), g
    assert visible_in_log(g, g["firstAnswer"], whole=False), g
    assert g["newest"]["bottom"] > g["log"]["bottom"] and g["log"]["scrollTop"] > 0, g
    # The message box stays on screen above the keyboard.
    box = phone.locator("#t").bounding_box()
    assert box["y"] + box["height"] <= 460, box
    screenshot(phone, "web_chat_phone_long_answer")


# --- while an answer is on its way --------------------------------------------------------


def test_typing_indicator_and_one_message_in_flight(product, phone):
    """The answer is held back at the network while the page waits: the typing
    indicator shows, Send is disabled, and neither a double click nor Enter
    with a new text sends anything more. Released, the held request reaches
    the product and its answer replaces the indicator."""
    open_chat(phone, product.url)
    sent = posts(phone)
    held = hold(phone)
    phone.fill("#t", "cảm ơn")
    phone.locator("#send").dblclick()
    phone.wait_for_function("document.getElementById('typing') !== null")
    assert phone.locator("#typing").is_visible()
    assert phone.locator("#send").is_disabled() and phone.locator("#reset").is_disabled()
    g = geometry(phone)
    assert visible_in_log(g, g["newest"]) and visible_in_log(g, g["mine"]), g   # the dots are in view
    # More attempts while it is in flight: a second text with Enter, clicks on Send.
    phone.fill("#t", "tạm biệt")
    phone.press("#t", "Enter")
    phone.locator("#send").click(force=True)
    phone.locator("#send").dblclick(force=True)
    phone.wait_for_timeout(300)
    screenshot(phone, "web_chat_phone_typing")
    assert sent == ["cảm ơn"] and len(held) == 1
    assert phone.locator(".msg.me").all_inner_texts() == ["cảm ơn"]
    held[0].continue_()
    phone.unroute(MESSAGES)
    phone.wait_for_function("!document.getElementById('typing')")
    assert phone.locator(".msg.bot").last.inner_text().startswith("Không có gì ạ")
    assert phone.locator("#send").is_enabled() and phone.locator("#reset").is_enabled()
    # One answer for the one message; what was typed meanwhile waits in the box.
    phone.wait_for_timeout(300)
    assert sent == ["cảm ơn"]
    assert phone.locator(".msg.bot", has_text="Không có gì ạ").count() == 1
    assert phone.input_value("#t") == "tạm biệt"
    assert phone.evaluate("document.activeElement.id") == "t"
    # ... and goes when Send is pressed now.
    phone.click("#send")
    phone.wait_for_selector(".msg.bot >> text=Chào anh/chị, chúc anh/chị")
    assert sent == ["cảm ơn", "tạm biệt"]


def test_a_reply_button_sends_once_and_the_page_holds_other_buttons(product, desktop):
    open_chat(desktop, product.url)
    sent = posts(desktop)
    held = hold(desktop)
    topics = desktop.locator(".msg.bot .buttons button")
    topics.first.dblclick()
    desktop.wait_for_function("document.getElementById('typing') !== null")
    desktop.locator(".msg.bot .buttons button").nth(1).click(force=True)   # a row already used
    desktop.wait_for_timeout(300)
    assert len(sent) == 1 and len(held) == 1
    held[0].continue_()
    desktop.unroute(MESSAGES)
    desktop.wait_for_function("!document.getElementById('typing')")
    assert desktop.locator(".msg.me").all_inner_texts() == ["Vay vốn"]
    assert desktop.locator(".msg.bot").last.inner_text().startswith("Người đã chấp hành xong")
    # On a desktop the focus is back in the input after a button's answer, too.
    assert desktop.evaluate("document.activeElement.id") == "t"


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_focus_returns_to_the_input_after_each_answer(product, request, size):
    page = request.getfixturevalue(size)
    open_chat(page, product.url)
    for text in ("cảm ơn", "xin chào"):
        send(page, text)
        assert page.evaluate("document.activeElement.id") == "t"
    page.keyboard.type("tạm biệt")   # straight on, without touching the input
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg.bot >> text=Chào anh/chị, chúc anh/chị")
    assert page.evaluate("document.activeElement.id") == "t"


# --- tap targets, icon, identity ----------------------------------------------------------


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_button_and_the_input_are_at_least_44_px(product, request, size):
    page = request.getfixturevalue(size)
    open_chat(page, product.url)
    send(page, "/ask_documents")   # another row of reply buttons
    controls = page.locator("button:visible, input:visible")
    assert controls.count() >= 10   # reset, send, the input, 5 topics, the documents choices
    small = {}
    for i in range(controls.count()):
        box = controls.nth(i).bounding_box()
        if box["height"] < TAP or box["width"] < TAP:
            small[controls.nth(i).evaluate("e => e.outerHTML.slice(0, 80)")] = box
    assert not small, small


def test_the_page_has_a_favicon(product, phone):
    open_chat(phone, product.url)
    links = phone.eval_on_selector_all("link[rel~=icon], link[rel=apple-touch-icon]",
                                       "ls => ls.map(l => l.href)")
    assert f"{product.url}/favicon.ico" in links and len(links) == 3
    for href in links:
        r = httpx.get(href)
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/"), (href, r.headers)
        assert len(r.content) > 100
    ico = httpx.get(f"{product.url}/favicon.ico")
    assert ico.headers["content-type"] == "image/x-icon" and ico.content[:4] == b"\0\0\1\0"
    # The browser itself can draw them.
    for href in links:
        size = phone.evaluate("""async href => { const i = new Image(); i.src = href; await i.decode();
                                 return [i.naturalWidth, i.naturalHeight]; }""", href)
        assert size[0] >= 16 and size[0] == size[1], (href, size)


def test_the_browser_writes_as_its_cookie_identity(product, phone):
    """The page keeps using the signed loive_web cookie: it is set HttpOnly, and
    a person-bound request gets the registered-people answer, not the refusal
    given to anonymous senders."""
    open_chat(phone, product.url)
    [cookie] = [c for c in phone.context.cookies() if c["name"] == "loive_web"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert phone.evaluate("document.cookie") == ""
    send(phone, "báo cáo")
    assert "dành cho người đã đăng ký" in phone.locator(".msg.bot").last.inner_text()


# --- language -----------------------------------------------------------------------------

PAGE_STRINGS = {   # what the page itself says (Babel msgids, web.py _page_strings)
    "title": "Lối Về: try the assistant",
    "reset": "New conversation",
    "intro": "This is the local web chat for trying Lối Về. Do not enter real personal or criminal-record "
             "details here.",
    "placeholder": "Type your question…",
    "send": "Send",
    "typing": "Lối Về is writing an answer…",
    "error": "Could not send. Please try again in a moment.",
    "starting": "The system is busy, please send your message again in a few minutes.",
}


def page_texts(page) -> dict:  # noqa: ANN001
    """Every string of the page itself (not the messages): visible text outside
    the messages, names and hints for screen readers, the title, and the
    busy/error texts the script keeps for later."""
    return page.evaluate("""() => {
      const own = [];
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n; (n = walk.nextNode()); ) {
        if (n.parentElement.closest('.msg:not(#typing), script, style')) continue;
        if (n.textContent.trim()) own.push(n.textContent.trim());
      }
      const attrs = [...document.querySelectorAll('[placeholder], [aria-label], [title]')]
        .flatMap(e => ['placeholder', 'aria-label', 'title'].map(a => e.getAttribute(a)).filter(Boolean));
      return {lang: document.documentElement.lang, title: document.title, own: own, attrs: attrs, script: S};
    }""")


def test_the_english_page_says_everything_of_its_own_in_english(product, phone):
    open_chat(phone, product.url, lang="en")
    held = hold(phone)
    phone.fill("#t", "hello")
    phone.click("#send")
    phone.wait_for_function("document.getElementById('typing') !== null")
    texts = page_texts(phone)   # with the typing indicator on the page
    assert texts["lang"] == "en" and texts["title"] == PAGE_STRINGS["title"]
    assert sorted(texts["own"]) == sorted([PAGE_STRINGS[k] for k in ("title", "reset", "intro", "send", "typing")])
    assert set(texts["attrs"]) == {PAGE_STRINGS["placeholder"]}
    assert texts["script"] == {k: PAGE_STRINGS[k] for k in texts["script"]} and len(texts["script"]) == 8
    for text in [texts["title"], *texts["own"], *texts["attrs"], *texts["script"].values()]:
        assert not VIETNAMESE.search(text.replace(PRODUCT_NAME, "")), text
    # A failed request shows the English error text and frees the page.
    held[0].abort()
    phone.unroute(MESSAGES)
    phone.wait_for_selector(".msg.err")
    assert phone.locator(".msg.err").inner_text() == PAGE_STRINGS["error"]
    assert phone.locator("#send").is_enabled() and phone.locator("#typing").count() == 0
    screenshot(phone, "web_chat_phone_en")


def test_the_vietnamese_page_says_everything_of_its_own_in_vietnamese(product, phone):
    open_chat(phone, product.url)
    texts = page_texts(phone)
    assert texts["lang"] == "vi"
    expected = {k: gettext(v, "vi") for k, v in PAGE_STRINGS.items()}
    assert all(expected[k] != PAGE_STRINGS[k] for k in expected), expected   # all translated
    assert texts["script"] == expected and texts["title"] == expected["title"]
    assert sorted(texts["own"]) == sorted([expected[k] for k in ("title", "reset", "intro", "send")])
    assert set(texts["attrs"]) == {expected["placeholder"]}
