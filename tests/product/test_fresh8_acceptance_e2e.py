"""Cases the tenth acceptance set (bench/acceptance_fresh8.yml: loans and papers, written on 2026-12-01
before it was run) found wrong, through the running product (today pinned to 2026-11-22 as for the
other product tests). Every Vietnamese example with and without diacritics, or as typed on a phone."""

from __future__ import annotations

import pytest

from harness.helpers import both, chat, text

pytestmark = [pytest.mark.stack, pytest.mark.language]


@pytest.mark.parametrize("turns", both("Vay theo QĐ 22 thì lãi mỗi tháng bao nhiêu phần trăm?"))
def test_the_rate_question_says_the_monthly_figure(product, turns):
    [first] = chat(product, *turns)
    assert "0,52%/tháng" in text(first) and "6,24%/năm" in text(first), text(first)


@pytest.mark.parametrize("turns", [("e mun vay von lam an, e moi ra tu", "ma nop ho so o dau ad", "ban trai cay online"),
                                   ("em muốn vay vốn làm ăn, em mới ra tù", "mà nộp hồ sơ ở đâu ạ",
                                    "bán trái cây online")])
def test_where_to_apply_asked_midway_is_the_loans_and_the_purpose_follows(product, turns):
    """"mà" folds like "mã" (not the registration code); "nộp hồ sơ ở đâu" after a loan answer is
    where to apply for the loan, not where to register residence."""
    first, second, third = chat(product, *turns)
    assert "Ngân hàng Chính sách xã hội" in text(second) and "mã đăng ký" not in text(second), text(second)
    assert "100.000.000" in text(third), text(third)


@pytest.mark.parametrize("turns", both("Tôi muốn vay vốn theo QĐ 22", "Mà khoan, lãi suất năm nay là bao nhiêu vậy?",
                                       "mở tiệm rửa xe máy với xe đạp"))
def test_a_purpose_of_seven_words_after_a_rate_question(product, turns):
    first, second, third = chat(product, *turns)
    assert "6,24%" in text(second), text(second)
    assert "100.000.000" in text(third), text(third)


@pytest.mark.parametrize("turns", both("Mẹ tôi muốn hỏi giúp tôi về khoản vay cho người đã ra tù",
                                       "tôi định mở lò bánh mì nhỏ trong xóm"))
def test_a_bakery_is_a_purpose(product, turns):
    first, second = chat(product, *turns)
    assert "100.000.000" in text(second), text(second)


@pytest.mark.parametrize("turns", both(
    "Tôi đang chấp hành án treo, có người rủ vào Bình Dương làm công nhân 3 tháng thì tôi có được đi không?"))
def test_months_away_for_work_on_a_suspended_sentence(product, turns):
    [first] = chat(product, *turns)
    assert "60 ngày" in text(first), text(first)


@pytest.mark.parametrize("turns", both(
    "Ra tù tôi về ở nhờ nhà anh trai, muốn đăng ký thường trú vào nhà anh ấy thì cần những gì?"))
def test_permanent_residence_in_a_brothers_home(product, turns):
    [first] = chat(product, *turns)
    assert "đồng ý" in text(first) and "công an xã" in text(first), text(first)
