"""Catalogs are complete and current; money and dates follow vi_VN."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from babel.messages.pofile import read_po

from bot import PROJECT_ROOT
from bot.i18n import LOCALE_DIR, format_date, format_money, gettext, normalize_locale


def test_money_and_dates_in_vietnamese_format():
    assert format_money(100_000_000) == "100.000.000\u00a0₫"
    assert format_money(4_000_000, "vi_VN") == "4.000.000\u00a0₫"
    assert format_date(dt.date(2025, 6, 1)) == "01/06/2025"
    assert format_date(dt.date(2025, 6, 1), "en") == "1 Jun 2025"


def test_locale_normalisation():
    assert normalize_locale(None) == "vi"
    assert normalize_locale("en-US") == "en"
    assert normalize_locale("fr") == "vi"


def test_vietnamese_is_the_default_translation():
    assert gettext("Loans") == "Vay vốn"
    assert gettext("Loans", "en") == "Loans"


def _catalog(locale: str):
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=locale)


def test_catalogs_are_complete_and_match_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_",
         "--no-location", "-o", str(pot), "."],
        cwd=PROJECT_ROOT, check=True, capture_output=True,
    )
    with open(pot, "rb") as fh:
        in_code = {m.id for m in read_po(fh) if m.id}
    assert in_code, "extraction found no strings"
    for locale in ("vi", "en"):
        cat = _catalog(locale)
        ids = {m.id for m in cat if m.id}
        assert in_code - ids == set(), f"{locale}: strings in code but not in the catalog (make extract)"
        untranslated = [m.id for m in cat if m.id and (not m.string or m.fuzzy)]
        assert untranslated == [], f"{locale}: untranslated or fuzzy entries"


def test_vietnamese_catalog_is_actually_vietnamese():
    cat = _catalog("vi")
    same = [m.id for m in cat if m.id and m.string == m.id]
    assert same == []
