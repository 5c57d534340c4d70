"""The Criminal Code as data: the articles table (data/knowledge/blhs_articles.yml),
the severity classes of Điều 9 and the chapters whose records are cleared by
the court (Điều 71). Pure functions; no figure is written here.

A clause's severity comes from the maximum penalty of that clause (Điều 9
khoản 1): ``fine``/``non_custodial``/``warning`` or a prison maximum compared
with the ``blhs.d9.classes`` thresholds; ``life``/``death`` are the top class.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.knowledge import KnowledgeBase
from bot.domain.periods import Period

SEVERITIES = ("less_serious", "serious", "very_serious", "especially_serious")
INTENTS = ("intentional", "negligent")
NON_PRISON_MAXIMA = ("warning", "fine", "non_custodial")
TOP_MAXIMA = ("life", "death")


@dataclass(frozen=True)
class Article:
    number: str
    title: str
    chapter: str
    intent: str
    clauses: dict[str, str]          # clause number → maximum ("P5Y", "non_custodial", "life"…)
    fact_id: str
    verified: bool


def article(kb: KnowledgeBase, number: str | int | None, on: dt.date) -> Article | None:
    """The article from the table, or None when it is not in the table."""
    if number is None:
        return None
    fact_id = f"blhs.article.{str(number).strip().lower()}"
    try:
        f = kb.fact(fact_id, on)
    except KeyError:
        return None
    v = f.value
    return Article(str(number), v["title"], str(v["chapter"]), v["intent"],
                   {str(k): str(m) for k, m in v["clauses"].items()}, fact_id, f.verified)


def severity_of_maximum(kb: KnowledgeBase, maximum: str, on: dt.date) -> str:
    """Điều 9 khoản 1: the class of a clause from its maximum penalty."""
    if maximum in TOP_MAXIMA:
        return SEVERITIES[-1]
    if maximum in NON_PRISON_MAXIMA:
        return SEVERITIES[0]
    term = Period.parse(maximum)
    for row in kb.value("blhs.d9.classes", on):
        if "prison_max" not in row or term <= Period.parse(row["prison_max"]):
            return row["class"]
    raise ValueError(f"no class for {maximum!r}")


def is_court_chapter(kb: KnowledgeBase, chapter: str, on: dt.date) -> bool:
    return chapter in kb.value("blhs.d71.chapters", on)


def in_court_chapter(kb: KnowledgeBase, number: str | int | None, on: dt.date) -> bool:
    """Whether an article number falls in a chapter whose records the court clears
    (Điều 71: the chapters' first and last articles, from the knowledge data), even
    when the article itself is not in the table."""
    try:
        n = int(str(number).strip())
    except (TypeError, ValueError):
        return False
    chapters = (kb.value(f"blhs.chapter.{ch}", on) for ch in kb.value("blhs.d71.chapters", on))
    return any(ch["first"] <= n <= ch["last"] for ch in chapters)


def possible_severities(kb: KnowledgeBase, art: Article, clause: str | None, term: Period | None,
                        on: dt.date) -> set[str]:
    """The classes the crime may have: the clause's when it is known; otherwise
    those of every clause whose maximum is not below the sentence pronounced
    (a court cannot pronounce more than the clause's maximum for one crime)."""
    if clause is not None and clause in art.clauses:
        return {severity_of_maximum(kb, art.clauses[clause], on)}
    out = set()
    for maximum in art.clauses.values():
        if term is not None and maximum not in TOP_MAXIMA:
            if maximum in NON_PRISON_MAXIMA or Period.parse(maximum) < term:
                continue
        out.add(severity_of_maximum(kb, maximum, on))
    return out or {severity_of_maximum(kb, m, on) for m in art.clauses.values()}
