"""English messages on the English page (locale ``en``).

The NLU model is trained on Vietnamese. An English message that names a topic
(data/normalization/english.yml) reaches Rasa as that topic's intent payload
("/ask_loan"), so it is understood; the replies are English through the
catalogs. A message with a crisis phrase (data/normalization/crisis.yml has
English ones), a button payload, or no known phrase passes unchanged: the
model's crisis override sees the words as typed.
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from bot import PROJECT_ROOT
from vietnamese.crisis import CrisisLexicon

ENGLISH_FILE = PROJECT_ROOT / "data" / "normalization" / "english.yml"


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", text.lower().replace("'", "").replace("\u2019", "")))


@lru_cache(maxsize=1)
def _table() -> tuple[dict[tuple[str, ...], str], list[tuple[tuple[str, ...], str, int]]]:
    doc = yaml.safe_load(ENGLISH_FILE.read_text(encoding="utf-8")) or {}
    whole = {_words(p): intent for intent, ps in (doc.get("whole_message") or {}).items() for p in ps}
    phrases = [(_words(p), intent, rank) for rank, (intent, ps) in enumerate((doc.get("phrases") or {}).items())
               for p in ps]
    return whole, phrases


@lru_cache(maxsize=1)
def _crisis() -> CrisisLexicon:
    return CrisisLexicon.load()


def english_intent(text: str) -> str | None:
    """The intent an English message names, or None (crisis, payloads, nothing known)."""
    if not text or text.lstrip().startswith("/") or _crisis().matches(text):
        return None
    words = _words(text)
    whole, phrases = _table()
    if words in whole:
        return whole[words]
    found = [(len(p), -rank, intent) for p, intent, rank in phrases
             if any(words[i:i + len(p)] == p for i in range(len(words) - len(p) + 1))]
    return max(found)[2] if found else None


@lru_cache(maxsize=1)
def _units() -> tuple[tuple[re.Pattern[str], str], ...]:
    doc = yaml.safe_load(ENGLISH_FILE.read_text(encoding="utf-8")) or {}
    return tuple((re.compile(rf"(\d+)\s*(?:{'|'.join(map(re.escape, sorted(words, key=len, reverse=True)))})\b",
                             re.I), unit) for unit, words in (doc.get("units") or {}).items())


_MONTHS = {m: i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"), start=1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH_RE = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY_RE = r"(?P<d>\d{1,2})(?:st|nd|rd|th)?"
_ENGLISH_DATES = (
    re.compile(rf"\b{_DAY_RE}\s+(?:of\s+)?{_MONTH_RE}\s*,?\s+(?P<y>\d{{4}})\b", re.I),   # 1 June 2023
    re.compile(rf"\b{_MONTH_RE}\s+{_DAY_RE}\s*,?\s+(?P<y>\d{{4}})\b", re.I),               # June 1, 2023
    re.compile(rf"\b(?:in\s+)?{_MONTH_RE}\s+(?:of\s+)?(?P<y>\d{{4}})\b", re.I),               # June 2023
)
# Topics whose answers compute from a person's facts: their words go with the rewritten text.
_FACT_TOPICS = {"ask_expungement": "xóa án tích", "ask_loan": "vay vốn"}


def _english_dates(text: str) -> str:
    def day(m: re.Match[str]) -> str:
        return f"{int(m['d']):02d}/{_MONTHS[m['mon'].lower()]:02d}/{m['y']}"

    def month(m: re.Match[str]) -> str:
        return f"tháng {_MONTHS[m['mon'].lower()]}/{m['y']}"

    text = _ENGLISH_DATES[0].sub(day, text)
    text = _ENGLISH_DATES[1].sub(day, text)
    return _ENGLISH_DATES[2].sub(month, text)


@lru_cache(maxsize=1)
def _fact_phrases() -> tuple[tuple[re.Pattern[str], str], ...]:
    doc = yaml.safe_load(ENGLISH_FILE.read_text(encoding="utf-8")) or {}
    pairs = [(phrase, vi) for vi, phrases in (doc.get("facts") or {}).items() for phrase in phrases]
    pairs.sort(key=lambda p: len(p[0]), reverse=True)
    return tuple((re.compile(r"(?<![\w-])" + r"\s+".join(map(re.escape, p.split())) + r"(?![\w-])", re.I), vi)
                 for p, vi in pairs)


def facts_as_vietnamese(text: str) -> str:
    """The message with the facts of a story in the Vietnamese words the extractors read
    (units of time, dates with English month names, sentences, release, amounts, purposes)."""
    for pattern, unit in _units():
        text = pattern.sub(rf"\1 {unit}", text)
    text = _english_dates(text)
    for pattern, vi in _fact_phrases():
        text = pattern.sub(vi, text)
    return text


def _has_facts(text: str) -> bool:
    from vietnamese.clock import today_in_vietnam
    from vietnamese.entities import extract

    found = extract(text, today_in_vietnam())
    kinds = {e.entity for e in found}
    purposes = re.search(r"chăn nuôi|kinh doanh|học nghề", text)
    return bool(kinds & {"date", "money", "penalty_type"}) or bool(purposes)


def as_english_text(text: str) -> str:
    """What Rasa gets for an English message: a topic's payload; or, when it tells the
    facts of a case ("sentenced to 3 years in prison, released on 1 June 2023", "to raise
    pigs"), the text with those facts in Vietnamese words and its topic's words, so that
    the calculators answer it; else the text as typed with English units of time in the
    words the model reads."""
    if not text or text.lstrip().startswith("/"):
        return text
    intent = english_intent(text)
    rewritten = facts_as_vietnamese(text)
    if intent in (*_FACT_TOPICS, None) and not _crisis().matches(text) and _has_facts(rewritten):
        topic = _FACT_TOPICS.get(intent or "")
        if topic is None and re.search(r"\btriệu\b", rewritten):
            topic = _FACT_TOPICS["ask_loan"]  # an amount is about a loan; a purpose alone ("to raise pigs")
            # is left as it is: right after a loan answer it answers "what for?" (actions/loans.py)
        return f"{rewritten} {topic}" if topic else rewritten
    if intent:
        return f"/{intent}"
    for pattern, unit in _units():
        text = pattern.sub(rf"\1 {unit}", text)
    return text
