"""Issue 14 points 4 and 6 through the running product: a question's first
bubble fits a phone and "Xem chi tiết" brings the details; the English page
(locale en) is English from the greeting to a crisis, and an English crisis
message still reaches a person."""

from __future__ import annotations

import os
import re
import time

import pytest

from actions.common import FIRST_BUBBLE_MAX
from bot.config import load_settings
from bot.storage.db import make_engine, make_sessionmaker
from bot.supervision import enrollment, people

pytestmark = pytest.mark.stack
BRAND = "Lối Về"   # the product's name, the same in every language

VIETNAMESE_LETTERS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.I)


def assert_english(replies: list[dict]) -> list[dict]:
    assert replies
    for r in replies:
        for text in [r["text"], *(b["title"] for b in r["buttons"])]:
            assert not VIETNAMESE_LETTERS.search(text.replace(BRAND, "")), text
    return replies


def test_a_question_fits_a_phone_and_the_details_button_brings_the_rest(product):
    user = f"phone-{os.urandom(3).hex()}"
    replies = product.say(user, "vay vốn")   # the topic answer (a specific question gets its own entry)
    assert all(len(r["text"]) <= FIRST_BUBBLE_MAX for r in replies)
    assert replies[0]["text"].startswith("Người đã chấp hành xong án phạt tù có thể vay vốn ưu đãi")
    assert sum("Căn cứ:" in r["text"] for r in replies) == 1
    details = [b for r in replies for b in r["buttons"] if b["payload"] == "/show_details"]
    assert [b["title"] for b in details] == ["Xem chi tiết"]
    [more] = product.say(user, "/show_details")
    assert "• Điều kiện: có giấy chứng nhận chấp hành xong án phạt tù" in more["text"]
    assert "Vay qua hộ gia đình" in more["text"]

    # Two unverified answers in one conversation: the caution is said once.
    first = product.say(user, "/ask_release_duties")
    second = product.say(user, "/ask_support")
    said = [r["text"] for r in [*first, *second]]
    assert sum("chưa được kiểm chứng đầy đủ" in t for t in said) == 1, said
    assert all(len(t) <= FIRST_BUBBLE_MAX for t in said)


def test_the_english_page_is_english_from_greeting_to_crisis(product):
    settings = load_settings(product.env)
    engine = make_engine(product.env["DATABASE_URL"])
    sessions = make_sessionmaker(engine)
    tag = os.urandom(3).hex()
    with sessions.begin() as s:
        commune = people.add_commune(s, f"Commune {tag}", "test")
        mentor = people.add_person(s, "mentor", f"Lan {tag}", commune.name, "test")
        people.add_person(s, "officer", f"Minh {tag}", commune.name, "test")
        sup = people.add_person(s, "supervisee", f"Binh {tag}", commune.name, "test", mentor_id=mentor.id)
        code = enrollment.issue_enrollment_code(s, sup.id, settings.secret(), 7, "test").code
        mentor_code = enrollment.issue_enrollment_code(s, mentor.id, settings.secret(), 7, "test").code
    engine.dispose()
    chat, mentor_chat = product.chat(f"english-{tag}"), product.chat(f"english-mentor-{tag}")
    for text in (mentor_code, "/affirm"):   # the mentor's own chat, where alerts arrive
        mentor_chat.say(text, locale="en")

    def say(text: str) -> list[dict]:
        return assert_english(chat.say(text, locale="en"))

    say(code)
    assert "registered" in " ".join(r["text"] for r in say("/affirm"))

    greeting = say("hello")
    assert greeting[0]["text"].startswith("Hello! I am Lối Về")
    assert [b["title"] for b in greeting[-1]["buttons"]][0] == "Loans"

    loan = say("How can I get a loan?")
    assert loan[0]["text"].startswith("People who have finished a prison sentence can get a preferential loan")
    assert all(len(r["text"]) <= FIRST_BUBBLE_MAX for r in loan)
    assert "See details" in [b["title"] for b in loan[-1]["buttons"]]
    assert "Conditions:" in say("/show_details")[0]["text"]

    # A specific question gets its own answer; a story in English gets the person's date.
    where = say("Where do I apply for a loan?")
    assert where[0]["text"].startswith("You apply through the savings and loan group"), where
    jobs = say("How much is the job creation loan?")
    assert jobs[0]["text"].startswith("Workers can borrow up to ₫200,000,000"), jobs
    story = say("I was sentenced to 2 years in prison and released on 5 March 2024. When is my record cleared?")
    assert "cleared automatically on 6 Mar 2026" in story[0]["text"], story
    assert "I was under 18 then" in [b["title"] for b in story[-1]["buttons"]]
    certificate = say("I got 2 years in prison, released March 2025. Will my criminal record certificate show it?")
    assert certificate[0]["text"].startswith("From what you told me, certificate no. 1 still shows the conviction "
                                             "until 31 Mar 2027"), certificate
    assert "cleared automatically on 1 Apr 2027" in certificate[1]["text"], certificate
    loan_story = say("I want to borrow 50 million to raise pigs")
    assert loan_story[-1]["text"].startswith("On what date did you finish your prison sentence?"), loan_story
    dated = say("I got out in March 2025")
    assert "Borrow by 1 Mar 2030" in dated[0]["text"] and "you left prison on the 1st of that month" in dated[0]["text"]

    # The expungement form, answered with its buttons and typed English.
    replies = say("/calc_expungement")
    typed = {"How long was the prison term": "3 years", "On what date did you finish": "01/06/2023"}
    for _ in range(14):
        if any("Based on:" in r["text"] for r in replies):
            break
        last = replies[-1]
        answer = next((v for k, v in typed.items() if k in last["text"]), None)
        replies = say(answer or last["buttons"][0]["payload"])
    assert any("Based on:" in r["text"] for r in replies), replies

    # A check-in, with its buttons.
    replies = say("I want to check in")
    assert replies[-1]["text"].startswith("Regular check-in.")
    for payload in ('/inform{"choice": "same"}', '/inform{"choice": "working"}', '/inform{"choice": "4"}',
                    '/inform{"choice": "nothing"}', "/deny"):
        replies = say(payload)
    done = say("/affirm")
    assert done[0]["text"].startswith("Thank you"), done

    # A crisis in English: the crisis reply, in English, and a person alerted.
    [crisis] = say("I want to kill myself")
    assert f"Lan {tag}" in crisis["text"] and "115" in crisis["text"], crisis["text"]
    deadline = time.monotonic() + 60
    while not any("I want to kill myself" in m["text"] for m in mentor_chat.inbox()):
        assert time.monotonic() < deadline, "the mentor was not alerted"
        time.sleep(0.5)
    [human] = say("I need help")
    assert f"Lan {tag}" in human["text"]
