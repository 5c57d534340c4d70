"""Question-level knowledge entries (issue 14): phone-sized, date-aware, figures
from facts, and a held-out set that exists for them and never leaks into training."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.domain.knowledge import KnowledgeBase
from bot.i18n import answer_text, formatters
from nlu.questions import GUARDED, KEEP_OVERRIDE, NEVER, Choice, Prediction, choose
from vietnamese import text as vtext

KB = KnowledgeBase.load()
HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "questions_heldout"
# The first three dev sets (2026-11-30 and 2026-12-01, each written before a round of
# tuning and tuned on) became training data on 2026-12-02: data/knowledge/asked/set1-3
# (README "Question-level answers").
ASKED = PROJECT_ROOT / "data" / "knowledge" / "asked"
ASKED_SETS = tuple(sorted(ASKED.glob("set*")))
# The fourth dev set (2026-12-01): written from each entry's question and answer
# as people type on Zalo (context first, chat forms), before the round of tuning
# that followed dev3; 1 clean, 1 no-diacritics, 2 teencode (which may keep a few
# marks, "đc", "ạ", as typed).
DEV4 = PROJECT_ROOT / "tests" / "nlu" / "questions_dev4"
# The fifth dev set (2026-12-01): records and support only (the weakest files on
# the held-out set), written as typed on a phone before the round of tuning on
# the gate and teencode; 1 clean, 1 no-diacritics, 2 teencode.
DEV5 = PROJECT_ROOT / "tests" / "nlu" / "questions_dev5"
# The sixth dev set (2026-12-02): every question, written blind from each entry's id,
# question and answer by a helper who saw no example, dev or held-out message; 1 clean,
# 1 no-diacritics, 3 teencode (the weakest slice on the held-out set).
DEV6 = PROJECT_ROOT / "tests" / "nlu" / "questions_dev6"
DAYS = (dt.date(2026, 1, 2), dt.date(2026, 7, 1), dt.date(2026, 11, 30))
# A legal figure written as a literal: a number followed by a unit (the
# placeholders {money:…}, {period:…} … are the only way figures get in).
LITERAL_FIGURE = re.compile(r"\b\d[\d.,]*\s*(triệu|tỷ|đồng|₫|tháng|năm|ngày|tuổi|%)", re.IGNORECASE)
_WORD = re.compile(r"[0-9a-z]+")


def heldout(directory: Path = HELDOUT) -> list[dict]:
    return [q for path in sorted(directory.glob("*.yml")) for q in yaml.safe_load(path.read_text(encoding="utf-8"))]


def folded(text: str, abbr=vtext.Abbreviations.load()) -> str:  # noqa: B008
    return " ".join(_WORD.findall(vtext.fold(abbr.expand(vtext.normalize(text)))))


@pytest.mark.parametrize("day", DAYS, ids=str)
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_question_answer_fits_one_phone_bubble(day, locale):
    """The first bubble as the answer action sends it: the answer and a one-line
    citation; the details and the full citation wait behind "Xem chi tiết"."""
    from actions.answers import short_and_details

    questions = KB.questions(day)
    assert questions
    for entry in questions:
        bubble, details = short_and_details(KB.render(entry, day, formatters(locale)), locale)
        assert len(bubble) <= 500, (entry.id, locale, len(bubble))
        assert "{" not in bubble and "{" not in details, entry.id
        assert bubble.splitlines()[-1].startswith("Căn cứ: " if locale == "vi" else "Based on: "), entry.id
        assert len(bubble.splitlines()[-1]) <= 120, (entry.id, bubble.splitlines()[-1])


def test_answers_use_facts_not_literal_figures():
    # The records files (questions_records_*.yml) name the penalty bands of Điều 70
    # ("tù đến 5 năm") and worked examples in their texts; their periods, fees and
    # ages come from facts, checked by tests/unit/test_question_entries_records.py.
    for entry in (e for e in KB.questions() if not e.file.startswith("questions_records_")):
        for field in (entry.answer, entry.details):
            stripped = re.sub(r"\{[^}]*\}", "", field)
            stripped = re.sub(r"\b\d+/\d{4}\b", "", stripped)  # document numbers: 22/2023, 338/2025
            assert not LITERAL_FIGURE.search(stripped), (entry.id, LITERAL_FIGURE.search(stripped).group(0))


def test_every_question_has_eight_ways_of_asking_and_says_anh_chi_not_ban():
    for entry in KB.questions():
        assert len(entry.examples) >= 8, entry.id
        assert not re.search(r"\bbạn\b", entry.answer, re.IGNORECASE), entry.id


def test_every_heldout_id_is_a_question_entry_with_three_per_slice():
    ids = {e.id for e in KB.questions()}
    qs = heldout()
    assert len(qs) >= 50
    for q in qs:
        assert q["id"] in ids, q["id"]
        for s in ("clean", "nodiac", "teencode"):
            assert len(q[s]) >= 3, (q["id"], s)
        for text in q["nodiac"]:
            assert vtext.fold(text) == text.lower() or not re.search(r"[à-ỹđ]", text), (q["id"], text)


def test_no_heldout_message_is_a_training_example():
    training = {folded(x): e.id for e in KB.questions() for x in (*e.examples, *e.asked)}
    assert sum(len(e.asked) for e in KB.questions()) > 2000
    leaks = [(q["id"], t) for q in heldout() for s in ("clean", "nodiac", "teencode") for t in q[s]
             if folded(t) in training]
    assert not leaks


def test_the_ways_of_asking_name_question_entries_and_nodiac_has_no_marks():
    ids = {e.id for e in KB.questions()}
    assert len(ASKED_SETS) == 3
    for d in ASKED_SETS:
        for q in heldout(d):
            assert q["id"] in ids, q["id"]
            for text in q.get("nodiac") or []:
                assert not re.search(r"[à-ỹđ]", text.lower()), (q["id"], text)


@pytest.mark.parametrize("directory", [DEV4, DEV5, DEV6], ids=["dev4", "dev5", "dev6"])
def test_no_dev_message_is_a_training_example(directory):
    """The dev sets are tuned on, so they must stay apart from the training data too:
    a dev message copied into training would only measure memory."""
    training = {folded(x): e.id for e in KB.questions() for x in (*e.examples, *e.asked)}
    leaks = [(q["id"], t) for q in heldout(directory) for s in ("clean", "nodiac", "teencode") for t in q[s]
             if folded(t) in training]
    assert not leaks


def test_every_question_has_a_fourth_dev_set():
    ids = {e.id for e in KB.questions()}
    qs = heldout(DEV4)
    assert {q["id"] for q in qs} == ids and len(qs) == len(ids)
    for q in qs:
        assert (len(q["clean"]), len(q["nodiac"]), len(q["teencode"])) == (1, 1, 2), q["id"]
        for text in q["nodiac"]:
            assert not re.search(r"[à-ỹđ]", text.lower()), (q["id"], text)


def test_the_fourth_dev_set_is_not_an_earlier_one():
    earlier = {folded(t) for d in ASKED_SETS for q in heldout(d) for s in ("clean", "nodiac", "teencode")
               for t in q.get(s) or []}
    assert not [t for q in heldout(DEV4) for s in ("clean", "nodiac", "teencode") for t in q[s]
                if folded(t) in earlier]


def test_the_fifth_dev_set_covers_records_and_support_and_is_not_an_earlier_one():
    by_file = {e.id: e.file for e in KB.questions()}
    wanted = {i for i, f in by_file.items() if f.startswith(("questions_records_", "questions_support"))}
    qs = heldout(DEV5)
    assert {q["id"] for q in qs} == wanted and len(qs) == len(wanted)
    for q in qs:
        assert (len(q["clean"]), len(q["nodiac"]), len(q["teencode"])) == (1, 1, 2), q["id"]
        for text in q["nodiac"]:
            assert not re.search(r"[à-ỹđ]", text.lower()), (q["id"], text)
    earlier = {folded(t) for d in (*ASKED_SETS, DEV4) for q in heldout(d) for s in ("clean", "nodiac", "teencode")
               for t in q.get(s) or []}
    assert not [t for q in qs for s in ("clean", "nodiac", "teencode") for t in q[s] if folded(t) in earlier]


def test_the_sixth_dev_set_covers_every_question_and_is_not_an_earlier_one():
    ids = {e.id for e in KB.questions()}
    qs = heldout(DEV6)
    assert {q["id"] for q in qs} == ids and len(qs) == len(ids)
    for q in qs:
        # 23 of the 755 messages were dropped unread by the tests, being equal to a training
        # example or an earlier dev message once folded ("lam ly lich tu phap o dau").
        sizes = (len(q["clean"]), len(q["nodiac"]), len(q["teencode"]))
        assert sizes <= (1, 1, 3) and sizes[0] <= 1 and sizes[1] <= 1 and sum(sizes) >= 3, q["id"]
        for text in q["nodiac"]:
            assert not re.search(r"[à-ỹđ]", text.lower()), (q["id"], text)
    earlier = {folded(t) for d in (*ASKED_SETS, DEV4, DEV5) for q in heldout(d)
               for s in ("clean", "nodiac", "teencode") for t in q.get(s) or []}
    assert not [t for q in qs for s in ("clean", "nodiac", "teencode") for t in q[s] if folded(t) in earlier]


def test_topic_answers_never_include_question_entries():
    for intent in ("ask_loan", "ask_residence", "ask_id_card", "ask_support"):
        entries = KB.entries_for(intent, dt.date(2026, 11, 30))
        assert entries and not any(e.question for e in entries), intent


# --- choosing a question next to the routed intent ---------------------------------

QUESTIONS = {"loan.a": {"intents": ["ask_loan"]}, "loan.b": {"intents": ["ask_loan"]},
             "residence.a": {"intents": ["ask_residence"]}}


def pred(**probs: float) -> Prediction:
    ranking = sorted(probs.items(), key=lambda p: -p[1])
    return Prediction(ranking[0][0], ranking[0][1], ranking[:3], list(probs.items()))


def test_a_confident_question_of_the_routed_topic_is_chosen():
    c = choose(pred(**{"loan.a": 0.7, "loan.b": 0.2, "residence.a": 0.1}), "ask_loan", QUESTIONS)
    assert c == Choice("loan.a", 0.7, None, c.ranking)


def test_low_confidence_leaves_the_topic_answer():
    c = choose(pred(**{"loan.a": 0.25, "loan.b": 0.14, "residence.a": 0.12}), "ask_loan", QUESTIONS)
    assert c.id is None


def test_a_bare_topic_leaves_the_topic_answer():
    assert choose(pred(**{"loan.a": 0.9}), "ask_loan", QUESTIONS, words=2).id is None


def test_a_question_of_another_topic_reroutes_only_when_confident():
    c = choose(pred(**{"loan.a": 0.1, "residence.a": 0.85}), "ask_loan", QUESTIONS)
    assert (c.id, c.intent) == ("residence.a", "ask_residence")
    assert choose(pred(**{"loan.a": 0.3, "residence.a": 0.45}), "ask_loan", QUESTIONS).id is None
    assert choose(pred(**{"loan.a": 0.3, "residence.a": 0.45}), "help", QUESTIONS).id is None
    assert choose(pred(**{"loan.a": 0.05, "residence.a": 0.85}), "nlu_fallback", QUESTIONS).intent == "ask_residence"
    assert choose(pred(**{"loan.a": 0.2, "residence.a": 0.6}), "nlu_fallback", QUESTIONS).id is None
    assert choose(pred(**{"loan.a": 0.2, "residence.a": 0.6}), "help", QUESTIONS).id is None
    # A topic with no questions of its own keeps its answer.
    assert choose(pred(**{"loan.a": 0.9}), "ask_release_duties", QUESTIONS).id is None


def test_a_fallback_is_taken_over_from_a_lower_probability_than_other_no_topic_intents():
    """The classifier found no intent (or none of the topics, out of scope): the question
    model's choice counts from 0.7 (greetings and help keep 0.8)."""
    c = choose(pred(**{"loan.a": 0.1, "residence.a": 0.72}), "nlu_fallback", QUESTIONS)
    assert (c.id, c.intent) == ("residence.a", "ask_residence")
    assert choose(pred(**{"loan.a": 0.1, "residence.a": 0.72}), "greet", QUESTIONS).id is None
    assert choose(pred(**{"loan.a": 0.1, "residence.a": 0.72}), "out_of_scope", QUESTIONS).id == "residence.a"


