"""When is a criminal record cleared (xóa án tích)? Pure rules, BLHS 2015
(amended 2017) Điều 69–73 and 107, over a person's whole list of convictions,
with every period, age, class and fraction read from the knowledge base
(data/knowledge/expungement.yml, blhs_articles.yml) for the day asked.

- ``Conviction``: one judgment (age at the offence, article/clause when known,
  the main penalty as pronounced, its completion, supplementary penalties,
  the judgment's other decisions).
- ``assess(convictions, kb, today)``: the answer for the whole list.
- ``Case`` / ``calculate``: the conversation's shape (a first conviction and
  at most one new one), turned into a list and assessed.

Rules, in order:
1. No record at all (Điều 69 khoản 2): miễn hình phạt; a negligent crime that
   is ít nghiêm trọng or nghiêm trọng. Điều 107 khoản 1: offences at 14–15;
   at 16–17 unless rất nghiêm trọng do cố ý or đặc biệt nghiêm trọng.
2. Every other conviction has a waiting period: Điều 107 khoản 2 when the
   offence was committed under 18 (only "no new crime" is required), else
   Điều 70 (automatic) or Điều 71 (court, Chương XIII/XXVI crimes).
3. A later conviction (committed before the earlier record was cleared)
   restarts the earlier periods from the completion of the new main penalty
   (Điều 73 khoản 2); the records then clear together, at the longest period.
   Mixed Điều 70/71 records go to the court with Điều 71 periods (khoản 3).
4. Adult convictions also need the supplementary penalties and the other
   decisions of the judgment completed; a longer supplementary penalty moves
   the date to its end.
5. Điều 72: one third of the period, with merit, as information.

Unknown inputs are reported in ``Result.missing`` (ask for them), never
guessed, except where a stated, cautious assumption is possible (listed in
``Result.assumptions``). Day counting (``bot.domain.periods``): the period
starts the day after completion and ends at the end of the corresponding day;
the record is cleared from the next day (BLDS Điều 147–148 by analogy,
knowledge entry ``expungement.counting_rule``, unverified).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from fractions import Fraction

from bot.domain import blhs
from bot.domain.knowledge import KnowledgeBase
from bot.domain.periods import Period, period_end

PENALTIES = ("warning", "fine", "non_custodial", "suspended", "prison", "life", "death_commuted", "exempt")
# Penalties served in the community or by probation: their completion may lie in the future.
PROBATION_PENALTIES = ("suspended",)

# What to ask, in this order, when unknown.
ASK_ORDER = (
    "penalty", "prison_term", "completed_on", "age_at_offence", "clause", "minor_serious",
    "special_chapter", "supplementary_until", "other_decisions_done", "new_crime",
    "new_penalty", "new_prison_term", "new_completed_on", "new_age_at_offence",
)


class InvalidInput(ValueError):
    """An input that cannot be right (a future date, an impossible term)."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class Conviction:
    age_at_offence: int | None = None
    penalty: str | None = None              # one of PENALTIES, as pronounced
    term: Period | None = None              # the prison term pronounced (not the time served)
    completed_on: dt.date | None = None     # prison end; end of probation (án treo, or tha tù trước thời hạn có điều kiện)
    early_release: bool = False             # conditional early release: completed_on must be the end of probation
    released_on: dt.date | None = None      # for early release: the day out of prison (not the completion)
    offence_on: dt.date | None = None       # for a later conviction: when the new crime was committed
    article: str | None = None              # BLHS article, when known
    clause: str | None = None
    intent: str | None = None               # "intentional" | "negligent", when the article is unknown
    severity: str | None = None             # Điều 9 class, when the article is unknown
    minor_serious: bool | None = None       # 16–17: "rất nghiêm trọng do cố ý" or "đặc biệt nghiêm trọng"
    special_chapter: bool | None = None     # Chương XIII / XXVI (from the article when known)
    supplementary_until: dt.date | None = None  # supplementary penalty served until…
    no_supplementary: bool | None = None    # True: there was none (or it is served)
    other_decisions_done: bool | None = None    # compensation, court fees, fines paid


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
    assumptions: list[str] = field(default_factory=list)
    no_record_reasons: list[str] = field(default_factory=list)  # why convictions left no record

    @property
    def cleared(self) -> bool:
        return self.route == "no_record"


