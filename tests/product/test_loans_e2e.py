"""The loan pre-check as a conversation through the running product
(today pinned to 2026-11-22)."""

from __future__ import annotations

import itertools

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.language]
_ids = itertools.count()


def chat(product, *turns: str) -> list[list[dict]]:
    user = f"loan-{next(_ids)}"
    return [product.say(user, t) for t in turns]


def text(replies: list[dict]) -> str:
    return "\n".join(r["text"] for r in replies)


@pytest.mark.parametrize("first", [
    "Tôi ra tù tháng 3 năm 2024, muốn vay 50 triệu mở tiệm sửa xe",
    "toi ra tu thang 3 nam 2024 muon vay 50tr mo tiem sua xe",
])
def test_a_returnee_gets_the_programmes_that_fit(product, first):
    [[fits], details] = chat(product, first, "/show_details")  # answer first, one phone-sized bubble (issue 14)
    assert "tạo việc làm" in text(details)
    assert fits["text"].startswith("Được.") and len(fits["text"]) <= 500
    assert "tối đa 100.000.000\u00a0₫, lãi suất 6,24%/năm" in fits["text"]
    assert "Không cần thế chấp (tài sản bảo đảm)" in fits["text"]
    assert "anh/chị đã có giấy chứng nhận chấp hành xong án phạt tù" in fits["text"]  # assumed, and said
    # The five years run to the loan itself (QĐ 22 Điều 3 khoản 2a), with a margin to apply; "tháng 3"
    # counts from the 1st (the earliest the limit can end), and the answer says so.
    assert "Phải vay trước hết ngày 01/03/2029 (nên nộp hồ sơ trước khoảng 01/01/2029)" in fits["text"]
    assert "anh/chị ra tù ngày 1 của tháng đó" in fits["text"]
    # The pointer to the job-creation loan waits behind "Xem chi tiết" when the assumptions
    # fill the bubble (here the month-only date's); the details describe that loan.
    assert "hỗ trợ tạo việc làm" not in fits["text"]
    assert fits["text"].splitlines()[-1].startswith("Căn cứ: Điều 3–10 Quyết định 22/2023/QĐ-TTg")
    assert [b["payload"] for b in fits["buttons"]] == ['/check_loan{"recheck": "loan_has_certificate"}',
                                                       "/show_details"]


def test_general_question_offers_the_check(product):
    [answer] = chat(product, "vay vốn")
    assert answer[-1]["buttons"] == [{"title": "Kiểm tra điều kiện vay", "payload": "/check_loan"},
                                     {"title": "Xem chi tiết", "payload": "/show_details"}]


def test_training_loan_via_buttons(product):
    turns = chat(product, "/check_loan", '/inform{"loan_purpose": "training"}', "/affirm", "15/03/2024")
    assert "Học nghề" in [b["title"] for b in turns[0][-1]["buttons"]]
    assert "4.000.000\u00a0₫/tháng" in text(turns[-1])
    assert "hỗ trợ tạo việc làm" not in text(turns[-1])


def test_without_the_certificate_it_does_not_fit_yet(product):
    turns = chat(product, "toi muon vay 30tr lam an", "01/02/2025", '/check_loan{"recheck": "loan_has_certificate"}')
    assert "chưa đủ điều kiện" in text(turns[-1]) and "hết thời gian thử thách" in text(turns[-1])


def test_after_five_years_the_deadline_has_passed(product):
    turns = chat(product, "ra tù 01/06/2020, muốn vay 80 triệu chăn nuôi")
    assert "đã hết vào ngày 01/06/2025" in text(turns[-1])


def test_cancel_leaves_the_form(product):
    turns = chat(product, "/check_loan", "hủy", "cảm ơn")
    assert turns[1][0]["text"] == "Vâng, tôi đã dừng việc tính."
    assert turns[2][0]["text"].startswith("Không có gì")


def test_naming_decree_61_gets_the_rules_not_a_form(product):
    [answer] = chat(product, "Nghị định 61 cho vay 50 triệu được không")
    assert "Nghị định 61/2015 đã được thay thế" in text(answer)


@pytest.mark.parametrize("first", ["Tôi bị án treo, có giấy chứng nhận, muốn vay 50 triệu làm ăn",
                                   "toi bi an treo, co giay chung nhan, muon vay 50tr lam an"])
def test_a_suspended_sentence_is_not_told_it_qualifies_for_qd22(product, first):
    [answer] = chat(product, first)
    t = text(answer)
    assert "không thuộc chương trình này" in t and "hỗ trợ tạo việc làm" in t
    assert "tối đa 100.000.000\u00a0₫, lãi suất" not in t


@pytest.mark.parametrize("first, end", [
    ("Tôi được tha tù trước thời hạn ngày 01/03/2024, muốn vay 50 triệu chăn nuôi", "01/03/2027"),
    ("toi duoc tha tu truoc thoi han ngay 01/03/2024, muon vay 50tr chan nuoi", "1/3/2027"),
])
def test_early_release_is_asked_the_end_of_probation(product, first, end):
    turns = chat(product, first, end)
    assert "thời gian thử thách kết thúc" in text(turns[0])
    t = text(turns[-1])
    assert "hết thời gian thử thách" in t and "01/03/2027" in t and "chưa đủ điều kiện" in t


def test_close_to_the_five_years_says_when_the_loan_must_be_made(product):
    turns = chat(product, "ra tù 01/12/2021, muốn vay 80 triệu chăn nuôi")
    t = text(turns[-1])
    assert "Phải vay trước hết ngày 01/12/2026" in t and "Sắp hết thời hạn" in t