def test_another_topic_with_questions_gives_way_from_a_lower_threshold_unless_measured_unsafe():
    """Between two topics with questions a question of the other topic is answered from
    0.55; the pairs whose NLU examples reach 0.5 (KEEP_OVERRIDE: ask_support → a loan
    question, …) keep 0.8."""
    questions = {**QUESTIONS, "support.a": {"intents": ["ask_support"]}}
    c = choose(pred(**{"support.a": 0.1, "residence.a": 0.6}), "ask_support", questions)
    assert (c.id, c.intent) == ("residence.a", "ask_residence")
    assert choose(pred(**{"support.a": 0.1, "residence.a": 0.5}), "ask_support", questions).id is None
    assert ("ask_support", "ask_loan") in KEEP_OVERRIDE
    loan = "nguoi toi giup do muon vay von"
    assert choose(pred(**{"support.a": 0.1, "loan.a": 0.6}), "ask_support", questions, folded=loan).id is None
    assert choose(pred(**{"support.a": 0.05, "loan.a": 0.85}), "ask_support", questions, folded=loan).id == "loan.a"
    # ...and a message of another topic that names no loan is taken over by a loan question only from
    # OVERRIDE ("đang thử thách do được tha tù trước thời hạn, muốn chuyển vào Bình Dương ở với vợ" at 0.55;
    # "mấy ngày thì có tiền" at 0.97 is the loan's)
    questions = {**questions, "duty.a": {"intents": ["ask_release_duties"]}}
    move = "dang thu thach do duoc tha tu truoc thoi han muon chuyen vao binh duong o voi vo co duoc khong"
    assert choose(pred(**{"duty.a": 0.05, "loan.a": 0.56}), "ask_release_duties", questions, folded=move).id is None
    money = "may ngay thi co tien"
    assert choose(pred(**{"duty.a": 0.01, "loan.a": 0.97}), "ask_release_duties", questions, folded=money).id == "loan.a"


