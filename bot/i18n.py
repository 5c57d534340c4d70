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


# Texts written in Vietnamese in data files carry a context in the catalogs:
# knowledge answers, their citations and offices (data/knowledge/*.yml) and the
# Rasa responses (domain.yml). Their msgid is the Vietnamese text; the vi
# catalog keeps it, the en catalog translates it (bot/i18n_extract.py).
KNOWLEDGE_CONTEXT = "knowledge"
DOMAIN_CONTEXT = "domain"


def pgettext(context: str, message: str, locale: str | None = None) -> str:
    return translations(normalize_locale(locale)).pgettext(context, message)


def knowledge_text(text: str, locale: str | None = None) -> str:
    """A Vietnamese text from data/knowledge in the reader's language."""
    return pgettext(KNOWLEDGE_CONTEXT, text, locale) if text else text


def ngettext(singular: str, plural: str, n: int, locale: str | None = None) -> str:
    return translations(normalize_locale(locale)).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark a string with a context (``pgettext``) for extraction (``make extract``: -k NP_:1c,2)."""
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


def format_rate(value: str | Decimal, locale: str | None = None, monthly: bool = False) -> str:
    """``"6.24"`` → ``6,24%/năm`` (vi): a yearly interest rate; with ``monthly`` also the monthly
    figure people and bank notices often use (the yearly one divided by 12): ``6,24%/năm
    (0,52%/tháng)``. The knowledge answers and the loan calculator say both ("lãi suất bao nhiêu
    một tháng" is asked as often as by the year; the calculator's first bubble makes room by the
    steps of actions.loans.short_result)."""
    babel_locale = _BABEL_LOCALES[normalize_locale(locale)]
    yearly = Decimal(str(value))
    if not monthly:
        return gettext("%(rate)s%% a year", locale) % {"rate": format_decimal(yearly, locale=babel_locale)}
    per_month = (yearly / 12).quantize(Decimal("0.001")).normalize()
    return gettext("%(rate)s%% a year (%(monthly)s%% a month)", locale) % {
        "rate": format_decimal(yearly, locale=babel_locale),
        "monthly": format_decimal(per_month, locale=babel_locale)}


# --- knowledge answers ---------------------------------------------------------


# The English templates say a period "in working days" after it ("{period:idcard.days} (working days)",
# the Vietnamese "7 ngày làm việc"); filled, it reads as English writes it: "7 working days".
_WORKING_DAYS = re.compile(r"\b(\d+) days? \(working days\)")


def formatters(locale: str) -> Formatters:
    english = normalize_locale(locale) == "en"
    return Formatters(
        money=lambda v: format_money(v, locale),
        date=lambda v: format_date(v, locale),
        period=lambda v: format_period(v, locale),
        rate=lambda v: format_rate(v, locale, monthly=True),
        translate=lambda text: knowledge_text(text, locale),
        finish=(lambda text: _WORKING_DAYS.sub(r"\1 working days", text)) if english else None,
    )


def caution_text(confirm_with: str, locale: str) -> str:
    """The caution of an answer not fully verified (``confirm_with`` already in the locale)."""
    return gettext("Some of this is not fully verified: please confirm with %(office)s.", locale) % {
        "office": confirm_with}


def citation_line(citation: str, locale: str) -> str:
    return gettext("Based on: %(citation)s", locale) % {"citation": citation}


def answer_text(answer: Answer, locale: str) -> str:
    """The answer, a caution if any part is unverified, and the citation line."""
    parts = [answer.text]
    if not answer.verified:
        parts.append(gettext("Some of this is not fully verified: please confirm with %(office)s.", locale)
                     % {"office": answer.confirm_with})
    parts.append(gettext("Based on: %(citation)s", locale) % {"citation": answer.citation})
    return "\n".join(parts)


# --- Rasa responses -------------------------------------------------------------
# Rasa fills its responses (domain.yml) in Vietnamese; on an English page the
# gateway translates each reply through the catalogs ("domain" context). A
# response with {slot} placeholders is matched as a pattern and its values are
# carried over.

_SLOT = re.compile(r"\{([A-Za-z0-9_]+)\}")


@lru_cache(maxsize=1)
def _domain_texts() -> tuple[dict[str, str], tuple[tuple[re.Pattern[str], str], ...]]:
    import yaml  # only the gateway needs this table

    from bot import PROJECT_ROOT

    doc = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")) or {}
    exact: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    for variants in (doc.get("responses") or {}).values():
        for v in variants or []:
            for text in [v.get("text"), *(b.get("title") for b in v.get("buttons") or [])]:
                if not isinstance(text, str) or not text:
                    continue
                if _SLOT.search(text):
                    parts = _SLOT.split(text)
                    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
                    patterns.append((re.compile(f"^{regex}$", re.S), text))
                else:
                    exact[text] = text
    return exact, tuple(patterns)


def domain_text(text: str, locale: str | None) -> str:
    """A reply text (or button title) from a Rasa response in the locale; other texts unchanged."""
    if normalize_locale(locale) == DEFAULT_LOCALE or not text:
        return text
    exact, patterns = _domain_texts()
    if text in exact:
        return pgettext(DOMAIN_CONTEXT, text, locale)
    for pattern, template in patterns:
        m = pattern.match(text)
        if m:
            return pgettext(DOMAIN_CONTEXT, template, locale).format(**m.groupdict())
    return text