class _Need(Exception):
    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


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


@dataclass
class _Assessed:
    conviction: Conviction
    record: bool
    reason: str = ""                        # why no record
    table: str = ""                         # waiting-period table
    court: bool = False
    minor: bool = False


def _classify(c: Conviction, kb: KnowledgeBase, today: dt.date, facts: list[str],
              assumptions: list[str], prefix: str = "") -> _Assessed:
    """Does this conviction leave a record, and under which rules?"""
    name = (lambda n: f"{prefix}{n}")
    if c.penalty == "exempt":
        facts.append("blhs.d69.no_record")
        return _Assessed(c, False, "exempt")
    no_record_below = kb.value("blhs.d107.no_record_below_age", today)
    adult_age = kb.value("blhs.adult_age", today)
    # The age is unknown only when Điều 69 khoản 2 clears the conviction at any age (_validate).
    age = c.age_at_offence
    if age is not None and age < no_record_below:
        facts.append("blhs.d107.no_record_below_age")
        return _Assessed(c, False, "minor_under_16")
    minor = age is not None and age < adult_age

    art = blhs.article(kb, c.article, today)
    intent, severities = c.intent, {c.severity} if c.severity else set()
    special = c.special_chapter
    if art is not None:
        facts.append(art.fact_id)
        intent = art.intent
        severities = blhs.possible_severities(kb, art, c.clause, c.term, today)
        facts.append("blhs.d9.classes")
        special = blhs.is_court_chapter(kb, art.chapter, today)
        facts.append("blhs.d71.chapters")

    # Điều 69 khoản 2: a negligent crime that is ít nghiêm trọng / nghiêm trọng leaves no record.
    light = _light_negligent_classes(kb, today)
    if intent == "negligent" and not severities:
        # The article is unknown: a pronounced term above a class's maximum rules that class out.
        if c.term is not None:
            for row in kb.value("blhs.d9.classes", today):
                if "prison_max" not in row or c.term <= Period.parse(row["prison_max"]):
                    severities.add(row["class"])
            facts.append("blhs.d9.classes")
        if not severities or severities & light:
            assumptions.append("negligent_class_unknown")
            severities -= light  # cautious: a record, and the answer says when there would be none
    if intent == "negligent" and severities:
        if severities <= light:
            facts.append("blhs.d69.no_record")
            return _Assessed(c, False, "negligent_light")
        if severities & light:
            if c.clause is None and art is not None and not prefix:
                raise _Need([name("clause")])
            assumptions.append("heaviest_clause")  # assume the heavier clause: a record

    if minor:
        # Điều 107 khoản 1: 16–17 leave a record only for rất nghiêm trọng cố ý / đặc biệt nghiêm trọng.
        if severities:
            heavy = {s for s in severities
                     if s == "especially_serious" or (s == "very_serious" and intent != "negligent")}
            if not heavy:
                facts.append("blhs.d107.no_record_below_age")
                return _Assessed(c, False, "minor_not_serious")
            if heavy != severities and c.minor_serious is not True:
                # (the person who said the crime was "rất nghiêm trọng" needs no clause asked)
                if c.clause is None and art is not None and not prefix:
                    raise _Need([name("clause")])
                assumptions.append("heaviest_clause")
        elif c.minor_serious is None:
            if prefix:  # a later conviction: assume the cautious answer and say so
                assumptions.append("new_minor_serious")
            else:
                raise _Need([name("minor_serious")])
        elif not c.minor_serious:
            facts.append("blhs.d107.no_record_below_age")
            return _Assessed(c, False, "minor_not_serious")
        return _Assessed(c, True, table="blhs.d107.periods", minor=True)

    if intent is None and not prefix:
        assumptions.append("intentional")
    if special is None:
        raise _Need([name("special_chapter")])
    return _Assessed(c, True, table="blhs.d71.periods" if special else "blhs.d70.periods", court=bool(special))


