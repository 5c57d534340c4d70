"""Cases the fresh acceptance set (bench/acceptance_fresh.yml, written on 2026-12-01 before it was
run) found wrong, through the running product (today pinned to 2026-11-22 as for the other product
tests). Every Vietnamese example with and without diacritics."""

from __future__ import annotations

import pytest

from harness.helpers import VIETNAMESE_LETTERS, chat, payloads, text

pytestmark = [pytest.mark.stack, pytest.mark.language]


@pytest.mark.parametrize("story, expected", [
    # a two-digit year, as people text it
    ("án 1 năm tù, ra tù 15/7/24, bao giờ được xóa án tích", "từ ngày 16/07/2026"),
    ("an 1 nam tu, ra tu 15/7/24, bao gio duoc xoa an tich", "từ ngày 16/07/2026"),
    # "bị 8 năm" is a prison term
    ("em bị 8 năm, ra tù vào ngày 25 tháng 12 năm 2021 thì bây giờ hết án tích chưa", "từ ngày 26/12/2024"),
    ("em bi 8 nam, ra tu vao ngay 25 thang 12 nam 2021 thi bay gio het an tich chua", "từ ngày 26/12/2024"),
    # a ban on a profession runs from the release (BLHS Điều 41 khoản 3) and outlasts the 2-year period
    ("Tôi bị 3 năm tù, cấm hành nghề 5 năm, ra tù ngày 01/01/2022. Khi nào tôi được xóa án tích?", "02/01/2027"),
    ("toi bi 3 nam tu, cam hanh nghe 5 nam, ra tu ngay 01/01/2022. khi nao toi duoc xoa an tich?", "02/01/2027"),
])
def test_a_story_is_answered_in_its_first_reply(product, story, expected):
    [first] = chat(product, story)
    assert expected in text(first), text(first)
    assert len(first[0]["text"]) <= 500


@pytest.mark.parametrize("story, age", [
    ("em bị 1 năm tù tội trộm cắp, ra tù tháng 8/2025, khi nào hết án tích", "hồi đó e mới 16t, trộm khoản 1 thôi"),
    ("em bi 1 nam tu toi trom cap, ra tu thang 8/2025, khi nao het an tich", "hoi do e moi 16t, trom khoan 1 thoi"),
])
def test_an_age_typed_with_more_about_the_crime_recomputes(product, story, age):
    [first, again] = chat(product, story, age)
    assert "2027" in text(first)
    assert "không bị coi là có án tích" in text(again), text(again)  # at 16, theft under clause 1


@pytest.mark.parametrize("question", [
    "phạm tội cố ý rất nghiêm trọng lúc 17 tuổi, bị 3 năm tù thì bao lâu được xóa án tích",
    "pham toi co y rat nghiem trong luc 17 tuoi, bi 3 nam tu thi bao lau duoc xoa an tich",
])
def test_an_under_18_rule_question_gets_the_rule_first(product, question):
    [first] = chat(product, question)
    assert "1 năm (tù đến 5 năm)" in text(first) and "vào ngày nào" not in text(first)
    assert "/calc_expungement" in payloads(first)


@pytest.mark.parametrize("question, locale", [
    ("lúc phạm tội em 17 tuổi, bị 2 năm tù, bao giờ được xóa án tích?", "vi"),
    ("luc pham toi em 17 tuoi, bi 2 nam tu, bao gio duoc xoa an tich?", "vi"),
    ("I was 17 when I committed the crime, 2 years prison. When is my record cleared?", "en"),
])
def test_a_term_said_with_an_age_under_18_gets_the_under_18_rule(product, question, locale):
    """The term (2 years) is in the adult up-to-5-years range, but the offence at 17
    follows Điều 107: the under-18 periods, never the adult 2 years of Điều 70."""
    [first] = chat(product, question, locale=locale)
    said = text(first)
    if locale == "vi":
        assert "1 năm (tù đến 5 năm)" in said and "Điều 70" not in said, said
    else:
        assert "1 year (prison up to 5 years)" in said and "Article 70" not in said, said
        assert not VIETNAMESE_LETTERS.search(said.replace("Lối Về", "")), said


def test_the_calculate_button_asks_for_sentence_and_date_in_one_message(product):
    """Issue 14 point 2: at most one question before the first useful answer."""
    [rule, asked, answered] = chat(product, "thời hạn xóa án tích tính từ lúc nào", "/calc_expungement",
                                   "3 năm tù ra tù 1/6/2023")
    assert "/calc_expungement" in payloads(rule)
    assert "trong một tin" in text(asked)
    assert "từ ngày 02/06/2025" in text(answered) and "khi phạm tội anh/chị đã đủ 18 tuổi" in text(answered)
    assert '/calc_expungement{"recheck": "exp_age_group"}' in payloads(answered)


@pytest.mark.parametrize("amount", ["vay 150tr dc ko", "vay 150 triệu được không"])
def test_an_amount_typed_during_the_loan_form_is_answered(product, amount):
    [_, asked, answered] = chat(product, "e muốn vay vốn", "buôn bán rau", amount)
    assert "ngày nào" in text(asked)
    assert "150.000.000 ₫ vượt mức" in text(answered) and "100.000.000 ₫" in text(answered)
    assert "ngày nào" in answered[-1]["text"]  # then the same question


@pytest.mark.parametrize("question", ["vay 100tr thì được trả trong mấy năm", "vay 100tr thi duoc tra trong may nam"])
def test_a_loan_question_with_an_amount_names_the_term(product, question):
    """The question asked is the term: answered with it, whether the amount's answer
    (the pre-check's rule, which names the term) or the term's own entry gives it."""
    [first] = chat(product, question)
    assert "120 tháng" in text(first) and "Căn cứ:" in text(first)


