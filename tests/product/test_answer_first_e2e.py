"""Issue 14 "Why", points 2 and 3, through the running product (today pinned to
2026-11-22): a question about a rule gets the rule, a message with the facts
gets the computed answer in the first reply (with the assumptions it made and
a button to correct each), and typed answers are read in context. Every
example with and without diacritics."""

from __future__ import annotations

import pytest

from harness.helpers import chat, payloads, text

pytestmark = [pytest.mark.stack, pytest.mark.language]
TURNS_TO_ANSWER: dict[str, int] = {}   # example → turns to the first useful answer (reported in the README)


@pytest.mark.parametrize("question", [
    "Bị phạt tù 3 năm thì sau bao lâu được xóa án tích?",
    "Bi phat tu 3 nam thi sau bao lau duoc xoa an tich?",
])
def test_a_rule_question_gets_the_rule_first(product, question):
    [first, asked, answer] = chat(product, question, "/calc_expungement", "01/06/2023")
    assert "sau 2 năm kể từ ngày chấp hành xong" in text(first)
    assert len(first[0]["text"]) <= 500
    assert "/calc_expungement" in payloads(first)
    assert "ngày nào" in text(asked)  # the one thing no assumption can stand for
    assert "từ ngày 02/06/2025" in text(answer) and "đã đủ 18 tuổi" in text(answer)


@pytest.mark.parametrize("question", [
    "Em bị 4 năm tù, chấp hành xong hôm 20/8/2022, tiền án phí với bồi thường nộp hết rồi. Bao giờ em hết án tích?",
    "Em bi 4 nam tu, chap hanh xong hom 20/8/2022, tien an phi voi boi thuong nop het roi. Bao gio em het an tich?",
])
def test_a_story_with_the_facts_gets_the_date_first(product, question):
    [first, corrected] = chat(product, question, '/calc_expungement{"recheck": "exp_new_crime"}')
    reply = text(first)
    assert "từ ngày 21/08/2024" in reply and "kết thúc hết ngày 20/08/2024" in reply
    assert "khi phạm tội anh/chị đã đủ 18 tuổi" in reply and "anh/chị không phạm tội mới" in reply
    assert "không phải tội an ninh quốc gia" in reply
    assert "đã nộp xong án phí" not in reply  # said, not assumed
    assert len(first) == 1 and len(reply) <= 500
    assert {'/calc_expungement{"recheck": "exp_age_group"}', '/calc_expungement{"recheck": "exp_new_crime"}',
            "/show_details"} <= set(payloads(first))
    assert "Bản án mới xử hình phạt gì" in text(corrected)  # the correction asks what it needs


@pytest.mark.parametrize("answer, cleared", [
    ("bi 18 thang tu, ra trai thang 3 nam 2025", "01/04/2027"),
    ("bị 18 tháng tù, ra trại tháng 3 năm 2025", "01/04/2027"),
    ("3 nam tu, ra tu 01/06/2023", "02/06/2025"),
    ("3 năm tù, ra tù 01/06/2023", "02/06/2025"),
])
def test_the_answer_to_tell_me_your_sentence_and_date_computes(product, answer, cleared):
    [general, computed] = chat(product, "xóa án tích là gì", answer)
    assert "/calc_expungement" in payloads(general)
    assert f"từ ngày {cleared}" in text(computed)
    assert "1900" not in text(computed) and "Phiếu lý lịch tư pháp là" not in text(computed)


@pytest.mark.parametrize("question", [
    "e mới ra tù tháng trước, mún vay ít vốn để bán hàng ăn sáng dc ko",
    "e moi ra tu thang truoc, mun vay it von de ban hang an sang dc ko",
])
def test_can_i_borrow_gets_yes_first(product, question):
    [first, corrected] = chat(product, question, '/check_loan{"recheck": "loan_has_certificate"}')
    reply = text(first)
    assert reply.startswith("Được.") and "tối đa 100.000.000 ₫" in reply
    assert "anh/chị đã có giấy chứng nhận chấp hành xong án phạt tù" in reply
    assert "muốn vay để làm gì" not in reply
    assert len(first) == 1 and len(reply) <= 500
    assert "/show_details" in payloads(first)
    assert "giấy chứng nhận" in text(corrected) and not text(corrected).startswith("Được.")


