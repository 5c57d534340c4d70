"""Cases the fourth acceptance set (bench/acceptance_fresh2.yml, written on 2026-12-01 before it was
run, in the way people type on a phone) found wrong, through the running product (today pinned to
2026-11-22 as for the other product tests). Every example with and without diacritics."""

from __future__ import annotations

import pytest

from harness.helpers import chat, text

pytestmark = [pytest.mark.stack, pytest.mark.language]


@pytest.mark.parametrize("story", [
    "lúc đó 17 tuổi e bị 1 năm tù tội trộm cắp tài sản khoản 1, giờ 25t rồi có án tích ko",
    "luc do 17 tuoi e bi 1 nam tu toi trom cap tai san khoan 1, gio 25t r co an tich ko",
])
def test_an_offence_at_17_that_is_not_heavy_is_told_no_record_at_once(product, story):
    """Điều 107 khoản 1: the age, the article and the clause settle it; no date is needed."""
    [first] = chat(product, story)
    assert "không bị coi là có án tích" in text(first), text(first)


@pytest.mark.parametrize("story", [
    "tôi bị 5 năm tù tội tuyên truyền chống nhà nước, ra tù 1/6/2023, có tự động xóa án tích ko",
    "toi bi 5 nam tu toi tuyen truyen chong nha nuoc, ra tu 1/6/2023, co tu dong xoa an tich ko",
])
def test_a_national_security_crime_is_not_cleared_automatically(product, story):
    """Chương XIII: the court decides (Điều 71), 3 years for a term up to 5 years."""
    [first] = chat(product, story)
    assert "Tòa án" in text(first), text(first)
    assert "đã đương nhiên được xóa án tích" not in text(first)


@pytest.mark.parametrize("question", [
    "chưa bồi thường xong cho bị hại thì có được xóa án tích ko",
    "chua boi thuong xong cho bi hai thi co duoc xoa an tich ko",
])
def test_a_condition_asked_about_gets_the_rule_not_a_form_question(product, question):
    [first] = chat(product, question)
    assert "bồi thường" in text(first) and "hình phạt chính là gì" not in text(first), text(first)


@pytest.mark.parametrize("question", [
    "vay vốn giải quyết việc làm năm 2026 tối đa đc bao nhiêu tiền",
    "vay von giai quyet viec lam nam 2026 toi da dc bao nhieu tien",
])
def test_the_rules_year_is_not_read_as_a_release_date(product, question):
    [first] = chat(product, question)
    assert "200.000.000" in text(first), text(first)
    assert "Phải vay trước" not in text(first)


@pytest.mark.parametrize("question", [
    "làm ll tư pháp mất bao lâu mới có",
    "lam ll tu phap mat bao lau moi co",
])
def test_ll_is_ly_lich(product, question):
    [first] = chat(product, question)
    assert "10 ngày" in text(first), text(first)


@pytest.mark.parametrize("message", [
    "e bị kỳ thị ở chỗ làm vì từng đi tù thì làm sao",
    "e bi ky thi o cho lam vi tung di tu thi lam sao",
])
def test_a_hardship_with_a_question_gets_care_and_the_answer(product, message):
    [first] = chat(product, message)
    assert "không phải chịu đựng một mình" in text(first)
    assert "nghiêm cấm kỳ thị" in text(first), text(first)


@pytest.mark.parametrize("story", [
    "Tôi 25 tuổi, bị 18 tháng tù, ra trại tháng 3 năm 2025, còn nợ tiền bồi thường. Khi nào tôi được xóa án tích?",
    "toi 25 tuoi, bi 18 thang tu, ra trai thang 3 nam 2025, con no tien boi thuong. khi nao toi duoc xoa an tich?",
])
def test_an_unpaid_compensation_said_as_a_debt_is_not_assumed_paid(product, story):
    [first] = chat(product, story)
    assert "đã nộp xong án phí, bồi thường" not in text(first), text(first)
    assert "bồi thường" in text(first)


def test_an_english_story_told_as_time_in_prison_is_answered_in_english(product):
    [first] = chat(product, "I was in prison for 4 years and got out in January 2024. I still owe compensation. "
                            "When will my record be cleared?", locale="en")
    assert "What was your main sentence" not in text(first), text(first)
    assert "compensation" in text(first).lower()


@pytest.mark.parametrize("story", [
    "bị 3 năm tù, được tha tù trước thời hạn có điều kiện tháng 5/2025, thử thách 1 năm 2 tháng, khi nào xóa án tích",
    "bi 3 nam tu, duoc tha tu truoc thoi han co dieu kien thang 5/2025, thu thach 1 nam 2 thang, khi nao xoa an tich",
])
def test_early_release_counts_from_the_end_of_probation_worked_out_from_its_length(product, story):
    """Probation 05/2025 + 14 months ends 07/2026; the 2-year period runs to 07/2028 (not 05/2027)."""
    [first] = chat(product, story)
    assert "2028" in text(first) and "2027" not in text(first), text(first)


@pytest.mark.parametrize("turns", [
    ("vay vốn cho người chấp hành xong án", "em ra tù 2023"),
    ("vay von cho nguoi chap hanh xong an", "em ra tu 2023"),
])
def test_a_release_year_typed_after_a_loan_answer_is_the_loan_check(product, turns):
    """It was read as a new expungement story ('Anh/chị bị xử hình phạt chính là gì?')."""
    _, second = chat(product, *turns)
    assert "01/01/2028" in text(second), text(second)   # QĐ 22: the loan within 5 years (first day of 2023)
    assert "hình phạt chính là gì" not in text(second)
