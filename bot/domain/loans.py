"""Which loans fit: a pre-check of QĐ 22/2023/QĐ-TTg (credit for people who
completed a prison sentence) and the general job-creation loan (NĐ 61/2015
until 31/12/2025; Luật Việc làm 2025 and NĐ 338/2025 from 01/01/2026). Pure
rules; every figure, list and date comes from data/knowledge/loans.yml, read
for the day that matters (today, or the day an existing loan was signed).

This is a pre-check, not a decision: the bank appraises every application.

QĐ 22 (Điều 3 khoản 1a) covers a person who served a prison term and holds the
certificate of completion, or who holds an amnesty certificate; a suspended or
other non-custodial sentence is not covered (the job-creation loan is the
programme to point to). On conditional early release the certificate is issued
when the probation ends, which is then the completion date. The five years
(Điều 3 khoản 2a) run from completion to the LOAN itself ("đến thời điểm vay
vốn"): the answer gives the last day for the loan and an earlier day to apply
by, leaving the bank time (the margin ``qd22.apply_margin`` is a setting).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.domain.knowledge import KnowledgeBase
from bot.domain.periods import Period, add_months, period_end

PURPOSES = ("production", "training")
# Main penalties; QD22_PENALTIES are the ones QĐ 22 covers (as knowledge data: qd22.penalties).
LOAN_PENALTIES = ("prison", "amnesty", "suspended", "non_custodial", "fine", "warning", "life")


@dataclass(frozen=True)
class LoanCase:
    purpose: str | None = None              # "production" | "training"
    amount: int | None = None               # VND asked for
    has_certificate: bool | None = None     # release (or amnesty) certificate in hand
    completed_on: dt.date | None = None     # sentence completed
    on_commune_list: bool | None = None     # on the công an xã list confirmed by UBND xã
    outstanding_same_purpose: bool | None = None  # unpaid NHCSXH loan for the same purpose
    loan_signed_on: dt.date | None = None   # for a loan already signed: the rules of that day
    penalty: str | None = None              # LOAN_PENALTIES; None: not said (the certificate question covers it)
    early_release: bool = False             # tha tù trước thời hạn có điều kiện
    probation_end: dt.date | None = None    # early release: the certificate is issued on this day
    age: int | None = None                  # for the job-creation loan (full civil capacity)


@dataclass
class Programme:
    id: str                                 # "qd22" | "jobs"
    status: str                             # "eligible" | "check" | "not_eligible" | "not_applicable"
    reasons: list[str] = field(default_factory=list)
    max_amount: int | None = None
    per_month: bool = False
    rate: Any = None                        # Decimal percent a year, or a rule text
    rate_computed: bool = False             # derived by us, not published: say so
    term: str | None = None                 # ISO period
    collateral: str | None = None           # "none" | "above:<VND>" | None (unknown)
    deadline: dt.date | None = None         # QĐ 22: the loan itself must be made by this day
    apply_by: dt.date | None = None         # QĐ 22: apply by about this day to leave the bank time
    certificate_on: dt.date | None = None   # early release: the day the certificate is issued
    documents: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    rules_on: dt.date | None = None


@dataclass
class LoanResult:
    missing: list[str]
    programmes: list[Programme]


def precheck(case: LoanCase, kb: KnowledgeBase, today: dt.date) -> LoanResult:
    if case.purpose is not None and case.purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {case.purpose!r}")
    if case.penalty is not None and case.penalty not in LOAN_PENALTIES:
        raise ValueError(f"unknown penalty {case.penalty!r}")
    day = case.loan_signed_on or today
    qd22_penalties = kb.value("qd22.penalties", day)
    covered = case.penalty is None or case.penalty in qd22_penalties
    needed: list[tuple[str, object]] = [("purpose", case.purpose)]
    if covered:
        needed.append(("has_certificate", True if case.early_release else case.has_certificate))
        if case.early_release:
            needed.append(("probation_end", case.probation_end))
        else:
            needed.append(("completed_on", case.completed_on))
    missing = [n for n, v in needed if v is None]
    if case.completed_on and case.completed_on > today and not case.early_release:
        raise ValueError("completed_on is in the future")
    if case.early_release and case.probation_end and case.completed_on and case.probation_end < case.completed_on:
        raise ValueError("probation_end is before the release")
    if missing:
        return LoanResult(missing, [])
    qd22, jobs = _qd22(case, kb, day), _jobs(case, kb, day)
    if qd22.status == "not_eligible" and "one_programme_per_purpose" in jobs.reasons:
        jobs.reasons.remove("one_programme_per_purpose")  # only one of them fits: nothing to choose
        jobs.facts.remove("qd22.no_duplicate_purpose")
    return LoanResult([], [qd22, jobs])


def _qd22(case: LoanCase, kb: KnowledgeBase, day: dt.date) -> Programme:
    facts = ["qd22.production_max", "qd22.training_max_per_month", "poor_household_rate",
             "qd22.production_term_max", "qd22.apply_within", "qd22.collateral_individual",
             "qd22.documents", "loans.where", "qd22.penalties"]
    training = case.purpose == "training"
    p = Programme(
        "qd22", "eligible", facts=facts, rules_on=day,
        max_amount=kb.value("qd22.training_max_per_month" if training else "qd22.production_max", day),
        per_month=training, rate=Decimal(str(kb.value("poor_household_rate", day))),
        term=None if training else kb.value("qd22.production_term_max", day),
        collateral=kb.value("qd22.collateral_individual", day),
        documents=list(kb.value("qd22.documents", day)), where=list(kb.value("loans.where", day)),
    )
    if case.penalty is not None and case.penalty not in kb.value("qd22.penalties", day):
        p.status, p.reasons = "not_eligible", ["qd22_prison_only"]
        return p
    completed = case.probation_end if case.early_release else case.completed_on
    assert completed is not None
    p.deadline = period_end(completed, Period.parse(kb.value("qd22.apply_within", day)))
    margin = Period.parse(kb.value("qd22.apply_margin", day))
    p.apply_by = max(completed, add_months(p.deadline, -margin.months) - dt.timedelta(days=margin.days))
    p.facts.append("qd22.apply_margin")
    if case.early_release:
        p.certificate_on = completed
        p.facts.append("qd22.early_release_certificate")
        if completed > day:
            p.status, p.reasons = "not_eligible", ["on_probation"]
            return p
    if not case.has_certificate and not case.early_release:
        p.status, p.reasons = "not_eligible", ["need_certificate"]
        return p
    if day > p.deadline:
        p.status, p.reasons = "not_eligible", ["deadline_passed"]
        return p
    if case.outstanding_same_purpose:
        p.status, p.reasons = "not_eligible", ["outstanding_same_purpose"]
        return p
    if case.on_commune_list is False:
        p.status, p.reasons = "check", ["get_on_commune_list"]
    elif case.on_commune_list is None:
        p.status, p.reasons = "check", ["confirm_commune_list"]
    if case.outstanding_same_purpose is None:
        p.reasons.append("confirm_no_outstanding_loan")
    if day > p.apply_by:
        p.reasons.insert(0, "deadline_close")
    if case.amount and p.max_amount is not None and not p.per_month and case.amount > p.max_amount:
        p.reasons.append("amount_over_cap")
    return p


def _jobs(case: LoanCase, kb: KnowledgeBase, day: dt.date) -> Programme:
    if case.purpose != "production":
        return Programme("jobs", "not_applicable", reasons=["jobs_only_for_work"], rules_on=day)
    p = Programme("jobs", "check", reasons=["bank_appraises_plan"], rules_on=day,
                  max_amount=kb.value("jobs.individual_max", day), term=kb.value("jobs.term_max", day),
                  rate=kb.value("jobs.rate_rule", day), where=list(kb.value("loans.where", day)),
                  facts=["jobs.individual_max", "jobs.term_max", "jobs.rate_rule"])
    try:
        multiplier = Decimal(str(kb.value("jobs.rate_multiplier_percent", day)))
        poor = Decimal(str(kb.value("poor_household_rate", day)))
        p.rate = (poor * multiplier / 100).quantize(Decimal("0.01"))
        p.rate_computed = True
        p.facts += ["jobs.rate_multiplier_percent", "poor_household_rate"]
    except KeyError:
        pass  # the rule has no published multiplier that day: keep the rule's text
    try:
        p.collateral = f"above:{kb.value('jobs.collateral_threshold', day)}"
        p.facts.append("jobs.collateral_threshold")
    except KeyError:
        p.collateral = None  # not known for the current rules
    if case.amount and p.max_amount is not None and case.amount > p.max_amount:
        p.reasons.append("amount_over_cap")
    try:
        min_age = kb.value("jobs.min_age", day)
        p.facts.append("jobs.min_age")
        if case.age is not None and case.age < min_age:
            p.status, p.reasons = "not_eligible", ["jobs_full_capacity"]
            return p
    except KeyError:
        pass
    if case.penalty is None or case.penalty in kb.value("qd22.penalties", day):
        # Both programmes fit the same purpose: only one NHCSXH loan per purpose at a time.
        p.reasons.append("one_programme_per_purpose")
        p.facts.append("qd22.no_duplicate_purpose")
    return p
