"""Issue 14, point 3: the forms of a person's story added for the harder acceptance set
(bench/acceptance_hard.yml), each read from free text and answered in the first reply,
without a model (entities from vietnamese.entities, actions through rasa-sdk's executor)."""

from __future__ import annotations

import datetime as dt

import pytest

from actions import expungement as exp, loans
from actions.answers import KNOWLEDGE
from tests.unit.test_actions import call
from tests.unit.test_answer_first import latest, slot_events
from vietnamese.entities import extract as entities

TODAY = dt.date(2026, 11, 23)  # the clock fixture's day


def said(text: str, requested: str | None = None) -> dict:
    ents = [{"entity": e.entity, "value": e.value} for e in entities(text, TODAY)]
    return exp.extract({"text": text, "entities": ents}, requested, TODAY)


def answered(facts: dict) -> exp.Result:
    """The calculator's answer with the usual assumptions for what was not said."""
    slots = dict(facts) | {k: v for k, v in exp.ASSUMED.items() if facts.get(k) is None}
    assert exp.still_needed(slots, TODAY) == []  # nothing asked: answered in the first reply
    return exp.calculate(exp.case_from_slots(slots, TODAY), KNOWLEDGE, TODAY)


def ents_of(text: str) -> list[dict]:
    return [{"entity": e.entity, "value": e.value} for e in entities(text, TODAY)]


# --- expungement: the forms ----------------------------------------------------------------------

@pytest.mark.parametrize("story, end", [
    ("e bị 1 năm tù, ra tù năm ngoái", dt.date(2027, 12, 31)),      # 2025 → 31/12/2025 + 2 years
    ("bi 2 nam tu, ra tu nam 2020", dt.date(2022, 12, 31)),
])
def test_a_year_alone_counts_as_its_last_day_and_says_so(story, end):
    facts = said(story)
    assert len(facts["exp_completed_on"]) == 4
    r = answered(facts)
    assert r.period_end == end  # the later date: never cleared earlier than it is
    assert exp.month_only(facts) == ["year_only"]


def test_the_start_of_a_year_counts_as_the_end_of_march():
    """"ra tù đầu năm 2024": not the whole year (it would put the date nine months late, acceptance_fresh14)
    but the end of its first quarter, the later bound of "đầu năm", stated as the month's last day."""
    facts = said("bị 30 tháng tù, ra trại đầu năm 2023")
    assert facts["exp_completed_on"] == "2023-03"
    assert answered(facts).period_end == dt.date(2025, 3, 31)
    assert exp.month_only(facts) == ["month_only"]
    assert said("bi 2 nam tu ra tu cuoi nam 2020")["exp_completed_on"] == "2020-12"


def test_a_year_alone_is_not_asked_again():
    assert exp.completion_day("2025") == dt.date(2025, 12, 31)
    assert exp.completion_day("2025-03") == dt.date(2025, 3, 31)
    assert exp.completion_day("2025-03-04") == dt.date(2025, 3, 4)


@pytest.mark.parametrize("story, term", [
    ("án 4 năm, ra tù được 2 năm rưỡi rồi", "P4Y"),
    ("an 18 thang, ra trai thang 3 nam 2025", "P18M"),
])
def test_an_with_a_term_is_a_prison_term(story, term):
    facts = said(story)
    assert facts["exp_penalty"] == "prison" and facts["exp_prison_term"] == term


def test_an_treo_is_still_suspended():
    assert said("án treo 2 năm, hết thử thách 01/03/2024")["exp_penalty"] == "suspended"


@pytest.mark.parametrize("story, until", [
    ("Tôi bị 3 năm tù và 3 năm quản chế, ra tù ngày 01/04/2023", "2026-04-01"),
    ("bi 3 nam tu, quan che 2 nam, ra tu 01/06/2023", "2025-06-01"),
    ("bị 2 năm tù, cấm cư trú 6 tháng, ra tù 10/10/2024", "2025-04-10"),
])
def test_a_supplementary_penalty_with_its_length_ends_that_long_after_release(story, until):
    facts = said(story)
    assert facts["exp_supplementary"] == "until" and facts["exp_supplementary_until"] == until