@pytest.mark.parametrize("intent", sorted(NEVER - {"crisis"}))
def test_crisis_forms_and_buttons_never_get_a_question(intent):
    assert choose(pred(**{"loan.a": 0.99}), intent, QUESTIONS).id is None


def test_a_crisis_of_the_classifier_alone_is_a_question_only_when_one_clearly_wins():
    # "Tòa vừa tuyên tôi án treo, tôi phải đến đâu cam kết…" → crisis 0.99 from the classifier
    # ("treo"); crisis terms (applied after the retriever) still make a real crisis a crisis.
    c = choose(pred(**{"loan.a": 0.95, "loan.b": 0.03}), "crisis", QUESTIONS)
    assert (c.id, c.intent) == ("loan.a", "ask_loan")
    assert choose(pred(**{"loan.a": 0.85, "loan.b": 0.1}), "crisis", QUESTIONS).id is None
    assert choose(pred(**{"loan.a": 0.9, "loan.b": 0.31}), "crisis", QUESTIONS).id is None
    assert choose(pred(**{"loan.a": 0.99}), "crisis", QUESTIONS, words=2).id is None


@pytest.mark.parametrize("intent", ["enroll", "erase_my_data"])
def test_enrollment_or_erasure_that_names_a_paper_is_a_question_of_that_paper(intent):
    """"đăng ký tạm trú" is not enrolling with Lối Về: the paper's question, with its own thresholds."""
    probs = pred(**{"residence.a": 0.33, "loan.a": 0.1, "loan.b": 0.05})
    assert choose(probs, intent, QUESTIONS, words=9, folded="nha ban mat roi gio dang ky tam tru o dau") \
        == Choice("residence.a", 0.33, "ask_residence", probs.ranking[:3])
    assert choose(probs, intent, QUESTIONS, words=4, folded="toi muon dang ky").id is None      # the flow's own words
    assert choose(pred(**{"residence.a": 0.2, "loan.a": 0.15, "loan.b": 0.1}), intent, QUESTIONS, words=6,
                  folded="dang ky tam tru di").id is None                                     # not sure enough


