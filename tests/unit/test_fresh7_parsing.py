"""Parsing fixes for what the ninth acceptance set (bench/acceptance_fresh7.yml, criminal records) found:
years typed "3n" ("bj 3n tu", "bi 5n"), a second conviction told as "bị 5n", a bare "6 năm" typed after an
expungement answer, and a date alone typed after the rule for a sentence (fast: no model)."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.expungement import two_convictions
from vietnamese.entities import extract, parse_duration

TODAY = dt.date(2026, 12, 1)


def _kinds(text: str) -> list[tuple[str, object]]:
    return [(e.entity, e.value) for e in extract(text, TODAY)]


@pytest.mark.parametrize("text, years", [("ck e 3n tu, ra trai 2/2/2024", "P3Y"), ("4n tu, ra trai 11/11/2022", "P4Y"),
                                         ("e bj 3n tu, dc tha tu truoc thoi han", "P3Y"), ("bị 5n", "P5Y"),
                                         ("3n ruoi", "P3Y6M")])
def test_years_glued_to_digits_are_a_duration(text, years):
    assert parse_duration(text) == years


def test_a_glued_n_before_tu_is_a_prison_sentence_and_before_treo_a_suspended_one():
    assert ("penalty_type", "prison") in _kinds("ck e 3n tu, ra trai 2/2/2024")
    assert ("penalty_type", "suspended") in _kinds("a e bj 2n tu treo")


@pytest.mark.parametrize("text", ["nha co 2 n", "ba n tu", "3nguoi", "n3 tu"])
def test_n_is_a_year_only_glued_to_digits(text):
    assert parse_duration(text) is None


def test_a_second_conviction_told_as_bi_5n_is_read():
    both = two_convictions("a bi 1n tu ra tu nam 2018, 2019 lai dinh them vu nua bi 5n, ra trai 3/9/2024", TODAY)
    assert both["exp_prison_term"] == "P1Y" and both["exp_new_prison_term"] == "P5Y"
    assert both["exp_new_completed_on"] == "2024-09-03"


def test_a_bare_ra_between_two_sentences_is_a_release_but_ra_toa_is_not():
    """"…ra 01/03/2021 … ra lần 2 ngày 15/07/2025" (acceptance_fresh11); "ra tòa năm 2020" is the trial."""
    both = two_convictions("e bi 2 nam tu ra 01/03/2021 toi nam 2022 lai bi bat xu them 1 nam 6 thang tu toi moi "
                           "ra lan 2 ngay 15/07/2025 an phi 2 lan deu nop du hoi bao gio e sach an tich", TODAY)
    assert (both["exp_completed_on"], both["exp_new_completed_on"]) == ("2021-03-01", "2025-07-15")
    assert (both["exp_prison_term"], both["exp_new_prison_term"]) == ("P2Y", "P1Y6M")
    tried = two_convictions("bị 2 năm tù ra tòa năm 2020, ra tù 2021, năm 2022 lại bị 1 năm tù ra 15/07/2025", TODAY)
    assert tried["exp_completed_on"] == "2021"


def _run(action: str, text: str, intent: str, slots: dict, previous_action: str) -> dict:
    import asyncio

    from rasa_sdk.executor import ActionExecutor

    import actions

    ents = [{"entity": e.entity, "value": e.value, "start": e.start, "end": e.end} for e in extract(text, TODAY)]
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.6}, "entities": ents, "intent_ranking": [],
              "metadata": {}}
    events = [{"event": "user", "text": "x", "parse_data": {"intent": {"name": "ask_expungement"}}},
              {"event": "action", "name": previous_action}, {"event": "bot", "text": "..."},
              *([{"event": "slot", "name": "exp_facts", "value": slots["exp_facts"]}] if slots.get("exp_facts") else []),
              {"event": "action", "name": "action_listen"},
              {"event": "user", "text": text, "parse_data": latest}]
    executor = ActionExecutor()
    executor.register_package(actions)
    payload = {"next_action": action, "sender_id": "conv", "version": "3.6.21",
               "domain": {"intents": [], "entities": [], "slots": {}, "responses": {}, "actions": [], "forms": {}},
               "tracker": {"sender_id": "conv", "slots": slots, "latest_message": latest, "events": events,
                           "paused": False, "followup_action": None, "active_loop": {},
                           "latest_action_name": "action_listen"}}
    return asyncio.run(executor.run(payload)).model_dump()


def _slot(out: dict, name: str):
    return next((e["value"] for e in out["events"] if e.get("event") == "slot" and e.get("name") == name), None)


@pytest.mark.parametrize("text", ["6 năm", "6 nam", "6n"])
def test_a_bare_term_after_an_expungement_answer_is_the_prison_term(text, monkeypatch):
    monkeypatch.setattr("actions.expungement.today_in_vietnam", lambda: TODAY)
    out = _run("action_expungement_start", text, "ask_expungement", {}, "action_expungement_start")
    facts = _slot(out, "exp_facts")
    assert facts and facts["exp_penalty"] == "prison" and facts["exp_prison_term"] == "P6Y"


@pytest.mark.parametrize("previous", ["action_expungement_start", "action_out_of_scope"])
@pytest.mark.parametrize("text", ["ra hồi tháng 8 năm 2022", "ra hoi thang 8 nam 2022"])
def test_a_date_after_the_rule_for_a_sentence_completes_that_case(text, previous, monkeypatch):
    """The classifier reads a release date as a loan check: right after the expungement rule for "6 năm",
    it is that sentence's completion (6 years → 3 years: 08/2025)."""
    monkeypatch.setattr("actions.expungement.today_in_vietnam", lambda: TODAY)
    monkeypatch.setattr("actions.followups.today_in_vietnam", lambda: TODAY)
    out = _run("action_loan_start", text, "check_loan", {"exp_facts": {"exp_penalty": "prison",
                                                                      "exp_prison_term": "P6Y"}},
               previous)
    values = {e.get("name"): e.get("value") for e in out["events"] if e.get("event") == "slot"}
    assert values.get("exp_prison_term") == "P6Y" and values.get("exp_completed_on") == "2022-08"
    assert not any("vay" in (r.get("text") or "").lower() for r in out["responses"])