def test_a_longer_quan_che_sets_the_date():
    r = answered(said("Tôi bị 3 năm tù và 3 năm quản chế, ra tù ngày 01/04/2023"))
    assert r.date == dt.date(2026, 4, 2)  # the end of quản chế, not 01/04/2025 (legal facts §3 example 2)


def test_tu_phap_is_not_a_prison_sentence():
    assert "exp_penalty" not in said("mà làm lý lịch tư pháp mất bao nhiêu tiền", "exp_penalty")
    assert said("tù", "exp_penalty")["exp_penalty"] == "prison"


@pytest.mark.parametrize("story, article", [
    ("4 năm tù tội cướp tài sản", "168"), ("bị 3 năm tù tội cướp giật", "171"), ("cuop 5 nam tu", "168"),
])
def test_named_robbery_offences(story, article):
    assert said(story)["exp_article"] == article


@pytest.mark.parametrize("story", [
    "hồi đó e 15t bị 3 năm tù tội cướp giật, giờ có bị án tích không",
    "em đâm xe làm chết người, tòa xử theo khoản 1 điều 260, 3 năm tù, ra tù rồi thì có án tích ko",
])
def test_no_record_at_any_date_needs_no_date(story):
    facts = said(story)
    assert "exp_completed_on" not in facts
    assert answered(facts).route == "no_record"


def test_an_age_under_16_said_in_the_story_is_never_given_the_adult_rule(clock):
    text = "hồi đó e 15t bị 3 năm tù tội cướp giật, giờ có bị án tích không"
    out = call("action_expungement_start", latest(text, "ask_expungement", ents_of(text)), [])
    assert not any("sau 2 năm" in (r.get("text") or "") for r in out["responses"])
    slots = slot_events(out)
    assert slots["exp_age_group"] == 15 and exp.still_needed(slots, TODAY) == []


def test_an_age_said_after_the_answer_recomputes_it(clock):
    facts = {"exp_penalty": "prison", "exp_prison_term": "P2Y", "exp_completed_on": "2024-10"}
    from tests.unit.test_answer_first import call_with_slots
    out = call_with_slots("action_expungement_start", latest("lúc đó e mới 15t", "ask_expungement",
                                                             ents_of("lúc đó e mới 15t")), {"exp_facts": facts})
    slots = slot_events(out)
    assert slots["exp_age_group"] == 15 and slots["exp_prison_term"] == "P2Y"
    assert exp.calculate(exp.case_from_slots(slots, TODAY), KNOWLEDGE, TODAY).route == "no_record"


@pytest.mark.parametrize("text", ["tính giúp em ngày xóa án tích", "tinh giup e ngay xoa an tich",
                                  "tính hộ em xem bao giờ hết án tích"])
def test_asking_for_the_calculation_starts_it_with_the_assumptions(clock, text):
    out = call("action_expungement_start", latest(text, "ask_expungement", []), [])
    slots = slot_events(out)
    assert set(slots["exp_assumed"]) == set(exp.ASSUMED)  # only the sentence and the date will be asked
    assert exp.still_needed(slots, TODAY) == ["exp_penalty", "exp_completed_on"]
    assert "một tin" in out["responses"][0]["text"]


def test_unpaid_compensation_says_not_yet_first():
    r = answered(said("e bị 4 năm tù, ra tù 3/3/2023 nhưng chưa nộp hết tiền bồi thường"))
    assert r.route == "not_yet"
    assert exp.short_result_text(r, [], TODAY, "vi").startswith("Chưa được xóa án tích")


# --- loans -----------------------------------------------------------------------------------------

def loan_start(text: str, intent: str = "ask_loan") -> dict:
    return call("action_loan_start", latest(text, intent, ents_of(text)), [])


def test_a_loan_story_without_a_date_is_answered_with_its_condition(clock):
    out = loan_start("mún vay 30tr nuôi heo dc ko")
    [reply] = out["responses"]
    assert reply["text"].startswith("Được, nếu anh/chị chấp hành xong án phạt tù")
    assert "100.000.000" in reply["text"] and "Không cần thế chấp" in reply["text"]
    assert "để làm gì" not in reply["text"] and len(reply["text"]) <= 500
    assert slot_events(out)["loan_facts"] == {"loan_purpose": "production", "loan_amount": 30_000_000}
    # then the pre-check asks its one question, so the date typed next is read as its answer
    assert {"event": "followup", "name": "loan_form"} in [
        {k: e[k] for k in ("event", "name")} for e in out["events"] if e["event"] == "followup"]


