"""The expungement calculation as a conversation through the running product
(today pinned to 2026-11-22)."""

from __future__ import annotations

import itertools

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.language]
_ids = itertools.count()

ADULT = '/inform{"age_group": "adult"}'
MINOR = '/inform{"age_group": "minor"}'
CHILD = '/inform{"age_group": "child"}'


def chat(product, *turns: str) -> list[list[dict]]:
    user = f"exp-{next(_ids)}"
    return [product.say(user, t) for t in turns]


def text(replies: list[dict]) -> str:
    return "\n".join(r["text"] for r in replies)


HEADLINE = "Tôi bị tù 3 năm, chấp hành xong ngày 01/06/2023, đã nộp đủ tiền bồi thường, khi nào được xóa án tích?"
HEADLINE_PLAIN = "toi bi tu 3 nam, chap hanh xong ngay 01/06/2023, da nop du tien boi thuong, khi nao duoc xoa an tich?"


@pytest.mark.parametrize("question", [HEADLINE, HEADLINE_PLAIN])
def test_headline_question_gets_the_date_and_its_basis(product, question):
    turns = chat(product, question)  # answer first: the date, with what it assumes (issue 14)
    final = text(turns[-1])
    assert "khi phạm tội anh/chị đã đủ 18 tuổi" in final
    assert "đương nhiên được xóa án tích từ ngày 02/06/2025" in final
    assert "thời hạn 2 năm, kết thúc hết ngày 01/06/2025" in final
    assert "Căn cứ: khoản 2 Điều 70 Bộ luật Hình sự 2015 (sửa đổi 2017); Điều 147–148 Bộ luật Dân sự 2015" in final


def test_questions_come_with_buttons_for_closed_choices(product):
    [first, second] = chat(product, "/calc_expungement", "/inform{\"penalty_type\": \"suspended\"}")
    assert "Án treo" in [b["title"] for b in first[-1]["buttons"]]
    assert "ngày nào" in second[-1]["text"]


def test_suspended_sentence_via_buttons(product):
    # answer first (issue 14 point 2): the sentence and its end are all it asks; the rest is assumed and said
    turns = chat(product, "/calc_expungement", '/inform{"penalty_type": "suspended"}', "15/03/2024")
    assert "từ ngày 16/03/2025" in text(turns[-1]) and "khi phạm tội anh/chị đã đủ 18 tuổi" in text(turns[-1])


def test_an_answer_can_be_corrected(product):
    turns = chat(product, "tù 3 năm, ra tù 01/06/2023, xóa án tích khi nào", "à nhầm, tù 7 năm")
    assert "từ ngày 02/06/2026" in text(turns[-1]) and "thời hạn 3 năm" in text(turns[-1])


def test_thoi_leaves_the_form_cleanly(product):
    turns = chat(product, "/calc_expungement", "tù 2 năm", "thôi", "xin chào")
    assert turns[2][0]["text"] == "Vâng, tôi đã dừng việc tính."
    assert turns[3][0]["text"].startswith("Xin chào anh/chị")


def test_future_date_is_refused_and_asked_again(product):
    turns = chat(product, "/calc_expungement", "tù 2 năm", "01/06/2027")
    assert "Ngày này chưa tới" in text(turns[-1]) and "ngày nào" in turns[-1][-1]["text"]


def test_national_security_crime_goes_to_court(product):
    turns = chat(product, "tù 5 năm, ra tù 01/06/2023, khi nào xóa án tích",
                 '/calc_expungement{"recheck": "exp_special_chapter"}')
    assert "Tòa án" in text(turns[-1]) and "02/06/2026" in text(turns[-1])


def test_offence_before_16_means_no_record(product):
    turns = chat(product, "tù 3 năm, ra tù 01/06/2023, khi nào xóa án tích",
                 '/calc_expungement{"recheck": "exp_age_group"}', CHILD)
    assert "không bị coi là có án tích" in text(turns[-1])
    assert "Điều 107" in text(turns[-1])


def test_unpaid_compensation_blocks(product):
    turns = chat(product, "tu 3 nam ra tu 01/06/2023 chua boi thuong xong, bao gio xoa an tich")
    assert "bồi thường, án phí, tiền phạt" in text(turns[-1])


@pytest.mark.parametrize("question", [
    "Tôi bị 2 năm tù vì gây tai nạn giao thông chết người, khoản 1 Điều 260, ra tù 01/06/2024, khi nào xóa án tích?",
    "toi bi 2 nam tu vi gay tai nan giao thong chet nguoi, khoan 1 dieu 260, ra tu 01/06/2024, khi nao xoa an tich?",
])
def test_traffic_death_under_clause_1_leaves_no_record(product, question):
    turns = chat(product, question)
    final = text(turns[-1])
    assert "không bị coi là có án tích" in final and "khoản 2 Điều 69" in final
    assert "xóa án tích từ ngày" not in final


def test_first_offence_at_15_then_adult_prison_keeps_a_record_until_2027(product):
    turns = chat(product, "tù 2 năm, ra tù 01/01/2019, khi nào xóa án tích",
                 '/calc_expungement{"recheck": "exp_age_group"}', CHILD,
                 '/calc_expungement{"recheck": "exp_new_crime"}',
                 '/inform{"penalty_type": "prison"}', "4 năm", "01/06/2025", ADULT)
    assert "không bị coi là có án tích" in text(turns[2])  # that judgment alone; then the new crime is told
    final = text(turns[-1])
    assert "đương nhiên được xóa án tích từ ngày 02/06/2027" in final and len(turns[-1][-1]["text"]) <= 500
    assert "/show_details" in [b["payload"] for b in turns[-1][-1]["buttons"]]  # "vẫn còn án tích…" is there


def test_under_18_unpaid_compensation_does_not_block(product):
    turns = chat(product, "tu 3 nam ra tu 10/01/2024 chua boi thuong xong, bao gio xoa an tich",
                 '/calc_expungement{"recheck": "exp_age_group"}', MINOR, "/affirm")
    final = text(turns[-1])
    assert "từ ngày 11/01/2025" in final and "không phạm tội mới" in final



def test_suspended_sentence_still_in_probation_counts_from_its_end(product):
    turns = chat(product, "/calc_expungement", '/inform{"penalty_type": "suspended"}', "15/03/2027", "/show_details")
    assert "từ ngày 16/03/2028" in text(turns[2])  # the date first, with every assumption said
    assert "Thời gian thử thách chưa kết thúc" in text(turns[3])  # why, behind "Xem chi tiết"


@pytest.mark.parametrize("first, answers", [
    ("Tôi bị tù 4 năm, được tha tù trước thời hạn có điều kiện ngày 01/03/2024, khi nào được xóa án tích?",
     ["01/03/2026"]),
    ("toi bi tu 4 nam, duoc tha tu truoc thoi han ngay 01/03/2024, bao gio xoa an tich",
     ["01/03/2026"]),
])
def test_early_release_counts_from_the_end_of_probation(product, first, answers):
    turns = chat(product, first, *answers)
    assert "thời gian thử thách kết thúc" in text(turns[0])
    assert "từ ngày 02/03/2028" in text(turns[-1])
