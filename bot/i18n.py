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
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date as _babel_format_date
from babel.numbers import format_currency, format_decimal

from bot.domain.knowledge import Answer, Formatters
from bot.domain.periods import Period

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT_LOCALE = "vi"
SUPPORTED_LOCALES = ("vi", "en")
_BABEL_LOCALES = {"vi": "vi_VN", "en": "en_US"}
_DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
_PERIOD_PARTS = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


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


def format_period(value: str | Period, locale: str | None = None) -> str:
    """A period as the law states it: ``P120M`` → ``120 tháng``, ``P5Y`` → ``5 năm``,
    ``P1Y6M`` → ``1 năm 6 tháng`` (vi). A ``Period`` is shown in years and months."""
    if isinstance(value, str):
        Period.parse(value)  # validate
        years, months, weeks, days = (int(g) if g else 0 for g in _PERIOD_PARTS.match(value).groups())
        days += 7 * weeks
    else:
        (years, months), days = divmod(value.months, 12), value.days
    parts = []
    if years:
        parts.append(ngettext("%(n)d year", "%(n)d years", years, locale) % {"n": years})
    if months:
        parts.append(ngettext("%(n)d month", "%(n)d months", months, locale) % {"n": months})
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days, locale) % {"n": days})
    return " ".join(parts)


def format_rate(value: str | Decimal, locale: str | None = None) -> str:
    """``"6.24"`` → ``6,24%/năm`` (vi): a yearly interest rate."""
    number = format_decimal(Decimal(str(value)), locale=_BABEL_LOCALES[normalize_locale(locale)])
    return gettext("%(rate)s%% a year", locale) % {"rate": number}


# --- knowledge answers ---------------------------------------------------------


def formatters(locale: str) -> Formatters:
    return Formatters(
        money=lambda v: format_money(v, locale),
        date=lambda v: format_date(v, locale),
        period=lambda v: format_period(v, locale),
        rate=lambda v: format_rate(v, locale),
    )


def answer_text(answer: Answer, locale: str) -> str:
    """The answer, a caution if any part is unverified, and the citation line."""
    parts = [answer.text]
    if not answer.verified:
        parts.append(gettext("Some of this is not fully verified: please confirm with %(office)s.", locale)
                     % {"office": answer.confirm_with})
    parts.append(gettext("Based on: %(citation)s", locale) % {"citation": answer.citation})
    return "\n".join(parts)