def test_more_than_the_cap_is_not_a_yes(clock):
    [reply] = loan_start("vay 150 triệu theo QĐ 22 để mở xưởng được không")["responses"]
    assert reply["text"].startswith("Không vay được số tiền đó") and "100.000.000" in reply["text"]


def test_training_purpose_gets_the_monthly_amount(clock):
    [reply] = loan_start("mới ra tù, muốn vay tiền đi học nghề sửa xe thì được bao nhiêu")["responses"]
    assert "4.000.000" in reply["text"]


def test_a_suspended_sentence_is_pre_checked_not_given_qd22(clock):
    out = loan_start("e bị án treo 3 năm, giờ hết thử thách rồi, mún vay vốn làm ăn thì vay ở đâu")
    slots = slot_events(out)
    assert slots["loan_penalty"] == "suspended"
    r = loans.precheck(loans.case_from_slots(slots), KNOWLEDGE, TODAY)
    assert r.missing == [] and r.programmes[0].reasons == ["qd22_prison_only"]


def test_a_year_alone_counts_from_its_first_day_for_the_loan_limit():
    assert loans.completion_day("2019") == dt.date(2019, 1, 1)  # the earlier limit: never later than it is
    slots = {"loan_purpose": "production", "loan_has_certificate": True, "loan_completed_on": "2019",
             "loan_penalty": "prison"}
    r = loans.precheck(loans.case_from_slots(slots), KNOWLEDGE, TODAY)
    assert r.programmes[0].reasons == ["deadline_passed"]
    assert "5 năm" in "\n".join(loans._programme_lines(r.programmes[0], "vi"))


def test_a_month_alone_counts_from_its_first_day_for_the_loan_limit_and_says_so():
    # "ra tù tháng 3 năm 2024": the real day is 1–31 March; the limit is told from the 1st, never later
    # than it is (for xóa án tích the same month counts as its last day: the later, safer date).
    assert loans.completion_day("2024-03") == dt.date(2024, 3, 1)
    assert loans.vague_completion("2024-03") == ["month_only"] and loans.vague_completion("2024-03-15") == []
    slots = {"loan_purpose": "production", "loan_has_certificate": True, "loan_completed_on": "2024-03",
             "loan_penalty": "prison"}
    r = loans.precheck(loans.case_from_slots(slots), KNOWLEDGE, TODAY)
    answer = loans.short_result(r.programmes, ["loan_has_certificate", "month_only"], "vi")
    assert "Phải vay trước hết ngày 01/03/2029" in answer and "anh/chị ra tù ngày 1 của tháng đó" in answer


def user(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def test_a_purpose_typed_after_a_loan_answer_is_the_loan_purpose(clock):
    events = [action("action_listen"), user("e muốn vay vốn", "ask_loan"), action("action_loan_start"),
              action("action_listen"), user("bán đồ ăn sáng", "out_of_scope")]
    out = call("action_out_of_scope", latest("bán đồ ăn sáng", "out_of_scope", []), events)
    [reply] = out["responses"]
    assert "100.000.000" in reply["text"]


def test_out_of_scope_elsewhere_is_still_out_of_scope(clock):
    events = [action("action_listen"), user("xin chào", "greet"), action("action_topic_menu"),
              action("action_listen"), user("bán đồ ăn sáng", "out_of_scope")]
    out = call("action_out_of_scope", latest("bán đồ ăn sáng", "out_of_scope", []), events)
    assert out["responses"][0]["response"] == "utter_out_of_scope"
    assert out["responses"][1]["buttons"]  # the topics


def test_with_a_second_conviction_only_the_new_completion_date_is_an_assumption():
    # Điều 73 khoản 2: the date counts from the new sentence; "ra tù năm 2020" changes nothing
    facts = said("năm 2019 em bị 2 năm tù, ra tù năm 2020, đến 2021 lại bị 1 năm tù tội trộm cắp, "
                 "ra tù tháng 6/2022. Bao giờ em hết án tích?")
    assert facts["exp_new_completed_on"] == "2022-06"
    assert exp.month_only(facts) == ["month_only"]
    assert answered(facts).period_end == dt.date(2024, 6, 30)