@pytest.mark.parametrize("purpose", ["bán đồ ăn sáng", "ban do an sang"])
def test_a_purpose_in_words_answers_the_question(product, purpose):
    [asked, answered] = chat(product, "/check_loan", purpose)
    assert "vay để làm gì" in text(asked)
    assert "giấy chứng nhận" in text(answered)  # the next question, not "out of scope"


@pytest.mark.parametrize("age", ["luc do e 25t", "lúc đó e 25t"])
def test_an_age_in_words_answers_the_question(product, age):
    turns = chat(product, "/calc_expungement", "tù 2 năm", "01/06/2023",
                 '/calc_expungement{"recheck": "exp_age_group"}', age)
    assert "từ ngày 02/06/2025" in text(turns[2])  # answer first: the age is assumed and said
    assert "bao nhiêu tuổi" in text(turns[3])  # asked when the person corrects it
    assert "từ ngày 02/06/2025" in text(turns[4])  # 25: the same date, recomputed
    assert "Có phải anh/chị muốn hỏi" not in text(turns[4])


@pytest.mark.parametrize("story, expected", [
    ("Năm 2015 em bị 2 năm tù, ra tù tháng 6/2017; năm 2019 lại bị 3 năm tù, ra tù 01/06/2022. Bao giờ em hết án tích?",
     ["từ ngày 02/06/2024", "khoản 2 Điều 73"]),
    ("nam 2015 e bi 2 nam tu, ra tu thang 6/2017, nam 2019 bi 3 nam tu nua, ra tu 01/06/2022, bao gio het an tich",
     ["từ ngày 02/06/2024", "khoản 2 Điều 73"]),
    ("bị 3 năm tù, ra tù được 2 năm rưỡi rồi, bao giờ hết án tích", ["từ ngày 01/06/2026", "ngày cuối của tháng"]),
    ("bi 3 nam tu, ra tu duoc 2 nam ruoi roi, bao gio het an tich", ["từ ngày 01/06/2026", "ngày cuối của tháng"]),
    ("chung thân giảm xuống 20 năm, ra tù 01/06/2020, khi nào xóa án tích", ["từ ngày 02/06/2025", "thời hạn 5 năm"]),
    ("chung than giam xuong 20 nam, ra tu 01/06/2020, khi nao xoa an tich", ["từ ngày 02/06/2025", "thời hạn 5 năm"]),
    ("án treo 2 năm thử thách, hết thử thách 15/03/2024, bao giờ xóa án tích", ["từ ngày 16/03/2025"]),
    ("an treo 2 nam thu thach, het thu thach 15/03/2024, bao gio xoa an tich", ["từ ngày 16/03/2025"]),
    ("Bị 2 năm tù, khoản 1 Điều 260, lúc đó 17t, ra tù 01/06/2024, có án tích không", ["không bị coi là có án tích"]),
    ("bi 2 nam tu, khoan 1 dieu 260, luc do 17t, ra tu 01/06/2024, co an tich ko", ["không bị coi là có án tích"]),
])
def test_a_whole_story_in_one_message_is_answered_in_one_turn(product, story, expected):
    [first] = chat(product, story)
    for part in expected:
        assert part in text(first), text(first)
    TURNS_TO_ANSWER[story] = 1


