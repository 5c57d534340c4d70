"""Which loans fit: a pre-check of QĐ 22/2023/QĐ-TTg (credit for people who
completed a prison sentence) and the general job-creation loan (NĐ 61/2015
until 31/12/2025; Luật Việc làm 2025 and NĐ 338/2025 from 01/01/2026). Pure
rules; every figure, list and date comes from data/knowledge/loans.yml, read
for the day that matters (today, or the day an existing loan was signed).

This is a pre-check, not a decision: the bank appraises every application.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.domain.knowledge import KnowledgeBase
from bot.domain.periods import Period, period_end

PURPOSES = ("production", "training")


@dataclass(frozen=True)
class LoanCase:
    purpose: str | None = None              # "production" | "training"
    amount: int | None = None               # VND asked for
    has_certificate: bool | None = None     # release (or amnesty) certificate in hand
    completed_on: dt.date | None = None     # sentence completed
    on_commune_list: bool | None = None     # on the công an xã list confirmed by UBND xã
    outstanding_same_purpose: bool | None = None  # unpaid NHCSXH loan for the same purpose
    loan_signed_on: dt.date | None = None   # for a loan already signed: the rules of that day


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
    deadline: dt.date | None = None
    documents: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    rules_on: dt.date | None = None


@dataclass
class LoanResult:
    missing: list[str]
    programmes: list[Programme]


def precheck(case: LoanCase, kb: KnowledgeBase, today: dt.date) -> LoanResult:
    missing = [n for n, v in (("purpose", case.purpose), ("has_certificate", case.has_certificate),
                              ("completed_on", case.completed_on)) if v is None]
    if case.purpose is not None and case.purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {case.purpose!r}")
    if case.completed_on and case.completed_on > today:
        raise ValueError("completed_on is in the future")
    if missing:
        return LoanResult(missing, [])
    day = case.loan_signed_on or today
    return LoanResult([], [_qd22(case, kb, day), _jobs(case, kb, day)])


def _qd22(case: LoanCase, kb: KnowledgeBase, day: dt.date) -> Programme:
    facts = ["qd22.production_max", "qd22.training_max_per_month", "poor_household_rate",
             "qd22.production_term_max", "qd22.apply_within", "qd22.collateral_individual",
             "qd22.documents", "loans.where"]
    training = case.purpose == "training"
    p = Programme(
        "qd22", "eligible", facts=facts, rules_on=day,
        max_amount=kb.value("qd22.training_max_per_month" if training else "qd22.production_max", day),
        per_month=training, rate=Decimal(str(kb.value("poor_household_rate", day))),
        term=None if training else kb.value("qd22.production_term_max", day),
        collateral=kb.value("qd22.collateral_individual", day),
        documents=list(kb.value("qd22.documents", day)), where=list(kb.value("loans.where", day)),
    )
    assert case.completed_on is not None
    p.deadline = period_end(case.completed_on, Period.parse(kb.value("qd22.apply_within", day)))
    if not case.has_certificate:
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
    return p
