"""Crisis terms (data/normalization/crisis.yml): pure Python, used by the NLU
(``nlu.components.CrisisTermsOverride``) and by anything else that reads
free text from people (check-in notes), so both agree on what is a crisis."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from vietnamese.text import Abbreviations, fold, nfc

DEFAULT_CRISIS_TERMS = Path(__file__).resolve().parent.parent / "data" / "normalization" / "crisis.yml"
# Milder distress (sadness, loneliness, hunger, eviction, relapse): same format.
DEFAULT_DISTRESS_TERMS = DEFAULT_CRISIS_TERMS.with_name("distress.yml")


@dataclass(frozen=True)
class CrisisMatch:
    category: str
    term: str


class CrisisLexicon:
    def __init__(self, terms: dict[str, list[tuple[str, bool]]], abbreviations: Abbreviations, digest: str) -> None:
        self._abbreviations = abbreviations
        self.digest = digest
        self._terms = [
            (category, phrase, _words(phrase), unaccented, [fold(w) for w in _words(phrase)])
            for category, items in terms.items()
            for phrase, unaccented in items
        ]

    @classmethod
    def load(cls, path: Path | str = DEFAULT_CRISIS_TERMS, abbreviations: Abbreviations | None = None) -> "CrisisLexicon":
        path = Path(path)
        raw = path.read_bytes()
        data = yaml.safe_load(raw) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected categories mapping to lists of phrases")
        terms: dict[str, list[tuple[str, bool]]] = {}
        for category, items in data.items():
            for i, item in enumerate(items or []):
                if isinstance(item, dict):
                    phrase, unaccented = item.get("phrase"), item.get("without_diacritics", True)
                else:
                    phrase, unaccented = item, True
                if not isinstance(phrase, str) or not phrase.strip() or not isinstance(unaccented, bool):
                    raise ValueError(f"{path}: {category}[{i}]: expected a phrase or "
                                     "{phrase: ..., without_diacritics: true|false}")
                terms.setdefault(category, []).append((nfc(phrase), unaccented))
        return cls(terms, abbreviations or Abbreviations.load(), hashlib.sha256(raw).hexdigest())

    def matches(self, text: str) -> list[CrisisMatch]:
        words = _words(self._abbreviations.expand(nfc(text)))
        # Each typed word's folded form, or None when it carries diacritics: computed once
        # per message, not once per term (the NLU runs this on every message).
        plain = [w if w == fold(w) else None for w in words]
        return [CrisisMatch(c, t) for c, t, tw, unaccented, folded in self._terms
                if _contains(words, plain, tw, folded if unaccented else None)]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", nfc(text).lower())


def _contains(words: list[str], plain: list[str | None], term: list[str], folded: list[str] | None) -> bool:
    """Whether the phrase ``term`` occurs in ``words``. A word typed with diacritics must
    match exactly ("tù từ" is not "tự tử"); a word typed without any (``plain``) matches by
    its folded form ("tu tu"), if the term allows it (``folded``: the term's folded words)."""
    n = len(term)
    return any(
        all(w == t or (folded is not None and p is not None and p == f)
            for w, p, t, f in zip(words[i : i + n], plain[i : i + n], term, folded or term))
        for i in range(len(words) - n + 1)
    )
