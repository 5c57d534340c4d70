"""Rules for what the ninth acceptance set (bench/acceptance_fresh9.yml) found: a short follow-up
asks about the previous answer's topic ("mất bao nhiêu tiền" after the certificate answer), thanks
followed by a question is the question, and English sentences that name no topic (fast: no model)."""

from __future__ import annotations

import re

import pytest

from bot.conversation.english import english_turn
from nlu import questions as nq
from tests.unit.test_actions import call


@pytest.mark.parametrize("folded", ["mat bao nhieu tien", "neu chua nop phat thi sao", "khong kip thi sao",
                                    "bao cao cho ai khi nao", "the con lai suat",
                                    # longer, opening with "còn" or "nếu … thì sao" (acceptance_fresh12-14)
                                    "con moi thang nguoi do phai trinh dien the nao",
                                    "the con neu la nguoi binh thuong khong phai sinh vien thi sao a",
                                    "neu chi ve que o tinh khac vai tuan thi sao"])
def test_a_short_question_is_a_followup(folded):
    assert nq.is_followup_question(folded)


@pytest.mark.parametrize("folded", ["toi bi 3 nam tu ra tu nam 2023 khi nao toi duoc xoa an tich",
                                    "cam on", "vay", "nuoi heo"])
def test_a_long_message_a_bare_word_or_no_question_is_not(folded):
    assert not nq.is_followup_question(folded)


def test_the_context_of_a_previous_answer_is_its_longest_prefix_else_its_intent():
    assert nq.context_key("ci.mentor_role", "ask_support") == "ci.mentor"
    assert nq.context_key("loan.jobs.rate", "ask_loan") == "loan.jobs"
    # each community sentence has its own subject (acceptance_fresh14)
    assert nq.context_key("duty.early_release_duties", "ask_release_duties") == "duty.early_release"
    assert nq.context_key("duty.abroad", "ask_release_duties") == "duty.abroad"
    assert nq.context_key("lltp.no2_on_behalf", "ask_criminal_record") == "lltp.no2_on_behalf"
    assert nq.context_key("lltp.where", None) == "lltp"
    assert nq.context_key(None, "ask_expungement") == "xat"
    assert nq.context_key(None, "greet") is None
    assert nq.family("ci.mentor_report") == nq.family("support.helper")


# nlu.components.ThanksNeedThanksWords.CUES, in part (the component needs Rasa's environment)
THANKS = re.compile(r"\b(cam on|thank|thanks)\b")


@pytest.mark.parametrize("text", ["cảm ơn, thế tạm trú thì sao", "cam on nhe, the vay o dau",
                                  "thanks, con lai suat bao nhieu"])
def test_thanks_then_a_question_is_the_question(text):
    assert nq.asks_after_thanks(text, THANKS)


@pytest.mark.parametrize("text", ["cảm ơn nhé", "ok cam on nhe", "cảm ơn, không còn gì nữa", "thanks a lot"])
def test_thanks_alone_stays_thanks(text):
    assert not nq.asks_after_thanks(text, THANKS)