def _light_negligent_classes(kb: KnowledgeBase, today: dt.date) -> set[str]:
    return {cls for rule in kb.value("blhs.d69.no_record", today) if rule.get("intent") == "negligent"
            for cls in rule["classes"]}


def _no_record_at_any_age(c: Conviction, kb: KnowledgeBase, today: dt.date) -> bool:
    """Điều 69 khoản 2 settles it whatever the age at the offence (the under-18
    rules only ever clear more): a known negligent article whose clause, or the
    sentence pronounced, makes it ít nghiêm trọng or nghiêm trọng. The age is
    then not asked."""
    art = blhs.article(kb, c.article, today)
    if art is None or art.intent != "negligent":
        return False
    severities = blhs.possible_severities(kb, art, c.clause, c.term, today)
    return bool(severities) and severities <= _light_negligent_classes(kb, today)


def _no_record_whenever(c: Conviction, kb: KnowledgeBase, today: dt.date) -> bool:
    """No record whatever the completion date, so the date is not asked: Điều 69 khoản 2
    at any age (a light negligent crime), or an offence before the age of Điều 107
    khoản 1 ("hồi 15 tuổi bị 3 năm tù": no record at all)."""
    young = c.age_at_offence is not None and c.age_at_offence < kb.value("blhs.d107.no_record_below_age", today)
    return young or _no_record_at_any_age(c, kb, today) or _minor_light(c, kb, today)


def _minor_light(c: Conviction, kb: KnowledgeBase, today: dt.date) -> bool:
    """Điều 107 khoản 1 from the article: an offence at 16–17 whose clause (or the sentence
    pronounced) rules out rất nghiêm trọng cố ý and đặc biệt nghiêm trọng leaves no record,
    so the date is not needed ("lúc đó 17 tuổi, trộm cắp khoản 1, 1 năm tù": no án tích)."""
    age = c.age_at_offence
    if age is None or age >= kb.value("blhs.adult_age", today):
        return False
    art = blhs.article(kb, c.article, today)
    if art is None:
        return False
    severities = blhs.possible_severities(kb, art, c.clause, c.term, today)
    heavy = {s for s in severities
             if s == "especially_serious" or (s == "very_serious" and art.intent != "negligent")}
    return bool(severities) and not heavy


def leaves_no_record(kb: KnowledgeBase, article: str | None, clause: str | None, term: Period | None,
                     today: dt.date, age_at_offence: int | None = None) -> bool:
    """Điều 69 khoản 2 from the article and clause alone: a negligent crime that is
    ít nghiêm trọng or nghiêm trọng leaves no record, so no waiting period applies
    ("khoản 1 Điều 260, 2 năm tù": no án tích at all, not "2 năm"); with the age at the
    offence, also Điều 107 khoản 1 for a 16–17-year-old's offence that is not heavy."""
    c = Conviction(article=article, clause=clause, term=term, age_at_offence=age_at_offence)
    return _no_record_at_any_age(c, kb, today) or _minor_light(c, kb, today)


