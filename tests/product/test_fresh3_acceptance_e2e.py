"""Cases the fifth acceptance set (bench/acceptance_fresh3.yml, written on 2026-12-01 before it was
run) found wrong, through the running product (today pinned to 2026-11-22 as for the other product
tests). Every Vietnamese example with and without diacritics, and as typed on a phone."""

from __future__ import annotations

import pytest

from harness.helpers import VIETNAMESE_LETTERS, chat, text

pytestmark = [pytest.mark.stack, pytest.mark.language]


@pytest.mark.parametrize("question", [
    "tha tù trước hạn có điều kiện thì đi khỏi địa phương tối đa bao nhiêu ngày",
    "tha tu truoc han co dk thi di khoi dia phuong toi da bao nhieu ngay",
])
def test_leave_during_conditional_release_gets_the_sixty_days(product, question):
    [first] = chat(product, question)
    assert "60 ngày" in text(first), text(first)


def test_going_abroad_on_a_suspended_sentence_is_answered_in_english(product):
    """The English page: "abroad" is what is asked, "suspended sentence" only who asks."""
    [first] = chat(product, "I am on a suspended sentence. Can I travel abroad?", locale="en")
    said = text(first)
    assert "abroad" in said.lower() or "leave the country" in said.lower(), said
    assert "report monthly" not in said, said  # not the list of every duty
    assert not VIETNAMESE_LETTERS.search(said.replace("Lối Về", "")), said


@pytest.mark.parametrize("story", [
    "Em bị 4 năm tù, được tha tù trước thời hạn có điều kiện ngày 1/2/2024, thời gian thử thách 1 năm 6 tháng."
    " Bao giờ em hết án tích?",
    "em bi 4 nam tu, duoc tha tu truoc thoi han co dieu kien ngay 1/2/2024, thoi gian thu thach 1 nam 6 thang."
    " bao gio em het an tich?",
])
def test_early_release_counts_from_the_end_of_probation_in_the_first_reply(product, story):
    """Fact sheet §0: completion is the last day of probation (01/08/2025), then 2 years."""
    [first] = chat(product, story)
    assert "/08/2027" in text(first), text(first)
