"""When is a criminal record cleared (xóa án tích)? Pure rules, BLHS 2015
(amended 2017) Điều 69–73 and 107, with every period, age and fraction read from
the knowledge base (data/knowledge/expungement.yml) for the day asked.

Unknown inputs are reported in ``Result.missing`` (ask for them), never guessed.
Day counting (``bot.domain.periods``): the period starts the day after the
penalty was completed and ends at the end of the corresponding day; the record
is cleared from the next day. Basis: BLDS 2015 Điều 147–148 by analogy
(knowledge entry ``expungement.counting_rule``, unverified).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

from bot.domain.knowledge import KnowledgeBase
from bot.domain.periods import Period, period_end

PENALTIES = ("warning", "fine", "non_custodial", "suspended", "prison", "life", "death_commuted")

# What to ask, in this order, when unknown.
ASK_ORDER = (
    "penalty", "prison_term", "completed_on", "age_at_offence", "minor_serious",
    "special_chapter", "supplementary_until", "other_decisions_done", "new_crime",
    "new_penalty", "new_prison_term", "new_completed_on",
)


class InvalidInput(ValueError):
    """An input that cannot be right (a future date, an impossible term)."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class Case:
    penalty: str | None = None              # one of PENALTIES
    prison_term: Period | None = None       # for prison
    completed_on: dt.date | None = None     # main penalty served, or probation (án treo) ended
    age_at_offence: int | None = None
    minor_serious: bool | None = None       # 16–17: "rất nghiêm trọng do cố ý" or "đặc biệt nghiêm trọng"
    special_chapter: bool | None = None     # Chương XIII / XXVI crimes → court route
    supplementary_until: dt.date | None = None  # supplementary penalty served until…
    no_supplementary: bool | None = None    # True: there was none (or it is served)
    other_decisions_done: bool | None = None    # compensation, court fees, fines paid
    new_crime: bool | None = None           # convicted again before the record was cleared
    new_penalty: str | None = None
    new_prison_term: Period | None = None
    new_completed_on: dt.date | None = None
    merit: bool = False                     # Điều 72: clear progress and "lập công"


@dataclass
class Result:
    route: str                              # "need_info" | "no_record" | "automatic" | "court" | "not_yet"
    date: dt.date | None = None             # cleared from (automatic) / may apply from (court)
    period_end: dt.date | None = None       # the waiting period's last day
    wait: Period | None = None
    early_date: dt.date | None = None       # Điều 72: may apply from (one third of the period)
    missing: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)   # conditions still unmet
    facts: list[str] = field(default_factory=list)      # knowledge ids used (for citations)
    notes: list[str] = field(default_factory=list)

    @property
    def cleared(self) -> bool:
        return self.route == "no_record"


def _wait(kb: KnowledgeBase, table_id: str, penalty: str, term: Period | None, on: dt.date) -> Period:
    for row in kb.value(table_id, on):
        if penalty not in row["penalties"]:
            continue
        if "term_max" in row:
            if term is None or term > Period.parse(row["term_max"]):
                continue
        return Period.parse(row["wait"])
    raise InvalidInput("penalty", f"no waiting period for {penalty!r} in {table_id}")


def _check_term(kb: KnowledgeBase, name: str, term: Period | None, on: dt.date) -> None:
    if term is None:
        return
    [limits] = kb.value("blhs.prison_term_limits", on)
    if term < Period.parse(limits["min"]) or term > Period.parse(limits["max"]):
        raise InvalidInput(name, "a prison term must be between "
                                 f"{limits['min']} and {limits['max']}")