def _events(previous: dict, latest: str) -> list[dict]:
    return [{"event": "user", "text": "x", "parse_data": previous},
            {"event": "action", "name": "action_answer"},
            {"event": "bot", "text": "..."},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": latest, "parse_data": {"intent": {"name": "out_of_scope"}}}]


def _latest(text: str, intent: str, context: dict, ranking: list) -> dict:
    return {"text": text, "intent": {"name": intent, "confidence": 0.7}, "entities": [], "intent_ranking": [],
            "metadata": {}, "question": {"id": None, "confidence": 0.0, "ranking": ranking, "context": context}}


def test_a_followup_after_the_certificate_answer_gets_the_certificate_fee():
    previous = {"intent": {"name": "ask_criminal_record"}, "question": {"id": "lltp.where"}}
    latest = _latest("mat bao nhieu tien", "out_of_scope",
                     {"lltp": ["lltp.fee", 0.9], "idcard": ["idcard.fee", 0.8]},
                     [{"id": "loan.qd22.amount", "confidence": 0.35}])
    out = call("action_out_of_scope", latest, _events(previous, latest["text"]))
    assert "200.000" in out["responses"][0]["text"]


def test_a_followup_read_as_expungement_after_the_id_card_answer_gets_the_id_cards_days():
    """"bao lâu thì lấy được" right after the căn cước answer, which the classifier calls expungement:
    the days of the card, not the expungement periods (acceptance_fresh11)."""
    previous = {"intent": {"name": "ask_id_card"}, "question": {"id": "idcard.lost"}}
    latest = _latest("bao lau thi lay dc", "ask_expungement", {"idcard": ["idcard.days", 0.98]},
                     [{"id": "loan.qd22.time_to_money", "confidence": 0.33}])
    out = call("action_expungement_start", latest, _events(previous, latest["text"]))
    first = out["responses"][0]["text"]
    assert "7 ngày" in first and "án tích" not in first, first


def test_the_context_of_the_quan_che_answer_is_quan_che():
    assert nq.context_key("duty.probation_supervision", "ask_release_duties") == "duty.probation_supervision"
    assert nq.context_key("duty.leave_commune", "ask_release_duties") == "duty"


def test_a_followup_keeps_its_own_question_when_that_is_surer():
    previous = {"intent": {"name": "ask_criminal_record"}, "question": {"id": "lltp.where"}}
    latest = _latest("mat bao nhieu tien", "out_of_scope", {"lltp": ["lltp.fee", 0.4]},
                     [{"id": "idcard.fee", "confidence": 0.6}])
    out = call("action_out_of_scope", latest, _events(previous, latest["text"]))
    assert "200.000" not in " ".join(r.get("text") or "" for r in out["responses"])


@pytest.mark.parametrize("text", ["Who won the World Cup?", "What time is it in London?"])
def test_an_english_question_that_names_no_topic_is_out_of_scope(text):
    assert english_turn(text).text == "/out_of_scope"


def test_english_pages_read_vietnamese_topic_words_and_a_bad_day():
    assert english_turn("how do I get ly lich tu phap").question_id == "lltp.where"
    assert english_turn("and where do I get the certificate that shows it?").question_id == "lltp.where"
    assert english_turn("Rough day today, another employer said no").text == "/distress"
    assert english_turn("I've been assigned to help a man just out of prison. What do I do?").question_id == \
        "ci.mentor_role"


def _help(text: str, top: str, confidence: float) -> dict:
    return {"text": text, "intent": {"name": "help", "confidence": 0.97}, "entities": [], "intent_ranking": [],
            "metadata": {}, "question": {"id": None, "confidence": 0.0,
                                         "ranking": [{"id": top, "confidence": confidence}]}}


def test_what_can_you_do_for_someone_just_out_of_prison_is_the_support_question():
    latest = _help("thế bạn giúp được gì cho người vừa ra tù", "support.what", 0.51)
    out = call("action_topic_menu", latest, [{"event": "user", "text": latest["text"], "parse_data": latest}])
    assert "vay vốn" in out["responses"][0]["text"]


def test_what_can_you_do_alone_keeps_the_menu():
    latest = _help("bạn giúp được gì", "support.what", 0.9)
    out = call("action_topic_menu", latest, [{"event": "user", "text": latest["text"], "parse_data": latest}])
    assert out["responses"][0].get("buttons")


@pytest.mark.parametrize("text, vietnamese", [
    # English follow-ups that name no topic reach the model as the same short Vietnamese question, which the
    # follow-up reading answers about the previous answer's topic (acceptance_fresh12, fresh13, fresh14)
    ("Where do I apply?", "nộp hồ sơ ở đâu"),
    ("How much does it cost?", "mất bao nhiêu tiền"),
    ("What is the fine if I don't register?", "không đăng ký thì bị phạt bao nhiêu"),
    ("And if he had been given a suspended sentence instead?", "thế còn án treo thì sao"),
    ("I am a university student. Do I pay less?", "học sinh, sinh viên thì lệ phí bao nhiêu"),
])
def test_english_followups_become_the_vietnamese_ones(text, vietnamese):
    from bot.conversation.english import english_turn

    assert english_turn(text).text == vietnamese


def test_an_english_question_that_names_its_topic_is_not_a_followup():
    from bot.conversation.english import english_turn

    assert english_turn("Does it cost anything to use this chat?").question_id == "bot.cost"
    assert english_turn("How much does it cost to get a criminal record certificate? I need one for a job "
                        "application.").question_id == "lltp.fee"
