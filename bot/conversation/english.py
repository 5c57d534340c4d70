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


def as_english_text(text: str) -> str:
    """What Rasa gets for an English message: a topic's payload, or the text as
    typed with English units of time in the words the model reads."""
    intent = english_intent(text)
    if intent:
        return f"/{intent}"
    if text.lstrip().startswith("/"):
        return text
    for pattern, unit in _units():
        text = pattern.sub(rf"\1 {unit}", text)
    return text