def _validate(c: Conviction, kb: KnowledgeBase, today: dt.date, prefix: str) -> list[str]:
    missing: list[str] = []
    if c.penalty is None:
        missing.append(f"{prefix}penalty")
    elif c.penalty not in PENALTIES:
        raise InvalidInput(f"{prefix}penalty", f"unknown penalty {c.penalty!r}")
    if c.penalty == "prison" and c.term is None:
        missing.append(f"{prefix}prison_term")
    if c.completed_on is None and c.penalty != "exempt" and not _no_record_whenever(c, kb, today):
        missing.append(f"{prefix}completed_on")
    if c.age_at_offence is None and not _no_record_at_any_age(c, kb, today):
        missing.append(f"{prefix}age_at_offence")
    _check_term(kb, f"{prefix}prison_term", c.term, today)
    may_be_future = c.penalty in PROBATION_PENALTIES or c.early_release
    if c.completed_on and c.completed_on > today and not may_be_future:
        raise InvalidInput(f"{prefix}completed_on", "the date is in the future")
    if c.early_release and c.released_on and c.completed_on and c.completed_on < c.released_on:
        raise InvalidInput(f"{prefix}completed_on", "probation cannot end before the release")
    if c.age_at_offence is not None and c.age_at_offence < kb.value("blhs.adult_age", today) \
            and c.penalty in ("life", "death_commuted"):
        raise InvalidInput(f"{prefix}penalty", "not imposed for an offence under 18")
    if c.age_at_offence is not None and not 0 < c.age_at_offence < 120:
        raise InvalidInput(f"{prefix}age_at_offence", "not a possible age")
    if c.supplementary_until is None and c.no_supplementary is None and c.age_at_offence is not None \
            and c.age_at_offence >= kb.value("blhs.adult_age", today):
        pass  # asked later, only when the conviction leaves an adult record
    return missing


def assess(convictions: list[Conviction], kb: KnowledgeBase, today: dt.date, merit: bool = False,
           prefixes: list[str] | None = None) -> Result:
    """The record of a whole list of convictions, in the order they happened."""
    facts: list[str] = []
    assumptions: list[str] = []
    prefixes = prefixes or [""] * len(convictions)
    if not convictions:
        return Result("need_info", missing=["penalty"])

    missing: list[str] = []
    for c, p in zip(convictions, prefixes):
        missing += _validate(c, kb, today, p)
    for earlier, later, p in zip(convictions, convictions[1:], prefixes[1:]):
        if earlier.completed_on and later.completed_on and later.completed_on < earlier.completed_on:
            raise InvalidInput(f"{p}completed_on", "before the first penalty was completed")
    if missing:
        return Result("need_info", missing=_ordered(missing), facts=facts)

    try:
        assessed = [_classify(c, kb, today, facts, assumptions, p) for c, p in zip(convictions, prefixes)]
    except _Need as need:
        return Result("need_info", missing=_ordered(need.names), facts=facts)

    records = [a for a in assessed if a.record]
    reasons = [a.reason for a in assessed if not a.record]
    if not records:
        return Result("no_record", facts=_unique(facts), no_record_reasons=reasons,
                      assumptions=_unique(assumptions))

    # Chains: a later crime restarts the open earlier records (Điều 73 khoản 2) unless it was
    # committed after they were cleared; a later crime that itself leaves no record still
    # restarts them (the condition is "no new crime").
    chains: list[list[_Assessed]] = []
    for a in assessed:
        if not chains:
            if a.record:
                chains.append([a])
        elif _cleared_before(chains[-1], a, kb, today):
            if a.record:
                chains.append([a])
        else:
            chains[-1].append(a)
    chain = [a for a in chains[-1] if a.record]
    notes: list[str] = []
    if len(chains[-1]) > 1:
        notes.append("restarted_by_new_crime")
    court = any(a.court for a in chain)
    if court and not all(a.court for a in chain if not a.minor):
        notes.append("mixed_routes")
    for a in chain:
        if court and not a.minor:
            a.table = "blhs.d71.periods"
        facts.append(a.table)
    wait = max(_wait(kb, a.table, a.conviction.penalty or "", a.conviction.term, today) for a in chain)
    start = max(a.conviction.completed_on for a in chains[-1] if a.conviction.completed_on)
    end = period_end(start, wait)
    cleared_from = end + dt.timedelta(days=1)
    blocking: list[str] = []
    if start > today:
        notes.append("probation_running")

    # Adult records also need the supplementary penalties and the other decisions (Điều 70/71);
    # under-18 records only "no new crime" (Điều 107 khoản 2).
    adults = [a for a in chain if not a.minor]
    for a in adults:
        c = a.conviction
        if c.no_supplementary is None and c.supplementary_until is None:
            return Result("need_info", missing=_ordered([_prefix_of(a, assessed, prefixes) + "supplementary_until"]),
                          facts=_unique(facts))
        if c.supplementary_until is not None:
            if c.supplementary_until > today:
                blocking.append("supplementary_running")
            if c.supplementary_until + dt.timedelta(days=1) > cleared_from:
                cleared_from = c.supplementary_until + dt.timedelta(days=1)
                notes.append("supplementary_longer")
    for a in adults:
        if a.conviction.other_decisions_done is None:
            return Result("need_info", missing=_ordered([_prefix_of(a, assessed, prefixes) + "other_decisions_done"]),
                          facts=_unique(facts))
    if any(a.conviction.other_decisions_done is False for a in adults):
        blocking.append("other_decisions_unpaid")
    if any(a.minor for a in chain):
        notes.append("minor_rules")
        if any(a.conviction.other_decisions_done is False for a in chain if a.minor) and not adults:
            notes.append("minor_unpaid_does_not_block")

    result = Result("court" if court else "automatic", date=cleared_from, period_end=end, wait=wait,
                    blocking=_unique(blocking), facts=_unique(facts), notes=_unique(notes),
                    assumptions=_unique(assumptions), no_record_reasons=reasons)
    if court:
        result.notes.append("apply_to_court")
    fraction = Fraction(kb.value("blhs.d72.fraction", today))
    if (merit or cleared_from > today) and not any(a.minor for a in chain):
        result.facts.append("blhs.d72.fraction")
        result.early_date = period_end(start, wait.scaled(fraction)) + dt.timedelta(days=1)
    if "other_decisions_unpaid" in blocking:
        result.route = "not_yet"
        result.date = None  # cleared only once paid: when exactly is unverified
        result.early_date = None
    return result


