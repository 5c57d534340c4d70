"""Issue 14, points 2 and 3: answer first (the rule, or the computed date with the
assumptions it rests on and a button to correct each) and a person's story read
from one message, without a model (the actions run through rasa-sdk's executor)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from actions import checkin, expungement as exp, loans
from actions.answers import KNOWLEDGE
from bot.domain.expungement import Conviction, assess, waiting_period
from bot.domain.loans import precheck
from bot.domain.periods import Period
from bot.i18n import gettext
from tests.unit.test_actions import call

TODAY = dt.date(2026, 11, 22)


# --- the rule for a sentence, before any date ----------------------------------------------

@pytest.mark.parametrize("penalty, term, wait", [
    ("prison", "P3Y", "P2Y"), ("prison", "P5Y", "P2Y"), ("prison", "P5Y1M", "P3Y"), ("prison", "P15Y", "P3Y"),
    ("prison", "P20Y", "P5Y"), ("life", None, "P5Y"), ("suspended", None, "P1Y"), ("fine", None, "P1Y"),
])
def test_waiting_period_by_penalty(penalty, term, wait):
    got, table = waiting_period(KNOWLEDGE, penalty, Period.parse(term) if term else None, TODAY)
    assert got == Period.parse(wait) and table == "blhs.d70.periods"


@given(months=st.integers(min_value=3, max_value=240), completed=st.dates(dt.date(2000, 1, 1), dt.date(2020, 1, 1)))
def test_the_rule_answer_is_the_calculators_period(months, completed):
    """Whatever the term, the period said before any date is the one the date is computed with."""
    term = Period(months=months)
    wait, _ = waiting_period(KNOWLEDGE, "prison", term, TODAY)
    r = assess([Conviction(age_at_offence=30, penalty="prison", term=term, completed_on=completed,
                           special_chapter=False, no_supplementary=True, other_decisions_done=True)], KNOWLEDGE, TODAY)
    assert r.wait == wait


@given(a=st.integers(min_value=3, max_value=240), b=st.integers(min_value=3, max_value=240))
def test_a_longer_sentence_never_waits_less(a, b):
    wa, _ = waiting_period(KNOWLEDGE, "prison", Period(months=min(a, b)), TODAY)
    wb, _ = waiting_period(KNOWLEDGE, "prison", Period(months=max(a, b)), TODAY)
    assert wa <= wb


@pytest.mark.parametrize("values, starts, says, never", [
    ({"exp_penalty": "suspended"}, "Bị án treo thì", "hết thời gian thử thách", "ra tù"),
    ({"exp_penalty": "fine"}, "Bị phạt tiền thì", "chấp hành xong hình phạt", "ra tù"),
    ({"exp_penalty": "non_custodial"}, "Bị cải tạo không giam giữ thì", "chấp hành xong hình phạt", "thử thách"),
    ({"exp_penalty": "prison", "exp_prison_term": "P3Y"}, "Bị phạt tù 3 năm thì", "(ra tù)", "thử thách"),
])
def test_the_rule_answer_names_when_the_period_starts_for_that_sentence(values, starts, says, never):
    """"Với mức án án treo…" once read badly, and told a person with a fine about leaving prison."""
    answer = exp.rule_answer(values, TODAY, "vi")
    assert answer.startswith(starts) and says in answer and never not in answer, answer
    assert "mức án án" not in answer


# --- the story in one message -----------------------------------------------------------------

@pytest.mark.parametrize("text, requested, age", [
    ("luc do e 25t", "exp_age_group", 25), ("lúc đó e 25t", "exp_age_group", 25),
    ("lúc đó em 17 tuổi", None, 17), ("luc do em 17 tuoi", None, 17), ("năm đó e mới 16t", None, 16),
])
def test_ages_said_in_passing(text, requested, age):
    ents = [{"entity": "money", "value": 25_000_000}] if "25t" in text else []
    assert exp.extract({"text": text, "entities": ents}, requested, TODAY).get("exp_age_group") == age


def test_under_18_is_not_read_as_18():
    assert exp.extract({"text": "dưới 18 tuổi", "entities": []}, None, TODAY).get("exp_age_group") is None


@pytest.mark.parametrize("text", ["bán đồ ăn sáng", "ban do an sang", "bán hàng ăn sáng", "mở quán cơm",
                                  "ban tap hoa", "chạy xe ôm"])
def test_loan_purposes_in_words(text):
    assert loans.extract({"text": text, "entities": []}, "loan_purpose")["loan_purpose"] == "production"


@pytest.mark.parametrize("text, value", [
    ("tệ lắm, tối ko ngủ dc", 1), ("te lam, toi ko ngu dc", 1), ("buồn quá", 2), ("khong on lam", 2),
    ("bình thường", 3), ("cũng ổn", 4), ("rất tốt", 5), ("4", 4),
])
def test_wellbeing_in_words(text, value):
    assert checkin.extract({"text": text, "intent": {"name": "crisis"}}, "ci_wellbeing") == {"ci_wellbeing": value}


@pytest.mark.parametrize("text", ["ko muốn sống nữa", "muốn chết cho xong", "tệ lắm, muốn tự tử"])
def test_crisis_words_are_never_a_wellbeing_answer(text):
    assert checkin.extract({"text": text, "intent": {"name": "crisis"}}, "ci_wellbeing") == {}


@pytest.mark.parametrize("text", ["dang di phu ho", "đang đi phụ hồ", "chạy grab"])
def test_activity_in_words(text):
    assert checkin.extract({"text": text, "intent": {"name": "affirm"}}, "ci_activity") == {"ci_activity": "working"}


# --- answer first, through the executor ----------------------------------------------------------

def latest(text: str, intent: str, entities: list[dict]) -> dict:
    return {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities,
            "intent_ranking": [], "metadata": {}}


def slot_events(out: dict) -> dict:
    return {e["name"]: e["value"] for e in out["events"] if e["event"] == "slot"}


def test_a_rule_question_gets_the_rule_and_a_button(clock):
    clock.now = dt.datetime(2026, 11, 22, 3, tzinfo=dt.timezone.utc)
    out = call("action_expungement_start", latest(
        "Bị phạt tù 3 năm thì sau bao lâu được xóa án tích?", "ask_expungement",
        [{"entity": "penalty_type", "value": "prison"}, {"entity": "duration", "value": "P3Y"}]), [])
    [reply] = out["responses"]
    assert "sau 2 năm kể từ ngày chấp hành xong" in reply["text"] and len(reply["text"]) <= 500
    assert reply["buttons"] == [{"title": "Tính ngày xóa án tích", "payload": "/calc_expungement"}]
    assert slot_events(out)["exp_facts"] == {"exp_penalty": "prison", "exp_prison_term": "P3Y"}


def test_facts_start_the_form_with_the_assumptions_stated(clock):
    clock.now = dt.datetime(2026, 11, 22, 3, tzinfo=dt.timezone.utc)
    out = call("action_expungement_start", latest(
        "Em bị 4 năm tù, chấp hành xong hôm 20/8/2022, tiền án phí với bồi thường nộp hết rồi.", "ask_expungement",
        [{"entity": "duration", "value": "P4Y"}, {"entity": "penalty_type", "value": "prison"},
         {"entity": "date", "value": "2022-08-20"}]), [])
    slots = slot_events(out)
    assert slots["exp_other_done"] is True and "exp_other_done" not in slots["exp_assumed"]
    assert set(slots["exp_assumed"]) == {"exp_age_group", "exp_special_chapter", "exp_new_crime", "exp_supplementary"}
    assert exp.still_needed(slots, TODAY) == []  # nothing to ask: the form answers at once


def test_the_result_is_phone_sized_with_details_and_corrections():
    slots = {"exp_penalty": "prison", "exp_prison_term": "P4Y", "exp_completed_on": "2022-08-20",
             "exp_other_done": True}
    assumed = [k for k in exp.ASSUMED if slots.get(k) is None]
    slots |= {k: exp.ASSUMED[k] for k in assumed} | {"exp_assumed": assumed}
    r = exp.calculate(exp.case_from_slots(slots, TODAY), KNOWLEDGE, TODAY)
    text = exp.short_result_text(r, exp.assumed_used(slots, TODAY), TODAY, "vi")
    assert "từ ngày 21/08/2024" in text and "kết thúc hết ngày 20/08/2024" in text
    assert "khi phạm tội anh/chị đã đủ 18 tuổi" in text and "anh/chị không phạm tội mới" in text
    assert "không phải tội an ninh quốc gia" in text
    assert len(text) <= 500 and text.splitlines()[-1].startswith("Căn cứ:")
    assert "Điều 147–148" in exp.result_text(r, TODAY, "vi")  # the counting rule: in the details


def test_a_correction_recomputes_with_the_rest_kept(clock):
    clock.now = dt.datetime(2026, 11, 22, 3, tzinfo=dt.timezone.utc)
    facts = {"exp_penalty": "prison", "exp_prison_term": "P4Y", "exp_completed_on": "2022-08-20"}
    tracker_slots = {"exp_facts": facts}
    out = call_with_slots("action_expungement_start", latest(
        '/calc_expungement{"recheck": "exp_other_done"}', "calc_expungement",
        [{"entity": "recheck", "value": "exp_other_done"}]), tracker_slots)
    slots = slot_events(out)
    assert slots["exp_other_done"] is False and slots["exp_prison_term"] == "P4Y"
    r = exp.calculate(exp.case_from_slots(slots, TODAY), KNOWLEDGE, TODAY)
    assert r.route == "not_yet"


def call_with_slots(action: str, message: dict, slots: dict) -> dict:
    import asyncio
    import actions
    from rasa_sdk.executor import ActionExecutor
    executor = ActionExecutor()
    executor.register_package(actions)
    payload = {"next_action": action, "sender_id": "conv", "version": "3.6.21",
               "domain": {"intents": [], "entities": [], "slots": {}, "responses": {}, "actions": [], "forms": {}},
               "tracker": {"sender_id": "conv", "slots": slots, "latest_message": message, "events": [],
                           "paused": False, "followup_action": None, "active_loop": {},
                           "latest_action_name": "action_listen"}}
    return asyncio.run(executor.run(payload)).model_dump()


def test_loan_answer_is_phone_sized_and_says_yes():
    slots = {"loan_purpose": "production", "loan_completed_on": "2026-10", "loan_penalty": "prison",
             "loan_has_certificate": True, "loan_assumed": ["loan_has_certificate"]}
    r = precheck(loans.case_from_slots(slots), KNOWLEDGE, TODAY)
    text = loans.short_result(r.programmes, loans.assumed_used(slots, TODAY), "vi")
    assert text.startswith("Được.") and "100.000.000" in text
    assert "anh/chị đã có giấy chứng nhận chấp hành xong án phạt tù" in text
    assert len(text) <= 500, len(text)
    assert "Giấy tờ cần chuẩn bị" in "\n".join(loans.result_messages(r.programmes, "vi"))


@pytest.mark.parametrize("locale, opening, assumption, button", [
    ("vi", "Được. Người nhà anh/chị có thể được vay", "người đó đã có giấy chứng nhận", "Người đó chưa có giấy chứng nhận"),
    ("en", "Yes. The loan for people who completed a prison sentence may fit them", "they have the certificate",
     "They have no certificate yet"),
])
def test_a_relatives_loan_is_answered_about_the_relative(locale, opening, assumption, button):
    """"Con trai tôi mới ra tù tháng trước, nó muốn vay vốn nuôi bò…": the answer, its assumptions
    and its correction button speak of the son, not of the person writing (2026-12-02)."""
    said = loans.extract({"text": "Con trai tôi mới ra tù tháng trước, nó muốn vay vốn nuôi bò thì được vay bao nhiêu?",
                          "entities": []}, None)
    assert said["loan_relative"] is True
    assert "loan_relative" not in loans.extract({"text": "em mới ra tù, muốn vay vốn nuôi bò", "entities": []}, None)
    slots = {"loan_purpose": "production", "loan_completed_on": "2026-10", "loan_penalty": "prison",
             "loan_has_certificate": True, "loan_assumed": ["loan_has_certificate"], "loan_relative": True}
    r = precheck(loans.case_from_slots(slots), KNOWLEDGE, TODAY)
    text = loans.short_result(r.programmes, loans.assumed_used(slots, TODAY), locale, relative=True)
    assert text.startswith(opening) and assumption in text, text
    assert "Được. Anh/chị" not in text and "giả định: anh/chị" not in text
    assert loans.said_of(loans.CORRECTION_BUTTONS["loan_has_certificate"], locale, True) == button


def test_every_relative_text_is_translated_in_both_catalogs():
    """A text registered with a relative's version (actions.common.relative_texts) that a catalog
    lacks would come out as the English msgid on a Vietnamese page."""
    from babel.messages.pofile import read_po

    from actions.common import RELATIVE, _RELATIVE_TEXTS
    from bot.i18n import LOCALE_DIR

    assert len(_RELATIVE_TEXTS) > 30
    for locale in ("vi", "en"):
        with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
            cat = read_po(fh, locale=locale)
        theirs = {m.id: m.string for m in cat if m.context == RELATIVE and m.string}
        assert sorted(_RELATIVE_TEXTS - theirs.keys()) == [], locale
        plain = {m.id for m in cat if m.context is None and m.string}
        assert sorted(_RELATIVE_TEXTS - plain) == [], locale   # the plain version exists too


def test_a_refusal_states_only_the_assumptions_that_could_change_it():
    """Past the 5-year limit the loan is refused with or without the certificate: the
    answer does not assume it (nor offer to correct it); an eligible answer does."""
    late = {"loan_purpose": "production", "loan_completed_on": "2019-01-01", "loan_penalty": "prison",
            "loan_has_certificate": True, "loan_assumed": ["loan_has_certificate"]}
    assert loans.assumed_used(late, TODAY) == []
    assert loans.assumed_used({**late, "loan_completed_on": "2026-10-01"}, TODAY) == ["loan_has_certificate"]


@pytest.mark.parametrize("story", [
    "Năm 2015 em bị 2 năm tù, ra tù tháng 6/2017; năm 2019 lại bị 3 năm tù, ra tù 01/06/2022. Bao giờ em hết án tích?",
    "nam 2015 e bi 2 nam tu, ra tu thang 6/2017, nam 2019 bi 3 nam tu nua, ra tu 01/06/2022, bao gio het an tich",
])
def test_two_convictions_in_one_message_are_both_assessed(story):
    from vietnamese.entities import extract as entities
    ents = [{"entity": e.entity, "value": e.value} for e in entities(story, TODAY)]
    said = exp.extract({"text": story, "entities": ents}, None, TODAY)
    assert said["exp_new_crime"] is True and said["exp_new_prison_term"] == "P3Y" and said["exp_prison_term"] == "P2Y"
    slots = dict(said)
    assumed = [k for k in exp.ASSUMED if slots.get(k) is None]
    slots |= {k: exp.ASSUMED[k] for k in assumed} | {"exp_assumed": assumed}
    assert exp.still_needed(slots, TODAY) == []
    r = exp.calculate(exp.case_from_slots(slots, TODAY), KNOWLEDGE, TODAY)
    text = exp.short_result_text(r, exp.assumed_used(slots, TODAY), TODAY, "vi")
    assert "từ ngày 02/06/2024" in text and "khoản 2 Điều 73" in text  # restarted by the new crime
    assert "anh/chị không phạm tội mới" not in text  # said, not assumed


def test_one_sentence_with_two_dates_is_one_conviction():
    story = "bị 3 năm tù năm 2019, ra tù 01/06/2022"
    from vietnamese.entities import extract as entities
    ents = [{"entity": e.entity, "value": e.value} for e in entities(story, TODAY)]
    assert "exp_new_crime" not in exp.extract({"text": story, "entities": ents}, None, TODAY)


def test_the_result_action_sets_details_and_the_buttons(clock):
    clock.now = dt.datetime(2026, 11, 22, 3, tzinfo=dt.timezone.utc)
    slots = {"exp_penalty": "prison", "exp_prison_term": "P4Y", "exp_completed_on": "2022-08-20",
             "exp_other_done": True, "exp_age_group": "adult", "exp_special_chapter": False, "exp_new_crime": False,
             "exp_supplementary": "none",
             "exp_assumed": ["exp_age_group", "exp_special_chapter", "exp_new_crime", "exp_supplementary"]}
    out = call_with_slots("action_expungement_result", latest("x", "inform", []), slots)
    [reply] = out["responses"]
    assert [b["payload"] for b in reply["buttons"]] == [
        '/calc_expungement{"recheck": "exp_age_group"}', '/calc_expungement{"recheck": "exp_special_chapter"}',
        '/calc_expungement{"recheck": "exp_new_crime"}', '/calc_expungement{"recheck": "exp_supplementary"}',
        "/show_details"]
    assert reply["buttons"][-1]["title"] == "Xem chi tiết"
    events = slot_events(out)
    assert "Điều 147–148" in events["details"] and "Điều 147–148" in reply["text"]  # cited; explained in details
    assert "kể từ ngày hôm sau" in events["details"] or len(events["details"]) > len(reply["text"])
    assert events["exp_facts"]["exp_prison_term"] == "P4Y" and "exp_age_group" not in events["exp_facts"]


@pytest.mark.parametrize("story, value, asked", [
    ("bị 3 năm tù, còn bị quản chế, ra tù 01/06/2023", "yes", ["exp_supplementary_until"]),
    ("bị 3 năm tù và 2 năm quản chế, ra tù 01/06/2023", "until", []),  # its end: from the release
    ("bi 3 nam tu, cam cu tru 1 nam, ra tu 01/06/2023", "until", []),
    ("bị 3 năm tù, quản chế cũng xong rồi, ra tù 01/06/2023", "none", []),
    ("bị 3 năm tù, ra tù 01/06/2023", None, []),
])
def test_a_supplementary_penalty_in_the_story_is_not_assumed_away(story, value, asked):
    from vietnamese.entities import extract as entities
    ents = [{"entity": e.entity, "value": e.value} for e in entities(story, TODAY)]
    said = exp.extract({"text": story, "entities": ents}, None, TODAY)
    assert said.get("exp_supplementary") == value and said["exp_prison_term"] == "P3Y"
    slots = dict(said)
    slots |= {k: exp.ASSUMED[k] for k in exp.ASSUMED if slots.get(k) is None}
    assert exp.still_needed(slots, TODAY) == asked  # one question: when it ends


def test_a_negligent_light_crime_gets_no_waiting_period_but_no_record(clock):
    """Legal facts §0: khoản 1 Điều 260 (max 5 years, nghiêm trọng, vô ý) leaves no
    record at all (Điều 69 khoản 2): never the "2 năm" rule for the sentence."""
    clock.now = dt.datetime(2026, 11, 22, 3, tzinfo=dt.timezone.utc)
    out = call("action_expungement_start", latest(
        "Tôi gây tai nạn giao thông chết người, bị xử khoản 1 Điều 260, 2 năm tù. Tôi có án tích không?",
        "ask_expungement", [{"entity": "clause", "value": "1"}, {"entity": "penalty_type", "value": "prison"},
                            {"entity": "duration", "value": "P2Y"}]), [])
    assert not any("2 năm kể từ ngày chấp hành xong" in r["text"] for r in out["responses"])
    slots = slot_events(out)
    # no record whatever the completion date: nothing is asked, the answer is "no record"
    assert slots["exp_article"] == "260" and exp.still_needed(slots, TODAY) == []
    result = exp.calculate(exp.case_from_slots(slots, TODAY), KNOWLEDGE, TODAY)
    assert result.route == "no_record"


def _loan_case(**said) -> dict:
    """The slots the pre-check answers with after answer_first_form: what was said, and the usual
    assumptions for the rest (actions.loans.answer_first_form)."""
    events = loans.answer_first_form(said)[:-1]
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


LOAN_STORIES = {
    # "tôi chấp hành xong án tù năm ngoái, muốn vay 200 triệu mua máy cày …": 588 characters before
    "over_cap_year_only": dict(loan_completed_on="2025", loan_amount=200_000_000, loan_penalty="prison"),
    # "ra tù từ 2018 rồi thì giờ còn vay ưu đãi … được ko": 548
    "too_late_year_only": dict(loan_completed_on="2018", loan_penalty="prison"),
    # "bị án treo thì vay vốn theo chương trình nào", "Em bị án treo … quyết định 22": 547
    "suspended": dict(loan_penalty="suspended"),
    # "tôi ra tù tháng 6/2022 thì hạn chót vay theo QĐ 22 là khi nào": 501
    "month_only": dict(loan_completed_on="2022-06", loan_penalty="prison"),
    "over_cap_month_only_close": dict(loan_completed_on="2021-12", loan_amount=150_000_000, loan_penalty="prison"),
    "no_certificate_too_late": dict(loan_completed_on="2019", loan_has_certificate=False, loan_amount=200_000_000),
    "on_probation": dict(loan_early_release=True, loan_penalty="prison", loan_completed_on="2026-03-01",
                         loan_probation_end="2027-03-01"),
    "non_custodial": dict(loan_penalty="non_custodial", loan_amount=300_000_000),
    "training_over_cap": dict(loan_purpose="training", loan_completed_on="2025", loan_amount=50_000_000),
}


@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("story", LOAN_STORIES, ids=str)
def test_a_loan_answer_fits_a_first_bubble_and_says_what_it_assumed(clock, story, locale):
    """Issue 14 point 4: the first bubble of a loan answer is at most FIRST_BUBBLE_MAX characters,
    with the answer first and every assumption it made; the rest is behind "Xem chi tiết"."""
    clock.now = dt.datetime(2026, 11, 22, 3, tzinfo=dt.timezone.utc)
    slots = _loan_case(**LOAN_STORIES[story])
    r = precheck(loans.case_from_slots(slots), KNOWLEDGE, TODAY)
    assumed = loans.assumed_used(slots, TODAY) + loans.vague_used(slots)
    text = loans.short_result(r.programmes, assumed, locale)
    assert len(text) <= 500, (len(text), text)
    for a in assumed:
        assert gettext(loans.ASSUMPTION_PHRASES[a], locale) in text
    assert text.splitlines()[-1].startswith(gettext("Based on: %(citation)s", locale).split("%")[0])
    details = "\n".join(loans.result_messages(r.programmes, locale))
    assert "2553" in details  # the whole citation (the rate's decision too) behind the button


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_loan_answer_fits_a_first_bubble(clock, locale):
    """Every combination of what a person may say (penalty, completion, amount, certificate,
    purpose, early release): the first bubble stays within FIRST_BUBBLE_MAX characters."""
    import itertools
    clock.now = dt.datetime(2026, 11, 22, 3, tzinfo=dt.timezone.utc)
    answered = 0
    for penalty, done, amount, cert, purpose, early in itertools.product(
            [None, "prison", "amnesty", "life", "suspended", "non_custodial"],
            [None, "2018", "2021-12", "2021-12-15", "2022-06", "2025", "2026-10-01"],
            [None, 30_000_000, 150_000_000], [None, True, False], [None, "production", "training"], [False, True]):
        said = {k: v for k, v in dict(loan_penalty=penalty, loan_completed_on=done, loan_amount=amount,
                                      loan_has_certificate=cert, loan_purpose=purpose).items() if v is not None}
        if early:
            said.update(loan_early_release=True, loan_penalty="prison", loan_probation_end="2027-03-01")
        slots = _loan_case(**said)
        r = precheck(loans.case_from_slots(slots), KNOWLEDGE, TODAY)
        if r.missing:
            continue
        assumed = loans.assumed_used(slots, TODAY) + loans.vague_used(slots)
        text = loans.short_result(r.programmes, assumed, locale)
        assert len(text) <= 500, (said, len(text), text)
        answered += 1
    assert answered > 500


def test_a_childhood_conviction_leaves_the_adult_one_to_count():
    """A first offence at 15 leaves no record (Điều 107 khoản 1), but the later adult sentence has its
    own period (legal-facts.md section 0): the case is the later sentence, its age and its date. The
    product had answered "không bị coi là có án tích" (acceptance_fresh13)."""
    story = ("Con tôi năm 15 tuổi bị xử 9 tháng tù vì trộm cắp. Năm 2022, lúc 20 tuổi, nó lại bị 3 năm tù vì cố ý "
             "gây thương tích, ra trại ngày 14/2/2025; bồi thường và án phí đã xong hết. Mẹ muốn biết bao giờ thì "
             "nó hết án tích?")
    assert exp.adult_after_childhood(story, TODAY) == {"exp_penalty": "prison", "exp_completed_on": "2025-02-14",
                                                       "exp_age_group": 20, "exp_prison_term": "P3Y"}
    # both as adults: two convictions, not this
    assert exp.adult_after_childhood(story.replace("15 tuổi", "19 tuổi"), TODAY) == {}


@pytest.mark.parametrize("text, completed", [
    # "án treo 2 năm thử thách tính từ 5/6/2023": probation ends two years after it started
    ("e bi toa xu an treo 2 nam thu thach tinh tu ngay 5 thang 6 nam 2023 an phi nop r h e het an tich chua",
     "2025-06-05"),
    ("bị án treo, thử thách 2 năm tính từ ngày tuyên án 05/06/2023, bao giờ hết án tích", "2025-06-05"),
])
def test_a_probation_told_from_its_start_ends_after_its_length(text, completed):
    from tests.unit.test_actions import _msg

    said = exp.extract(_msg(text, [("penalty_type", "suspended"), ("duration", "P2Y"), ("date", "2023-06-05")]),
                       None, TODAY)
    assert said["exp_completed_on"] == completed


def _after_expungement_answer(facts: dict):
    from rasa_sdk import Tracker

    events = [{"event": "user", "text": "story"}, {"event": "action", "name": "action_expungement_start"},
              {"event": "action", "name": "exp_form"}, {"event": "action", "name": "action_expungement_result"},
              {"event": "action", "name": "action_listen"}, {"event": "user", "text": "loan question"}]
    return Tracker("conv", {"exp_facts": facts}, {"text": "loan question"}, events, False, None, {}, "action_listen")


def test_a_loan_question_after_an_expungement_answer_uses_that_story():
    """acceptance_fresh13: the wife's husband served cải tạo không giam giữ (not a QĐ 22 borrower), another
    was released early on conditions (the time limit runs from the end of probation)."""
    ctkgg = loans.case_after_expungement_answer(_after_expungement_answer(
        {"exp_penalty": "non_custodial", "exp_completed_on": "2026-01-10", "exp_relative": True}))
    assert ctkgg == {"loan_penalty": "non_custodial", "loan_completed_on": "2026-01-10", "loan_relative": True}
    parole = loans.case_after_expungement_answer(_after_expungement_answer(
        {"exp_penalty": "prison", "exp_prison_term": "P4Y", "exp_completed_on": "2024-04-15",
         "exp_early_release": True, "exp_probation_end": "2025-06-15"}))
    slots = {**parole, "loan_purpose": "production", "loan_has_certificate": True}
    qd22 = precheck(loans.case_from_slots(slots), KNOWLEDGE, TODAY).programmes[0]
    assert qd22.deadline == dt.date(2030, 6, 15) or qd22.deadline == dt.date(2030, 6, 14), qd22.deadline
    r = precheck(loans.case_from_slots({**ctkgg, "loan_purpose": "production"}), KNOWLEDGE, TODAY)
    text = loans.short_result(r.programmes, [], "vi", relative=True)
    assert "chỉ dành cho người đã chấp hành xong án phạt tù" in text, text
    # not after another answer
    t = _after_expungement_answer({"exp_penalty": "prison", "exp_completed_on": "2024-01-01"})
    t.events[3]["name"] = "action_show_details"
    assert loans.case_after_expungement_answer(t) == {}


def test_a_seventeen_year_old_is_told_the_job_creation_loan_needs_full_capacity():
    """"e năm nay 17t … muốn vay vốn tạo việc làm 200tr" (acceptance_fresh14): more than QĐ 22 lends, and
    the job-creation loan that would lend it needs full civil capacity (legal-facts.md section 0)."""
    said = loans.extract({"text": "e nam nay 17t ms ra trai mun vay von tao viec lam 200tr de mo quan thi co dc ko ad",
                          "entities": [{"entity": "money", "value": 200000000}]}, None)
    assert said["loan_age"] == 17
    text = loans.rule_text(said, TODAY, "vi")
    assert "năng lực hành vi dân sự đầy đủ" in text and "200.000.000" not in text
    assert "loan_age" not in loans.extract({"text": "vay 17 trieu duoc ko", "entities": []}, None)


def test_a_qd22_question_after_a_jobs_only_answer_is_the_jobs_loans():
    from rasa_sdk import Tracker

    t = Tracker("conv", {"loan_facts": {"loan_penalty": "suspended", "loan_purpose": "production"}}, {}, [], False,
                None, {}, "action_listen")
    assert loans.jobs_question_for_the_case(t, "loan.qd22.rate", TODAY).id == "loan.jobs.rate"
    assert loans.jobs_question_for_the_case(t, "loan.qd22.no_certificate", TODAY) is None   # no jobs version
    prison = Tracker("conv", {"loan_facts": {"loan_penalty": "prison"}}, {}, [], False, None, {}, "action_listen")
    assert loans.jobs_question_for_the_case(prison, "loan.qd22.rate", TODAY) is None


def test_a_loan_answer_close_to_the_limit_warns_and_a_refusal_says_no_first():
    """The deadline warning stays with a yes (the stack run of 3267d73 had lost it behind the new "Không."
    branch), and a refusal opens with "Không." as a yes opens with "Được."."""
    day = dt.date(2026, 11, 22)
    close = {"loan_purpose": "production", "loan_amount": 80000000, "loan_completed_on": "2021-12-01",
             "loan_penalty": "prison", "loan_has_certificate": True}
    r = precheck(loans.case_from_slots(close), KNOWLEDGE, day)
    text = loans.short_result(r.programmes, [], "vi")
    assert text.startswith("Được.") and "Phải vay trước hết ngày 01/12/2026" in text and "Sắp hết thời hạn" in text
    refused = {**close, "loan_penalty": "suspended", "loan_completed_on": "2026-02-01"}
    r = precheck(loans.case_from_slots(refused), KNOWLEDGE, day)
    assert loans.short_result(r.programmes, [], "vi").startswith("Không. Hiện anh/chị chưa đủ điều kiện")
