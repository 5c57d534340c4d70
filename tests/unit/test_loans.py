"""Loan pre-check: QĐ 22/2023 and the job-creation loan, by date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.knowledge import KnowledgeBase
from bot.domain.loans import LoanCase, precheck

D = dt.date
TODAY = D(2026, 11, 22)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


def progs(result):
    return {p.id: p for p in result.programmes}


OK = dict(purpose="production", has_certificate=True, completed_on=D(2024, 3, 15), on_commune_list=True,
          outstanding_same_purpose=False)


def test_recent_returnee_fits_qd22_with_todays_figures(kb):
    r = progs(precheck(LoanCase(**OK, amount=50_000_000), kb, TODAY))
    q = r["qd22"]
    assert q.status == "eligible" and q.reasons == []
    assert (q.max_amount, q.rate, q.term, q.collateral) == (100_000_000, Decimal("6.24"), "P120M", "none")
    assert q.deadline == D(2029, 3, 15)
    assert any("chấp hành xong án phạt tù" in d for d in q.documents)
    assert any("Ngân hàng Chính sách xã hội" in w for w in q.where)


def test_job_creation_loan_today_is_nd338(kb):
    j = progs(precheck(LoanCase(**OK), kb, TODAY))["jobs"]
    assert j.max_amount == 200_000_000 and j.term == "P120M"
    assert j.rate == Decimal("7.92") and j.rate_computed  # 127% × 6,24%: computed, said as such
    assert j.collateral is None  # not verified for the 2026 rules


def test_a_loan_signed_in_2025_keeps_nd61(kb):
    j = progs(precheck(LoanCase(**OK, loan_signed_on=D(2025, 6, 1)), kb, TODAY))["jobs"]
    assert j.max_amount == 100_000_000 and j.rate == "bằng lãi suất cho vay hộ cận nghèo"
    assert j.collateral == "above:100000000"


def test_training_loan_is_per_month(kb):
    q = progs(precheck(LoanCase(**{**OK, "purpose": "training"}), kb, TODAY))["qd22"]
    assert q.max_amount == 4_000_000 and q.per_month and q.term is None
    assert progs(precheck(LoanCase(**{**OK, "purpose": "training"}), kb, TODAY))["jobs"].status == "not_applicable"


@pytest.mark.parametrize("change, reason", [
    ({"has_certificate": False}, "need_certificate"),
    ({"completed_on": D(2021, 11, 1)}, "deadline_passed"),
    ({"outstanding_same_purpose": True}, "outstanding_same_purpose"),
])
def test_not_eligible_for_qd22(kb, change, reason):
    q = progs(precheck(LoanCase(**{**OK, **change}), kb, TODAY))["qd22"]
    assert q.status == "not_eligible" and q.reasons == [reason]


def test_five_years_counted_to_the_day(kb):
    on_deadline = progs(precheck(LoanCase(**{**OK, "completed_on": D(2021, 11, 22)}), kb, TODAY))["qd22"]
    assert on_deadline.deadline == D(2026, 11, 22) and on_deadline.status == "eligible"
    day_after = progs(precheck(LoanCase(**{**OK, "completed_on": D(2021, 11, 21)}), kb, TODAY))["qd22"]
    assert day_after.status == "not_eligible"


def test_unknown_list_and_debts_become_things_to_check(kb):
    q = progs(precheck(LoanCase(purpose="production", has_certificate=True, completed_on=D(2025, 1, 1)), kb, TODAY))["qd22"]
    assert q.status == "check" and q.reasons == ["confirm_commune_list", "confirm_no_outstanding_loan"]


def test_amount_over_the_cap_is_flagged(kb):
    q = progs(precheck(LoanCase(**OK, amount=150_000_000), kb, TODAY))["qd22"]
    assert "amount_over_cap" in q.reasons


def test_missing_facts_are_asked(kb):
    assert precheck(LoanCase(), kb, TODAY).missing == ["purpose", "has_certificate", "completed_on"]
    assert precheck(LoanCase(purpose="production"), kb, TODAY).missing == ["has_certificate", "completed_on"]


def test_future_completion_date_is_an_error(kb):
    with pytest.raises(ValueError, match="future"):
        precheck(LoanCase(**{**OK, "completed_on": D(2027, 1, 1)}), kb, TODAY)
