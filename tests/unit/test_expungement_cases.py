"""The case model over several convictions (issue 13): no-record rules, minors,
restarts, mixed routes, early release, the articles table, and property tests."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.domain import blhs
from bot.domain.expungement import Case, Conviction, assess, calculate
from bot.domain.knowledge import KnowledgeBase
from bot.domain.periods import Period, period_end

D = dt.date
TODAY = D(2026, 11, 30)
DONE = dict(no_supplementary=True, other_decisions_done=True)
KB = KnowledgeBase.load()


def prison(years: int, completed: dt.date, age: int = 30, **kw) -> Conviction:
    return Conviction(**{"age_at_offence": age, "penalty": "prison", "term": Period(12 * years),
                         "completed_on": completed, "special_chapter": False, **DONE, **kw})


# --- the findings ------------------------------------------------------------------

def test_first_offence_at_15_then_adult_prison_has_a_record_until_2027():
    """Finding 1: 15, then 4 years as an adult finished 01/06/2025 → a record until 01/06/2027."""
    r = assess([prison(2, D(2020, 1, 1), age=15), prison(4, D(2025, 6, 1), age=20)], KB, TODAY)
    assert (r.route, r.period_end, r.date) == ("automatic", D(2027, 6, 1), D(2027, 6, 2))
    assert r.no_record_reasons == ["minor_under_16"]


def test_the_conversation_asks_the_new_crime_even_after_a_no_record_first_offence():
    case = Case(penalty="prison", prison_term=Period(24), completed_on=D(2020, 1, 1), age_at_offence=15,
                special_chapter=False, **DONE)
    assert calculate(case, KB, TODAY).missing == ["new_crime"]
    case = Case(**{**case.__dict__, "new_crime": True, "new_penalty": "prison", "new_prison_term": Period(48),
                   "new_completed_on": D(2025, 6, 1)})
    assert calculate(case, KB, TODAY).missing == ["new_age_at_offence"]
    r = calculate(Case(**{**case.__dict__, "new_age_at_offence": 20}), KB, TODAY)
    assert (r.route, r.date) == ("automatic", D(2027, 6, 2))


def test_first_offence_at_17_then_adult_prison_waits_two_years_not_one():
    """Finding 1b: 16–17 (serious), then 4 years as an adult → 2 years (Điều 70), not Điều 107's 1 year."""
    r = assess([prison(3, D(2020, 1, 1), age=17, minor_serious=True), prison(4, D(2025, 6, 1), age=21)], KB, TODAY)
    assert r.wait == Period(24) and r.date == D(2027, 6, 2)
    assert "restarted_by_new_crime" in r.notes


def test_conditional_early_release_completes_at_the_end_of_probation():
    """Finding 2: released 01/03/2025, probation to 01/03/2026 → counted from 01/03/2026."""
    c = prison(5, D(2026, 3, 1), early_release=True, released_on=D(2025, 3, 1))
    r = assess([c], KB, TODAY)
    assert r.period_end == D(2028, 3, 1)
    still_on_probation = prison(5, D(2027, 3, 1), early_release=True, released_on=D(2025, 3, 1))
    r = assess([still_on_probation], KB, TODAY)
    assert r.period_end == D(2029, 3, 1) and "probation_running" in r.notes


def test_traffic_death_under_260_clause_1_leaves_no_record():
    """Finding 4: Điều 69 khoản 2 (negligent, nghiêm trọng)."""
    r = assess([Conviction(age_at_offence=35, penalty="prison", term=Period(24), completed_on=D(2025, 1, 1),
                           article="260", clause="1")], KB, TODAY)
    assert r.route == "no_record" and r.date is None and r.no_record_reasons == ["negligent_light"]


def test_a_light_negligent_crime_needs_no_age_it_leaves_no_record_at_any_age():
    """Điều 69 khoản 2 applies whatever the age: the age is not asked."""
    case = dict(penalty="prison", term=Period(24), completed_on=D(2024, 3, 1), article="260", clause="1")
    r = assess([Conviction(**case)], KB, TODAY)
    assert r.route == "no_record" and r.date is None and r.no_record_reasons == ["negligent_light"]
    for age in (15, 17, 40):
        assert assess([Conviction(age_at_offence=age, **case)], KB, TODAY).route == "no_record"
    heavier = assess([Conviction(**{**case, "clause": "2", "term": Period(60)})], KB, TODAY)
    assert "age_at_offence" in heavier.missing          # rất nghiêm trọng: the age matters again
    intentional = assess([Conviction(penalty="prison", term=Period(24), completed_on=D(2024, 3, 1),
                                     article="173", clause="1")], KB, TODAY)
    assert "age_at_offence" in intentional.missing


