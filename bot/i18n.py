"""Every user-facing string of the gateway and the actions comes from here.

Message ids are English; the catalogs under ``bot/locale`` translate them to
Vietnamese (the default locale) and English. ``make catalogs`` compiles the
``.po`` files; the run and test commands do that first.

Money and dates are formatted with Babel for the user's locale
(``vi`` → ``100.000.000 ₫``, ``01/06/2025``).
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date as _babel_format_date
from babel.numbers import format_currency

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT_LOCALE = "vi"
SUPPORTED_LOCALES = ("vi", "en")
_BABEL_LOCALES = {"vi": "vi_VN", "en": "en_US"}
_DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}


class CatalogMissing(RuntimeError):
    pass


def normalize_locale(locale: str | None) -> str:
    """Map 'vi_VN', 'en-US', None … to a supported locale code."""
    if not locale:
        return DEFAULT_LOCALE
    code = locale.replace("-", "_").split("_")[0].lower()
    return code if code in SUPPORTED_LOCALES else DEFAULT_LOCALE


@lru_cache(maxsize=None)
def translations(locale: str) -> _gettext.GNUTranslations:
    locale = normalize_locale(locale)
    mo = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.exists():
        raise CatalogMissing(
            f"compiled catalog {mo} is missing: run `make catalogs` (the run and test commands do)"
        )
    with mo.open("rb") as fh:
        return _gettext.GNUTranslations(fh)


def gettext(message: str, locale: str | None = None) -> str:
    return translations(normalize_locale(locale)).gettext(message)


def ngettext(singular: str, plural: str, n: int, locale: str | None = None) -> str:
    return translations(normalize_locale(locale)).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def format_money(amount: int | Decimal, locale: str | None = None) -> str:
    """``100000000`` → ``100.000.000 ₫`` (vi)."""
    loc = _BABEL_LOCALES[normalize_locale(locale)]
    return format_currency(amount, "VND", locale=loc)


def format_date(value: dt.date, locale: str | None = None) -> str:
    """``date(2025, 6, 1)`` → ``01/06/2025`` (vi)."""
    code = normalize_locale(locale)
    return _babel_format_date(value, _DATE_PATTERNS[code], locale=_BABEL_LOCALES[code])