@pytest.mark.parametrize("story, first_line", [
    ("anh tôi đi tù 7 năm, ra tù tháng 5/2020, giờ xin phiếu lý lịch tư pháp có ghi án không",
     "án tích đã được xóa từ ngày 01/06/2023, nên Phiếu lý lịch tư pháp số 1 bây giờ ghi \"không có án tích\""),
    ("anh toi di tu 7 nam, ra tu thang 5/2020, gio xin phieu ly lich tu phap co ghi an khong",
     "án tích đã được xóa từ ngày 01/06/2023, nên Phiếu lý lịch tư pháp số 1 bây giờ ghi \"không có án tích\""),
    ("e bi 2 nam tu, ra trai thang 3/2025, xin phieu ly lich tu phap co bi ghi an ko",
     "Phiếu lý lịch tư pháp số 1 còn ghi án tích đến hết ngày 31/03/2027; từ ngày 01/04/2027"),
    ("em bị 2 năm tù, ra trại tháng 3/2025, xin phiếu lý lịch tư pháp có bị ghi án không",
     "Phiếu lý lịch tư pháp số 1 còn ghi án tích đến hết ngày 31/03/2027; từ ngày 01/04/2027"),
])
def test_a_certificate_question_with_the_story_says_what_it_shows_on_that_date(product, story, first_line):
    """What certificate no. 1 shows is the question; the computed date and its assumptions follow."""
    [first] = chat(product, story)
    assert first_line in first[0]["text"] and "Luật Lý lịch tư pháp" in first[0]["text"], text(first)
    assert all(len(r["text"]) <= 500 for r in first)
    assert "Tôi giả định" in text(first) and "/show_details" in payloads(first)
    assert text(first).count("không có án tích") == 1   # said once, not again among the notes
    TURNS_TO_ANSWER[story] = 1


@pytest.mark.parametrize("story", ["bị 3 năm tù tội trộm cắp, lúc đó em 17 tuổi, ra tù 01/06/2023, bao giờ hết án tích",
                                   "bi 3 nam tu toi trom cap, luc do em 17 tuoi, ra tu 01/06/2023, bao gio het an tich"])
def test_one_question_only_when_the_answer_depends_on_it(product, story):
    [asked, answered] = chat(product, story, '/inform{"clause": "1"}')
    assert "khoản mấy của Điều 173" in text(asked)  # at 17, theft under clause 1 leaves no record
    assert "không bị coi là có án tích" in text(answered)


@pytest.mark.parametrize("question", ["đăng ký thường trú ở đâu", "dang ky thuong tru o dau"])
def test_a_question_in_the_middle_of_a_form_is_answered_and_the_form_goes_on(product, question):
    turns = chat(product, "/calc_expungement", "tù 2 năm", question, "01/06/2023")
    middle = text(turns[2])
    assert "công an xã" in middle and "Căn cứ" in middle  # the answer (where to register), cited
    assert "Để tiếp tục việc tính" in middle and "ngày nào" in turns[2][-1]["text"]  # then the same question
    assert "từ ngày 02/06/2025" in text(turns[3])  # the form went on to the answer


@pytest.mark.parametrize("question", ["xóa án tích mất bao lâu", "xoa an tich mat bao lau"])
def test_a_question_in_the_middle_of_the_loan_form(product, question):
    turns = chat(product, "/check_loan", question, "bán đồ ăn sáng")
    assert "án tích" in text(turns[1]) and "Để tiếp tục việc tính" in text(turns[1])
    assert "vay để làm gì" in turns[1][-1]["text"]
    assert "giấy chứng nhận" in text(turns[2])


@pytest.mark.parametrize("story", ["bị 3 năm tù, còn bị quản chế, ra tù 01/06/2023, bao giờ hết án tích",
                                   "bi 3 nam tu, con bi quan che, ra tu 01/06/2023, bao gio het an tich"])
def test_a_supplementary_penalty_said_is_asked_about_once(product, story):
    [asked, answered] = chat(product, story, "01/06/2025")
    assert "Hình phạt bổ sung đó kết thúc vào ngày nào" in text(asked)
    assert "từ ngày 02/06/2025" in text(answered) and "hình phạt bổ sung còn đang" not in text(answered)