def test_traffic_under_260_without_clause_asks_the_clause_or_knows_from_the_sentence():
    r = assess([Conviction(age_at_offence=35, penalty="prison", term=Period(24), completed_on=D(2025, 1, 1),
                           article="260")], KB, TODAY)
    assert r.missing == ["clause"]
    r = assess([prison(6, D(2025, 1, 1), article="260")], KB, TODAY)  # over clause 1's maximum
    assert r.route == "automatic" and r.date == D(2028, 1, 2)


def test_negligent_unknown_article_by_stated_intent():
    r = assess([prison(2, D(2025, 1, 1), intent="negligent", severity="serious")], KB, TODAY)
    assert r.route == "no_record"
    r = assess([prison(2, D(2025, 1, 1))], KB, TODAY)
    assert r.route == "automatic" and r.assumptions == ["intentional"]


def test_under_18_offence_is_not_blocked_by_unpaid_compensation():
    """Finding 5: Điều 107 khoản 2 asks only 'no new crime'."""
    r = assess([prison(3, D(2025, 1, 1), age=17, minor_serious=True, other_decisions_done=False)], KB, TODAY)
    assert r.route == "automatic" and r.date == D(2026, 1, 2) and not r.blocking


def test_exempt_from_penalty_leaves_no_record():
    r = assess([Conviction(age_at_offence=40, penalty="exempt")], KB, TODAY)
    assert r.route == "no_record" and r.date is None


def test_mixed_routes_go_to_the_court_with_article_71_periods():
    """Điều 73 khoản 3."""
    r = assess([prison(3, D(2022, 1, 1)), prison(2, D(2024, 1, 1), article="117")], KB, TODAY)
    assert r.route == "court" and r.wait == Period(36) and "mixed_routes" in r.notes


def test_a_later_crime_that_leaves_no_record_still_restarts_the_old_period():
    r = assess([prison(3, D(2022, 1, 1)), prison(2, D(2025, 1, 1), article="260", clause="1")], KB, TODAY)
    assert r.date == D(2027, 1, 2) and "restarted_by_new_crime" in r.notes


def test_a_later_crime_after_the_record_cleared_does_not_restart_it():
    r = assess([prison(1, D(2018, 1, 1)), prison(1, D(2025, 1, 1), offence_on=D(2024, 1, 1))], KB, TODAY)
    assert r.date == D(2027, 1, 2) and "restarted_by_new_crime" not in r.notes


def test_long_supplementary_penalty_moves_the_date():
    r = assess([prison(3, D(2023, 6, 1), no_supplementary=None, supplementary_until=D(2026, 6, 1))], KB, TODAY)
    assert r.date == D(2026, 6, 2) and "supplementary_longer" in r.notes


def test_article_72_early_date_is_given_as_information():
    r = assess([prison(5, D(2025, 6, 1))], KB, TODAY)
    assert r.early_date == D(2026, 2, 2) or r.early_date == period_end(D(2025, 6, 1), Period(24).scaled(
        __import__("fractions").Fraction(1, 3))) + dt.timedelta(days=1)


# --- the articles table ----------------------------------------------------------------------

@pytest.mark.parametrize("article, clause, severity", [
    ("173", "1", "less_serious"), ("173", "2", "serious"), ("173", "3", "very_serious"), ("173", "4", "especially_serious"),
    ("260", "1", "serious"), ("260", "2", "very_serious"), ("251", "1", "serious"), ("251", "4", "especially_serious"),
    ("201", "1", "less_serious"), ("134", "1", "less_serious"), ("123", "1", "especially_serious"),
])
def test_severity_comes_from_the_clause_maximum(article, clause, severity):
    art = blhs.article(KB, article, TODAY)
    assert blhs.severity_of_maximum(KB, art.clauses[clause], TODAY) == severity


