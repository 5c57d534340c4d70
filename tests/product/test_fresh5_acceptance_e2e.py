"""Cases the seventh acceptance set (bench/acceptance_fresh5.yml, written on 2026-12-01 before it was
run) found wrong, through the running product (today pinned to 2026-11-22 as for the other product
tests, so dates said relative to today move with it). Every Vietnamese example with and without
diacritics, or as typed on a phone."""

from __future__ import annotations

import pytest

from harness.helpers import VIETNAMESE_LETTERS, chat, text
from vietnamese.text import fold

pytestmark = [pytest.mark.stack, pytest.mark.language]


def both(*messages: str) -> list[str]:
    """Each message as written and folded (no diacritics)."""
    return [v for m in messages for v in (m, fold(m))]


@pytest.mark.parametrize("question", [
    *both("Bị 8 năm tù về tội xâm phạm an ninh quốc gia thì sau bao lâu mới được xin tòa xóa án tích?"),
    "bi 8 nam tu toi xam pham an ninh quoc gia thi bn lau sau moi dc xin toa xoa an tich",
])
def test_a_national_security_sentence_gets_the_court_period(product, question):
    """Điều 71: tù trên 5 đến 15 năm → 5 năm, on application to the court (not Điều 70's 3 năm)."""
    [first] = chat(product, question)
    said = fold(text(first))
    assert "5 nam" in said and "so tham" in said, said
    assert "duong nhien duoc xoa an tich sau 3 nam" not in said, said


@pytest.mark.parametrize("story", both(
    "Tôi bị 2 năm tù và phạt bổ sung 20 triệu đồng, ra tù ngày 1/10/2024, tiền phạt bổ sung nộp xong"
    " tháng 3/2025. Khi nào tôi hết án tích?",
))
def test_a_fine_paid_within_the_period_does_not_move_the_date(product, story):
    """The period runs from the release (BLHS Điều 70 khoản 2); the payment was within it."""
    [first] = chat(product, story)
    said = text(first)
    assert "01/10/2026" in said or "02/10/2026" in said, said


@pytest.mark.parametrize("story", [
    "em bị 1 năm 6 tháng tù, mới ra được 3 tháng, không nợ gì ai, bao giờ hết án tích",
    "e bi 1 nam 6 thang tu, ms ra dc 3 thang, ko no j ai, bh het an tich",
])
def test_released_n_months_ago_typed_without_tu(product, story):
    """3 months before 22/11/2026 is 08/2026; 2 years later."""
    [first] = chat(product, story)
    said = text(first)
    assert "08/2028" in said, said


@pytest.mark.parametrize("story", [
    "em ra tù 4 năm 10 tháng rồi, giờ làm hồ sơ vay QĐ 22 còn kịp không",
    "e ra tu 4 nam 10 thang r, gio lam ho so vay qd22 con kip ko ad",
])
def test_released_years_and_months_ago_for_the_loan_limit(product, story):
    """58 months before 11/2026 is 01/2022: the loan must be made by 01/2027."""
    [first] = chat(product, story)
    said = text(first)
    assert "01/2027" in said, said


@pytest.mark.parametrize("turns", [
    ("Bị phạt tù 4 năm thì mấy năm mới hết án tích?", "còn nếu bị 9 năm thì sao?"),
    ("bi phat tu 4 nam thi may nam moi het an tich?", "con neu bi 9 nam thi sao?"),
])
def test_another_sentence_after_the_rule_asks_the_rule_again(product, turns):
    first, second = chat(product, *turns)
    assert "2 năm" in text(first), text(first)
    assert "3 năm" in text(second), text(second)


@pytest.mark.parametrize(("question", "expected"), [
    *[(q, "chưa bị kết án") for q in both(
        "Đã được xóa án tích thì khi làm hồ sơ xin việc tôi có phải khai là từng đi tù không?")],
    ("vay qd22 100tr thi moi thang tra lai het bn tien", "0,52%"),
    *[(q, "0,52%") for q in both("Vay 100 triệu theo QĐ 22 thì mỗi tháng phải trả bao nhiêu tiền lãi?")],
    ("vay von tao viec lam co can ho khau o dia phuong ko hay chi can co phuong an", "năng lực hành vi dân sự"),
    *[(q, "tạo việc làm") for q in both(
        "Tôi ra tù được 2 năm, muốn vay vốn làm ăn thì có những chương trình nào?")],
    ("me e 70 tuoi xin lltp co mat phi ko", "người cao tuổi"),
    *[(q, "200.000") for q in both("Năm nay làm lý lịch tư pháp online thì còn được giảm lệ phí không?")],
    *[(q, "có thể bị xóa") for q in both(
        "Trong lúc tôi đi tù, bố mẹ đã bán căn nhà tôi đăng ký thường trú. Đăng ký thường trú của tôi có bị"
        " xóa không?")],
    *[(q, "xóa án tích") for q in both(
        "Đến khi nào thì xã thôi theo dõi, giúp đỡ người đã chấp hành xong án tù?")],
])
def test_questions_get_their_entry(product, question, expected):
    [first] = chat(product, question)
    assert expected in text(first), text(first)


def test_permanent_residence_days_in_english(product):
    [first] = chat(product, "How many working days does permanent residence registration take?", locale="en")
    said = text(first)
    assert "7 working days" in said or "7 days (working days)" in said, said
    assert not VIETNAMESE_LETTERS.search(said.replace("Lối Về", "")), said
