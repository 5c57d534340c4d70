"""Cases the ninth acceptance set (bench/acceptance_fresh7.yml, criminal records, written on 2026-12-01
before it was run) found wrong, through the running product (today pinned to 2026-11-22 as for the other
product tests; every expected date is absolute). Every Vietnamese example with and without diacritics, or
as typed on a phone."""

from __future__ import annotations

import pytest

from harness.helpers import VIETNAMESE_LETTERS, both, chat, text
from vietnamese.text import fold

pytestmark = [pytest.mark.stack, pytest.mark.language]


def english(said: str) -> bool:
    return not VIETNAMESE_LETTERS.search(said.replace("Lối Về", ""))


@pytest.mark.parametrize("message, dates", [
    ("e bj 3n tu, dc tha tu truoc thoi han co dk hom 1/6/2025, thu thach 1 nam, bh e het an tich",
     ("01/06/2028", "02/06/2028")),   # early release: 2 years from the end of probation 01/06/2026
    ("e bi 2n tu, ra tu 6/6/2023, boi thuong xong r, bh e het an tich chua", ("06/06/2025", "07/06/2025")),
    ("a bi 1n tu ra tu nam 2018, 2019 lai dinh them vu nua bi 5n, ra trai 3/9/2024, bh a xoa an tich dc chua",
     ("03/09/2026", "04/09/2026")),   # a second conviction: from the new one (Điều 73 khoản 2)
])
def test_years_typed_as_3n_are_the_sentence(product, message, dates):
    [first] = chat(product, message)
    said = text(first)
    assert any(d in said for d in dates) and "hình phạt chính là gì" not in said, said


@pytest.mark.parametrize("turns", [("tinh ngay xoa an tich cho ong xa e", "ck e 3n tu, ra trai 2/2/2024"),
                                   ("ad tinh ngay het an tich cho e voi", "4n tu, ra trai 11/11/2022")])
def test_a_sentence_typed_as_3n_to_the_form(product, turns):
    first, second = chat(product, *turns)
    said = text(second)
    assert "02/02/2026" in said or "03/02/2026" in said or "11/11/2024" in said or "12/11/2024" in said, said


@pytest.mark.parametrize("turns", both("muốn biết khi nào xóa được án tích", "6 năm", "ra hồi tháng 8 năm 2022"))
def test_a_term_then_a_date_typed_after_the_rule(product, turns):
    first, second, third = chat(product, *turns)
    assert "3 năm" in text(second) or "03 năm" in text(second), text(second)
    said = text(third)
    assert "08/2025" in said or "09/2025" in said, said   # 6 years → 3 years from 08/2022
    assert "vay" not in fold(said).split(), said


def test_a_relatives_husband_story_speaks_of_him(product):
    [first] = chat(product, "Ông xã tôi gây tai nạn giao thông chết người, bị 2 năm tù theo khoản 1 Điều 260, "
                            "ra tù tháng 6/2025. Anh ấy có bị án tích không?")
    said = fold(text(first))
    assert "khong" in said and "an tich" in said and "6/2027" not in said, said


def test_an_english_minors_theft_leaves_no_record(product):
    [first] = chat(product, "My son was 17 and got 2 years for theft, clause 1 of Article 173. "
                            "Does he have a criminal record?", locale="en")
    said = text(first)
    assert ("no criminal record" in said.lower() or "not considered" in said.lower()
            or "not have a criminal record" in said.lower()) and english(said), said