def _cleared_before(chain: list[_Assessed], later: _Assessed, kb: KnowledgeBase, today: dt.date) -> bool:
    """Was the open chain cleared before the later crime was committed? Unknown → no
    (the cautious reading: the later crime restarts the earlier period)."""
    offence = later.conviction.offence_on
    if offence is None:
        return False
    records = [a for a in chain if a.record]
    wait = max(_wait(kb, a.table, a.conviction.penalty or "", a.conviction.term, today) for a in records)
    start = max(a.conviction.completed_on for a in chain if a.conviction.completed_on)
    return period_end(start, wait) < offence


def _prefix_of(a: _Assessed, assessed: list[_Assessed], prefixes: list[str]) -> str:
    return prefixes[assessed.index(a)]


def _ordered(names: list[str]) -> list[str]:
    known = [n for n in ASK_ORDER if n in names]
    return known + [n for n in names if n not in known]


def _unique(items: list[str]) -> list[str]:
    """Without repeats; the rules (Điều 69, 107, the period tables) before the articles and
    classes, so that a citation naming each document once names the rule applied."""
    def rank(fact_id: str) -> int:
        if fact_id.endswith(".periods"):
            return 0  # the waiting period applied
        return 1 if fact_id.startswith(("blhs.d69", "blhs.d107")) else 2
    return sorted(dict.fromkeys(items), key=rank)


# --- the conversation's shape ------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    penalty: str | None = None              # one of PENALTIES
    prison_term: Period | None = None       # for prison: as pronounced
    completed_on: dt.date | None = None     # main penalty served, or probation (án treo / early release) ended
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
    article: str | None = None
    clause: str | None = None
    intent: str | None = None
    early_release: bool = False
    new_age_at_offence: int | None = None   # asked only when the first offence was under 18
    new_article: str | None = None
    new_clause: str | None = None
    new_intent: str | None = None


