"""A real browser for the tests: Debian's headless Chromium driven by Playwright.

Playwright is used only as a driver: it launches ``/usr/bin/chromium`` (the
Debian package, installed by ``make browser``) and never downloads a browser of
its own. Anything that tests a page (the web chat, later the staff console)
imports the fixtures from here::

    from tests.product.browser import browser, phone, desktop  # noqa: F401  (fixtures)

    pytestmark = pytest.mark.stack

    def test_something(product, phone):
        phone.goto(product.url)

``phone`` is a fresh browser context and page at 390×844 (a mid-size phone,
touch, device scale 2); ``desktop`` one at 1280×800. Each test gets its own
context, so its own cookies (a new ``loive_web`` identity) and storage.
``screenshot(page, name)`` writes ``reports/<name>.png``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LOIVE_TEST_CHROMIUM", "/usr/bin/chromium")
REPORTS = Path(__file__).resolve().parent.parent.parent / "reports"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1}


def _chromium() -> str:
    path = shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
    if path is None:
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser` (Debian package chromium), "
                    "or set LOIVE_TEST_CHROMIUM", pytrace=False)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless Chromium per test module (Playwright's sync API). While it
    runs, Playwright's event loop counts as running in the main thread, so
    ``asyncio.run()`` fails there: module scope keeps that inside the modules
    that use a browser (put tests that need ``asyncio.run()`` elsewhere)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
        chromium = pw.chromium.launch(executable_path=_chromium(), headless=True,
                                      args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser, options: dict) -> Iterator:  # noqa: ANN001
    context = browser.new_context(**options)
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone(browser) -> Iterator:  # noqa: ANN001
    """A new page in a new context at phone size (390×844, touch)."""
    yield from _page(browser, PHONE)


@pytest.fixture
def desktop(browser) -> Iterator:  # noqa: ANN001
    """A new page in a new context at desktop size (1280×800)."""
    yield from _page(browser, DESKTOP)


def screenshot(page, name: str) -> Path:  # noqa: ANN001
    """Write ``reports/<name>.png`` (git-ignored) and return its path."""
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
