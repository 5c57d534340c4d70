"""The loan pre-check as a conversation: asks only what bot.domain.loans.precheck
still needs (purpose, certificate, completion date), uses an amount or a date
said in the same message, and answers with the programmes that fit."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import (CASE_QUESTION_CONFIDENCE, KNOWLEDGE, chosen_question, question_confidence,
                             question_entry, utter_entries, utter_question)
from actions.common import (FIRST_BUBBLE_MAX, RELATIVE_STORY, CalculationResult, ExtractingForm,
                            caution_and_citation, day_of, entities_of, is_cancel, main_penalty,
                            probation_end_from_release, relative_texts, said_of, start_form)
from actions.expungement import asks_about_record
from actions.menu import ActionTopicMenu, last_bot_action, previous_intent, previous_parse, tracker_locale
from vietnamese.clock import today_in_vietnam
from bot.domain.loans import LOAN_PENALTIES, LoanCase, Programme, precheck
from bot.domain.periods import Period
from bot.i18n import (N_, NP_, citation_line, format_date, format_money, format_period, format_rate, gettext,
                      knowledge_text)
from vietnamese.text import fold

FORM = "loan_form"
SLOT_FOR = {"purpose": "loan_purpose", "has_certificate": "loan_has_certificate",
            "completed_on": "loan_completed_on", "probation_end": "loan_probation_end"}
SLOTS = (*SLOT_FOR.values(), "loan_amount", "loan_penalty", "loan_early_release", "loan_relative", "loan_age",
         "loan_cancelled")
_TRAINING = re.compile(r"\b(hoc nghe|hoc lai|di hoc|dao tao|hoc phi)\b")
_PRODUCTION = re.compile(r"\b(lam an|san xuat|kinh doanh|buon ban|mo (tiem|quan|cua hang|xuong|hang|sap|tap hoa|lo|shop|quay)|rua xe|"
                         r"chan nuoi|trong trot|nuoi|lam nghe|tao viec lam|mua xe|trang trai|lam (vuon|ruong|rau)|trong (rau|cay|lua|hoa)|"
                         r"sua (xe|dien|dien thoai)|may mac|lam may|"
                         r"ban (hang|do|com|pho|bun|chao|xoi|banh|nuoc|rau|trai cay|hoa qua|tap hoa|quan ao|"
                         r"an sang|an vat|ca phe|cafe|online|rong|le|thit|ca)|"
                         r"quan (an|com|pho|nuoc)|xe (day|om|ba gac)|chay (xe|grab)|mua ban|tieu thuong|"
                         # what the money buys for the work: "mua máy xay xát", "mua con giống", "nhập hàng"
                         r"mua (may|giong|con giong|cay giong|hang|nguyen lieu|vat tu|phan bon|thuc an|ghe|thuyen|"
                         r"dung cu|do nghe)|nhap hang|xay xat)\b")
_HAS_CERT = re.compile(r"\b(co|da co|da nhan)\s+giay\b")
_NO_CERT = re.compile(r"\b(chua co|khong co|mat|chua nhan)\s+giay\b")
# The penalty, said in passing: QĐ 22 covers prison terms and amnesty only.
_PRISON = re.compile(r"\b(ra tu|man han( tu)?|chap hanh xong an phat tu|het an tu|o tu ve)\b")
_AMNESTY = re.compile(r"\bdac xa\b")
# The programme's name, not the person's penalty: "vay theo chương trình cho người chấp hành xong án phạt tù"
# (acceptance_fresh13: it had overridden the cải tạo không giam giữ of the story told just before).
_PROGRAMME_NAME = re.compile(r"\b(?:cho|danh cho|cua|voi|ve) (?:nguoi|ng) (?:da )?chap hanh xong an phat tu\b")
# The borrower's age said: "năm nay 17t", "e 17 tuổi", "cháu mới 16t" (not "17 triệu": "tr" is money).
_AGE_NOW = re.compile(r"(?<![\d/.,-])(?P<n>1\d|[2-9]\d)\s*(?:tuoi|t)\b")
_TERM_SERVED = re.compile(r"\b\d+\s*(?:nam|thang|n)\s+tu\b|\b(?:bi|di|o|ngoi|an) tu\b")
_EARLY = re.compile(r"\btha (tu )?truoc (thoi )?han\b|\btha tu som\b|\btha co dieu kien\b")
# Words that make a date the day the sentence ended ("ra trại tháng 2/2022", "đặc xá năm 2021").
_RELEASE = re.compile(r"\b(ra (tu|trai)|man han|chap hanh xong|het an|xong an|tu ve|trai ve|duoc tha|tha tu|"
                      r"dac xa|het thu thach|ra)\b")


def release_dates(ents: dict[str, list], folded: str) -> list[str]:
    """The dates of a message that can be the completion: a bare year with no word of release
    ("vay vốn giải quyết việc làm năm 2026 tối đa bao nhiêu") names the rules' year, not the
    day the person came out, so it is not a personal case."""
    dates = sorted(str(d) for d in ents.get("date") or [])
    if _RELEASE.search(folded):
        return dates
    return [d for d in dates if not re.fullmatch(r"\d{4}", d)]


def extract(message: dict, requested: str | None) -> dict[str, Any]:
    if is_cancel(message):
        return {"loan_cancelled": True}
    ents = entities_of(message)
    folded = fold(message.get("text") or "")
    intent = (message.get("intent") or {}).get("name")
    out: dict[str, Any] = {}
    if ents.get("loan_purpose"):
        out["loan_purpose"] = ents["loan_purpose"][-1]
    elif _TRAINING.search(folded):
        out["loan_purpose"] = "training"
    elif _PRODUCTION.search(folded):
        out["loan_purpose"] = "production"
    if ents.get("money"):
        out["loan_amount"] = int(ents["money"][-1])
    dates = release_dates(ents, folded) if requested is None else sorted(str(d) for d in ents.get("date") or [])
    early = bool(_EARLY.search(folded)) or "early_release" in (ents.get("penalty_type") or [])
    if dates and not early and len(dates) > 1 and requested is None:
        # "ra tù ngày 20/12/2021, định đầu năm 2027 mới vay": a date still to come is the plan, not the release
        today = today_in_vietnam()
        past = [d for d in dates if d[:len(today.isoformat())] <= today.isoformat()[:len(d)]]
        dates = past or dates
    dates = [_month_end_said(folded, d) for d in dates]
    if dates:
        out["loan_completed_on"] = dates[-1]
        if requested == "loan_probation_end" or (early and (len(dates) > 1 or "thu thach" in folded)):
            out["loan_probation_end"] = dates[-1]
            if requested != "loan_probation_end" and (end := probation_end_from_release(folded, dates)):
                out["loan_probation_end"] = end  # the release date and the probation's length
    penalties = [p for p in ents.get("penalty_type") or [] if p != "early_release"]
    told = _PROGRAMME_NAME.sub(" ", folded)   # "…theo chương trình cho người chấp hành xong án phạt tù" names the loan
    if penalties == ["prison"] and told != folded and not _PRISON.search(told) and not _TERM_SERVED.search(told):
        penalties = []
    if early:
        out["loan_early_release"] = True
        out["loan_penalty"] = "prison"
    elif penalties:
        out["loan_penalty"] = main_penalty(penalties)
    elif _AMNESTY.search(folded):
        out["loan_penalty"] = "amnesty"
    elif _PRISON.search(told):
        out["loan_penalty"] = "prison"
    if out.get("loan_penalty") == "death":
        out["loan_penalty"] = "life"  # commuted: a prison term was served
    if _NO_CERT.search(folded):
        out["loan_has_certificate"] = False
    elif _HAS_CERT.search(folded):
        out["loan_has_certificate"] = True
    if requested == "loan_has_certificate" and intent in ("affirm", "deny"):
        out["loan_has_certificate"] = intent == "affirm"
    if requested is None and RELATIVE_STORY.search(folded):
        out["loan_relative"] = True  # "con trai tôi mới ra tù, muốn vay…": the answer speaks of the son
    if requested is None and (m := _AGE_NOW.search(folded)):
        out["loan_age"] = int(m["n"])  # "e năm nay 17t": the job-creation loan needs full civil capacity
    return out


def _month_end_said(folded: str, value: str) -> str:
    """A month said with "hết"/"cuối" before it ("thử thách đến hết tháng 3/2027") is its last
    day, not the first day ``completion_day`` would assume; any other value as it is."""
    if not re.fullmatch(r"\d{4}-\d{2}", value):
        return value
    year, month = int(value[:4]), int(value[5:7])
    if not re.search(rf"\b(het|cuoi)\s+thang\s+0?{month}\s*(/|-|\.|nam)\s*{year}\b", folded):
        return value
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1))
    return last.isoformat()


def completion_day(value: Any) -> dt.date | None:
    """A completion date as a day: a year alone ("ra tù từ năm 2019") or a month alone
    ("ra tù tháng 3 năm 2024") counts as its first day, the earlier date, so the time
    limit for the loan is never said to run later than it does; the answer states it."""
    text = str(value or "")
    if re.fullmatch(r"\d{4}", text):
        return dt.date(int(text), 1, 1)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        year, month = map(int, text.split("-"))
        return dt.date(year, month, 1)
    return day_of(value)


def vague_completion(value: Any) -> list[str]:
    """Which first-day assumption ``completion_day`` made for this value, if any."""
    text = str(value or "")
    return ["year_only"] if re.fullmatch(r"\d{4}", text) else ["month_only"] if re.fullmatch(r"\d{4}-\d{2}", text) else []


def vague_used(slots: dict[str, Any]) -> list[str]:
    """The first-day assumption the answer rests on: on conditional early release the time
    limit runs from the end of probation (when it is known only to the month or year, that
    is the assumption), never from the release day."""
    if slots.get("loan_early_release"):
        return vague_completion(slots.get("loan_probation_end"))
    return vague_completion(slots.get("loan_completed_on"))


def case_from_slots(slots: dict[str, Any]) -> LoanCase:
    penalty = slots.get("loan_penalty")
    return LoanCase(purpose=slots.get("loan_purpose"), amount=slots.get("loan_amount"),
                    has_certificate=slots.get("loan_has_certificate"),
                    completed_on=completion_day(slots.get("loan_completed_on")),
                    penalty=penalty if penalty in LOAN_PENALTIES else None,
                    early_release=bool(slots.get("loan_early_release")),
                    probation_end=completion_day(slots.get("loan_probation_end")),  # a month: its first day
                    age=slots.get("loan_age"))


def still_needed(slots: dict[str, Any], today: dt.date) -> list[str]:
    if slots.get("loan_cancelled"):
        return []
    try:
        return [SLOT_FOR[m] for m in precheck(case_from_slots(slots), KNOWLEDGE, today).missing]
    except ValueError:
        return []


class ValidateLoanForm(ExtractingForm):
    def name(self) -> str:
        return f"validate_{FORM}"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: dict[str, Any]) -> list[str]:
        return still_needed(dict(tracker.slots), today_in_vietnam())

    def extracted(self, tracker: Tracker) -> dict[str, Any]:
        latest = tracker.latest_message or {}
        if asks_about_record(latest):
            # "em bị 3 năm tù, ra tù 01/06/2023, bao giờ được xóa án tích?": its date is not this
            # form's answer. Nothing taken, the form gives way to the rule for a question asked in
            # its middle (data/rules.yml): the question is answered, then the form asks again.
            return {}
        return extract(latest, tracker.get_slot("requested_slot"))

    def corrections(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        locale = tracker_locale(tracker)
        amount_said(dispatcher, tracker, locale)
        purpose_said(dispatcher, tracker, locale)
        if tracker.get_slot("loan_early_release"):
            return []  # the release day and the end of probation: the end may be ahead
        value = tracker.get_slot("loan_completed_on")
        if value and completion_day(value) is None:
            dispatcher.utter_message(text=gettext(
                "Please tell me the month and year too (and the day if you remember).", locale))
            return [SlotSet("loan_completed_on", None)]
        if value and completion_day(value) > today_in_vietnam():
            dispatcher.utter_message(text=gettext("That date is in the future. Please check it.", locale))
            return [SlotSet("loan_completed_on", None)]
        return []


def amount_said(dispatcher: CollectingDispatcher, tracker: Tracker, locale: str) -> None:
    """An amount typed while the pre-check waits for another answer ("vay 150tr dc ko" to "ra tù
    ngày nào?") is a question too: say at once whether it is within this loan's maximum, then the
    form asks its question again (issue 14 point 3)."""
    latest = tracker.latest_message or {}
    amounts = entities_of(latest).get("money") or []
    if not amounts or not tracker.get_slot("requested_slot"):
        return
    today = today_in_vietnam()
    slots = {**dict(tracker.slots), "loan_has_certificate": True, "loan_completed_on": today.isoformat(),
             "loan_probation_end": None, "loan_early_release": None, "loan_penalty": None}
    slots["loan_purpose"] = slots.get("loan_purpose") or ASSUMED["loan_purpose"]
    try:
        qd22 = precheck(case_from_slots(slots), KNOWLEDGE, today).programmes[0]
    except ValueError:
        return
    if not qd22.max_amount or qd22.per_month:
        return
    wanted = int(amounts[-1])
    key = (N_("%(wanted)s is more than this loan gives: at most %(amount)s.") if wanted > qd22.max_amount
           else N_("%(wanted)s is within this loan's maximum of %(amount)s."))
    dispatcher.utter_message(text=gettext(key, locale) % {"wanted": format_money(wanted, locale),
                                                          "amount": format_money(qd22.max_amount, locale)})


# "How much can I borrow?" with an amount said is the person's case: the pre-check
# answers it against the maximum.
AMOUNT_QUESTIONS = frozenset({"loan.qd22.amount", "loan.jobs.amount"})


# Answer first: what the pre-check assumes when the message does not say it (stated with the
# answer, each with a button that corrects it), and what the correction sets instead.
ASSUMED = {"loan_purpose": "production", "loan_has_certificate": True}
CORRECTED = {"loan_purpose": "training", "loan_has_certificate": False}
ASSUMPTION_PHRASES = {
    "loan_purpose": N_("you borrow to do business or produce (not to study a trade)"),
    "loan_has_certificate": N_("you have the certificate of having completed the prison sentence"),
    "year_only": N_("you completed the sentence at the start of that year (tell me the month if you know it)"),
    "month_only": N_("you left prison on the 1st of that month"),
}
CORRECTION_BUTTONS = {
    "loan_purpose": N_("To study a trade"),
    "loan_has_certificate": N_("I have no certificate yet"),
}


def answer_first_form(facts: dict[str, Any], correct: str | None = None) -> list[EventType]:
    """Run the pre-check with what the person said and the usual assumptions for
    the rest (``correct``: the assumption corrected), so that it asks at most for
    the completion date, then answers."""
    values = {k: v for k, v in facts.items() if k != "loan_cancelled"}
    if correct in CORRECTED:
        values[correct] = CORRECTED[correct]
    assumed = [slot for slot in ASSUMED if values.get(slot) is None]
    if values.get("loan_early_release") or values.get("loan_penalty") not in (None, "prison", "life", "amnesty"):
        assumed = [slot for slot in assumed if slot != "loan_has_certificate"]
    values.update({slot: ASSUMED[slot] for slot in assumed})
    return [*(SlotSet(s, None) for s in SLOTS), *(SlotSet(k, v) for k, v in values.items()),
            SlotSet("loan_facts", {k: v for k, v in values.items() if k not in assumed}),
            SlotSet("loan_assumed", assumed), FollowupAction(FORM)]


class ActionLoanStart(Action):
    """ask_loan / check_loan, answer first: a personal case (an amount, a release
    date or a purpose in the message) is pre-checked at once, with the usual
    assumptions stated; a general question gets the cited answer and an offer."""

    def name(self) -> str:
        return "action_loan_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        from actions.followups import previous_answer_followup  # (it builds on this module)
        if (events := await previous_answer_followup(dispatcher, tracker, domain, jobs=False)) is not None:
            return events
        today = today_in_vietnam()
        latest = tracker.latest_message or {}
        locale = tracker_locale(tracker)
        entries = KNOWLEDGE.entries_for("ask_loan", today, latest.get("text") or "")
        named_rules = any(e.keywords for e in entries)  # "Nghị định 61 …": answer about those rules
        ents = entities_of(latest)
        wants_check = (latest.get("intent") or {}).get("name") == "check_loan"
        correct = (ents.get("recheck") or [None])[-1]
        kept = dict(tracker.get_slot("loan_facts") or {}) if wants_check else {}
        said = extract(latest, None)
        said.pop("loan_cancelled", None)
        dated = bool(release_dates(ents, fold(latest.get("text") or "")))
        if correct in CORRECTED and kept:
            return answer_first_form({**kept, **said}, correct)
        # A specific question about the rules ("có phải thế chấp không") gets its
        # answer; a message with a release date is a personal case (answered first).
        question = chosen_question(tracker, today)
        # Naming old rules ("Nghị định 61 …") keeps the answer about those rules,
        # unless the question is itself about the job-creation loan.
        if named_rules and question is not None and not question.id.startswith(("loan.jobs.", "loan.combine",
                                                                                 "loan.which_programme")):
            question = None
        if (question is not None and _after_loan_answer(tracker)
                and (other := jobs_question_for_the_case(tracker, question.id, today)) is not None):
            question = other   # "lãi suất bn" after the answer that only the job-creation loan fits: its rate
        carried = {} if dated or wants_check else case_after_expungement_answer(tracker)
        if carried and not named_rules and (question is None or question.id in CASE_QUESTIONS):
            # "anh ấy có được vay 100 triệu theo chương trình…", "phải vay trước ngày nào" right after the
            # expungement answer to the same story: that story's penalty and dates answer it ("chấp hành
            # xong án phạt tù" here names the programme, not the person's penalty)
            return answer_first_form({**said, **carried})
        if ents.get("money") and (question_confidence(tracker) < CASE_QUESTION_CONFIDENCE
                                  or question is not None and question.id in AMOUNT_QUESTIONS):
            question = None   # "muốn vay 50tr mở tiệm": the pre-check weighs that amount
        uncovered = said.get("loan_penalty") not in (None, "prison", "life", "amnesty")
        if uncovered and not named_rules and not wants_check:
            return answer_first_form({**kept, **said})  # án treo: QĐ 22 does not apply, the job-creation loan may
        if (not named_rules and not wants_check and not dated
                and (ents.get("money") or said.get("loan_purpose")) and question is None):
            return rule_answer(dispatcher, {**kept, **said}, today, locale)
        if question is not None and not wants_check and not dated:
            return [*utter_question(dispatcher, question, today, locale, tracker),
                    SlotSet("loan_facts", None), SlotSet("loan_assumed", None)]
        if (question is not None and question.id in PROGRAMME_QUESTIONS and not wants_check
                and question_confidence(tracker) >= CASE_QUESTION_CONFIDENCE):
            # "ra tù được 2 năm, muốn vay thì có những chương trình nào": the programmes, both named
            return [*utter_question(dispatcher, question, today, locale, tracker),
                    SlotSet("loan_facts", None), SlotSet("loan_assumed", None)]
        if not named_rules and (ents.get("money") or dated):
            return answer_first_form({**kept, **said})
        if wants_check:
            return [*start_form(FORM, SLOTS, said)[:-1], SlotSet("loan_facts", None), SlotSet("loan_assumed", None),
                    FollowupAction(FORM)]
        check = [{"title": gettext("Check if I can borrow", locale), "payload": "/check_loan"}]
        events = utter_entries(dispatcher, entries, today, locale, None if named_rules else check, tracker=tracker)
        return [*events, SlotSet("loan_facts", None), SlotSet("loan_assumed", None)]


def rule_answer(dispatcher: CollectingDispatcher, said: dict[str, Any], today: dt.date,
                locale: str) -> list[EventType]:
    """Answer first when the purpose or the amount is said but not the completion date
    ("mún vay 30tr nuôi heo dc ko"): the programme's amount, rate and collateral for that
    purpose, on the stated condition that the sentence was completed within the time limit
    (QĐ 22 Điều 3); then the pre-check asks its one question, the completion date, so that
    the date typed next is read as its answer."""
    dispatcher.utter_message(text=rule_text(said, today, locale))
    return answer_first_form(said)


def purpose_said(dispatcher: CollectingDispatcher, tracker: Tracker, locale: str) -> None:
    """A purpose typed while the pre-check waits for the completion date ("nuôi mấy con heo
    nái" to "ra tù ngày nào?") answers "vay để làm gì" again: say at once what that purpose
    may borrow, then the form asks its question again (as for an amount, ``amount_said``)."""
    latest = tracker.latest_message or {}
    if tracker.get_slot("requested_slot") not in ("loan_completed_on", "loan_probation_end"):
        return
    said = extract(latest, None)
    if not said.get("loan_purpose") or entities_of(latest).get("money") or said.get("loan_completed_on"):
        return
    facts = {**dict(tracker.get_slot("loan_facts") or {}), "loan_purpose": said["loan_purpose"]}
    dispatcher.utter_message(text=rule_text(facts, today_in_vietnam(), locale))


def rule_text(said: dict[str, Any], today: dt.date, locale: str) -> str:
    """The text of ``rule_answer``."""
    purpose = said.get("loan_purpose") or ASSUMED["loan_purpose"]
    case = case_from_slots({**said, "loan_purpose": purpose, "loan_has_certificate": True,
                            "loan_completed_on": today.isoformat()})
    qd22, jobs = precheck(case, KNOWLEDGE, today).programmes[:2]
    amount = format_money(qd22.max_amount, locale)
    if qd22.per_month:
        amount = gettext("%(amount)s a month", locale) % {"amount": amount}
    head = (N_("Not that much: if you completed the prison sentence (with the certificate) less than %(limit)s "
               "ago, the loan for people who completed a prison sentence gives up to %(amount)s, at %(rate)s.")
            if "amount_over_cap" in qd22.reasons else
            N_("Yes, if you completed the prison sentence (with the certificate) less than %(limit)s ago: "
               "the loan for people who completed a prison sentence gives up to %(amount)s, at %(rate)s."))
    lines = [said_of(head, locale, bool(said.get("loan_relative")))
             % {"limit": format_period(Period.parse(KNOWLEDGE.value("qd22.apply_within", today)),
                                                       locale),
                                "amount": amount, "rate": format_rate(qd22.rate, locale)}]
    # "vay 200 triệu làm trang trại được không": more than QĐ 22 lends, but the job-creation
    # loan may lend it (not both for one purpose, QĐ 22 Điều 3 khoản 3). Said instead of
    # the collateral and the term, which were not asked.
    other = ("amount_over_cap" in qd22.reasons and jobs.status not in ("not_applicable", "not_eligible")
             and jobs.max_amount is not None and "amount_over_cap" not in jobs.reasons)
    too_young = "jobs_full_capacity" in jobs.reasons
    facts = ["poor_household_rate"]
    if too_young:
        # "17t, muốn vay vốn tạo việc làm 200tr": that loan needs full civil capacity (18), whatever the amount
        capacity = REASONS["jobs_full_capacity"]
        lines.append(gettext(capacity, locale))
        facts.append("jobs.min_age")
    if other:
        lines.append(gettext("The job-creation loan lends up to %(amount)s, which covers it; the two cannot be "
                             "taken together for one purpose.", locale)
                     % {"amount": format_money(jobs.max_amount, locale)})
        facts.append("jobs.individual_max")
    elif not too_young:   # (the age is the answer; collateral and term were not asked)
        if qd22.collateral == "none":
            lines.append(gettext("No collateral is needed.", locale))
        if qd22.term and not qd22.per_month:  # "vay 100tr thì trả trong mấy năm": the term is part of the answer
            lines.append(gettext("Longest term: %(term)s.", locale) % {"term": format_period(qd22.term, locale)})
    phrase = ASSUMPTION_PHRASES["loan_purpose"]
    if purpose != "training":
        lines.append(gettext("This assumes that %(assumptions)s. If not, tap the button that applies.", locale)
                     % {"assumptions": said_of(phrase, locale, bool(said.get("loan_relative")))}
                     if not said.get("loan_purpose") else "")
    lines += caution_and_citation(facts, today, locale, lead=KNOWLEDGE.entry("loan.qd22", today).sources)[-1:]
    return "\n".join(line for line in lines if line)


class ActionLoanResult(CalculationResult):
    slots = SLOTS
    cancel_slot = "loan_cancelled"
    covers = ("loan.qd22.amount", "loan.qd22.training_amount", "loan.qd22.rate", "loan.qd22.collateral",
              "loan.qd22.deadline", "loan.qd22.eligibility", "loan.qd22.since", "loan.qd22.suspended",
              "loan.qd22.early_release", "loan.qd22.no_certificate", "loan.jobs.amount", "loan.jobs.who",
              "loan.jobs.suspended", "loan.which_programme")

    def name(self) -> str:
        return "action_loan_result"

    def messages(self, tracker: Tracker, today: dt.date, locale: str) -> list[str]:
        slots = dict(tracker.slots)
        result = precheck(case_from_slots(slots), KNOWLEDGE, today)
        return [short_result(result.programmes, assumed_used(slots, today) + vague_used(slots), locale,
                             bool(slots.get("loan_relative")))]

    def offer(self, tracker: Tracker, today: dt.date, locale: str) -> tuple[list[dict[str, str]], list[EventType]]:
        """Buttons to correct each assumption and to read the details (the other
        programme, papers, where, the caution)."""
        slots = dict(tracker.slots)
        result = precheck(case_from_slots(slots), KNOWLEDGE, today)
        assumed = assumed_used(slots, today)
        buttons = [{"title": said_of(CORRECTION_BUTTONS[a], locale, bool(slots.get("loan_relative"))),
                    "payload": '/check_loan{"recheck": "%s"}' % a} for a in assumed]
        facts = {k: slots[k] for k in SLOTS if slots.get(k) is not None and k != "loan_cancelled"
                 and k not in (slots.get("loan_assumed") or [])}
        return buttons, [SlotSet("loan_facts", facts), SlotSet("loan_assumed", slots.get("loan_assumed"))]

    def details(self, tracker: Tracker, today: dt.date, locale: str) -> str:
        """The other programme, papers, where to apply and the caution."""
        slots = dict(tracker.slots)
        result = precheck(case_from_slots(slots), KNOWLEDGE, today)
        return "\n\n".join(result_messages(result.programmes, locale, bool(slots.get("loan_relative"))))


def assumed_used(slots: dict[str, Any], today: dt.date) -> list[str]:
    """The assumptions the answer rests on (those the pre-check would ask about),
    leaving out those whose correction would not change a refusal ("án treo" is
    refused whatever the purpose)."""
    used = [slot for slot in slots.get("loan_assumed") or []
            if slot in ASSUMED and slots.get(slot) == ASSUMED[slot]
            and slot in still_needed({**slots, slot: None}, today)]
    base = _statuses(slots, today)
    if base.get("qd22") != "not_eligible":
        return used
    return [slot for slot in used if _statuses({**slots, slot: CORRECTED[slot]}, today) != base]


def _statuses(slots: dict[str, Any], today: dt.date) -> dict[str, str]:
    return {p.id: p.status for p in precheck(case_from_slots(slots), KNOWLEDGE, today).programmes}


def short_result(programmes: list[Programme], assumed: list[str], locale: str, relative: bool = False) -> str:
    """The answer for a phone: can the person borrow, how much, by when, what it
    assumes, the basis in one line; the rest goes behind "Xem chi tiết".

    Within FIRST_BUBBLE_MAX characters: the answer and every assumption always stay;
    what a phone can do without waits behind the button (result_messages says it all
    there), in this order, until the bubble fits: the pointer to the other programme,
    the other programme's terms, the sources after the decision's own (as a knowledge
    answer cites its first source only), "no collateral", the advice on when to apply,
    the long wording of a refusal's reason, then the other programme's amount and term, and
    last the monthly figure of the interest rate. ``relative``: the story is a relative's
    ("con trai tôi mới ra tù…"), and the answer speaks of them."""
    by_id = {p.id: p for p in programmes}
    qd22, jobs = by_id["qd22"], by_id.get("jobs")
    every = _programme_lines(qd22, locale, relative)
    term = gettext("Longest term: %(term)s.", locale) % {"term": format_period(qd22.term, locale)} if qd22.term else None
    lines = [line for line in every if not line.startswith("• ") and line != term]  # those go to the details
    deadline = None
    if qd22.deadline and qd22.status != "not_eligible":
        deadline = next((i for i, line in enumerate(lines) if format_date(qd22.deadline, locale) in line), None)
        if deadline is not None:
            lines[deadline] = (gettext("Borrow by %(date)s (apply by about %(apply_by)s).", locale)
                               % {"date": format_date(qd22.deadline, locale),
                                  "apply_by": format_date(qd22.apply_by or qd22.deadline, locale)})
    over_cap = "amount_over_cap" in qd22.reasons
    if qd22.status != "not_eligible":
        # "muốn vay 200 triệu …" over the maximum: the answer to the amount asked comes first
        answer = gettext("Not the amount you asked for.", locale) if over_cap else gettext("Yes.", locale)
        lines[0] = answer + " " + lines[0]
        lines += ["• " + said_of(REASONS[r], locale, relative) for r in qd22.reasons if r == "deadline_close"]
    else:
        lines[0] = gettext("No.", locale) + " " + lines[0]   # "cháu có thuộc diện đó không?": the answer first
    reason = None
    if qd22.status == "not_eligible":
        # "deadline_passed" is already said by the line giving the date it passed
        said = [r for r in qd22.reasons if r in REASONS and not (r == "deadline_passed" and qd22.deadline)][:1]
        if said:
            reason = len(lines)
            lines.append("• " + said_of(REASONS[said[0]], locale, relative))
    hint = None
    jobs_line = None
    if jobs and jobs.status not in ("not_applicable", "not_eligible"):
        if qd22.status == "not_eligible":
            jobs_line = len(lines)
            lines += _programme_lines(jobs, locale, relative)[:1]
        else:
            hint = gettext("The job-creation loan may also fit (see the details).", locale)
    tail = []
    if assumed:
        tail.append(gettext("This assumes that %(assumptions)s. If not, tap the button that applies.", locale)
                    % {"assumptions": "; ".join(said_of(ASSUMPTION_PHRASES[a], locale, relative) for a in assumed)})
    day = qd22.rules_on or today_in_vietnam()
    lead = KNOWLEDGE.entry("loan.qd22", day).sources
    cited = caution_and_citation(["poor_household_rate"], day, locale, lead=lead)[-1:]
    tail += cited

    def bubble() -> str:
        return "\n".join(line for line in [*lines, hint, *tail] if line)

    def short_reason() -> str:
        return "• " + said_of(SHORT_REASONS.get(said[0], REASONS[said[0]]), locale, relative)

    shorter = [
        lambda: hint is not None and (_set_hint(None) or True),
        lambda: jobs_line is not None and _replace(lines, jobs_line, gettext(
            "The job-creation loan may fit instead: up to %(amount)s, for up to %(term)s (see the details).", locale)
            % {"amount": format_money(jobs.max_amount, locale), "term": format_period(jobs.term, locale)}),
        lambda: _replace(tail, len(tail) - 1, citation_line("; ".join(
            s.cite(lambda t: knowledge_text(t, locale)) for s in lead[:1]), locale)),
        lambda: _drop(lines, gettext("No collateral is needed.", locale)),
        lambda: deadline is not None and _replace(lines, deadline, gettext(
            "Borrow by %(date)s.", locale) % {"date": format_date(qd22.deadline, locale)}),
        lambda: reason is not None and _replace(lines, reason, short_reason()),
        lambda: jobs_line is not None and _replace(lines, jobs_line, gettext(
            "The job-creation loan may fit instead (see the details).", locale)),
        lambda: _replace(lines, 0, lines[0].replace(format_rate(qd22.rate, locale, monthly=True),
                                                    format_rate(qd22.rate, locale))),
    ]

    def _set_hint(value: str | None) -> None:
        nonlocal hint
        hint = value

    for step in shorter:
        if len(bubble()) <= FIRST_BUBBLE_MAX:
            break
        step()
    return bubble()


def _replace(lines: list[str], index: int, text: str) -> bool:
    lines[index] = text
    return True


def _drop(lines: list[str], text: str) -> bool:
    """Empty the line (the bubble leaves out empty lines; the others keep their places)."""
    lines[:] = ["" if line == text else line for line in lines]
    return True


REASONS = {
    "need_certificate": N_("You need the certificate of having completed the prison sentence (or of amnesty). "
                        "On conditional early release it is issued when the probation ends."),
    "deadline_passed": N_("The loan had to be made within the time limit after completing the sentence."),
    "outstanding_same_purpose": N_("An unpaid loan from the Social Policy Bank for the same purpose must be repaid first."),
    "get_on_commune_list": N_("You must be on the list drawn up by the commune police and confirmed by the commune "
                           "People's Committee: ask the commune police."),
    "confirm_commune_list": N_("Ask the commune police to confirm you are on their list for this loan."),
    "confirm_no_outstanding_loan": N_("You must have no unpaid loan from the Social Policy Bank for the same purpose."),
    "amount_over_cap": N_("The amount you want is more than the maximum."),
    "qd22_prison_only": N_("This loan is only for people who served a prison term (with the certificate of "
                           "completion) or were granted amnesty. A suspended sentence or another penalty "
                           "without prison is not covered: ask about the job-creation loan instead."),
    "on_probation": N_("On conditional early release, the certificate of completion is issued when the "
                       "probation ends; only then can you apply."),
    "deadline_close": N_("The time limit is close: apply as soon as possible, the loan itself must be made "
                         "before the limit."),
    "one_programme_per_purpose": N_("You cannot have two loans from the Social Policy Bank for the same "
                                    "purpose at once: choose one of these programmes."),
    "jobs_full_capacity": N_("The job-creation loan needs full civil capacity (adults only)."),
}


# A refusal's reason in a phone's first bubble when the whole wording does not fit
# (the whole wording is in the details).
SHORT_REASONS = {
    "qd22_prison_only": N_("It is only for people who served a prison term or were granted amnesty, not for "
                           "a suspended sentence or another penalty without prison."),
    "need_certificate": N_("You need the certificate of having completed the prison sentence (or of amnesty)."),
    "on_probation": N_("You can apply only when the probation ends."),
}
# The same texts when the story is a relative's (slot loan_relative, actions.common.said_of).
relative_texts(
    NP_("relative", "You can apply for the loan for people who completed a prison sentence: "
                    "up to %(amount)s, at %(rate)s."),
    NP_("relative", "The loan for people who completed a prison sentence may fit: up to %(amount)s, at %(rate)s."),
    NP_("relative", "The loan for people who completed a prison sentence does not fit now."),
    NP_("relative", "Your probation ends on %(date)s; the time limit for this loan is counted from that day."),
    NP_("relative", "The job-creation loan may also fit: up to %(amount)s, for up to %(term)s, "
                    "interest %(rate)s; the bank appraises your plan."),
    NP_("relative", "Not that much: if you completed the prison sentence (with the certificate) less than "
                    "%(limit)s ago, the loan for people who completed a prison sentence gives up to %(amount)s, "
                    "at %(rate)s."),
    NP_("relative", "Yes, if you completed the prison sentence (with the certificate) less than %(limit)s ago: "
                    "the loan for people who completed a prison sentence gives up to %(amount)s, at %(rate)s."),
    NP_("relative", "you borrow to do business or produce (not to study a trade)"),
    NP_("relative", "you have the certificate of having completed the prison sentence"),
    NP_("relative", "you completed the sentence at the start of that year (tell me the month if you know it)"),
    NP_("relative", "you left prison on the 1st of that month"),
    NP_("relative", "I have no certificate yet"),
    NP_("relative", "You need the certificate of having completed the prison sentence (or of amnesty). "
                    "On conditional early release it is issued when the probation ends."),
    NP_("relative", "You need the certificate of having completed the prison sentence (or of amnesty)."),
    NP_("relative", "You can apply only when the probation ends."),
    NP_("relative", "The amount you want is more than the maximum."),
    NP_("relative", "You must be on the list drawn up by the commune police and confirmed by the commune "
                    "People's Committee: ask the commune police."),
    NP_("relative", "Ask the commune police to confirm you are on their list for this loan."),
    NP_("relative", "You must have no unpaid loan from the Social Policy Bank for the same purpose."),
)

QD22_HEADS = {
    "eligible": N_("You can apply for the loan for people who completed a prison sentence: "
                   "up to %(amount)s, at %(rate)s."),
    "check": N_("The loan for people who completed a prison sentence may fit: up to %(amount)s, at %(rate)s."),
    "not_eligible": N_("The loan for people who completed a prison sentence does not fit now."),
}


def _programme_lines(p: Programme, locale: str, relative: bool = False) -> list[str]:
    if p.id == "qd22":
        amount = format_money(p.max_amount, locale)
        if p.per_month:
            amount = gettext("%(amount)s a month", locale) % {"amount": amount}
        head = said_of(QD22_HEADS[p.status], locale, relative) % {
            "amount": amount, "rate": format_rate(p.rate, locale, monthly=True)}
        lines = [head]
        if p.collateral == "none" and p.status != "not_eligible":
            lines.append(gettext("No collateral is needed.", locale))
        if p.term and p.status != "not_eligible":
            lines.append(gettext("Longest term: %(term)s.", locale) % {"term": format_period(p.term, locale)})
        if p.deadline and p.status != "not_eligible":
            lines.append(gettext("The loan itself must be made by %(date)s at the latest; apply by about "
                                 "%(apply_by)s to leave the bank time.", locale)
                         % {"date": format_date(p.deadline, locale),
                            "apply_by": format_date(p.apply_by or p.deadline, locale)})
        elif "on_probation" in p.reasons and p.certificate_on:
            lines.append(said_of("Your probation ends on %(date)s; the time limit for this loan is counted "
                                 "from that day.", locale, relative) % {"date": format_date(p.certificate_on, locale)})
        elif "deadline_passed" in p.reasons:
            limit = Period.parse(KNOWLEDGE.value("qd22.apply_within", p.rules_on or today_in_vietnam()))
            lines.append(gettext("The loan must be made within %(limit)s of completing the sentence; that time "
                                 "limit ended on %(date)s.", locale)
                         % {"limit": format_period(limit, locale), "date": format_date(p.deadline, locale)})
    elif p.status == "not_eligible":
        lines = []
    else:
        rate = (gettext("about %(rate)s (our calculation from the rule: ask the bank)", locale)
                % {"rate": format_rate(p.rate, locale)}) if p.rate_computed else str(p.rate)
        lines = [said_of("The job-creation loan may also fit: up to %(amount)s, for up to %(term)s, "
                         "interest %(rate)s; the bank appraises your plan.", locale, relative)
                 % {"amount": format_money(p.max_amount, locale), "term": format_period(p.term, locale), "rate": rate}]
    lines += ["• " + said_of(REASONS[r], locale, relative) for r in p.reasons if r in REASONS]
    return lines


def result_messages(programmes: list[Programme], locale: str, relative: bool = False) -> list[str]:
    """Two short messages for a phone: what fits; then papers, where, and the basis."""
    by_id = {p.id: p for p in programmes}
    qd22, jobs = by_id["qd22"], by_id.get("jobs")
    fits = _programme_lines(qd22, locale, relative)
    if jobs and jobs.status != "not_applicable":
        fits += _programme_lines(jobs, locale, relative)
    how: list[str] = []
    if qd22.status != "not_eligible":
        how.append(gettext("Papers to prepare:", locale))
        how += [f"– {d}" for d in qd22.documents]
    how.append(gettext("Where: %(places)s.", locale) % {"places": "; ".join(qd22.where)})
    facts = list(dict.fromkeys(qd22.facts + (jobs.facts if jobs and jobs.status != "not_applicable" else [])))
    day = qd22.rules_on or today_in_vietnam()
    how += caution_and_citation(facts, day, locale, lead=KNOWLEDGE.entry("loan.qd22", day).sources)
    return ["\n".join(fits), "\n".join(how)]


# The expungement calculator's case, carried to a loan question asked right after its answer (acceptance_fresh13:
# "Chồng tôi bị cải tạo không giam giữ 1 năm…" then "anh ấy có được vay theo chương trình cho người chấp hành
# xong án phạt tù không?" — no: QĐ 22 is for prison terms). Its penalty and dates, the later judgment's when
# there were two, and whose story it is.
_EXP_PENALTY_FOR_LOAN = {"prison": "prison", "life": "life", "death_commuted": "life", "suspended": "suspended",
                         "non_custodial": "non_custodial", "fine": "fine", "warning": "warning"}
# The loan questions the person's own case answers (eligibility, amount, the time limit).
CASE_QUESTIONS = frozenset({"loan.qd22.amount", "loan.qd22.deadline", "loan.qd22.deadline_passed",
                            "loan.qd22.eligibility", "loan.qd22.suspended", "loan.qd22.early_release",
                            "loan.qd22.since", "loan.jobs.who", "loan.jobs.suspended", "loan.jobs.amount"})


def case_after_expungement_answer(tracker: Tracker) -> dict[str, Any]:
    """Loan slots from the case the expungement calculator just answered, or {}."""
    if last_bot_action(tracker) != "action_expungement_result":
        return {}
    facts = dict(tracker.get_slot("exp_facts") or {})
    new = bool(facts.get("exp_new_penalty") and facts.get("exp_new_completed_on"))
    penalty = facts.get("exp_new_penalty" if new else "exp_penalty")
    completed = facts.get("exp_new_completed_on" if new else "exp_completed_on")
    out: dict[str, Any] = {}
    if penalty in _EXP_PENALTY_FOR_LOAN:
        out["loan_penalty"] = _EXP_PENALTY_FOR_LOAN[penalty]
    if completed:
        out["loan_completed_on"] = completed
    if not new and facts.get("exp_early_release") and facts.get("exp_probation_end"):
        out.update(loan_early_release=True, loan_penalty="prison", loan_probation_end=facts["exp_probation_end"])
        out.setdefault("loan_completed_on", facts["exp_probation_end"])
    if out and facts.get("exp_relative"):
        out["loan_relative"] = True
    return out if out.get("loan_completed_on") or out.get("loan_penalty") not in (None, "prison", "life") else {}


# Questions about which programmes there are, and whether two can be combined: answered as asked even when
# the message tells a release date ("ra tù năm 2024, còn nợ QĐ 22, vay thêm vốn việc làm được không").
PROGRAMME_QUESTIONS = frozenset({"loan.which_programme", "loan.combine"})
LOAN_ACTIONS = ("action_loan_start", "action_loan_result", FORM)


# The penalties the QĐ 22 loan does not cover: the person's loan is the job-creation loan.
_JOBS_ONLY_PENALTIES = frozenset({"suspended", "non_custodial", "fine", "warning"})


def jobs_question_for_the_case(tracker: Tracker, qid: str, today: dt.date) -> Any:
    """The job-creation loan's version of a QĐ 22 question ("lãi suất bao nhiêu", "vay được mấy năm")
    asked right after the pre-check found that only the job-creation loan fits the person (án treo, cải tạo
    không giam giữ…: acceptance_fresh14 got the QĐ 22 rate), or right after a job-creation loan answer;
    or None."""
    facts = tracker.get_slot("loan_facts") or {}
    previous = ((previous_parse(tracker) or {}).get("question") or {}).get("id") or ""
    if not qid.startswith("loan.qd22.") or (facts.get("loan_penalty") not in _JOBS_ONLY_PENALTIES
                                            and not previous.startswith("loan.jobs.")):
        return None
    return question_entry("loan.jobs." + qid.removeprefix("loan.qd22."), today)


def _after_loan_answer(tracker: Tracker) -> bool:
    """Was the bot's last answer, before this message, about loans? The pre-check's own
    answers, or a loan question answered on its own ("không có sổ đỏ thì có phải thế chấp
    không" asked in the middle: the purpose typed next still answers "vay để làm gì")."""
    last = last_bot_action(tracker)
    return last in LOAN_ACTIONS or (last == "action_answer" and previous_intent(tracker) == "ask_loan")


# A purpose typed alone is short and asks nothing ("để đi học nghề", "bán đồ ăn sáng");
# "đi học nghề ở đâu", "có chỗ dạy nghề miễn phí không" are questions of their own.
# "đâu" folds like "đầu": it asks only at the end ("vay ở đâu (vậy)"), not in "ở đầu ngõ";
# "mấy" folds like "máy": it asks before a count ("mấy năm"), not in "mua máy xay xát".
_ASKS = re.compile(r"\b(khong|ko|k|hong|gi|j|nao|sao|the nao|ntn|bao nhieu|bn|ai|chua|duoc khong|dc ko)\b|\?"
                   r"|\bdau( (v|vay|z|a|ha|nhi|the|nhe|ta))?\W*$"
                   r"|\bmay (ngay|thang|nam|tuoi|lan|gio|tieng|phan|trieu|tien|nguoi|buoc|loai|cai)\b|\bmay\W*$")


# How many words a purpose typed alone may have: a topic's classifier (action_answer) may have
# read a short one ("để đi học nghề"); a message the classifier found out of scope or did not
# understand may tell the purpose at more length ("em định bán xôi với bánh mì buổi sáng ở đầu ngõ").
PURPOSE_WORDS = 6
PURPOSE_WORDS_UNCLASSIFIED = 14
# A message that opens with the purpose ("mở tiệm rửa xe máy với xe đạp", "em định mở lò bánh mì nhỏ
# trong xóm") is the answer to "vay để làm gì" even when the classifier gave it a topic: it may be
# as long as an unclassified one.
_LEADING_PURPOSE = re.compile(r"^\W*(?:(?:de|e|em|toi|tui|minh|anh|chi|con|dinh|muon|mun|tinh|se|la|thi|vay|ma|a|"
                              r"vang|da|u|nha|gia dinh)\s+){0,4}(?:" + _PRODUCTION.pattern + "|" + _TRAINING.pattern + ")")


def purpose_after_loan_answer(tracker: Tracker, max_words: int = PURPOSE_WORDS) -> dict[str, Any] | None:
    """The loan facts, with the purpose just typed, when this message is only a purpose
    and the bot's last answer was about loans (it is the answer to "vay để làm gì");
    else None. Read by action_out_of_scope and the fallback (``max_words``
    PURPOSE_WORDS_UNCLASSIFIED) and by action_answer (a purpose that is also a topic
    word, "học nghề", is classified as that topic)."""
    latest = tracker.latest_message or {}
    text = fold(latest.get("text") or "")
    said = extract(latest, None)
    words = len(text.split())
    if not said.get("loan_purpose") or _ASKS.search(text) or not _after_loan_answer(tracker):
        return None
    if words > max_words and not (words <= PURPOSE_WORDS_UNCLASSIFIED and _LEADING_PURPOSE.match(text)):
        return None
    return {**dict(tracker.get_slot("loan_facts") or {}), **said}


def release_after_loan_answer(tracker: Tracker) -> dict[str, Any] | None:
    """The loan facts with the release date just typed, when this short message only tells when the
    person came out ("em ra tù 2023") and the bot's last answer was about loans: the answer to the
    pre-check's own question, not a new expungement story; else None."""
    latest = tracker.latest_message or {}
    text = fold(latest.get("text") or "")
    if (len(text.split()) > 8 or _ASKS.search(text) or re.search(r"\b(an tich|xoa)\b", text)
            or not _after_loan_answer(tracker) or not release_dates(entities_of(latest), text)):
        return None
    said = extract(latest, None)
    said.pop("loan_cancelled", None)
    return {**dict(tracker.get_slot("loan_facts") or {}), **said}


class ActionOutOfScope(Action):
    """A message the classifier finds out of scope. Right after a loan answer, a purpose
    typed alone ("bán đồ ăn sáng", "để đi học nghề") is the answer to "vay để làm gì":
    the loan for that purpose (issue 14, point 3). Otherwise: out of scope, then the topics."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        from actions.followups import previous_answer_followup  # (it builds on this module)
        events = await previous_answer_followup(dispatcher, tracker, domain, purpose_words=PURPOSE_WORDS_UNCLASSIFIED)
        if events is not None:
            return events
        dispatcher.utter_message(response="utter_out_of_scope")
        return await ActionTopicMenu().run(dispatcher, tracker, domain)