FLOW_QUESTIONS = {**QUESTIONS, "ci.erase": {"intents": ["ask_support"]},
                  "ci.enroll": {"intents": ["ask_support", "enroll"]}}


@pytest.mark.parametrize("intent, qid, folded", [
    ("erase_my_data", "ci.erase", "muon xoa het thong tin cua em thi lam nhu the nao quan tri vien"),
    ("erase_my_data", "ci.erase", "lam sao xoa du lieu cua toi tren loi ve"),
    ("enroll", "ci.enroll", "can bo xa dua em ma dang ky em nhap o dau a"),
    ("enroll", "ci.enroll", "ma dang ky loi ve dung nhu the nao"),
    ("erase_my_data", "ci.erase", "xoa sach tin nhan voi thong tin cua em kieu gi quan tri vien"),
])
def test_a_question_about_how_erasure_or_enrollment_works_is_answered(intent, qid, folded):
    """Asked how (where, what): the entry that says how, rerouted to its topic; the flow
    would start erasing or wait for a code the person does not have yet."""
    probs = pred(**{qid: 0.8, "loan.a": 0.1})
    c = choose(probs, intent, FLOW_QUESTIONS, words=len(folded.split()), folded=folded)
    assert (c.id, c.intent) == (qid, "ask_support")
    # not sure enough: the flow
    assert choose(pred(**{qid: 0.45, "loan.a": 0.3}), intent, FLOW_QUESTIONS, words=8, folded=folded).id is None


@pytest.mark.parametrize("intent, folded", [
    ("erase_my_data", "xoa du lieu cua toi"),
    ("erase_my_data", "toi muon xoa het thong tin cua minh"),
    ("erase_my_data", "xoa giup toi duoc khong"),
    ("erase_my_data", "du lieu cua toi co xoa duoc khong"),
    ("enroll", "toi muon dang ky nhan nhac lich"),
    ("enroll", "ma cua toi la ab12cd34ef"),
])
def test_an_erasure_or_enrollment_request_keeps_its_flow(intent, folded):
    qid = "ci.erase" if intent == "erase_my_data" else "ci.enroll"
    assert choose(pred(**{qid: 0.99}), intent, FLOW_QUESTIONS, words=len(folded.split()), folded=folded).id is None


def test_the_evaluation_counts_a_distress_question_as_the_product_answers_it():
    """action_distress gives the caring reply, then the question from CASE_QUESTION_CONFIDENCE;
    action_crisis its reply, then only a few questions (a person without a home, …)."""
    from actions.answers import CASE_QUESTION_CONFIDENCE
    from nlu import evaluate_questions as ev

    assert ev.DISTRESS_ANSWERED_FROM == CASE_QUESTION_CONFIDENCE
    q = {"id": "support.discrimination", "confidence": 0.9}
    assert ev.answered({"intent": {"name": "distress"}, "question": q}) == "support.discrimination"
    assert ev.answered({"intent": {"name": "distress"}, "question": {**q, "confidence": 0.4}}) is None
    assert ev.answered({"intent": {"name": "crisis"}, "question": {**q, "id": "support.find_job"}}) is None
    from actions.crisis import ANSWERED_AFTER_CRISIS

    assert ev.ANSWERED_AFTER_CRISIS == ANSWERED_AFTER_CRISIS
    assert ev.answered({"intent": {"name": "crisis"}, "question": q}) == "support.discrimination"
    assert ev.answered({"intent": {"name": "ask_support"}, "question": q}) == "support.discrimination"


