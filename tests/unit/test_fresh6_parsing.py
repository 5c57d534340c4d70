"""Parsing fixes for what the eighth acceptance set (bench/acceptance_fresh6.yml) found: a loan
purpose typed at length or after a loan question answered in the middle, "đầu"/"máy" folded like
the question words "đâu"/"mấy", a job said after a jobs answer, a bad night said in passing
(distress, not crisis), and English stories and answers (fast: no model)."""

from __future__ import annotations

import pytest

from actions import loans
from actions.answers import work_said_after_jobs_answer
from bot.conversation.english import english_intent, english_turn
from vietnamese.crisis import CrisisLexicon
from tests.unit.test_actions import call


def _said(text: str) -> dict:
    return {"text": text, "entities": []}


@pytest.mark.parametrize("text", ["em định bán xôi với bánh mì buổi sáng ở đầu ngõ",
                                  "em dinh ban xoi voi banh mi buoi sang o dau ngo",
                                  "để mua máy xay xát lúa gạo", "de mua may xay xat lua gao",
                                  "mua con giống về nuôi", "nhập hàng về bán"])
def test_a_purpose_with_dau_or_may_in_it_is_not_a_question(text):
    assert loans.extract(_said(text), None).get("loan_purpose") == "production"
    assert not loans._ASKS.search(loans.fold(text))


@pytest.mark.parametrize("text", ["vay ở đâu", "vay o dau v", "nộp hồ sơ ở đâu vậy", "vay được mấy năm",
                                  "tra trong may thang", "lãi mấy", "vay dc ko"])
def test_the_question_words_still_ask(text):
    assert loans._ASKS.search(loans.fold(text))