@pytest.mark.parametrize("question, date", [
    ("Bị phạt tù 3 năm thì sau bao lâu được xóa án tích?", "ra tù 01/06/2023"),
    ("Bi phat tu 3 nam thi sau bao lau duoc xoa an tich?", "ra tu 01/06/2023"),
])
def test_the_date_typed_after_the_rule_computes(product, question, date):
    [rule, answer] = chat(product, question, date)
    assert "cho tôi biết ngày chấp hành xong" in text(rule)
    assert "từ ngày 02/06/2025" in text(answer)


@pytest.mark.parametrize("start, story, date", [
    ("mún vay 30tr nuôi heo dc ko", "em bị 3 năm tù, ra tù 01/06/2023, bao giờ được xóa án tích?", "01/06/2023"),
    ("mun vay 30tr nuoi heo dc ko", "em bi 3 nam tu, ra tu 01/06/2023, bao gio duoc xoa an tich?", "01/06/2023"),
    ("/check_loan", "bị 4 năm tù ra tù 20/8/2022 khi nào hết án tích", "ra tù tháng 6 năm ngoái"),
    ("/check_loan", "bi 4 nam tu ra tu 20/8/2022 khi nao het an tich", "ra tu thang 6 nam ngoai"),
])
def test_an_expungement_story_in_the_loan_form_is_answered_as_asked(product, start, story, date):
    turns = chat(product, start, *(["bán đồ ăn sáng", "có"] if start == "/check_loan" else []), story, date)
    asked, middle, answer = turns[-3], turns[-2], turns[-1]
    assert "ngày nào" in asked[-1]["text"]  # the loan form waits for the completion date
    # the question asked: its date, computed from the story's facts, with what it assumed
    expected = "từ ngày 02/06/2025" if "01/06/2023" in story else "từ ngày 21/08/2024"
    assert expected in text(middle) and "đã đủ 18 tuổi" in text(middle), text(middle)
    assert len(middle[0]["text"]) <= 500 and "/show_details" in payloads(middle)
    assert "vay" not in middle[0]["text"]  # not a loan answer
    # then the loan form offers to go on, with the same question
    assert "Để tiếp tục việc tính" in text(middle) and "ngày nào" in middle[-1]["text"]
    # a plain date still fills the loan form
    assert "Được." in text(answer) and "Phải vay trước hết ngày" in text(answer), text(answer)


@pytest.mark.parametrize("story, typed", [
    ("e mới ra tù tháng trước, muốn vay ít vốn để bán hàng ăn sáng được không", "chưa có giấy chứng nhận"),
    ("e moi ra tu thang truoc, mun vay it von de ban hang an sang dc ko", "chua co giay chung nhan"),
])
def test_a_no_typed_instead_of_the_button_is_understood(product, story, typed):
    """The loan answer's button "Tôi chưa có giấy chứng nhận", typed as a "no": its answer, not the menu."""
    [first, no] = chat(product, story, typed)
    assert "Tôi chưa có giấy chứng nhận" in [b["title"] for r in first for b in r.get("buttons") or []]
    assert "chưa vay theo Quyết định 22 được" in text(no), text(no)
    assert "Anh/chị muốn hỏi về việc gì?" not in text(no)
    [bare] = chat(product, "không")
    assert "Anh/chị muốn hỏi về việc gì?" in text(bare)   # a bare "no" with nothing asked: the menu


@pytest.mark.parametrize("question", ["vay vốn 200 triệu làm trang trại được không", "vay von 200 trieu lam trang trai duoc khong"])
def test_more_than_qd22_lends_names_the_loan_that_covers_it(product, question):
    """200 triệu is over QĐ 22's cap but within the job-creation loan's: both said, and that
    the two cannot be taken for one purpose (QĐ 22 Điều 3 khoản 3); "trang trại" is a purpose."""
    [first] = chat(product, question)
    answer = first[0]["text"]
    assert answer.startswith("Không vay được số tiền đó") and "tối đa 100.000.000" in answer, answer
    assert "Vay hỗ trợ tạo việc làm cho vay tới 200.000.000" in answer and "Nghị định 338/2025" in answer
    assert "Tôi giả định" not in answer and len(answer) <= 500