def test_a_clear_winner_of_the_routed_topic_is_chosen_below_the_threshold():
    c = choose(pred(**{"loan.a": 0.2, "loan.b": 0.06, "residence.a": 0.05}), "ask_loan", QUESTIONS)
    assert (c.id, c.intent) == ("loan.a", None)
    # Not clear (less than 3x the runner-up), or too weak: the topic answer.
    assert choose(pred(**{"loan.a": 0.2, "loan.b": 0.1}), "ask_loan", QUESTIONS).id is None
    assert choose(pred(**{"loan.a": 0.12, "loan.b": 0.01}), "ask_loan", QUESTIONS).id is None
    # The clear-winner rule never reroutes to another topic.
    assert choose(pred(**{"loan.a": 0.01, "residence.a": 0.2}), "ask_loan", QUESTIONS).id is None


CHECKIN_QUESTIONS = {**QUESTIONS, "ci.what": {"intents": ["ask_support", "checkin"]}}


@pytest.mark.parametrize("intent", sorted(GUARDED))
def test_check_in_and_a_person_keep_their_flow_unless_the_question_is_very_sure(intent):
    assert choose(pred(**{"ci.what": 0.95, "loan.a": 0.03}), intent, CHECKIN_QUESTIONS).id is None
    c = choose(pred(**{"ci.what": 0.995, "loan.a": 0.004}), intent, CHECKIN_QUESTIONS)
    assert (c.id, c.intent) == ("ci.what", "ask_support")  # answered by action_answer, not the flow
    c = choose(pred(**{"loan.a": 0.995}), intent, CHECKIN_QUESTIONS)
    assert (c.id, c.intent) == ("loan.a", "ask_loan")


def test_a_question_routed_to_check_in_is_answered_from_a_lower_probability():
    folded = "nguoi kem cap toi co phai nop bao cao ket qua len xa khong"
    c = choose(pred(**{"ci.what": 0.96, "loan.a": 0.03}), "checkin", CHECKIN_QUESTIONS, words=12, folded=folded)
    assert (c.id, c.intent) == ("ci.what", "ask_support")
    # the check-in's own words ask nothing: 0.99 as before
    assert choose(pred(**{"ci.what": 0.96, "loan.a": 0.03}), "checkin", CHECKIN_QUESTIONS, words=5,
                  folded="nop bao cao hang thang").id is None
    assert choose(pred(**{"ci.what": 0.9, "loan.a": 0.03}), "checkin", CHECKIN_QUESTIONS, words=12,
                  folded=folded).id is None
    # a person: 0.97 whatever is asked
    assert choose(pred(**{"ci.what": 0.96, "loan.a": 0.03}), "request_human", CHECKIN_QUESTIONS, words=12,
                  folded=folded).id is None


def test_the_topic_intents_learn_the_question_examples():
    from bot.runtime import question_intents

    examples = question_intents.intent_examples()
    assert set(examples) <= {"ask_loan", "ask_residence", "ask_id_card", "ask_support", "ask_release_duties",
                             "ask_expungement", "ask_criminal_record"}
    # Questions about the assistant's own flows (erasure, enrollment, itself) stay out.
    own = [x for e in KB.questions() if e.id.startswith(question_intents.NOT_FOR_INTENTS) for x in e.examples]
    assert own and not set(own) & {x for xs in examples.values() for x in xs}
    # The committed file is what training writes.
    assert question_intents.OUTPUT.read_text(encoding="utf-8") == question_intents.render(examples)


# --- the answer action -------------------------------------------------------------


def run_answer(question_id: str | None, intent: str = "ask_loan", locale_slot: str | None = None):
    import asyncio

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.answers import ActionAnswer

    latest = {"text": "…", "intent": {"name": intent, "confidence": 0.9}, "entities": [],
              "question": {"id": question_id, "confidence": 0.8, "ranking": []}}
    tracker = Tracker("u1", {"locale": locale_slot} if locale_slot else {}, latest, [], False, None, {}, "")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswer().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def test_a_chosen_question_is_answered_with_its_offer_and_details(clock):
    messages, events = run_answer("loan.qd22.collateral")
    [message] = messages
    assert message["text"].startswith("Không. Vay theo chương trình")
    assert [b["payload"] for b in message["buttons"]] == ["/check_loan", "/show_details"]
    [slot] = events
    assert slot["event"] == "slot" and slot["name"] == "details"
    assert "{" not in slot["value"] and "bảo đảm tiền vay" in slot["value"]


def test_no_question_chosen_gives_the_topic_answer(clock):
    messages, events = run_answer(None, intent="ask_residence")
    assert "thường trú" in messages[0]["text"]
    # the topic answer's details wait behind the button, as for every answer
    assert [(e["event"], e["name"]) for e in events] == [("slot", "details")] and events[0]["value"]
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/show_details"]