def _events(previous_intent: str, bot_action: str, latest: str) -> list[dict]:
    return [{"event": "user", "text": "x", "parse_data": {"intent": {"name": previous_intent}}},
            {"event": "action", "name": bot_action},
            {"event": "bot", "text": "..."},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": latest, "parse_data": {"intent": {"name": "out_of_scope"}}}]


def _latest(text: str, intent: str) -> dict:
    return {"text": text, "intent": {"name": intent, "confidence": 0.7}, "entities": [], "intent_ranking": [],
            "metadata": {}}


@pytest.mark.parametrize("text", ["em định bán xôi với bánh mì buổi sáng ở đầu ngõ",
                                  "em dinh ban xoi voi banh mi buoi sang o dau ngo"])
def test_a_long_purpose_after_a_loan_answer_gets_the_amount(text):
    out = call("action_out_of_scope", _latest(text, "out_of_scope"), _events("ask_loan", "action_loan_start", text))
    assert "100.000.000" in out["responses"][0]["text"]


@pytest.mark.parametrize("text", ["để mua máy xay xát lúa gạo", "de mua may xay xat lua gao"])
def test_a_purpose_after_a_loan_question_answered_midway_gets_the_amount(text):
    """"nhà không có sổ đỏ thì có phải thế chấp không" was answered by action_answer: the purpose
    typed next still answers "vay để làm gì"."""
    out = call("action_out_of_scope", _latest(text, "out_of_scope"), _events("ask_loan", "action_answer", text))
    assert "100.000.000" in out["responses"][0]["text"]


def test_a_purpose_after_another_topic_is_still_out_of_scope():
    text = "để mua máy xay xát lúa gạo"
    out = call("action_out_of_scope", _latest(text, "out_of_scope"), _events("ask_residence", "action_answer", text))
    assert out["responses"][0]["response"] == "utter_out_of_scope"


class _Tracker:
    def __init__(self, events: list[dict]) -> None:
        self.events = events
        self.latest_message = {"text": events[-1]["text"]}


@pytest.mark.parametrize("text", ["h e dang di phu ho theo ngay", "giờ em đang đi phụ hồ theo ngày",
                                  "van chay xe om thoi", "em đang tìm việc"])
def test_a_job_said_after_a_jobs_answer_follows_it(text):
    assert work_said_after_jobs_answer(_Tracker(_events("ask_support", "action_answer", text)))


@pytest.mark.parametrize("previous, text", [("ask_release_duties", "h e dang di phu ho theo ngay"),
                                            ("ask_support", "đang đi phụ hồ thì có phải xin phép không"),
                                            ("ask_support", "vay von")])
def test_not_a_job_said_after_a_jobs_answer(previous, text):
    assert not work_said_after_jobs_answer(_Tracker(_events(previous, "action_answer", text)))


def test_the_jobs_answer_follows_through_the_executor():
    text = "h e dang di phu ho theo ngay"
    out = call("action_answer", _latest(text, "ask_release_duties"), _events("ask_support", "action_answer", text))
    said = "\n".join(r.get("text") or "" for r in out["responses"])
    assert "Trung tâm dịch vụ việc làm" in said and "vắng mặt" not in said, said


@pytest.mark.parametrize("text", ["tệ lắm, đêm nào cũng thức trắng không ngủ được",
                                  "te lam, dem nao cung thuc trang ko ngu dc",
                                  "buồn lắm, mấy đêm nay trằn trọc không ngủ được", "e ngu ko dc"])
def test_a_bad_night_is_distress_not_crisis(text):
    distress = CrisisLexicon.load("data/normalization/distress.yml")
    assert distress.matches(text), text
    assert not CrisisLexicon.load().matches(text), text


@pytest.mark.parametrize("text, expected", [
    ("My husband had a suspended sentence with 3 years of probation, which ended on 2 April 2026."
     " When will his record be expunged?",
     "người nhà tôi án treo thử thách 3 năm, hết thử thách ngày 02/04/2026, bao giờ được xóa án tích?"),
    ("4 years, finished on 9 January 2023", "bị 4 năm tù, chấp hành xong ngày 09/01/2023"),
    ("to buy a sewing machine and do tailoring at home", "kinh doanh"),
    ("3 years", "3 năm"),   # an answer to "what was your sentence?" stays a length
])
def test_english_stories_and_answers(text, expected):
    assert english_turn(text).text == expected


def test_a_suspended_sentence_without_facts_stays_a_question():
    turn = english_turn("My brother got a suspended sentence. Can he get the Decision 22 loan?")
    assert turn.question_id == "loan.qd22.suspended"


def test_a_conviction_to_be_erased_is_the_expungement_topic():
    assert english_intent("Can you work out when my conviction will be erased?") == "ask_expungement"


@pytest.mark.parametrize("text, relative", [("ck e bi an chung than, sau dc giam xuong 20 nam, ra tu cuoi nam 2023", True),
                                            ("chồng em bị 10 năm tù, ra tù ngày 30/9/2024", True),
                                            ("e bi 2 nam tu, ra tu 1/3/2024", False),
                                            # a relative's loan (2026-12-02): the answer speaks of them
                                            ("con trai toi muon vay von nuoi bo", True),
                                            ("vợ em cần vay 50 triệu mở quán", True),
                                            ("e muon vay von nuoi bo", False),
                                            ("anh oi em muon vay 50 trieu", False)])
def test_a_husband_typed_ck_is_a_relative(text, relative):
    from actions.common import RELATIVE_STORY

    assert bool(RELATIVE_STORY.search(loans.fold(text))) is relative


@pytest.mark.parametrize("text, end", [
    ("Con trai tôi được tha tù trước thời hạn có điều kiện từ tháng 9/2025, thử thách đến hết tháng 3/2027."
     " Cháu muốn vay theo QĐ 22 thì đã được chưa?", "2027-03-31"),
    ("được tha trước hạn có điều kiện tháng 9/2025, thử thách đến tháng 3/2027, vay qđ22 được chưa", "2027-03"),
])
def test_the_end_of_a_month_said_is_its_last_day(text, end):
    dates = {"2025-09", "2027-03"}
    said = loans.extract({"text": text, "entities": [{"entity": "date", "value": d} for d in sorted(dates)]}, None)
    assert said["loan_probation_end"] == end


@pytest.mark.parametrize("action, intent", [("action_fallback_topics", "nlu_fallback"),
                                            ("action_out_of_scope", "out_of_scope")])
def test_the_jobs_answer_follows_when_the_classifier_found_nothing(action, intent):
    text = "giờ em đang đi phụ hồ theo ngày"
    out = call(action, _latest(text, intent), _events("ask_support", "action_answer", text))
    said = "\n".join(r.get("text") or "" for r in out["responses"])
    assert "Trung tâm dịch vụ việc làm" in said, said