def calculate(case: Case, kb: KnowledgeBase, today: dt.date) -> Result:
    facts: list[str] = []

    def need(*names: str) -> Result:
        return Result("need_info", missing=[n for n in ASK_ORDER if n in names], facts=facts)

    # 1. What we must know before anything else.
    missing = []
    if case.penalty is None:
        missing.append("penalty")
    elif case.penalty not in PENALTIES:
        raise InvalidInput("penalty", f"unknown penalty {case.penalty!r}")
    if case.penalty == "prison" and case.prison_term is None:
        missing.append("prison_term")
    if case.completed_on is None:
        missing.append("completed_on")
    if case.age_at_offence is None:
        missing.append("age_at_offence")
    if missing:
        return need(*missing)
    assert case.penalty and case.completed_on and case.age_at_offence is not None
    _check_term(kb, "prison_term", case.prison_term, today)
    if case.completed_on > today:
        raise InvalidInput("completed_on", "the date is in the future")
    if not 0 < case.age_at_offence < 120:
        raise InvalidInput("age_at_offence", "not a possible age")

    # 2. People who never have a record (Điều 107 khoản 1).
    no_record_below = kb.value("blhs.d107.no_record_below_age", today)
    adult = kb.value("blhs.adult_age", today)
    if case.age_at_offence < no_record_below:
        facts.append("blhs.d107.no_record_below_age")
        return Result("no_record", facts=facts)
    minor = case.age_at_offence < adult
    if minor and case.minor_serious is None:
        return need("minor_serious")
    if minor and not case.minor_serious:
        facts.append("blhs.d107.no_record_below_age")
        return Result("no_record", facts=facts, notes=["minor_not_serious"])

    # 3. Route and waiting period.
    if minor:
        table, route = "blhs.d107.periods", "automatic"
    else:
        if case.special_chapter is None:
            return need("special_chapter")
        table, route = ("blhs.d71.periods", "court") if case.special_chapter else ("blhs.d70.periods", "automatic")
    facts.append(table)
    wait = _wait(kb, table, case.penalty, case.prison_term, today)
    start = case.completed_on
    notes: list[str] = []

    # 4. A new crime before clearing restarts the period from the new penalty (Điều 73 khoản 2).
    if case.new_crime is None:
        return need("new_crime")
    if case.new_crime:
        missing = [n for n, v in (("new_penalty", case.new_penalty), ("new_completed_on", case.new_completed_on))
                   if v is None]
        if case.new_penalty == "prison" and case.new_prison_term is None:
            missing.append("new_prison_term")
        if missing:
            return need(*missing)
        assert case.new_penalty and case.new_completed_on
        if case.new_penalty not in PENALTIES:
            raise InvalidInput("new_penalty", f"unknown penalty {case.new_penalty!r}")
        _check_term(kb, "new_prison_term", case.new_prison_term, today)
        if case.new_completed_on > today:
            raise InvalidInput("new_completed_on", "the date is in the future")
        if case.new_completed_on < case.completed_on:
            raise InvalidInput("new_completed_on", "before the first penalty was completed")
        wait = max(wait, _wait(kb, table, case.new_penalty, case.new_prison_term, today))
        start = case.new_completed_on
        notes.append("restarted_by_new_crime")

    end = period_end(start, wait)
    cleared_from = end + dt.timedelta(days=1)

    # 5. Supplementary penalties and the judgment's other decisions (Điều 70 khoản 2, 1).
    if case.no_supplementary is None and case.supplementary_until is None:
        return need("supplementary_until")
    blocking: list[str] = []
    if case.supplementary_until is not None:
        if case.supplementary_until > today:
            blocking.append("supplementary_running")
        if case.supplementary_until > end:
            cleared_from = case.supplementary_until + dt.timedelta(days=1)
            notes.append("supplementary_longer")
    if case.other_decisions_done is None:
        return need("other_decisions_done")
    if not case.other_decisions_done:
        blocking.append("other_decisions_unpaid")

    result = Result(route, date=cleared_from, period_end=end, wait=wait, blocking=blocking,
                    facts=facts, notes=notes)
    if route == "court":
        result.notes.append("apply_to_court")
    if case.merit:
        fraction = Fraction(kb.value("blhs.d72.fraction", today))
        facts.append("blhs.d72.fraction")
        result.early_date = period_end(start, wait.scaled(fraction)) + dt.timedelta(days=1)
    if blocking and "other_decisions_unpaid" in blocking:
        result.route = "not_yet"
        result.date = None  # cleared only once paid: when exactly is unverified
    return result
