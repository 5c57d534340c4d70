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