def test_the_table_has_at_least_forty_articles_and_the_security_chapter():
    arts = [f for f in KB.facts if f.id.startswith("blhs.article.")]
    assert len(arts) >= 40
    for n in range(108, 122):
        a = blhs.article(KB, n, TODAY)
        assert a is not None and blhs.is_court_chapter(KB, a.chapter, TODAY)
    assert not blhs.is_court_chapter(KB, blhs.article(KB, 173, TODAY).chapter, TODAY)
    assert {blhs.article(KB, n, TODAY).intent for n in (128, 260)} == {"negligent"}


# --- properties ----------------------------------------------------------------------------

dates = st.dates(D(2005, 1, 1), D(2026, 11, 30))
penalties = st.sampled_from(["warning", "fine", "non_custodial", "suspended", "prison", "life"])
articles = st.sampled_from([None, "173", "174", "260", "251", "134", "117", "128", "318"])


@st.composite
def convictions(draw, age=None, completed=None):
    age = age if age is not None else draw(st.integers(14, 70))
    penalty = draw(penalties)
    if age < 18 and penalty == "life":
        penalty = "prison"  # life imprisonment is not imposed for an offence under 18
    term = Period(draw(st.integers(3, 240))) if penalty == "prison" else None
    return Conviction(
        age_at_offence=age, penalty=penalty, term=term,
        completed_on=completed or draw(dates), article=draw(articles),
        clause=draw(st.sampled_from([None, "1", "2", "3"])), minor_serious=draw(st.booleans()),
        special_chapter=draw(st.booleans()), no_supplementary=True, other_decisions_done=True)


def shortest_wait(kb: KnowledgeBase) -> Period:
    return min(Period.parse(row["wait"]) for t in ("blhs.d70.periods", "blhs.d71.periods", "blhs.d107.periods")
               for row in kb.value(t, TODAY))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(convictions(), min_size=1, max_size=3))
def test_date_never_precedes_completion_plus_the_shortest_period(cs):
    cs = sorted(cs, key=lambda c: c.completed_on)
    r = assess(cs, KB, TODAY)
    if r.route == "no_record":
        assert r.date is None and r.period_end is None  # a no-record result never has a date
    elif r.date is not None:
        latest = max(c.completed_on for c in cs)
        assert r.date > period_end(latest, shortest_wait(KB))


@settings(max_examples=300, deadline=None)
@given(convictions(), convictions(), st.integers(0, 3000))
def test_a_new_crime_never_makes_the_old_record_clear_earlier(old, new, gap):
    old = Conviction(**{**old.__dict__, "completed_on": D(2010, 1, 1)})
    new = Conviction(**{**new.__dict__, "completed_on": D(2010, 1, 1) + dt.timedelta(days=gap),
                        "age_at_offence": max(new.age_at_offence, old.age_at_offence)})
    assume(not (new.age_at_offence < 18 and new.penalty == "life"))
    alone = assess([old], KB, TODAY)
    both = assess([old, new], KB, TODAY)
    if alone.route in ("automatic", "court") and both.route in ("automatic", "court"):
        assert both.date >= alone.date
    if alone.route in ("automatic", "court"):
        assert both.route != "no_record"


@settings(max_examples=300, deadline=None)
@given(convictions(), st.integers(14, 17))
def test_an_offence_under_18_never_waits_longer_than_the_same_as_adult(c, age):
    assume(c.penalty not in ("life", "death_commuted"))  # not imposed on under-18s (Điều 98)
    minor = assess([Conviction(**{**c.__dict__, "age_at_offence": age})], KB, TODAY)
    adult = assess([Conviction(**{**c.__dict__, "age_at_offence": 30})], KB, TODAY)
    if minor.route == "need_info" or adult.route == "need_info":
        return
    if adult.route == "no_record":
        assert minor.route == "no_record"
    if minor.date is not None and adult.date is not None:
        assert minor.date <= adult.date


def test_negligent_crime_without_article_states_when_there_is_no_record():
    r = assess([prison(2, D(2025, 1, 1), intent="negligent")], KB, TODAY)
    assert r.route == "automatic" and "negligent_class_unknown" in r.assumptions
    r = assess([prison(9, D(2025, 1, 1), intent="negligent")], KB, TODAY)  # above 7 years: a record for sure
    assert r.route == "automatic" and "negligent_class_unknown" not in r.assumptions
