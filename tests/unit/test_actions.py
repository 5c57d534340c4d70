"""The topic menu and the two-stage fallback, run through rasa-sdk's own executor
with the JSON Rasa 3.6 sends (so the wire format is exercised too)."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import ActionExecutor

import actions

USER = {"event": "user", "text": "x", "parse_data": {}}


def call(action: str, latest: dict, events: list[dict]) -> dict:
    executor = ActionExecutor()
    executor.register_package(actions)
    payload = {
        "next_action": action,
        "sender_id": "conv",
        "version": "3.6.21",
        "domain": {"intents": [], "entities": [], "slots": {}, "responses": {}, "actions": [], "forms": {}},
        "tracker": {
            "sender_id": "conv", "slots": {}, "latest_message": latest, "events": events,
            "paused": False, "followup_action": None, "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }
    return asyncio.run(executor.run(payload)).model_dump()  # what /webhook sends back


def ranking(*pairs: tuple[str, float]) -> list[dict]:
    return [{"name": n, "confidence": c} for n, c in pairs]


def message(intent: str, confidence: float, rank: list[dict], locale: str | None = None) -> dict:
    return {"text": "x", "intent": {"name": intent, "confidence": confidence}, "intent_ranking": rank,
            "metadata": {"locale": locale} if locale else {}}


def test_menu_has_the_five_topics_in_vietnamese():
    out = call("action_topic_menu", message("help", 0.9, []), [USER])
    [reply] = out["responses"]
    assert reply["text"] == "Anh/chị muốn hỏi về việc gì?"
    assert [b["title"] for b in reply["buttons"]] == ["Vay vốn", "Xóa án tích", "Giấy tờ", "Báo cáo định kỳ", "Gặp cán bộ"]


def test_first_fallback_offers_the_two_likeliest_topics():
    latest = message("nlu_fallback", 0.3, ranking(("nlu_fallback", 0.3), ("greet", 0.25), ("ask_loan", 0.2),
                                                  ("ask_expungement", 0.15), ("ask_support", 0.1)))
    out = call("action_fallback_topics", latest, [USER])
    [reply] = out["responses"]
    assert reply["text"] == "Có phải anh/chị muốn hỏi về…?"
    assert [b["payload"] for b in reply["buttons"]] == ["/ask_loan", "/ask_expungement", "/help"]
    assert [b["title"] for b in reply["buttons"]] == ["Vay vốn", "Xóa án tích", "Việc khác"]
    assert out["events"] == [{"event": "rewind", "timestamp": None}]


def test_unrecognised_words_get_the_menu_not_a_guess():
    latest = message("nlu_fallback", 1.0, ranking(("nlu_fallback", 1.0), ("ask_loan", 0.4), ("help", 0.3)))
    [reply] = call("action_fallback_topics", latest, [USER])["responses"]
    assert reply["text"].startswith("Xin lỗi, tôi chưa hiểu ý anh/chị.")
    assert len(reply["buttons"]) == 5


def test_second_fallback_in_a_row_gives_up_politely():
    events = [USER, {"event": "action", "name": "action_fallback_topics"}, {"event": "bot", "text": "?"},
              {"event": "rewind"}, {"event": "action", "name": "action_listen"}, USER]
    latest = message("nlu_fallback", 0.3, ranking(("nlu_fallback", 0.3), ("ask_loan", 0.2)))
    [reply] = call("action_fallback_topics", latest, events)["responses"]
    assert reply["text"].startswith("Xin lỗi, tôi vẫn chưa hiểu")
    assert "Gặp cán bộ" in [b["title"] for b in reply["buttons"]]


def test_a_fallback_further_back_does_not_count():
    events = [USER, {"event": "action", "name": "action_fallback_topics"}, {"event": "rewind"},
              USER, {"event": "action", "name": "utter_topic_loan"}, USER]
    latest = message("nlu_fallback", 0.3, ranking(("nlu_fallback", 0.3), ("ask_loan", 0.2), ("checkin", 0.1)))
    [reply] = call("action_fallback_topics", latest, events)["responses"]
    assert reply["text"] == "Có phải anh/chị muốn hỏi về…?"


@pytest.mark.parametrize("locale, text", [("en", "What would you like to ask about?"), ("vi", "Anh/chị muốn hỏi về việc gì?")])
def test_locale_comes_from_message_metadata(locale, text):
    [reply] = call("action_topic_menu", message("help", 0.9, [], locale), [USER])["responses"]
    assert reply["text"] == text


# --- the expungement form's extraction (pure) ---------------------------------

import datetime as _dt  # noqa: E402

from actions.expungement import extract, still_needed  # noqa: E402

_TODAY = _dt.date(2026, 11, 22)


def _msg(text, entities=(), intent="ask_expungement"):
    return {"text": text, "intent": {"name": intent}, "entities": [{"entity": e, "value": v} for e, v in entities]}


def test_one_message_fills_every_slot_it_can():
    m = _msg("tù 3 năm, ra tù 01/06/2023, đã bồi thường xong",
             [("duration", "P3Y"), ("penalty_type", "prison"), ("date", "2023-06-01")])
    assert extract(m, None, _TODAY) == {"exp_penalty": "prison", "exp_prison_term": "P3Y",
                                        "exp_completed_on": "2023-06-01", "exp_other_done": True}


@pytest.mark.parametrize("answer, value", [("17", 17), ("trên 18", 18), ("lúc đó 16 tuổi", 16),
                                           ("dưới 16", 15), ("dưới 18", None),
                                           ("à nhầm, tù 7 năm", None), ("ra tù 01/06/2023", None)])
def test_age_answers(answer, value):
    got = extract(_msg(answer, intent="inform"), "exp_age_group", _TODAY).get("exp_age_group")
    assert got == value


@pytest.mark.parametrize("story, relative", [
    ("con tôi bị 3 năm tù, ra tù 01/06/2023", True),
    ("anh tôi đi tù 7 năm, ra tù tháng 5/2020", True),
    ("anh trai em bi 2 nam tu, ra trai thang 3 nam 2025", True),
    ("chồng mình mới ra tù tháng trước, án 4 năm", True),
    ("e bi 3 nam tu, ra tu 01/06/2023", False),
    ("anh em bị 3 năm tù, ra tù 01/06/2023", False),        # "anh, em bị…": the person asking
    ("chị ơi em bị 18 tháng tù, ra trại tháng 3/2025", False),
    ("tôi bị 3 năm tù mà tôi ra tù 01/06/2023", False),
    ("tôi bị 3 năm tù, vợ tôi hỏi bao giờ tôi hết án tích", False),
    ("bo e nam nay 60t, bi 1 nam tu toi danh bac, ra tu 25/12/2025", True),
    ("chồng tôi năm nay 40 tuổi, bị 2 năm tù", True),
    ("con tôi còn nhỏ, tôi bị 3 năm tù, ra tù 01/06/2023", False),
    ("vợ tôi đang ở nhà, em bị 2 năm tù", False),
])
def test_a_relatives_story_is_told_apart_from_ones_own(story, relative):
    assert extract(_msg(story), None, _TODAY).get("exp_relative", False) is relative
    assert "exp_relative" not in extract(_msg(story), "exp_completed_on", _TODAY)  # an answer to a question


def test_a_relatives_date_is_said_about_them_in_both_languages():
    from actions.expungement import ASSUMPTION_PHRASES, CORRECTION_BUTTONS, result_text, said_of, short_result_text
    from bot.domain.expungement import calculate
    from actions.expungement import case_from_slots
    from actions.answers import KNOWLEDGE
    slots = {"exp_penalty": "prison", "exp_prison_term": "P3Y", "exp_completed_on": "2023-06-01",
             "exp_age_group": "adult", "exp_special_chapter": False, "exp_new_crime": False,
             "exp_supplementary": "none", "exp_other_done": True}
    r = calculate(case_from_slots(slots, _TODAY), KNOWLEDGE, _TODAY)
    own, theirs = short_result_text(r, ["exp_age_group"], _TODAY, "vi"), \
        short_result_text(r, ["exp_age_group"], _TODAY, "vi", relative=True)
    assert own.startswith("Anh/chị đã đương nhiên được xóa án tích từ ngày 02/06/2025")
    assert theirs.startswith("Người nhà anh/chị đã đương nhiên được xóa án tích từ ngày 02/06/2025")
    assert "khi phạm tội người đó đã đủ 18 tuổi" in theirs and "anh/chị đã đủ" not in theirs
    assert result_text(r, _TODAY, "en", relative=True).startswith("Their record was cleared automatically")
    assert said_of(CORRECTION_BUTTONS["exp_age_group"], "en", True) == "They were under 18 then"
    assert said_of(ASSUMPTION_PHRASES["exp_special_chapter"], "vi", True) == "không phải tội an ninh quốc gia"


def test_yes_no_fills_only_the_question_asked():
    assert extract(_msg("ko", intent="deny"), "exp_new_crime", _TODAY) == {"exp_new_crime": False}
    assert extract(_msg("ko", intent="deny"), None, _TODAY) == {}


def test_cancel_words_stop_but_not_inside_other_words():
    assert extract(_msg("thôi"), "exp_penalty", _TODAY) == {"exp_cancelled": True}
    assert extract(_msg("tôi bị đuổi thôi việc"), "exp_penalty", _TODAY) == {}
    assert still_needed({"exp_cancelled": True}, _TODAY) == []


def test_questions_follow_the_calculator():
    assert still_needed({}, _TODAY)[0] == "exp_penalty"
    assert still_needed({"exp_penalty": "prison"}, _TODAY)[0] == "exp_prison_term"
    done = {"exp_penalty": "suspended", "exp_completed_on": "2024-03-15", "exp_age_group": "adult",
            "exp_special_chapter": False, "exp_new_crime": False, "exp_supplementary": "none",
            "exp_other_done": True}
    assert still_needed(done, _TODAY) == []
    assert still_needed({**done, "exp_supplementary": "yes"}, _TODAY) == ["exp_supplementary_until"]


def test_expungement_result_text_has_date_rule_and_basis():
    from actions.answers import KNOWLEDGE
    from actions.expungement import result_text
    from bot.domain.expungement import Case, calculate
    from bot.domain.periods import Period

    case = Case(penalty="prison", prison_term=Period.parse("P3Y"), completed_on=_dt.date(2023, 6, 1),
                age_at_offence=30, special_chapter=False, no_supplementary=True,
                other_decisions_done=True, new_crime=False)
    out = result_text(calculate(case, KNOWLEDGE, _TODAY), _TODAY, "vi")
    assert "từ ngày 02/06/2025" in out and "Cách tính:" in out
    assert out.splitlines()[-1] == ("Căn cứ: khoản 2 Điều 70 Bộ luật Hình sự 2015 (sửa đổi 2017); "
                                    "Điều 147–148 Bộ luật Dân sự 2015")


def test_loan_result_messages_are_two_and_cited_once_per_document():
    from actions.answers import KNOWLEDGE
    from actions.loans import result_messages
    from bot.domain.loans import LoanCase, precheck

    result = precheck(LoanCase(purpose="production", has_certificate=True, completed_on=_dt.date(2024, 3, 31)),
                      KNOWLEDGE, _TODAY)
    fits, how = result_messages(result.programmes, "vi")
    assert "100.000.000\u00a0₫" in fits
    citation = how.splitlines()[-1]
    assert citation.count("Quyết định 22/2023/QĐ-TTg") == 1 and "Nghị định 338/2025/NĐ-CP" in citation


@pytest.mark.parametrize("text, question, answered", [
    # what a person just out of prison gets, clearly winning though below 0.5 (acceptance_fresh9)
    ("thế bạn giúp được gì cho người vừa ra tù", [("support.what", 0.398), ("ci.mentor_role", 0.1)], True),
    ("thế bạn giúp được gì cho người vừa ra tù", [("support.what", 0.398), ("ci.mentor_role", 0.2)], False),
    ("thế bạn giúp được gì cho người vừa ra tù", [("support.what", 0.3), ("ci.mentor_role", 0.05)], False),
    ("bạn giúp được gì", [("support.what", 0.9), ("ci.mentor_role", 0.05)], False),   # the menu
])
def test_help_with_a_situation_is_that_situations_question_when_it_clearly_wins(text, question, answered):
    latest = {**message("help", 0.97, []), "text": text,
              "question": {"id": None, "confidence": question[0][1],
                           "ranking": [{"id": q, "confidence": c} for q, c in question]}}
    out = call("action_topic_menu", latest, [USER])
    first = out["responses"][0]["text"]
    assert (first != "Anh/chị muốn hỏi về việc gì?") is answered, first
