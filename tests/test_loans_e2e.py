"""The loan pre-check as a conversation through the running product
(today pinned to 2026-11-22)."""

from __future__ import annotations

import itertools

import pytest

pytestmark = pytest.mark.stack
_ids = itertools.count()


def chat(product, *turns: str) -> list[list[dict]]:
    user = f"loan-{next(_ids)}"
    return [product.say(user, t) for t in turns]


def text(replies: list[dict]) -> str:
    return "\n".join(r["text"] for r in replies)


@pytest.mark.parametrize("first, yes", [
    ("Tôi ra tù tháng 3 năm 2024, muốn vay 50 triệu mở tiệm sửa xe", "/affirm"),
    ("toi ra tu thang 3 nam 2024 muon vay 50tr mo tiem sua xe", "da co"),
])
def test_a_returnee_gets_the_programmes_that_fit(product, first, yes):
    turns = chat(product, first, yes)
    assert "giấy chứng nhận chấp hành xong" in text(turns[0])
    [fits, how] = turns[1]
    assert "tối đa 100.000.000\u00a0₫, lãi suất 6,24%/năm" in fits["text"]
    assert "Không cần tài sản bảo đảm" in fits["text"]
    assert "Nộp hồ sơ trước ngày 31/03/2029" in fits["text"]
    assert "200.000.000\u00a0₫" in fits["text"] and "7,92%/năm" in fits["text"]
    assert "Giấy tờ cần chuẩn bị" in how["text"] and "Phòng giao dịch Ngân hàng Chính sách xã hội" in how["text"]
    assert how["text"].splitlines()[-1].startswith("Căn cứ: Điều 3–10 Quyết định 22/2023/QĐ-TTg")


def test_general_question_offers_the_check(product):
    [answer] = chat(product, "vay vốn")
    assert answer[-1]["buttons"] == [{"title": "Kiểm tra điều kiện vay", "payload": "/check_loan"}]


def test_training_loan_via_buttons(product):
    turns = chat(product, "/check_loan", '/inform{"loan_purpose": "training"}', "/affirm", "15/03/2024")
    assert "Học nghề" in [b["title"] for b in turns[0][-1]["buttons"]]
    assert "4.000.000\u00a0₫/tháng" in text(turns[-1])
    assert "hỗ trợ tạo việc làm" not in text(turns[-1])


def test_without_the_certificate_it_does_not_fit_yet(product):
    turns = chat(product, "toi muon vay 30tr lam an", "chua co", "01/02/2025")
    assert "chưa đủ điều kiện" in text(turns[-1]) and "hết thời gian thử thách" in text(turns[-1])


def test_after_five_years_the_deadline_has_passed(product):
    turns = chat(product, "ra tù 01/06/2020, muốn vay 80 triệu chăn nuôi", "/affirm")
    assert "đã hết vào ngày 01/06/2025" in text(turns[-1])


def test_cancel_leaves_the_form(product):
    turns = chat(product, "/check_loan", "hủy", "cảm ơn")
    assert turns[1][0]["text"] == "Vâng, tôi đã dừng việc tính."
    assert turns[2][0]["text"].startswith("Không có gì")


def test_naming_decree_61_gets_the_rules_not_a_form(product):
    [answer] = chat(product, "Nghị định 61 cho vay 50 triệu được không")
    assert "Nghị định 61/2015 đã được thay thế" in text(answer)
