"""Cases the tenth acceptance set (bench/acceptance_fresh10.yml, written on 2026-12-02 before it was
run) found wrong, through the running product (today pinned as for the other product tests; no
date depends on it): a light penalty asked with "coi như chưa bị kết án", unpaid compensation said
with no sentence, a new conviction told without both dates, and thường trú after prison."""

from __future__ import annotations

import pytest

from harness.helpers import both, chat, text

pytestmark = [pytest.mark.stack, pytest.mark.language]


@pytest.mark.parametrize("turns", both("Mẹ tôi bị phạt cải tạo không giam giữ 18 tháng, nay đã chấp hành xong, vậy bao "
                                       "lâu nữa bà mới được coi như chưa bị kết án?"))
def test_a_light_penalty_asked_as_when_no_longer_convicted_gets_the_one_year_rule(product, turns):
    [first] = chat(product, *turns)
    said = text(first)
    assert "1 năm" in said and "xóa án tích" in said, said


@pytest.mark.parametrize("turns", both("e ra tu 3 nam r ma chx tra tien boi thuong cho bi hai thi co dc xoa an tich ko"))
def test_unpaid_compensation_with_no_sentence_is_answered_not_asked_back(product, turns):
    [first] = chat(product, *turns)
    said = text(first)
    assert said.startswith("Chưa") and "bồi thường" in said, said
    assert "hình phạt chính là gì" not in said, said


@pytest.mark.parametrize("turns", both("Tôi ra tù năm 2023 sau bản án 2 năm, đến năm 2025 lại bị kết án 1 năm tù về tội "
                                       "khác. Vậy thời hạn xóa án tích của bản án trước được tính thế nào?"))
def test_a_new_conviction_without_both_dates_gets_the_restart_rule_not_a_date(product, turns):
    [first] = chat(product, *turns)
    said = text(first)
    assert "tính lại" in said and "bản án mới" in said, said
    assert "đã đương nhiên được xóa" not in said, said


@pytest.mark.parametrize("turns", both("Dạ em đi tù 3 năm, giờ về quê thì hộ khẩu thường trú của em còn không hay đã bị "
                                       "xóa rồi ạ?"))
def test_permanent_residence_after_prison_answers_that_it_normally_stays(product, turns):
    [first] = chat(product, *turns)
    said = text(first)
    assert "vẫn còn" in said and "12 tháng" in said, said
