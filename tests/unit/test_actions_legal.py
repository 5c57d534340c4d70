"""The conversation forms follow the case model (issue 13): what is read from a
message, what is asked next, and what the answer says (pure, no Rasa)."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.expungement import case_from_slots, extract, result_text, still_needed
from actions.loans import case_from_slots as loan_case
from actions.loans import extract as loan_extract
from actions.loans import result_messages
from actions.loans import still_needed as loan_needed
from actions.answers import KNOWLEDGE
from bot.domain.expungement import calculate
from bot.domain.loans import precheck

TODAY = dt.date(2026, 11, 22)


def msg(text, entities=(), intent="inform"):
    return {"text": text, "intent": {"name": intent}, "entities": [{"entity": e, "value": v} for e, v in entities]}


# --- expungement ---------------------------------------------------------------------------

def test_a_traffic_death_is_read_as_article_260_and_clause_1_leaves_no_record():
    m = msg("tôi bị 2 năm tù vì gây tai nạn giao thông chết người, khoản 1, ra tù 01/06/2024",
            [("duration", "P2Y"), ("penalty_type", "prison"), ("date", "2024-06-01")])
    slots = extract(m, None, TODAY)
    assert slots["exp_article"] == "260" and slots["exp_clause"] == "1"
    slots |= {"exp_age_group": "adult", "exp_new_crime": False}
    r = calculate(case_from_slots(slots, TODAY), KNOWLEDGE, TODAY)
    assert r.route == "no_record"
    assert "khoản 1 Điều 260" in result_text(r, TODAY, "vi") and "khoản 2 Điều 69" in result_text(r, TODAY, "vi")


def test_a_traffic_death_without_clause_asks_the_clause():
    slots = {"exp_penalty": "prison", "exp_prison_term": "P2Y", "exp_completed_on": "2024-06-01",
             "exp_age_group": "adult", "exp_article": "260"}
    assert still_needed(slots, TODAY)[0] == "exp_clause"
    slots |= extract(msg("không nhớ"), "exp_clause", TODAY)
    assert slots["exp_clause"] == "unknown"
    assert "exp_clause" not in still_needed(slots, TODAY)


def test_first_offence_at_15_then_adult_four_years_keeps_a_record():
    slots = {"exp_penalty": "prison", "exp_prison_term": "P2Y", "exp_completed_on": "2019-01-01",
             "exp_age_group": "child"}
    assert still_needed(slots, TODAY) == ["exp_new_crime"]
    slots |= {"exp_new_crime": True, "exp_new_penalty": "prison", "exp_new_prison_term": "P4Y",
              "exp_new_completed_on": "2025-06-01"}
    assert still_needed(slots, TODAY) == ["exp_special_chapter", "exp_new_age_group"]
    slots |= extract(msg("", [("age_group", "adult")]), "exp_new_age_group", TODAY)
    assert slots["exp_new_age_group"] == "adult"
    slots |= {"exp_special_chapter": False, "exp_supplementary": "none", "exp_other_done": True}
    assert still_needed(slots, TODAY) == []
    text = result_text(calculate(case_from_slots(slots, TODAY), KNOWLEDGE, TODAY), TODAY, "vi")
    assert "từ ngày 02/06/2027" in text and "vẫn còn án tích" in text
    assert "không bị coi là có án tích" in text  # the first judgment alone, said as such


def test_early_release_asks_the_end_of_probation():
    m = msg("tù 5 năm, được tha tù trước thời hạn có điều kiện ngày 01/03/2025",
            [("duration", "P5Y"), ("penalty_type", "prison"), ("date", "2025-03-01")])
    slots = extract(m, None, TODAY) | {"exp_age_group": "adult"}
    assert slots["exp_early_release"] is True and "exp_probation_end" not in slots
    assert still_needed(slots, TODAY)[0] == "exp_probation_end"
    slots |= extract(msg("01/03/2026", [("date", "2026-03-01")]), "exp_probation_end", TODAY)
    slots |= {"exp_special_chapter": False, "exp_new_crime": False, "exp_supplementary": "none",
              "exp_other_done": True}
    r = calculate(case_from_slots(slots, TODAY), KNOWLEDGE, TODAY)
    assert r.period_end == dt.date(2028, 3, 1)


def test_under_18_unpaid_compensation_does_not_block():
    slots = {"exp_penalty": "prison", "exp_prison_term": "P3Y", "exp_completed_on": "2024-01-10",
             "exp_age_group": "minor", "exp_minor_serious": True, "exp_new_crime": False, "exp_other_done": False}
    assert still_needed(slots, TODAY) == []
    text = result_text(calculate(case_from_slots(slots, TODAY), KNOWLEDGE, TODAY), TODAY, "vi")
    assert "từ ngày 11/01/2025" in text and "không phạm tội mới" in text


def test_english_result_is_all_english():
    slots = {"exp_penalty": "prison", "exp_prison_term": "P2Y", "exp_completed_on": "2024-06-01",
             "exp_age_group": "adult", "exp_article": "260", "exp_clause": "1", "exp_new_crime": False}
    text = result_text(calculate(case_from_slots(slots, TODAY), KNOWLEDGE, TODAY), TODAY, "en")
    assert "negligence" in text and "án tích" not in text


# --- loans ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["Tôi bị án treo, có giấy chứng nhận, muốn vay 50 triệu làm ăn",
                                  "toi bi an treo, co giay chung nhan, muon vay 50tr lam an"])
def test_suspended_sentence_with_a_certificate_is_not_told_qd22_fits(text):
    slots = loan_extract(msg(text, [("penalty_type", "suspended"), ("money", 50_000_000)], "ask_loan"), None)
    assert slots["loan_penalty"] == "suspended"
    assert loan_needed(slots, TODAY) == []
    fits, _ = result_messages(precheck(loan_case(slots), KNOWLEDGE, TODAY).programmes, "vi")
    assert "không thuộc chương trình này" in fits and "Bạn có thể vay" not in fits
    assert "Anh/chị có thể nộp hồ sơ vay" not in fits and "hỗ trợ tạo việc làm" in fits


def test_the_certificate_question_has_a_suspended_sentence_button_answer():
    slots = {"loan_purpose": "production"} | loan_extract(msg("", [("penalty_type", "suspended")]),
                                                          "loan_has_certificate")
    assert loan_needed(slots, TODAY) == []


def test_early_release_loan_asks_the_probation_end_and_counts_from_it():
    slots = loan_extract(msg("được tha tù trước thời hạn ngày 01/03/2024, muốn vay làm ăn",
                             [("date", "2024-03-01")], "ask_loan"), None)
    assert slots["loan_early_release"] and loan_needed(slots, TODAY) == ["loan_probation_end"]
    slots |= loan_extract(msg("01/03/2027", [("date", "2027-03-01")]), "loan_probation_end")
    fits, _ = result_messages(precheck(loan_case(slots), KNOWLEDGE, TODAY).programmes, "vi")
    assert "hết thời gian thử thách" in fits and "01/03/2027" in fits


def test_close_to_the_limit_says_loan_date_and_apply_by():
    slots = {"loan_purpose": "production", "loan_has_certificate": True, "loan_completed_on": "2021-12-01",
             "loan_penalty": "prison"}
    fits, _ = result_messages(precheck(loan_case(slots), KNOWLEDGE, TODAY).programmes, "vi")
    assert "Khoản vay phải được giải ngân chậm nhất hết ngày 01/12/2026" in fits
    assert "nộp hồ sơ trước khoảng ngày 01/10/2026" in fits and "Sắp hết thời hạn" in fits
    assert "cùng một mục đích" in fits


# --- every question the calculator can ask has a slot and a question ----------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from actions.expungement import SLOTS  # noqa: E402

_VALUES = {
    "exp_penalty": st.sampled_from(["prison", "suspended", "fine", "life"]),
    "exp_prison_term": st.sampled_from(["P6M", "P2Y", "P6Y", "P16Y"]),
    "exp_completed_on": st.sampled_from(["2019-01-01", "2024-06-01"]),
    "exp_age_group": st.sampled_from(["adult", "minor", "child", 17]),
    "exp_minor_serious": st.booleans(), "exp_special_chapter": st.booleans(),
    "exp_new_crime": st.booleans(), "exp_new_penalty": st.sampled_from(["prison", "suspended"]),
    "exp_new_prison_term": st.sampled_from(["P1Y", "P4Y"]),
    "exp_new_completed_on": st.sampled_from(["2025-06-01", "2026-01-01"]),
    "exp_new_age_group": st.sampled_from(["adult", "minor", "child"]),
    "exp_supplementary": st.sampled_from(["none", "yes"]), "exp_other_done": st.booleans(),
    "exp_article": st.sampled_from(["260", "173", "117", "999"]),
    "exp_clause": st.sampled_from(["1", "2", "unknown"]), "exp_early_release": st.booleans(),
    "exp_probation_end": st.sampled_from(["2026-03-01", "2027-03-01"]),
}


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({}, optional=_VALUES))
def test_every_question_asked_is_a_form_slot(slots):
    domain = (__import__("pathlib").Path(__file__).parent.parent.parent / "domain.yml").read_text(encoding="utf-8")
    for slot in still_needed(slots, TODAY):
        assert slot in SLOTS and f"utter_ask_{slot}:" in domain


@pytest.mark.parametrize("answer, penalty", [("tù", "prison"), ("tu", "prison"), ("án treo", "suspended"),
                                             ("an treo", "suspended"), ("miễn hình phạt", "exempt"),
                                             ("cai tao khong giam giu", "non_custodial")])
def test_a_short_answer_to_the_penalty_question(answer, penalty):
    assert extract(msg(answer), "exp_new_penalty", TODAY)["exp_new_penalty"] == penalty
    assert extract(msg(answer), "exp_penalty", TODAY)["exp_penalty"] == penalty


# --- found by bench/acceptance_fresh2.yml ---------------------------------------------------

def test_an_offence_at_17_that_is_not_heavy_leaves_no_record_without_a_date():
    """Điều 107 khoản 1: theft under clause 1 (max 3 years, ít nghiêm trọng) at 17 leaves no record,
    so the completion date is not needed before saying so."""
    from bot.domain.expungement import leaves_no_record
    from bot.domain.periods import Period
    assert leaves_no_record(KNOWLEDGE, "173", "1", Period.parse("P1Y"), TODAY, 17)
    assert not leaves_no_record(KNOWLEDGE, "173", "1", Period.parse("P1Y"), TODAY, 25)  # an adult: a record
    assert not leaves_no_record(KNOWLEDGE, "168", "2", Period.parse("P6Y"), TODAY, 17)  # rất nghiêm trọng cố ý
    slots = {"exp_penalty": "prison", "exp_prison_term": "P1Y", "exp_age_group": 17,
             "exp_article": "173", "exp_clause": "1", "exp_new_crime": False}
    r = calculate(case_from_slots(slots, TODAY), KNOWLEDGE, TODAY)
    assert r.route == "no_record" and still_needed(slots, TODAY) == []


@pytest.mark.parametrize("text, special", [
    ("tôi bị 5 năm tù tội tuyên truyền chống nhà nước, ra tù 1/6/2023", True),
    ("toi bi 5 nam tu toi tuyen truyen chong nha nuoc, ra tu 1/6/2023", True),
    ("bị 3 năm tù theo điều 117", True),
    ("ko phai toi an ninh quoc gia", None),
    ("bị 3 năm tù tội trộm cắp", None),
])
def test_a_national_security_crime_in_the_story_goes_to_the_court(text, special):
    assert extract(msg(text), None, TODAY).get("exp_special_chapter") is special


def test_a_bare_year_without_release_words_is_not_a_completion_date_for_the_loan():
    from actions.loans import release_dates
    from vietnamese.text import fold
    ents = {"date": ["2026"]}
    assert release_dates(ents, fold("vay vốn giải quyết việc làm năm 2026 tối đa bao nhiêu")) == []
    assert release_dates(ents, fold("ra tù năm 2026 muốn vay vốn")) == ["2026"]
    assert release_dates({"date": ["2022-02"]}, fold("e mun vay von 2/2022")) == ["2022-02"]
    assert "loan_completed_on" not in loan_extract(msg("vay von tao viec lam nam 2026", [("date", "2026")]), None)


@pytest.mark.parametrize("text, done", [
    ("Tôi 25 tuổi, bị 18 tháng tù, ra trại tháng 3 năm 2025, còn nợ tiền bồi thường", False),
    ("bị 2 năm tù, còn thiếu án phí", False),
    ("nợ tiền bồi thường 20tr chưa trả", False),
    ("đã trả hết, không còn nợ gì", True),
    ("bồi thường xong rồi", True),
])
def test_a_debt_said_as_a_debt_is_unpaid(text, done):
    """'còn nợ tiền bồi thường' was read as nothing and the answer assumed everything was paid."""
    assert extract(msg(text), None, TODAY).get("exp_other_done") is done


@pytest.mark.parametrize("text, end", [
    ("bị 3 năm tù, được tha tù trước thời hạn có điều kiện tháng 5/2025, thử thách 1 năm 2 tháng", "2026-07"),
    ("bi 3 nam tu, duoc tha tu truoc thoi han co dieu kien thang 5/2025, thu thach 1 nam 2 thang", "2026-07"),
])
def test_early_release_with_the_probation_length_counts_from_its_end(text, end):
    """The date said was the release; probation ends 14 months later, and that is the completion
    (BLHS Điều 66 khoản 3). Before, the release month was taken as the end of probation."""
    from vietnamese.entities import extract as entities
    m = msg(text, [(e.entity, e.value) for e in entities(text, TODAY)])
    assert extract(m, None, TODAY)["exp_probation_end"] == end
    assert loan_extract(m, None)["loan_probation_end"] == end