def test_an_entry_without_details_has_no_details_button(clock):
    [message], events = run_answer("residence.temporary_time", intent="ask_residence")
    # no button, and the details of an earlier answer are forgotten (the slot is emptied)
    assert message["buttons"] == [] and [(e["name"], e["value"]) for e in events] == [("details", None)]


def test_a_range_named_in_words_picks_its_entry_among_the_first_few():
    """The words cannot tell "trên 5 năm" from "trên 15 năm"; the entries' keywords
    (folded, from the knowledge data) can, among the model's first few."""
    prison = {q: {"intents": ["ask_expungement"], "keywords": list(KB.entry(q, dt.date(2026, 12, 1)).keywords)}
              for q in ("xat.prison_up_to_5y", "xat.prison_5_15y", "xat.prison_over_15y")}
    p = pred(**{"xat.prison_over_15y": 0.5, "xat.prison_5_15y": 0.3, "xat.prison_up_to_5y": 0.2})
    assert choose(p, "ask_expungement", prison, folded="tu tren 5 nam thi may nam moi xoa an tich").id == \
        "xat.prison_5_15y"
    assert choose(p, "ask_expungement", prison, folded="tu tren 15 nam thi bao lau").id == "xat.prison_over_15y"
    assert choose(p, "ask_expungement", prison, folded="bi phat tu duoi 5 nam thi bao lau").id == \
        "xat.prison_up_to_5y"
    # both ends named ("trên 5 năm đến 15 năm"): the same entry; nothing named: the model's choice
    assert choose(p, "ask_expungement", prison, folded="tren 5 nam den 15 nam thi sao").id == "xat.prison_5_15y"
    assert choose(p, "ask_expungement", prison, folded="tu bao lau thi xoa an tich").id == "xat.prison_over_15y"


@pytest.mark.parametrize("entities, months", [
    ([{"entity": "penalty_type", "value": "prison"}, {"entity": "duration", "value": "P9Y"}], 108),
    ([{"entity": "duration", "value": "P18M"}], 18),                      # "án 18 tháng": prison by default
    ([{"entity": "penalty_type", "value": "life"}, {"entity": "duration", "value": "P20Y"}], float("inf")),
    ([{"entity": "penalty_type", "value": "suspended"}, {"entity": "duration", "value": "P2Y"}], None),
    ([{"entity": "duration", "value": "P2Y"}, {"entity": "duration", "value": "P1Y"}], None),  # two terms
    ([], None),
])
def test_the_prison_term_a_message_states(entities, months):
    from nlu.questions import prison_term_months

    assert prison_term_months(entities) == months


def test_a_stated_prison_term_picks_the_range_entry_that_holds_it():
    """'tù 9 năm mấy năm được xóa': the words look like the up-to-5-years question;
    the term said is in the 5–15 years range (knowledge data: prison_years)."""
    day = dt.date(2026, 12, 1)
    prison = {q: {"intents": ["ask_expungement"], "keywords": [], "prison_years": KB.entry(q, day).prison_years}
              for q in ("xat.prison_up_to_5y", "xat.prison_5_15y", "xat.prison_over_15y")}
    p = pred(**{"xat.prison_up_to_5y": 0.5, "xat.prison_5_15y": 0.2, "xat.prison_over_15y": 0.1})
    folded = "tu 9 nam may nam duoc xoa"
    assert choose(p, "ask_expungement", prison, folded=folded, term_months=108).id == "xat.prison_5_15y"
    assert choose(p, "ask_expungement", prison, folded=folded, term_months=60).id == "xat.prison_up_to_5y"
    assert choose(p, "ask_expungement", prison, folded=folded, term_months=61).id == "xat.prison_5_15y"
    assert choose(p, "ask_expungement", prison, folded=folded, term_months=float("inf")).id == "xat.prison_over_15y"
    assert choose(p, "ask_expungement", prison, folded=folded, term_months=None).id == "xat.prison_up_to_5y"
    # the model's choice is another question (an offence under 18): the term changes nothing
    minor = {**prison, "xat.minor_16_17": {"intents": ["ask_expungement"], "keywords": [], "prison_years": None}}
    p = pred(**{"xat.minor_16_17": 0.9, "xat.prison_up_to_5y": 0.05, "xat.prison_5_15y": 0.03})
    assert choose(p, "ask_expungement", minor, folded="luc 17 tuoi bi 2 nam tu bao gio duoc xoa an tich",
                  term_months=24).id == "xat.minor_16_17"


def test_a_stated_prison_term_picks_the_range_entry_over_the_question_asked_without_one():
    """'án 9 năm thì khi nào hết án tích': xat.when is the question without a sentence
    (no_term_said); the 5-15 years entry answers when the message says 9 years."""
    day = dt.date(2026, 12, 1)
    qs = {q: {"intents": ["ask_expungement"], "keywords": [], "prison_years": KB.entry(q, day).prison_years,
              "no_term_said": KB.entry(q, day).no_term_said}
          for q in ("xat.when", "xat.prison_up_to_5y", "xat.prison_5_15y")}
    assert qs["xat.when"]["no_term_said"]
    p = pred(**{"xat.when": 0.47, "xat.prison_5_15y": 0.31, "xat.prison_up_to_5y": 0.03})
    folded = "an 9 nam thi khi nao het an tich vay"
    assert choose(p, "ask_expungement", qs, folded=folded, term_months=108).id == "xat.prison_5_15y"
    assert choose(p, "ask_expungement", qs, folded=folded, term_months=None).id == "xat.when"


