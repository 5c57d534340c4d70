"""Choose the question a message asks among hand-written ways of asking each one.

Pure Python, shared by the Rasa component (``nlu.components.QuestionRetriever``)
and the evaluation: TF-IDF over the folded view of the text (diacritics off,
abbreviations and teencode expanded, as ``FoldedCountVectorsFeaturizer`` sees
it), word unigrams and bigrams plus character n-grams inside words, and cosine
similarity to every example. A question's score blends its nearest example
and the centroid of its examples; the confidence is that score, and the margin
is the gap to the next question (README "Question-level answers" says how the
weights and thresholds were chosen: on the training examples, never on the
held-out set).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vietnamese import text as vtext

_WORD = re.compile(r"[0-9a-z]+")


@dataclass(frozen=True)
class Settings:
    char_min: int = 2
    char_max: int = 4
    bigrams: bool = True
    # Score = nearest * (1 - centroid_weight) + centroid * centroid_weight.
    centroid_weight: float = 0.3


class QuestionIndex:
    def __init__(self, examples: Mapping[str, Iterable[str]],
                 abbreviations: vtext.Abbreviations | None = None,
                 settings: Settings = Settings()) -> None:
        self._abbr = abbreviations
        self.settings = settings
        docs: list[tuple[str, Counter[str]]] = [
            (qid, self._features(x)) for qid, xs in examples.items() for x in xs
        ]
        df: Counter[str] = Counter()
        for _, feats in docs:
            df.update(feats.keys())
        n = len(docs) or 1
        self._idf = {f: math.log((1 + n) / (1 + c)) + 1.0 for f, c in df.items()}
        self._rows: list[tuple[str, dict[str, float]]] = [(qid, self._vector(f)) for qid, f in docs]
        sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for qid, vec in self._rows:
            for f, w in vec.items():
                sums[qid][f] += w
        self._centroids = {qid: _unit(dict(v)) for qid, v in sums.items()}
        # Inverted index: feature -> [(row, weight)], so a query touches only rows sharing a feature.
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, (_, vec) in enumerate(self._rows):
            for f, w in vec.items():
                self._postings[f].append((i, w))
        self.ids = sorted(examples)

    def folded(self, text: str) -> str:
        t = vtext.normalize(text)
        if self._abbr is not None:
            t = self._abbr.expand(t)
        return " ".join(_WORD.findall(vtext.fold(t)))

    def _features(self, text: str) -> Counter[str]:
        s = self.settings
        words = self.folded(text).split()
        feats: Counter[str] = Counter(f"w:{w}" for w in words)
        if s.bigrams:
            feats.update(f"b:{a}_{b}" for a, b in zip(words, words[1:]))
        for w in words:
            padded = f"<{w}>"
            for n in range(s.char_min, s.char_max + 1):
                feats.update(f"c:{padded[i:i + n]}" for i in range(max(1, len(padded) - n + 1)))
        return feats

    def _vector(self, feats: Counter[str]) -> dict[str, float]:
        vec = {f: (1.0 + math.log(c)) * self._idf[f] for f, c in feats.items() if f in self._idf}
        return _unit(vec)

    def rank(self, text: str, among: Iterable[str] | None = None) -> list[tuple[str, float]]:
        """Questions by score, best first (only ``among`` when given)."""
        q = self._vector(self._features(text))
        if not q:
            return []
        allowed = set(among) if among is not None else None
        nearest: dict[str, float] = {}
        sims: dict[int, float] = defaultdict(float)
        for f, w in q.items():
            for i, rw in self._postings.get(f, ()):
                sims[i] += w * rw
        for i, sim in sims.items():
            qid = self._rows[i][0]
            if allowed is not None and qid not in allowed:
                continue
            if sim > nearest.get(qid, 0.0):
                nearest[qid] = sim
        cw = self.settings.centroid_weight
        scored = []
        for qid, near in nearest.items():
            cen = self._centroids[qid]
            c = sum(w * cen.get(f, 0.0) for f, w in q.items())
            scored.append((qid, near * (1 - cw) + c * cw))
        scored.sort(key=lambda p: (-p[1], p[0]))
        return scored


def _unit(vec: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vec.values()))
    return {f: w / norm for f, w in vec.items()} if norm else {}
