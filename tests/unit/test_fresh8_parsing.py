"""Parsing fixes for what the tenth acceptance set (bench/acceptance_fresh8.yml, loans and papers)
found: the monthly rate beside the yearly one, a purpose that opens a longer message after a loan
answer, "mở lò …"/"rửa xe" as purposes, and a short question with no topic of its own after a loan
answer asking about the loan (fast: no model; the clock fixture pins the date)."""

from __future__ import annotations

import pytest

from actions import loans
from actions.answers import loan_question_after_loan_answer
from bot.i18n import format_rate
from tests.unit.test_actions import call
from vietnamese.clock import today_in_vietnam


def test_a_yearly_rate_can_also_say_the_monthly_one():
    assert format_rate("6.24", "vi", monthly=True) == "6,24%/năm (0,52%/tháng)"
    assert format_rate("6.6", "vi", monthly=True) == "6,6%/năm (0,55%/tháng)"
    assert format_rate("6.24", "en", monthly=True) == "6.24% a year (0.52% a month)"
    assert format_rate("6.24", "vi") == "6,24%/năm"


@pytest.mark.parametrize("text", ["toi dinh mo lo banh mi nho trong xom", "tôi định mở lò bánh mì nhỏ trong xóm",
                                  "mở tiệm rửa xe máy với xe đạp", "rua xe oto"])
def test_a_bakery_or_a_car_wash_is_a_production_purpose(text):
    assert loans.extract({"text": text, "entities": []}, None).get("loan_purpose") == "production"


@pytest.mark.parametrize("text", ["mở tiệm rửa xe máy với xe đạp", "mo tiem rua xe may voi xe dap",
                                  "em định mở lò bánh mì nhỏ trong xóm", "de nuoi may chuc con de o tren nui"])
def test_a_message_that_opens_with_the_purpose_is_the_purpose(text):
    assert loans._LEADING_PURPOSE.match(loans.fold(text).lower())


@pytest.mark.parametrize("text", ["tôi đang nuôi con nhỏ một mình", "hôm qua cán bộ hỏi em có muốn mở tiệm không",
                                  "con tôi nó học lớp 9 rồi"])
def test_a_purpose_word_inside_a_story_does_not_open_it(text):
    assert not loans._LEADING_PURPOSE.match(loans.fold(text).lower())


def _events(previous_intent: str, bot_action: str, latest: str, intent: str) -> list[dict]:
    return [{"event": "user", "text": "x", "parse_data": {"intent": {"name": previous_intent}}},
            {"event": "action", "name": bot_action},
            {"event": "bot", "text": "..."},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": latest, "parse_data": {"intent": {"name": intent}}}]


def _latest(text: str, intent: str, question: dict | None = None) -> dict:
    return {"text": text, "intent": {"name": intent, "confidence": 0.6}, "entities": [], "intent_ranking": [],
            "metadata": {}, "question": question or {}}


WHERE = {"id": "residence.where", "confidence": 0.5,
         "ranking": [{"id": "residence.where", "confidence": 0.5}, {"id": "loan.qd22.where", "confidence": 0.08},
                     {"id": "lltp.where", "confidence": 0.07}], "several": []}


class _Tracker:
    def __init__(self, latest: dict, events: list[dict]) -> None:
        self.latest_message = latest
        self.events = events


@pytest.mark.parametrize("text", ["nop ho so o dau ad", "mà nộp hồ sơ ở đâu ạ"])
def test_a_bare_where_after_a_loan_answer_asks_where_to_borrow(clock, text):
    tracker = _Tracker(_latest(text, "ask_residence", WHERE), _events("ask_loan", "action_answer", text, "ask_residence"))
    entry = loan_question_after_loan_answer(tracker, today_in_vietnam())
    assert entry is not None and entry.id == "loan.qd22.where"


def test_a_question_naming_its_own_topic_keeps_it(clock):
    text = "dang ky tam tru o dau"
    tracker = _Tracker(_latest(text, "ask_residence", WHERE), _events("ask_loan", "action_answer", text, "ask_residence"))
    assert loan_question_after_loan_answer(tracker, today_in_vietnam()) is None


def test_a_bare_where_after_another_answer_is_not_a_loan_question(clock):
    text = "nop ho so o dau ad"
    tracker = _Tracker(_latest(text, "ask_residence", WHERE), _events("ask_id_card", "action_answer", text, "ask_residence"))
    assert loan_question_after_loan_answer(tracker, today_in_vietnam()) is None


def test_the_answer_action_answers_the_loan_question(clock):
    text = "nop ho so o dau ad"
    out = call("action_answer", _latest(text, "ask_residence", WHERE), _events("ask_loan", "action_answer", text, "ask_residence"))
    assert "Ngân hàng Chính sách xã hội" in out["responses"][0]["text"]


def test_a_long_purpose_classified_as_a_topic_after_a_loan_answer_gets_the_amount(clock):
    text = "mở tiệm rửa xe máy với xe đạp"
    out = call("action_answer", _latest(text, "ask_support"), _events("ask_loan", "action_answer", text, "ask_support"))
    assert "100.000.000" in out["responses"][0]["text"]
