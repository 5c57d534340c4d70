"""The expungement calculator against every worked example in
shared/knowledge/legal-facts.md §3, plus edge cases."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.expungement import Case, InvalidInput, calculate
from bot.domain.knowledge import KnowledgeBase
from bot.domain.periods import Period, period_end

D = dt.date
TODAY = D(2026, 11, 22)
ADULT_ORDINARY = dict(age_at_offence=30, special_chapter=False, no_supplementary=True,
                      other_decisions_done=True, new_crime=False)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


def prison(term: str, completed: dt.date, **kw) -> Case:
    return Case(**{**ADULT_ORDINARY, "penalty": "prison", "prison_term": Period.parse(term),
                   "completed_on": completed, **kw})


@pytest.mark.parametrize(
    "name, case, route, period_end_, cleared_from",
    [
        # 1. 3-year term completed 01/06/2023: 2 years, period ends 01/06/2025.
        ("ex1 3y prison", prison("P3Y", D(2023, 6, 1)), "automatic", D(2025, 6, 1), D(2025, 6, 2)),
        # 2. Same with a 3-year quản chế to 01/06/2026: cleared when it ends.
        ("ex2 supplementary longer",
         prison("P3Y", D(2023, 6, 1), no_supplementary=None, supplementary_until=D(2026, 6, 1)),
         "automatic", D(2025, 6, 1), D(2026, 6, 2)),
        # 3. 7-year term completed 01/06/2023: 3 years.
        ("ex3 7y prison", prison("P7Y", D(2023, 6, 1)), "automatic", D(2026, 6, 1), D(2026, 6, 2)),
        # 4. Suspended sentence, probation ended 15/03/2024: 1 year.
        ("ex4 suspended", Case(**{**ADULT_ORDINARY, "penalty": "suspended", "completed_on": D(2024, 3, 15)}),
         "automatic", D(2025, 3, 15), D(2025, 3, 16)),
        # 6. New crime: 1-year term completed 01/06/2026 restarts the period (2 years).
        ("ex6 new crime",
         prison("P3Y", D(2023, 6, 1), new_crime=True, new_penalty="prison",
                new_prison_term=Period.parse("P1Y"), new_completed_on=D(2026, 6, 1)),
         "automatic", D(2028, 6, 1), D(2028, 6, 2)),
        # 7. National-security crime, 5-year term: court route after 3 years.
        ("ex7 special chapter", prison("P5Y", D(2023, 6, 1), special_chapter=True),
         "court", D(2026, 6, 1), D(2026, 6, 2)),
        # Boundaries of the table: exactly 5 years is "đến 05 năm"; 15 years "đến 15 năm".
        ("5y is up to 5", prison("P5Y", D(2020, 1, 10)), "automatic", D(2022, 1, 10), D(2022, 1, 11)),
        ("5y1m is over 5", prison("P5Y1M", D(2020, 1, 10)), "automatic", D(2023, 1, 10), D(2023, 1, 11)),
        ("16y", prison("P16Y", D(2020, 1, 10)), "automatic", D(2025, 1, 10), D(2025, 1, 11)),
        ("life", Case(**{**ADULT_ORDINARY, "penalty": "life", "completed_on": D(2020, 1, 10)}),
         "automatic", D(2025, 1, 10), D(2025, 1, 11)),
        ("fine", Case(**{**ADULT_ORDINARY, "penalty": "fine", "completed_on": D(2025, 12, 31)}),
         "automatic", D(2026, 12, 31), D(2027, 1, 1)),
        # Leap day: 29/02/2024 + 2 years ends on 28/02/2026 (no 29th).
        ("leap day", prison("P1Y", D(2024, 2, 29)), "automatic", D(2026, 2, 28), D(2026, 3, 1)),
        # Weekends are not moved: 01/06/2025 was a Sunday (see the counting-rule entry).
        ("weekend end", prison("P2Y", D(2023, 6, 1)), "automatic", D(2025, 6, 1), D(2025, 6, 2)),
        # 16–17, very serious intentional crime: Điều 107 khoản 2 (1 year for ≤ 5 years).
        ("minor serious", prison("P3Y", D(2024, 1, 10), age_at_offence=17, minor_serious=True),
         "automatic", D(2025, 1, 10), D(2025, 1, 11)),
    ],
)
def test_worked_examples(kb, name, case, route, period_end_, cleared_from):
    r = calculate(case, kb, TODAY)
    assert (r.route, r.period_end, r.date) == (route, period_end_, cleared_from), r


def test_example5_unpaid_compensation_blocks(kb):
    r = calculate(prison("P3Y", D(2023, 6, 1), other_decisions_done=False), kb, TODAY)
    assert r.route == "not_yet" and r.date is None
    assert r.blocking == ["other_decisions_unpaid"]
    assert r.period_end == D(2025, 6, 1)


def test_example7_special_case_one_third(kb):
    r = calculate(prison("P5Y", D(2023, 6, 1), special_chapter=True, merit=True), kb, TODAY)
    assert r.early_date == D(2024, 6, 2)  # one third of 3 years = 1 year


def test_example8_age_15_has_no_record(kb):
    r = calculate(prison("P3Y", D(2023, 6, 1), age_at_offence=15), kb, TODAY)
    assert r.route == "no_record"


def test_minor_not_serious_has_no_record(kb):
    assert calculate(prison("P3Y", D(2023, 6, 1), age_at_offence=17, minor_serious=False), kb, TODAY).route == "no_record"


def test_supplementary_still_running_is_reported(kb):
    r = calculate(prison("P3Y", D(2023, 6, 1), no_supplementary=None, supplementary_until=D(2027, 1, 1)), kb, TODAY)
    assert "supplementary_running" in r.blocking and r.date == D(2027, 1, 2)


@pytest.mark.parametrize(
    "case, first_missing",
    [
        (Case(), "penalty"),
        (Case(penalty="prison"), "prison_term"),
        (Case(penalty="suspended"), "completed_on"),
        (Case(penalty="suspended", completed_on=D(2024, 1, 1)), "age_at_offence"),
        (Case(penalty="suspended", completed_on=D(2024, 1, 1), age_at_offence=17), "minor_serious"),
        (Case(penalty="suspended", completed_on=D(2024, 1, 1), age_at_offence=40), "special_chapter"),
        (Case(penalty="suspended", completed_on=D(2024, 1, 1), age_at_offence=40, special_chapter=False), "new_crime"),
        (Case(penalty="suspended", completed_on=D(2024, 1, 1), age_at_offence=40, special_chapter=False,
              new_crime=False), "supplementary_until"),
        (Case(penalty="suspended", completed_on=D(2024, 1, 1), age_at_offence=40, special_chapter=False,
              new_crime=False, no_supplementary=True), "other_decisions_done"),
        (Case(penalty="suspended", completed_on=D(2024, 1, 1), age_at_offence=40, special_chapter=False,
              new_crime=True), "new_penalty"),
    ],
)
def test_unknown_inputs_are_asked_not_guessed(kb, case, first_missing):
    r = calculate(case, kb, TODAY)
    assert r.route == "need_info" and r.missing[0] == first_missing


@pytest.mark.parametrize(
    "case, field",
    [
        (prison("P3Y", D(2027, 1, 1)), "completed_on"),
        (prison("P0Y1M", D(2023, 1, 1)), "prison_term"),
        (prison("P45Y", D(2023, 1, 1)), "prison_term"),
        (Case(**{**ADULT_ORDINARY, "penalty": "flogging", "completed_on": D(2023, 1, 1)}), "penalty"),
        (prison("P3Y", D(2023, 6, 1), new_crime=True, new_penalty="fine", new_completed_on=D(2022, 1, 1)),
         "new_completed_on"),
    ],
)
def test_impossible_inputs_are_clear_errors(kb, case, field):
    with pytest.raises(InvalidInput) as exc:
        calculate(case, kb, TODAY)
    assert exc.value.field == field


def test_period_end_month_arithmetic():
    assert period_end(D(2023, 1, 31), Period.parse("P1M")) == D(2023, 2, 28)
    assert period_end(D(2023, 6, 1), Period.parse("P18M")) == D(2024, 12, 1)
    assert Period.parse("P1Y6M") == Period(18) and Period.parse("P2W").days == 14
    with pytest.raises(ValueError):
        Period.parse("3 years")


def test_an_article_in_a_court_chapter_is_known_from_the_chapter_ranges_in_the_data():
    """Điều 71: Chương XIII (108–121) and XXVI (421–425), read from blhs.chapter.*, also for
    articles the table does not list."""
    import datetime as _dt

    from bot.domain import blhs
    from bot.domain.knowledge import KnowledgeBase

    kb, day = KnowledgeBase.load(), _dt.date(2026, 12, 1)
    assert [n for n in (107, 108, 117, 121, 122, 420, 421, 425, 426, "abc", None)
            if blhs.in_court_chapter(kb, n, day)] == [108, 117, 121, 421, 425]
