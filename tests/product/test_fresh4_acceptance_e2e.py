"""Cases the sixth acceptance set (bench/acceptance_fresh4.yml, written on 2026-12-01 before it was
run) found wrong, through the running product (today pinned to 2026-11-22 as for the other product
tests). Every Vietnamese example with and without diacritics, or as typed on a phone."""

from __future__ import annotations

import pytest

from harness.helpers import VIETNAMESE_LETTERS, chat, text
from vietnamese.text import fold

pytestmark = [pytest.mark.stack, pytest.mark.language]


def both(*messages: str) -> list[str]:
    """Each message as written and folded (no diacritics)."""
    return [v for m in messages for v in (m, fold(m))]


@pytest.mark.parametrize("story", both(
    "Tôi năm nay 35 tuổi, ra tù ngày 12/12/2022 sau 4 năm tù, muốn vay vốn nuôi bò."
    " Tôi vay theo QĐ 22 được bao nhiêu và phải vay trước ngày nào?",
))
def test_an_age_this_year_is_not_the_completion(product, story):
    """"năm nay 35 tuổi" is the person's age: the loan must be made within 5 years of 12/12/2022."""
    [first] = chat(product, story)
    assert "12/12/2027" in text(first) or "11/12/2027" in text(first), text(first)


@pytest.mark.parametrize("story", [
    "bố em năm nay 60t, bị 1 năm tù tội đánh bạc, ra tù 25/12/2025, bh bố em hết án tích",
    "bo e nam nay 60t, bi 1 nam tu toi danh bac, ra tu 25/12/2025, bh bo e het an tich",
])
def test_an_age_typed_60t_is_neither_a_date_nor_money(product, story):
    [first] = chat(product, story)
    assert "25/12/2027" in text(first) or "26/12/2027" in text(first), text(first)


@pytest.mark.parametrize("story", both(
    "Tôi ra tù ngày 20/12/2021, định đầu năm 2027 mới làm hồ sơ vay theo QĐ 22 thì có kịp không?",
))
def test_a_planned_loan_date_is_not_the_release(product, story):
    """Fact sheet §0: the 5 years run to the loan itself; the release is 20/12/2021."""
    [first] = chat(product, story)
    assert "20/12/2026" in text(first) or "19/12/2026" in text(first), text(first)


@pytest.mark.parametrize("story", [
    "em được tha trước hạn có đk hồi 1/12/2024, thử thách 2 năm, án 7 năm. bh em hết án tích",
    "e dc tha truoc han co dk hoi 1/12/2024, thu thach 2 nam, an 7 nam. bh e het an tich",
])
def test_the_probation_length_is_not_the_sentence(product, story):
    """7 years → 3 years, counted from the end of probation (01/12/2026): 2029, not 2028."""
    [first] = chat(product, story)
    said = text(first)
    assert "/12/2029" in said or "30/11/2029" in said, said


@pytest.mark.parametrize("story", both(
    "Tôi bị 2 năm tù cho hưởng án treo, thời gian thử thách 4 năm tính từ ngày tuyên án 12/5/2021."
    " Khi nào tôi được xóa án tích?",
))
def test_suspended_probation_counted_from_the_verdict(product, story):
    """Probation ends 12/05/2025, then 1 year."""
    [first] = chat(product, story)
    assert "/05/2026" in text(first), text(first)


@pytest.mark.parametrize("turns", [
    ("năm 16t em bị 3 năm tù tội cướp giật, ra tù 10/10/2024, bh xóa án tích", "khoản 1 ạ"),
    ("nam 16t e bi 3 nam tu toi cuop giat, ra tu 10/10/2024, bh xoa an tich", "khoan 1 a"),
])
def test_an_age_said_as_nam_16t_then_the_clause(product, turns):
    """At 16, a serious crime (Điều 171 khoản 1) leaves no record (Điều 107); never the adult rule."""
    first, second = chat(product, *turns)
    assert "đã đủ 18 tuổi" not in text(first), text(first)
    assert "không có án tích" in text(second) or "không bị coi là có án tích" in text(second), text(second)


@pytest.mark.parametrize("turns", [
    ("tù 2 năm thì bh hết án tích", "em ra trại 15/6 năm ngoái"),
    ("tu 2 nam thi bh het an tich", "e ra trai 15/6 nam ngoai"),
])
def test_a_day_and_month_with_last_year_after_the_rule(product, turns):
    first, second = chat(product, *turns)
    said = text(second)
    assert "15/06/2027" in said or "16/06/2027" in said, said


@pytest.mark.parametrize(("question", "expected"), [
    *[(q, "15 ngày") for q in both("Tôi từng sống ở nhiều tỉnh khác nhau thì xin lý lịch tư pháp mất bao lâu?")],
    ("e o nhieu noi lam ll tu phap co lau hon ko", "15 ngày"),
    *[(q, "5.000") for q in both("Tôi cần 4 bản phiếu lý lịch tư pháp thì có phải trả thêm tiền không?")],
    *[(q, "ủy quyền") for q in both("Anh trai tôi có thể xin giùm tôi phiếu lý lịch tư pháp số 1 được không?")],
    ("e nho chi gai xin ll tu phap so 1 dum dc ko", "ủy quyền"),
    ("cty e 40 cn, co 3 ng tung di tu, v cty dc vay qd22 ko ad", "10%"),
    *[(q, "hộ nghèo") for q in both("Doanh nghiệp dùng nhiều lao động là người đã chấp hành xong án phạt tù thì vay"
                                    " vốn tạo việc làm với lãi suất bao nhiêu?")],
])
def test_questions_get_their_entry(product, question, expected):
    [first] = chat(product, question)
    assert expected in text(first), text(first)


def test_leave_during_conditional_release_in_english(product):
    [first] = chat(product, "How many days can I be away from home while on conditional early release?", locale="en")
    said = text(first)
    assert "60 days" in said, said
    assert not VIETNAMESE_LETTERS.search(said.replace("Lối Về", "")), said