def test_a_stated_term_does_not_take_a_message_away_from_another_question():
    """A duration promotes a range entry only over another range entry: 'lãi suất 1 tháng bao nhiêu
    vay vốn người ra tù' (1 month read as a term) stays the loan-rate question, and the under-18 rule
    stays first for 'phạm tội … lúc 17 tuổi, bị 3 năm tù' (acceptance sets, after fcc387c)."""
    day = dt.date(2026, 12, 1)
    qs = {q: {"intents": ["ask_expungement"], "keywords": [], "prison_years": KB.entry(q, day).prison_years}
          for q in ("xat.prison_up_to_5y", "xat.prison_5_15y", "xat.prison_over_15y")}
    qs["loan.rate"] = {"intents": ["ask_expungement"], "keywords": [], "prison_years": None}
    p = pred(**{"loan.rate": 0.6, "xat.prison_up_to_5y": 0.2, "xat.prison_5_15y": 0.1})
    assert choose(p, "ask_expungement", qs, folded="lai suat 1 thang bao nhieu", term_months=1).id == "loan.rate"


@pytest.mark.parametrize("qid, answered", [("support.no_home", True), ("support.find_job", False)])
def test_a_crisis_reply_comes_first_and_only_a_few_questions_follow_it(monkeypatch, clock, qid, answered):
    """"ra tù không có chỗ ở thì sao": the crisis reply (alert, lines), then the shelter answer;
    a crisis message's other questions are not answered beside it."""
    import asyncio
    import contextlib
    from types import SimpleNamespace

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions import crisis

    sessions = SimpleNamespace(begin=contextlib.nullcontext)
    monkeypatch.setattr(crisis, "prologue", lambda *a, **k: SimpleNamespace(sessions=sessions, locale="vi"))
    monkeypatch.setattr(crisis, "crisis_reply", lambda *a: crisis.Reply("CRISIS REPLY", []))
    latest = {"text": "ra tu khong co cho o thi sao", "intent": {"name": "crisis", "confidence": 1.0},
              "entities": [], "question": {"id": qid, "confidence": 0.95, "ranking": []}}
    tracker = Tracker("u1", {}, latest, [], False, None, {}, "")
    dispatcher = CollectingDispatcher()
    asyncio.run(crisis.ActionCrisis().run(dispatcher, tracker, {}))
    assert dispatcher.messages[0]["text"] == "CRISIS REPLY"
    if answered:   # the answer with its one-line citation (and the entry's caution, if any)
        assert "Căn cứ: " in dispatcher.messages[1]["text"]
    else:
        assert len(dispatcher.messages) == 1


def test_an_unsure_intent_lets_a_clear_question_of_another_topic_answer():
    """The classifier unsure (below 0.8): a question of another topic that is at least 0.4 and
    three times the runner-up is answered; a sure intent, a close runner-up or a weak question
    keeps the topic answer (dev4: "Hội cựu chiến binh phân cho tôi kèm một cậu…" → help 0.56)."""
    clear = pred(**{"loan.a": 0.1, "residence.a": 0.45})
    c = choose(clear, "ask_loan", QUESTIONS, intent_confidence=0.6)
    assert (c.id, c.intent) == ("residence.a", "ask_residence")
    assert choose(clear, "help", QUESTIONS, intent_confidence=0.56).intent == "ask_residence"
    assert choose(clear, "nlu_fallback", QUESTIONS, intent_confidence=0.3).intent == "ask_residence"
    assert choose(clear, "ask_loan", QUESTIONS, intent_confidence=0.9).id is None
    assert choose(pred(**{"loan.a": 0.2, "residence.a": 0.45}), "ask_loan", QUESTIONS, intent_confidence=0.6).id is None
    assert choose(pred(**{"loan.a": 0.05, "residence.a": 0.35}), "help", QUESTIONS, intent_confidence=0.5).id is None
    # Flows and guarded intents are not affected.
    assert choose(clear, "crisis", QUESTIONS, intent_confidence=0.5).id is None
    assert choose(clear, "checkin", QUESTIONS, intent_confidence=0.5).id is None