@pytest.mark.parametrize("purpose", ["chăn nuôi", "chan nuoi"])
def test_a_purpose_typed_alone_after_a_loan_answer(product, purpose):
    [_, answered] = chat(product, "e muốn vay vốn", purpose)
    assert "100.000.000 ₫" in text(answered) and "Có phải anh/chị muốn hỏi" not in text(answered)


@pytest.mark.parametrize("question", [
    "đang thử thách tha tù trước thời hạn mà muốn chuyển hẳn nơi cư trú sang xã khác thì làm sao",
    "dang thu thach tha tu truoc thoi han ma muon chuyen han noi cu tru sang xa khac thi lam sao",
])
def test_moving_residence_during_probation_is_asked_of_the_commune_police(product, question):
    [first] = chat(product, question)
    assert "công an xã" in text(first) and "xác nhận trước khi chuyển" not in text(first)


def test_an_english_story_keeps_its_facts(product):
    [first] = chat(product, "I was sentenced to 3 years in prison and released on 1 June 2023. "
                            "When will my criminal record be cleared?", locale="en")
    assert "2 Jun 2025" in text(first) and "waiting period 2 years" in text(first)
    assert not VIETNAMESE_LETTERS.search(text(first).replace("Lối Về", ""))


def test_an_english_purpose_answers_the_loan_question(product):
    [_, answered] = chat(product, "I want to borrow money", "to raise pigs", locale="en")
    assert "100,000,000" in text(answered)
    assert not VIETNAMESE_LETTERS.search(text(answered).replace("Lối Về", ""))


@pytest.mark.parametrize("question, expected, wrong", [
    # a range the law names is not a person's term: "trên 5 năm" is the 3-year class, not 2 or 5
    ("tù trên 5 năm thì mấy năm mới xóa án tích", "sau 3 năm", "sau 5 năm"),
    ("tu tren 5 nam thi may nam moi xoa an tich", "sau 3 năm", "sau 5 năm"),
    ("Bị phạt tù trên 15 năm thì bao lâu được xóa án tích?", "sau 5 năm", "Tòa tuyên mức án tù là bao lâu"),
    ("bi phat tu tren 15 nam thi bao lau duoc xoa an tich", "sau 5 năm", "Tòa tuyên mức án tù là bao lâu"),
    ("Án tù từ trên 5 năm đến 15 năm thì thời hạn xóa án tích là mấy năm?", "sau 3 năm", "sau 2 năm"),
])
def test_a_range_in_words_gets_that_range_s_period(product, question, expected, wrong):
    [first] = chat(product, question)
    assert expected in text(first) and wrong not in text(first), text(first)


@pytest.mark.parametrize("question, expected", [
    # over the maximum: 588 characters before, and it began "Được."
    ("tôi chấp hành xong án tù năm ngoái, muốn vay 200 triệu mua máy cày theo diện người ra tù được không",
     ["Không vay được số tiền đó", "100.000.000", "chấp hành xong án từ đầu năm đó"]),
    ("toi chap hanh xong an tu nam ngoai, muon vay 200 trieu mua may cay theo dien nguoi ra tu duoc khong",
     ["Không vay được số tiền đó", "100.000.000", "chấp hành xong án từ đầu năm đó"]),
    # past the 5-year limit: 548
    ("ra tù từ 2018 rồi thì giờ còn vay ưu đãi cho người chấp hành xong án được ko",
     ["chưa đủ điều kiện", "5 năm", "01/01/2023", "hỗ trợ tạo việc làm"]),
    ("ra tu tu 2018 roi thi gio con vay uu dai cho nguoi chap hanh xong an duoc ko",
     ["chưa đủ điều kiện", "5 năm", "01/01/2023", "hỗ trợ tạo việc làm"]),
    # a suspended sentence and QĐ 22: 547
    ("Em bị án treo thì có được vay vốn theo quyết định 22 không?", ["chưa đủ điều kiện", "án treo", "việc làm"]),
    ("Em bi an treo thi co duoc vay von theo quyet dinh 22 khong?", ["chưa đủ điều kiện", "án treo", "việc làm"]),
    # the deadline asked: 501
    ("tôi ra tù tháng 6/2022 thì hạn chót vay theo QĐ 22 là khi nào", ["01/06/2027", "ngày 1 của tháng đó"]),
    ("toi ra tu thang 6/2022 thi han chot vay theo QD 22 la khi nao", ["01/06/2027", "ngày 1 của tháng đó"]),
])
def test_a_loan_answer_fits_the_first_bubble_and_the_rest_is_behind_the_button(product, question, expected):
    [first, details] = chat(product, question, "/show_details")
    for part in expected:
        assert part in first[0]["text"], first[0]["text"]
    assert len(first[0]["text"]) <= 500, len(first[0]["text"])
    assert "/show_details" in payloads(first)
    assert "Căn cứ:" in first[0]["text"] and "Quyết định 2553/QĐ-TTg" in text(details)  # the whole citation


def test_an_english_loan_refusal_fits_the_first_bubble(product):
    [first] = chat(product, "I left prison in 2018, can I still get the loan for people who completed a prison "
                            "sentence?", locale="en")
    assert "does not fit now" in first[0]["text"] and "1 Jan 2023" in first[0]["text"]
    assert len(first[0]["text"]) <= 500 and "/show_details" in payloads(first)
    assert not VIETNAMESE_LETTERS.search(text(first).replace("Lối Về", ""))