@pytest.mark.parametrize("text, months", [("bi 18th tu", "P18M"), ("bi 1n 6th tu", "P1Y6M")])
def test_months_glued_to_digits_are_a_duration(text, months):
    assert parse_duration(text) == months


@pytest.mark.parametrize("text", ["released on the 4th of July", "the 4th", "4th of May"])
def test_an_english_ordinal_is_no_duration(text):
    assert parse_duration(text) is None


@pytest.mark.parametrize("text, month", [("ra trai dc 3n r", "2023-12"), ("e bi 4 nam tu, ra trai dc 3 nam r", "2023-12"),
                                         ("ra tu 2n truoc", "2024")])
def test_the_time_since_release_with_a_glued_year(text, month):
    assert ("date", month) in _kinds(text)


def test_an_english_relatives_age_and_the_clause_reach_the_calculator():
    from bot.conversation.english import english_turn

    text = english_turn("My son was 17 and got 2 years for theft, clause 1 of Article 173. "
                        "Does he have a criminal record?").text
    assert "khi phạm tội 17 tuổi" in text and "khoản 1 Điều 173" in text and text.startswith("người nhà tôi")
    text = english_turn("When he was 16 he got 7 years under Article 168(2), released 12 December 2024. "
                        "When is his record cleared?").text
    assert "khi phạm tội 16 tuổi" in text and "khoản 2 Điều 168" in text


@pytest.mark.parametrize("text", ["I got 2 years, he was 3 years in prison", "I was 18 months in jail"])
def test_a_length_is_no_age(text):
    from bot.conversation.english import _AGE

    assert _AGE.search(text) is None


def test_a_date_long_after_an_expungement_answer_is_not_its_completion(monkeypatch):
    """The facts kept by an older answer do not make a later loan check an expungement case."""
    monkeypatch.setattr("actions.expungement.today_in_vietnam", lambda: TODAY)
    from actions.expungement import date_after_expungement_answer
    from rasa_sdk import Tracker

    latest = {"text": "ra tu 2/2/2024", "entities": [{"entity": "date", "value": "2024-02-02"}]}
    events = [{"event": "user", "text": "a"}, {"event": "slot", "name": "exp_facts", "value": {"exp_penalty": "prison"}},
              {"event": "user", "text": "b"}, {"event": "action", "name": "action_answer"},
              {"event": "user", "text": "ra tu 2/2/2024"}]
    tracker = Tracker("c", {"exp_facts": {"exp_penalty": "prison"}}, latest, events, False, None, {}, "action_listen")
    assert not date_after_expungement_answer(tracker)