def convictions_of(case: Case, kb: KnowledgeBase, today: dt.date) -> tuple[list[Conviction], list[str], list[str]]:
    """The case as a list of convictions, their question prefixes, and what is
    still missing to build the list."""
    first = Conviction(
        age_at_offence=case.age_at_offence, penalty=case.penalty, term=case.prison_term,
        completed_on=case.completed_on, early_release=case.early_release, article=case.article,
        clause=case.clause, intent=case.intent, minor_serious=case.minor_serious,
        special_chapter=case.special_chapter, supplementary_until=case.supplementary_until,
        no_supplementary=case.no_supplementary, other_decisions_done=case.other_decisions_done)
    if not case.new_crime:
        return [first], [""], []
    adult_age = kb.value("blhs.adult_age", today)
    new_age = case.new_age_at_offence
    missing: list[str] = []
    if new_age is None:
        if case.age_at_offence is not None and case.age_at_offence >= adult_age:
            new_age = case.age_at_offence  # a later offence is at least as old
        else:
            missing.append("new_age_at_offence")
    # Supplementary penalties and other decisions are asked once, for the person's case.
    second = Conviction(
        age_at_offence=new_age, penalty=case.new_penalty, term=case.new_prison_term,
        completed_on=case.new_completed_on, article=case.new_article, clause=case.new_clause,
        intent=case.new_intent, special_chapter=case.special_chapter,
        supplementary_until=case.supplementary_until, no_supplementary=case.no_supplementary,
        other_decisions_done=case.other_decisions_done)
    if new_age is None:
        second = replace(second, age_at_offence=adult_age)
    return [first, second], ["", "new_"], missing


def calculate(case: Case, kb: KnowledgeBase, today: dt.date) -> Result:
    """The conversation's case: the first conviction, then the new one if any."""
    first_only = assess([convictions_of(replace(case, new_crime=False), kb, today)[0][0]], kb, today,
                        merit=case.merit)
    # Ask about the first judgment before the new crime; the new crime before the judgment's
    # other decisions (as the conversation always did).
    if first_only.route == "need_info" and set(first_only.missing) - {"supplementary_until", "other_decisions_done"}:
        return first_only
    if case.new_crime is None:
        return Result("need_info", missing=["new_crime"], facts=first_only.facts)
    if not case.new_crime:
        return first_only
    convictions, prefixes, missing = convictions_of(case, kb, today)
    result = assess(convictions, kb, today, merit=case.merit, prefixes=prefixes)
    # Asked once for the whole case: the crime's chapter, supplementary penalties, other decisions.
    shared = {"new_special_chapter", "new_supplementary_until", "new_other_decisions_done"}
    result.missing = _ordered(list(dict.fromkeys(m.removeprefix("new_") if m in shared else m
                                                 for m in result.missing)))
    if missing:  # the new crime's age before the case-wide questions (supplementary, other decisions)
        before = [m for m in result.missing if m.startswith("new_") or m == "special_chapter"]
        return Result("need_info", missing=_ordered(before) + missing, facts=result.facts)
    return result


# --- answer first ---------------------------------------------------------------------------

# Inputs the answer may assume, when the person did not say them, with the value assumed: what
# is true for most people who ask (an adult offence, not a national-security crime, no new
# crime, no supplementary penalty still running, the judgment's other decisions carried out).
# Each assumption is stated with the answer, with a way to correct it.
ASSUMABLE = {
    "age_at_offence": "adult",
    "special_chapter": False,
    "new_crime": False,
    "supplementary_until": "none",
    "other_decisions_done": True,
}


def waiting_period(kb: KnowledgeBase, penalty: str, term: Period | None, today: dt.date,
                   court: bool = False) -> tuple[Period, str]:
    """The rule for one penalty, before any date is known: the waiting period
    (Điều 70, or Điều 71 for the court route) and the knowledge id it comes from."""
    table = "blhs.d71.periods" if court else "blhs.d70.periods"
    _check_term(kb, "prison_term", term, today)
    return _wait(kb, table, penalty, term, today), table
