"""Cases the eighth acceptance set (bench/acceptance_fresh6.yml, written on 2026-12-01 before it was
run) found wrong, through the running product (today pinned to 2026-11-22 as for the other product
tests). Every Vietnamese example with and without diacritics, or as typed on a phone."""

from __future__ import annotations

import pytest

from harness.helpers import VIETNAMESE_LETTERS, both, chat, text

pytestmark = [pytest.mark.stack, pytest.mark.language]


def english(said: str) -> bool:
    return not VIETNAMESE_LETTERS.search(said.replace("Lối Về", ""))


@pytest.mark.parametrize("turns", both(
    "Em mới về nhà được mấy tháng, giờ muốn vay ít vốn làm ăn",
    "em định bán xôi với bánh mì buổi sáng ở đầu ngõ",   # 11 words, "đầu" folds like "đâu"
))
def test_a_purpose_told_at_length_after_a_loan_answer(product, turns):
    first, second = chat(product, *turns)
    assert "100.000.000" in text(second), text(second)


@pytest.mark.parametrize("turns", both(
    "Tôi muốn đăng ký vay vốn dành cho người chấp hành xong án phạt tù",
    "Khoan đã, nhà tôi không có sổ đỏ thì ngân hàng có bắt thế chấp không?",
    "để mua máy xay xát lúa gạo",   # "máy" folds like "mấy"
))
def test_a_purpose_after_a_question_asked_midway(product, turns):
    first, second, third = chat(product, *turns)
    assert "thế chấp" in text(second), text(second)
    assert "100.000.000" in text(third), text(third)


@pytest.mark.parametrize("turns", [("e can it von de lam an", "nuoi may con heo nai"),
                                   ("em cần ít vốn để làm ăn", "nuôi mấy con heo nái")])
def test_need_a_little_capital_is_not_thanks_and_the_purpose_typed_next_is_answered(product, turns):
    first, second = chat(product, *turns)
    assert "Không có gì" not in text(first) and "100.000.000" in text(first), text(first)
    assert "100.000.000" in text(second), text(second)   # not only "ra tù ngày nào?" again


@pytest.mark.parametrize("turns", [("ra tu r mun tim viec on dinh thi hoi ai", "h e dang di phu ho theo ngay"),
                                   ("ra tù rồi muốn tìm việc ổn định thì hỏi ai", "giờ em đang đi phụ hồ theo ngày")])
def test_a_job_said_after_the_jobs_answer(product, turns):
    first, second = chat(product, *turns)
    said = text(second)
    assert "Trung tâm dịch vụ việc làm" in said and "vắng mặt" not in said, said


@pytest.mark.parametrize("turns", [("dao nay e met moi qua", "te lam, dem nao cung thuc trang ko ngu dc"),
                                   ("dạo này em mệt mỏi quá", "tệ lắm, đêm nào cũng thức trắng không ngủ được")])
def test_a_bad_night_gets_care_not_the_support_overview_nor_the_crisis_reply(product, turns):
    first, second = chat(product, *turns)
    said = text(second)
    assert "không phải chịu đựng một mình" in said and "115" not in said, said


def test_a_tailoring_purpose_in_english(product):
    first, second = chat(product, "I'd like to take out a loan", "to buy a sewing machine and do tailoring at home",
                         locale="en")
    said = text(second)
    assert "100,000,000" in said and english(said), said


def test_a_relatives_suspended_sentence_in_english(product):
    [first] = chat(product, "My husband had a suspended sentence with 3 years of probation, which ended on"
                            " 2 April 2026. When will his record be expunged?", locale="en")
    said = text(first)
    assert ("2 Apr 2027" in said or "3 Apr 2027" in said) and english(said), said


def test_the_sentence_and_date_typed_after_a_question_asked_midway_in_english(product):
    first, second, third = chat(product, "Can you work out when my conviction will be erased?",
                                "Wait, how many days does it take to get a criminal record certificate?",
                                "4 years, finished on 9 January 2023", locale="en")
    assert "sentence" in text(first) and "counselling" not in text(first), text(first)
    assert "10 days" in text(second), text(second)
    said = text(third)
    assert ("9 Jan 2025" in said or "10 Jan 2025" in said) and english(said), said
