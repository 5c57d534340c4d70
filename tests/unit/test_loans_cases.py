"""Loans after issue 13: QĐ 22 by penalty type, early release, the five years
counted to the loan, the same-purpose rule, the job-creation loan's age."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.knowledge import KnowledgeBase
from bot.domain.loans import LoanCase, precheck

D = dt.date
TODAY = D(2026, 11, 30)
KB = KnowledgeBase.load()
OK = dict(purpose="production", has_certificate=True, on_commune_list=True, outstanding_same_purpose=False)


def progs(case: LoanCase, today: dt.date = TODAY):
    return {p.id: p for p in precheck(case, KB, today).programmes}


@pytest.mark.parametrize("penalty", ["suspended", "non_custodial", "fine"])
def test_a_suspended_or_non_custodial_sentence_is_not_a_qd22_case(penalty):
    r = progs(LoanCase(**OK, completed_on=D(2025, 1, 1), penalty=penalty))
    assert r["qd22"].status == "not_eligible" and r["qd22"].reasons == ["qd22_prison_only"]
    assert r["jobs"].status == "check"  # the job-creation loan is the one to point to
    assert "one_programme_per_purpose" not in r["jobs"].reasons


def test_suspended_sentence_needs_no_certificate_question():
    assert precheck(LoanCase(purpose="production", penalty="suspended"), KB, TODAY).missing == []


@pytest.mark.parametrize("penalty", ["prison", "amnesty"])
def test_prison_and_amnesty_are_qd22_cases(penalty):
    assert progs(LoanCase(**OK, completed_on=D(2025, 1, 1), penalty=penalty))["qd22"].status == "eligible"


def test_early_release_counts_from_the_end_of_probation():
    """Released 01/03/2024, probation to 01/03/2026: the five years run to 01/03/2031."""
    q = progs(LoanCase(**OK, completed_on=D(2024, 3, 1), early_release=True, probation_end=D(2026, 3, 1)))["qd22"]
    assert q.status == "eligible" and q.deadline == D(2031, 3, 1) and q.certificate_on == D(2026, 3, 1)


def test_still_on_probation_does_not_qualify_yet():
    q = progs(LoanCase(**OK, completed_on=D(2025, 3, 1), early_release=True, probation_end=D(2027, 3, 1)))["qd22"]
    assert q.status == "not_eligible" and q.reasons == ["on_probation"] and q.certificate_on == D(2027, 3, 1)


def test_early_release_asks_the_probation_end():
    assert precheck(LoanCase(purpose="production", early_release=True), KB, TODAY).missing == ["probation_end"]


def test_the_five_years_run_to_the_loan_with_a_margin_to_apply():
    """Finished 01/12/2021: the loan must be made by 01/12/2026; apply by about two months earlier."""
    q = progs(LoanCase(**OK, completed_on=D(2021, 12, 1)))["qd22"]
    assert q.deadline == D(2026, 12, 1)
    assert q.apply_by == D(2026, 10, 1)
    assert q.reasons[0] == "deadline_close"
    far = progs(LoanCase(**OK, completed_on=D(2024, 3, 15)))["qd22"]
    assert far.apply_by == D(2029, 1, 15) and "deadline_close" not in far.reasons


def test_both_programmes_for_production_say_only_one_per_purpose():
    r = progs(LoanCase(**OK, completed_on=D(2025, 1, 1)))
    assert "one_programme_per_purpose" in r["jobs"].reasons


def test_job_creation_loan_needs_full_civil_capacity():
    assert KB.value("jobs.min_age", TODAY) == 18
    j = progs(LoanCase(**OK, completed_on=D(2025, 1, 1), age=17))["jobs"]
    assert j.status == "not_eligible" and j.reasons == ["jobs_full_capacity"]


def test_no_district_offices_after_july_2025():
    assert not any("huyện" in w for w in KB.value("loans.where", D(2025, 7, 1)))
    assert any("huyện" in w for w in KB.value("loans.where", D(2025, 6, 30)))


def test_the_same_purpose_rule_is_said_only_when_both_programmes_may_fit():
    on_probation = progs(LoanCase(**OK, completed_on=D(2025, 3, 1), early_release=True, probation_end=D(2027, 3, 1)))
    assert "one_programme_per_purpose" not in on_probation["jobs"].reasons
