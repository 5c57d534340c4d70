"""Phone-sized replies (issue 14 point 4) and one language per page (point 6),
without the model: the knowledge answers' first bubbles, the "Xem chi tiết"
mechanism and the once-per-conversation caution run through rasa-sdk's own
executor with the JSON Rasa 3.6 sends; English routing and Rasa responses in
English."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from rasa_sdk.executor import ActionExecutor

import actions
from actions.answers import KNOWLEDGE, short_and_details
from actions.common import FIRST_BUBBLE_MAX
from bot.conversation.english import english_intent, english_question, english_turn
from bot.i18n import domain_text, formatters, gettext

DAYS = [dt.date(2024, 1, 1), dt.date(2025, 6, 1), dt.date(2026, 3, 1), dt.date(2026, 11, 30)]
VIETNAMESE_LETTERS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.I)


@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("day", DAYS, ids=str)
def test_every_topic_answer_fits_a_first_bubble_with_a_one_line_citation(locale, day):
    based_on = gettext("Based on: %(citation)s", locale).split("%")[0]
    answered = 0
    for entry in KNOWLEDGE.entries:
        if not entry.intents or not entry.valid_on(day):
            continue
        short, _ = short_and_details(KNOWLEDGE.render(entry, day, formatters(locale)), locale)
        assert len(short) <= FIRST_BUBBLE_MAX, (entry.id, len(short))
        citation = short.splitlines()[-1]
        assert citation.startswith(based_on) and ";" not in citation, entry.id
        answered += 1
    assert answered >= 7


def call(action: str, text: str, intent: str, slots: dict | None = None, locale: str = "vi") -> dict:
    executor = ActionExecutor()
    executor.register_package(actions)
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "intent_ranking": [],
              "entities": [], "metadata": {"locale": locale}}
    payload = {
        "next_action": action, "sender_id": "conv", "version": "3.6.21",
        "domain": {"intents": [], "entities": [], "slots": {}, "responses": {}, "actions": [], "forms": {}},
        "tracker": {"sender_id": "conv", "slots": slots or {}, "latest_message": latest,
                    "events": [{"event": "user", "text": text, "parse_data": latest}],
                    "paused": False, "followup_action": None, "active_loop": {},
                    "latest_action_name": "action_listen"},
    }
    return asyncio.run(executor.run(payload)).model_dump()


def slots_of(result: dict) -> dict:
    return {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}


def test_an_unverified_answer_cautions_once_and_keeps_the_details_for_the_button(clock):
    clock.now = dt.datetime(2026, 11, 30, 3, tzinfo=dt.timezone.utc)
    first = call("action_answer", "căn cước bị mất", "ask_id_card")   # verified: no caution
    [reply] = first["responses"]
    assert len(reply["text"]) <= FIRST_BUBBLE_MAX and "Căn cứ:" in reply["text"]
    assert "cautioned" not in slots_of(first)

    duties = call("action_answer", "có phải báo cáo không", "ask_release_duties")  # unverified
    answer, caution = duties["responses"]
    assert "chưa được kiểm chứng đầy đủ" in caution["text"] and len(caution["text"]) < 160
    assert "chưa được kiểm chứng đầy đủ" not in answer["text"]
    assert [b["payload"] for b in caution["buttons"]] == ["/show_details"]
    assert caution["buttons"][0]["title"] == "Xem chi tiết"
    kept = slots_of(duties)
    assert kept["cautioned"] == ["unverified"]
    assert "Nghĩa vụ trình diện" in kept["details"] and "chưa được kiểm chứng đầy đủ" in kept["details"]

    again = call("action_answer", "hỗ trợ gì", "ask_support", {"cautioned": kept["cautioned"]})  # unverified too
    [only] = again["responses"]
    assert "chưa được kiểm chứng đầy đủ" not in only["text"]
    assert "chưa được kiểm chứng đầy đủ" in slots_of(again)["details"]
    assert "cautioned" not in slots_of(again)

    shown = call("action_show_details", "/show_details", "show_details", {"details": kept["details"]})
    assert [r["text"] for r in shown["responses"]] == [kept["details"]]
    nothing = call("action_show_details", "/show_details", "show_details", {"details": None}, locale="en")
    assert nothing["responses"][0]["text"].startswith("There is nothing more")


def test_the_loan_answer_on_the_english_page_is_english_with_its_buttons(clock):
    clock.now = dt.datetime(2026, 11, 30, 3, tzinfo=dt.timezone.utc)
    result = call("action_loan_start", "/ask_loan", "ask_loan", locale="en")
    texts = [r["text"] for r in result["responses"]]
    assert texts[0].startswith("People who have finished a prison sentence can get a preferential loan")
    assert not any(VIETNAMESE_LETTERS.search(t) for t in texts)
    titles = [b["title"] for b in result["responses"][-1]["buttons"]]
    assert titles == ["Check if I can borrow", "See details"]
    assert "Conditions:" in slots_of(result)["details"]


@pytest.mark.parametrize("text, intent", [
    ("How can I get a loan?", "ask_loan"),
    ("I want to borrow money to open a shop", "ask_loan"),
    ("How do I clear my record?", "ask_expungement"),
    ("Where do I get a criminal record certificate?", "ask_criminal_record"),
    ("I lost my ID card", "ask_id_card"),
    ("Do I need to register my residence again? temporary residence", "ask_residence"),
    ("What are my duties on probation?", "ask_release_duties"),
    ("I need a job", "ask_support"),
    ("I want to check in", "checkin"),
    ("I need help", "request_human"),
    ("help me!", "request_human"),
    ("Can I talk to an officer?", "request_human"),
    ("Hello", "greet"),
    ("thank you", "thank"),
    ("erase my data", "erase_my_data"),
    ("I feel very sad and can't sleep", "distress"),
    ("Who is my mentor?", "request_human"),
])
def test_english_questions_reach_their_topic(text, intent):
    assert english_intent(text) == intent


@pytest.mark.parametrize("text", ["I want to kill myself", "i dont want to live anymore, I need help",
                                  "I am suicidal", "/ask_loan", "01/06/2023", "tôi muốn vay vốn"])
def test_crisis_payloads_and_other_messages_pass_as_typed(text):
    assert english_intent(text) is None


@pytest.mark.parametrize("text, question", [
    ("Where do I apply for a loan?", "loan.qd22.where"),
    ("Do I need collateral to borrow?", "loan.qd22.collateral"),
    ("What is the interest rate on the loan?", "loan.qd22.rate"),
    ("How much can I borrow after prison?", "loan.qd22.amount"),
    ("How much is the job creation loan?", "loan.jobs.amount"),
    ("What documents do I need for the loan?", "loan.qd22.documents"),
    ("How long until I get the loan money?", "loan.qd22.time_to_money"),
    ("Can I borrow for vocational training?", "loan.qd22.training_amount"),
    ("What are the conditions to get my record cleared?", "xat.conditions"),
    ("Do I need to apply to have my record cleared or is it automatic?", "xat.automatic_no_application"),
    ("What is the difference between criminal record certificate no 1 and no 2?", "lltp.no1_vs_no2"),
    ("Can I get a criminal record certificate online?", "lltp.online"),
    ("How much is the fee for a criminal record certificate?", "lltp.fee"),
    ("How long does a criminal record certificate take?", "lltp.processing_time"),
    ("Can I leave my commune while on probation to work far away?", "duty.leave_commune"),
    ("Can I go abroad during probation?", "duty.abroad"),
    ("I lost my ID card, how do I get a new one?", "idcard.lost"),
    ("How can I find a job?", "support.find_job"),
    ("Can I get a loan if I was on a suspended sentence?", "loan.qd22.suspended"),   # the loan, not the duties
    ("What is the interest rate?", "loan.qd22.rate"),
    ("Can I travel to another province while on probation?", "duty.leave_commune"),
    ("Do I have to report to the police after I finish my sentence?", "duty.completed_no_report"),
    ("What happens if I miss a check-in?", "ci.missed"),
    ("Is this chat private?", "bot.privacy"),
    ("Can my employer ask for record number 2?", "lltp.who_may_ask_no2"),
    ("who can request criminal record certificate number 2", "lltp.who_may_ask_no2"),
    ("What is the difference between certificate 1 and 2?", "lltp.no1_vs_no2"),
    ("what does record number 1 show", "lltp.no1_shows"),
    ("I need record number 1 for a job", "lltp.for_job"),
    ("Can I get a loan if I was on probation?", "loan.qd22.suspended"),
    # going abroad outweighs the job it is for (acceptance_fresh11)
    ("My brother got a suspended sentence and is still in his probation period. A company offered him a job "
     "in Japan. Is he allowed to go abroad?", "duty.abroad"),
])
def test_english_questions_reach_their_entry(text, question):
    assert english_question(text) == question
    turn = english_turn(text)
    assert turn.text.startswith("/") and turn.question_id == question
    assert english_turn("I want to check in") == english_turn("/checkin")   # a request is not a question


@pytest.mark.parametrize("text, rasa_text", [
    ("I was sentenced to 2 years in prison and released on 5 March 2024. When is my record cleared?",
     "bị 2 năm tù, chấp hành xong ngày 05/03/2024, bao giờ được xóa án tích?"),
    ("How long until my record is cleared? I got 3 years, got out in March 2023, all fees paid",
     "bị 3 năm tù, chấp hành xong tháng 3 năm 2023, đã nộp xong án phí, bồi thường, bao giờ được xóa án tích?"),
    ("I served 18 months in jail, released June 10, 2025, can I get a loan?",
     "bị 18 tháng tù, chấp hành xong ngày 10/06/2025, tôi có vay vốn được không?"),
    ("2 and a half years in prison, finished 01/02/2022, I was 17 then, when will my criminal record be cleared",
     "bị 30 tháng tù, chấp hành xong ngày 01/02/2022, khi phạm tội 17 tuổi, bao giờ được xóa án tích?"),
    ("suspended sentence of 2 years, probation 4 years, ended in 2024, record cleared when?",
     "án treo 2 năm thử thách 4 năm, hết thử thách năm 2024, bao giờ được xóa án tích?"),
    ("Life imprisonment reduced to 20 years, released last year. When is my record expunged?",
     "tù chung thân giảm xuống 20 năm, chấp hành xong năm ngoái, bao giờ được xóa án tích?"),
    ("3 years in prison, I have not paid the compensation yet. Will my record be cleared?",
     "bị 3 năm tù, chưa nộp xong án phí, bồi thường, bao giờ được xóa án tích?"),
    # A relative's story: the answer speaks of them (actions/expungement.py, exp_relative).
    ("My son got 3 years in prison and was released on 1 June 2023. When is his record cleared?",
     "người nhà tôi bị 3 năm tù, chấp hành xong ngày 01/06/2023, bao giờ được xóa án tích?"),
    ("My husband had a suspended sentence of 2 years, probation ended 1 March 2025. Record cleared when?",
     "người nhà tôi án treo 2 năm, hết thử thách ngày 01/03/2025, bao giờ được xóa án tích?"),
    # Answers typed to the forms' questions, and facts with no question.
    ("5 March 2024", "chấp hành xong ngày 05/03/2024"),
    ("I was 16 when I committed the crime, 1 year prison, released 2020. Is my record cleared?",
     "bị 1 năm tù, chấp hành xong năm 2020, khi phạm tội 16 tuổi, bao giờ được xóa án tích?"),
    ("I was 17", "lúc đó 17 tuổi"),
    ("prison", "tù"),
    ("suspended sentence", "án treo"),   # an answer to "what was your sentence?", not a question about it
    ("I want to open a small shop", "kinh doanh"),
    ("50 million", "50 triệu"),
    ("I want to borrow 50 million to raise pigs", "tôi muốn vay 50 triệu để chăn nuôi"),
    ("Can I get a loan to open a shop?", "tôi muốn vay để kinh doanh"),
    ("3 years", "3 năm"),
    ("01/06/2023", "chấp hành xong ngày 01/06/2023"),
])
def test_an_english_story_or_answer_reaches_the_model_as_the_same_facts_in_vietnamese(text, rasa_text):
    assert english_turn(text).text == rasa_text
    assert english_turn(text).question_id is None


@pytest.mark.parametrize("text", ["I want to kill myself", "/ask_loan", '/inform{"choice": "same"}', "yes"])
def test_crisis_payloads_and_short_answers_are_not_rewritten(text):
    turn = english_turn(text)
    assert turn.question_id is None
    assert turn.text == text or turn.text == f"/{english_intent(text)}"


def test_english_replies_name_english_words_to_type():
    """What an English reply tells people to write is understood on the English page."""
    registered = gettext('Thank you. This chat is now registered: you will get reminders here and can report by '
                         'writing "báo cáo".', "en")
    assert '"check in"' in registered and english_intent("check in") == "checkin"
    erase = gettext('To erase your data, write "xóa dữ liệu của tôi" and confirm.', "en")
    assert '"erase my data"' in erase and english_intent("erase my data") == "erase_my_data"


def test_rasa_responses_are_translated_on_the_english_page():
    greet = "Xin chào anh/chị! Tôi là Lối Về, trợ lý hỗ trợ người đã chấp hành xong án phạt tù trở về cuộc sống bình thường."
    assert domain_text(greet, "vi") == greet
    assert domain_text(greet, "en").startswith("Hello! I am Lối Về")
    clause = "Bản án xử anh/chị theo khoản mấy của Điều 173 Bộ luật Hình sự? (ghi trong bản án)"
    assert domain_text(clause, "en") == ("Under which clause of Article 173 of the Criminal Code were you sentenced? "
                                         "(it is written in the judgment)")
    assert domain_text("Có", "en") == "Yes" and domain_text("Tù có thời hạn", "en") == "Prison term"
    assert domain_text("Some English text from an action", "en") == "Some English text from an action"


def test_english_question_cues_name_question_entries_of_their_topic():
    """Every entry english.yml names is a question entry, under a topic it belongs to."""
    from bot.conversation.english import _doc
    from bot.domain.knowledge import KnowledgeBase

    intents = {e.id: e.intents for e in KnowledgeBase.load().questions()}
    named = {(topic, qid) for topic, entries in _doc()["questions"].items() for qid in entries}
    assert len(named) > 60
    assert [(t, q) for t, q in named if t not in intents.get(q, ())] == []


@pytest.mark.parametrize("text, sentence", [
    ("I was in prison for 4 years and got out in January 2024. I still owe compensation.", "bị 4 năm tù"),
    ("I was jailed for 18 months, released 3 March 2025", "bị 18 tháng tù"),
    ("locked up for two years, out since 2023", "bị 2 năm tù"),
])
def test_an_english_term_said_as_time_inside_is_the_sentence(text, sentence):
    """'in prison for 4 years' was not read, and the English page asked 'What was your main sentence?'
    after the person had told it (acceptance_fresh2 follow-up probe)."""
    from bot.conversation.english import english_story
    assert english_story(text).startswith(sentence)


@pytest.mark.parametrize("text", ["Can I borrow 200 million?", "can i borrow 200m", "Can I borrow VND 200 million?",
                                  "Can I borrow 200,000,000 dong?", "What is the maximum, can I borrow 200 million?"])
def test_an_english_loan_amount_reaches_the_model_as_vietnamese_money(text):
    """The amount is weighed against the cap as on the Vietnamese page (gap 4, 2026-12-01)."""
    assert english_turn(text) == english_turn("I want to borrow 200 million") \
        == type(english_turn(text))("tôi muốn vay 200 triệu")


@pytest.mark.parametrize("text", ["Can I open a bank account?", "how do I open a bank account", "I need an ATM card"])
def test_a_bank_account_is_not_a_loan_question(text):
    """"bank" is a loan word, "bank account" is not a loan (gap 5, 2026-12-01): the out-of-scope reply."""
    assert english_intent(text) == "out_of_scope"
    assert english_turn(text).text == "/out_of_scope"
    assert english_intent("can I open a bank account to get a loan") == "ask_loan"