def test_an_unsure_check_in_lets_a_clear_question_answer_only_when_it_asks():
    """Check-in is guarded (0.99, 0.95 for a question), but a classifier unsure of it (below 0.8)
    lets a question that clearly wins answer, when the message asks one (sixth dev set: "được
    phân công giúp đỡ 2 bạn, muốn coi báo cáo… thì vào trang nào", check-in at 0.49)."""
    qs = {**QUESTIONS, "ci.console": {"intents": ["ask_support"]}}
    clear = pred(**{"ci.console": 0.58, "loan.a": 0.1})
    asks = "muon coi bao cao cua cac ban thi vao trang nao"
    c = choose(clear, "checkin", qs, folded=asks, intent_confidence=0.49)
    assert (c.id, c.intent) == ("ci.console", "ask_support")
    assert choose(clear, "checkin", qs, folded="toi muon bao cao hang thang", intent_confidence=0.49).id is None
    assert choose(clear, "checkin", qs, folded=asks, intent_confidence=0.9).id is None
    assert choose(pred(**{"ci.console": 0.58, "loan.a": 0.3}), "checkin", qs, folded=asks,
                  intent_confidence=0.49).id is None


@pytest.mark.parametrize("intent, confidence, answered", [
    ("out_of_scope", 0.72, True), ("nlu_fallback", 0.72, True), ("out_of_scope", 0.65, False),
    ("help", 0.72, False), ("help", 0.85, True),
])
def test_out_of_scope_is_taken_over_from_the_fallbacks_threshold(intent, confidence, answered):
    """"vừa về đến nhà chiều nay, phải lên đâu trình diện, trễ nhất là mấy ngày" was out of scope
    with its question at 0.72: out of scope, like a fallback, yields from 0.7; help keeps 0.8."""
    c = choose(pred(**{"residence.a": confidence, "loan.a": 0.1}), intent, QUESTIONS)
    assert (c.id == "residence.a") is answered


@pytest.mark.parametrize("intent_confidence, term_months, answered", [
    (1.0, 24.0, None), (1.0, None, "xat.up_to_5y"), (0.9, 24.0, "xat.up_to_5y"),
])
def test_a_sentence_told_with_a_certificate_question_keeps_the_certificate(intent_confidence, term_months,
                                                                        answered):
    """"bị 2 năm tù, ra tháng 3/2025, phiếu lý lịch tư pháp có ghi án không?": the certificate's own
    answer (what certificate no. 1 shows, until when), not the expungement range entry the
    sentence draws the question model to; without a sentence, or unsure of the certificate,
    the expungement question answers as before."""
    qs = {"xat.up_to_5y": {"intents": ["ask_expungement"], "prison_years": [0, 5]},
          "lltp.shows": {"intents": ["ask_criminal_record"]}}
    p = pred(**{"xat.up_to_5y": 0.8, "lltp.shows": 0.05})
    c = choose(p, "ask_criminal_record", qs, folded="bi 2 nam tu phieu ly lich tu phap co ghi an khong",
               term_months=term_months, intent_confidence=intent_confidence)
    assert c.id == answered


@pytest.mark.parametrize("folded, asked", [
    ("cho toi dang ky vay von", None),                     # applies: the pre-check starts
    ("cho em xin vay it von lam an", None),
    ("dang ky vay von o dau", "loan.a"),                   # asks where
    ("cho em vay 50 trieu de nuoi heo duoc khong", "loan.a"),
])
def test_applying_for_a_loan_is_not_a_question_unless_it_asks(folded, asked):
    c = choose(pred(**{"loan.a": 0.7, "loan.b": 0.2}), "ask_loan", QUESTIONS, words=len(folded.split()), folded=folded)
    assert c.id == asked


# The seventh dev set (2026-12-02, eighth session): records and support only (the weakest files on the
# held-out set), written blind from each entry's id, question and answer by a helper who saw no
# example, dev or held-out message; 1 clean, 1 no-diacritics, 3 teencode. The 13 messages equal, once
# folded, to a training example or an earlier dev message were dropped unread by the session.
DEV7 = PROJECT_ROOT / "tests" / "nlu" / "questions_dev7"


def test_the_seventh_dev_set_covers_records_and_support_and_is_not_training_or_an_earlier_one():
    by_file = {e.id: e.file for e in KB.questions()}
    wanted = {i for i, f in by_file.items() if f.startswith(("questions_records_", "questions_support"))}
    qs = heldout(DEV7)
    assert {q["id"] for q in qs} == wanted and len(qs) == len(wanted)
    for q in qs:
        sizes = tuple(len(q.get(s) or []) for s in ("clean", "nodiac", "teencode"))
        assert sizes <= (1, 1, 3) and sizes[0] <= 1 and sizes[1] <= 1 and sum(sizes) >= 3, q["id"]
        for text in q.get("nodiac") or []:
            assert not re.search(r"[à-ỹđ]", text.lower()), (q["id"], text)
    training = {folded(x) for e in KB.questions() for x in (*e.examples, *e.asked)}
    earlier = {folded(t) for d in (*ASKED_SETS, DEV4, DEV5, DEV6) for q in heldout(d)
               for s in ("clean", "nodiac", "teencode") for t in q.get(s) or []}
    assert not [t for q in qs for s in ("clean", "nodiac", "teencode") for t in q.get(s) or []
                if folded(t) in earlier or folded(t) in training]
