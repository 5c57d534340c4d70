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
            (category, phrase, _words(phrase), unaccented)
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
        return [CrisisMatch(c, t) for c, t, tw, unaccented in self._terms if _contains(words, tw, unaccented)]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", nfc(text).lower())


def _same_word(typed: str, term: str, unaccented: bool) -> bool:
    """A word typed with diacritics must match exactly ("tù từ" is not "tự tử");
    a word typed without any matches by its folded form ("tu tu"), if allowed."""
    return typed == term or (unaccented and typed == fold(typed) and typed == fold(term))


def _contains(words: list[str], term: list[str], unaccented: bool) -> bool:
    n = len(term)
    return any(
        all(_same_word(w, t, unaccented) for w, t in zip(words[i : i + n], term))
        for i in range(len(words) - n + 1)
    )
