"""Issue 14, point 3, through the running product (today pinned as for the other product
tests): whole stories of the harder acceptance set (bench/acceptance_hard.yml) answered in
the first reply, and typed follow-ups read in the context of the answer before them. Every
example with and without diacritics."""

from __future__ import annotations

import itertools

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.language]
_ids = itertools.count()


def chat(product, *turns: str) -> list[list[dict]]:
    user = f"story-{next(_ids)}"
    return [product.say(user, t) for t in turns]


def text(replies: list[dict]) -> str:
    return "\n".join(r["text"] for r in replies)


@pytest.mark.parametrize("story, expected", [
    ("e bị 1 năm tù, ra tù năm 2024, bao giờ e hết án tích", ["từ ngày 01/01/2027", "31/12"]),
    ("e bi 1 nam tu, ra tu nam 2024, bao gio e het an tich", ["từ ngày 01/01/2027", "31/12"]),
    ("Tôi bị 3 năm tù và 3 năm quản chế, ra tù ngày 01/04/2023. Khi nào tôi được xóa án tích?", ["02/04/2026"]),
    ("toi bi 3 nam tu va 3 nam quan che, ra tu ngay 01/04/2023. khi nao toi duoc xoa an tich?", ["02/04/2026"]),
    ("em đâm xe làm chết người, tòa xử theo khoản 1 điều 260, 3 năm tù, ra tù rồi thì có án tích ko",
     ["không bị coi là có án tích"]),
    ("em dam xe lam chet nguoi, toa xu theo khoan 1 dieu 260, 3 nam tu, ra tu roi thi co an tich ko",
     ["không bị coi là có án tích"]),
    ("hồi đó e 15t bị 3 năm tù tội cướp giật, giờ có bị án tích không", ["không bị coi là có án tích", "Điều 107"]),
    ("hoi do e 15t bi 3 nam tu toi cuop giat, gio co bi an tich khong", ["không bị coi là có án tích", "Điều 107"]),
    ("e bị 4 năm tù, ra tù 3/3/2023 nhưng chưa nộp hết tiền bồi thường, bao giờ e được xóa án tích",
     ["Chưa được xóa án tích"]),
    ("e bi 4 nam tu, ra tu 3/3/2023 nhung chua nop het tien boi thuong, bao gio e duoc xoa an tich",
     ["Chưa được xóa án tích"]),
])
def test_a_whole_story_is_answered_in_the_first_reply(product, story, expected):
    [first] = chat(product, story)
    for part in expected:
        assert part in text(first), text(first)
    assert len(first[0]["text"]) <= 500


@pytest.mark.parametrize("age", ["lúc đó e mới 15t", "luc do e moi 15t"])
def test_an_age_said_after_the_answer_recomputes_it(product, age):
    [first, again] = chat(product, "em bị 2 năm tù, ra trại tháng 10/2024, khi nào hết án tích", age)
    assert "từ ngày 01/11/2026" in text(first)
    assert "không bị coi là có án tích" in text(again) and "Điều 107" in text(again)


@pytest.mark.parametrize("ask, sentence, date", [
    ("tính giúp em ngày xóa án tích", "e bị 5 năm tù", "ra trại hôm 20/11/2023"),
    ("tinh giup em ngay xoa an tich", "e bi 5 nam tu", "ra trai hom 20/11/2023"),
])
def test_a_typed_request_asks_only_the_sentence_and_the_date(product, ask, sentence, date):
    [start, asked, answered] = chat(product, ask, sentence, date)
    assert "một tin" in text(start)
    assert "ngày nào" in text(asked) or "2 năm" in text(asked)
    assert "từ ngày 21/11/2025" in text(answered) and "đã đủ 18 tuổi" in text(answered)


@pytest.mark.parametrize("question", ["mún vay 30tr nuôi heo dc ko", "mun vay 30tr nuoi heo dc ko"])
def test_a_loan_story_without_a_date_is_answered_first(product, question):
    [first] = chat(product, question)
    assert first[0]["text"].startswith("Được, nếu anh/chị chấp hành xong án phạt tù") and "100.000.000" in text(first)
    assert "vay để làm gì" not in text(first) and len(first[0]["text"]) <= 500
    assert "ngày nào" in first[-1]["text"]  # then the one question, answered in the form


@pytest.mark.parametrize("purpose", ["bán đồ ăn sáng", "ban do an sang"])
def test_a_purpose_typed_after_a_loan_answer(product, purpose):
    [general, answered] = chat(product, "e muốn vay vốn", purpose)
    assert "100.000.000" in text(answered) and "nằm ngoài" not in text(answered)


@pytest.mark.parametrize("purpose", ["để đi học nghề", "de di hoc nghe"])
def test_a_purpose_that_is_also_a_topic_answers_the_loan(product, purpose):
    # "học nghề" alone is also the support topic's word: after a loan answer it is the loan's purpose.
    [general, answered] = chat(product, "cho em hỏi vay vốn", purpose)
    assert "4.000.000" in text(answered)
    # Asked as a question of its own, it is not taken for a purpose.
    [_, asked] = chat(product, "cho em hỏi vay vốn", "đi học nghề miễn phí ở đâu")
    assert text(asked) != text(answered)


@pytest.mark.parametrize("question", ["e bị án treo 3 năm, giờ hết thử thách rồi, mún vay vốn làm ăn thì vay ở đâu",
                                      "e bi an treo 3 nam, gio het thu thach roi, mun vay von lam an thi vay o dau"])
def test_a_suspended_sentence_is_pointed_to_the_job_creation_loan(product, question):
    [first] = chat(product, question)
    reply = text(first)
    # the answer first, "Không." (2026-12-02), as a yes opens with "Được."
    assert reply.startswith("Không. Hiện anh/chị chưa đủ điều kiện vay vốn dành cho người chấp hành xong án phạt tù")
    assert "án treo" in reply and "việc làm" in reply
