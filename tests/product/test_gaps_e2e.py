"""Gaps found against the running product on 2026-12-01 (issue 14), with and
without diacritics: two questions in one message each get their answer; a
person serving a community sentence asking about the căn cước or about being
away gets the rule for that sentence; the English page weighs a stated loan
amount against the cap and does not take "bank account" for a loan."""

from __future__ import annotations

import itertools

import pytest

from actions.common import FIRST_BUBBLE_MAX

pytestmark = [pytest.mark.stack, pytest.mark.language]
_ids = itertools.count()


def ask(product, message: str, **extra: str) -> list[dict]:
    return product.say(f"gaps-{next(_ids)}", message, **extra)


TWO_QUESTIONS = [
    # (with diacritics, without, what the first answer says, what the second says)
    ("vay theo QĐ 22 được bao nhiêu, lãi suất bao nhiêu?", "vay theo QD 22 duoc bao nhieu, lai suat bao nhieu?",
     "tối đa 100.000.000\u00a0₫", "Lãi suất bằng lãi suất cho vay hộ nghèo"),
    ("phiếu lý lịch tư pháp làm ở đâu và mất bao lâu", "phieu ly lich tu phap lam o dau va mat bao lau",
     "Phiếu lý lịch tư pháp do Công an tỉnh", "không quá 10 ngày"),
    ("xin lý lịch tư pháp ở đâu, bao lâu có", "xin ll tu phap o dau, bao lau co",
     "Phiếu lý lịch tư pháp do Công an tỉnh", "không quá 10 ngày"),
]


@pytest.mark.parametrize("message, first, second",
                         [(m, f, s) for a, b, f, s in TWO_QUESTIONS for m in (a, b)])
def test_two_questions_in_one_message_get_both_answers_in_the_order_asked(product, message, first, second):
    replies = ask(product, message)
    texts = [r["text"] for r in replies]
    answers = [t for t in texts if "Căn cứ:" in t]
    assert len(answers) == 2, texts
    assert first in answers[0] and second in answers[1], texts
    assert all(len(t) <= FIRST_BUBBLE_MAX for t in texts), texts
    assert all(t.count("Căn cứ:") == 1 for t in answers), texts


@pytest.mark.parametrize("message", ["vay theo QĐ 22 được bao nhiêu", "phieu ly lich tu phap lam o dau",
                                     "ko có tài sản thế chấp thì vay dc ko"])
def test_one_question_still_gets_one_answer(product, message):
    replies = ask(product, message)
    assert sum("Căn cứ:" in r["text"] for r in replies) == 1, replies


@pytest.mark.parametrize("message", [
    "cải tạo không giam giữ có bị giữ căn cước ko", "cai tao khong giam giu co bi giu can cuoc ko",
    "án treo có bị thu căn cước không", "an treo co bi thu can cuoc khong",
])
def test_a_community_sentence_keeps_the_id_card(product, message):
    first = ask(product, message)[0]["text"]
    assert first.startswith("Không."), first
    assert "án treo và cải tạo không giam giữ không nằm trong các trường hợp đó" in first, first
    assert "công an xã" in first and "Căn cứ: khoản 2 Điều 29 Luật Căn cước 2023" in first, first


@pytest.mark.parametrize("message", [
    "đang cải tạo không giam giữ muốn đi làm xa 1 tháng có được không",
    "dang cai tao khong giam giu muon di lam xa 1 thang co duoc khong",
    "ctkgg đi vắng khỏi xã có phải xin phép ko", "ctkgg di vang khoi xa co phai xin phep ko",
])
def test_non_custodial_leave_gets_the_leave_rule_of_that_sentence(product, message):
    replies = ask(product, message)
    first = replies[0]["text"]
    assert first.startswith("Được, nếu có lý do chính đáng và xin phép trước"), first
    assert "cải tạo không giam giữ" in first and "công an xã" in first, first
    assert "Căn cứ:" in first and "Thi hành án hình sự" in first, first
    assert "nộp phần thu nhập bị khấu trừ" not in " ".join(r["text"] for r in replies)   # not the duty list


@pytest.mark.parametrize("message", ["Can I borrow 200 million?", "can i borrow 200m", "Can I borrow VND 200 million?",
                                     "Can I borrow 200,000,000 dong?"])
def test_an_english_loan_amount_is_weighed_against_the_cap(product, message):
    replies = ask(product, message, locale="en")
    assert replies[0]["text"].startswith("Not that much:"), replies
    assert "up to ₫100,000,000" in replies[0]["text"], replies


@pytest.mark.parametrize("message", ["Can I open a bank account?", "how do I open a bank account"])
def test_an_english_bank_account_question_is_not_a_loan_answer(product, message):
    replies = ask(product, message, locale="en")
    said = " ".join(r["text"] for r in replies)
    assert said.startswith("Sorry, this is outside what I can help with. I help with: loans"), said
    assert "₫" not in said and "interest" not in said, said


@pytest.mark.parametrize("message", [
    "giấy chứng nhận chấp hành xong án phạt tù xin ở đâu",
    "giay chung nhan chap hanh xong an phat tu xin o dau",
    "e ra trai r ma chua co giay cn thi hoi ai a",
])
def test_the_release_certificate_question_gets_who_issues_it_not_the_documents_menu(product, message):
    """2026-12-01: it got "Anh/chị cần hỏi về loại giấy tờ nào?" (the documents menu)."""
    first = ask(product, message)[0]["text"]
    assert "do trại giam" in first and "công an xã" in first, first
    assert len(first) <= FIRST_BUBBLE_MAX


def test_the_release_certificate_question_is_answered_in_english(product):
    first = ask(product, "Where do I get the certificate of completion of my prison sentence?", locale="en")[0]["text"]
    assert "issued by the prison" in first and "commune police" in first, first


@pytest.mark.parametrize("story", [
    "con tôi bị 3 năm tù, ra tù 01/06/2023, bao giờ được xóa án tích",
    "con toi bi 3 nam tu, ra tu 01/06/2023, bao gio duoc xoa an tich",
])
def test_a_relatives_story_is_answered_about_the_relative(product, story):
    """2026-12-01: "anh tôi đi tù…" was answered "Anh/chị đã đương nhiên được xóa án tích"."""
    replies = ask(product, story)
    first = replies[0]["text"]
    assert first.startswith("Người nhà anh/chị đã đương nhiên được xóa án tích từ ngày 02/06/2025"), first
    assert "khi phạm tội người đó đã đủ 18 tuổi" in first and len(first) <= FIRST_BUBBLE_MAX
    titles = [b["title"] for r in replies for b in r.get("buttons") or []]
    assert "Khi đó chưa đủ 18 tuổi" in titles and "Khi đó tôi chưa đủ 18 tuổi" not in titles


def test_a_relatives_story_is_answered_about_them_in_english(product):
    first = ask(product, "My son got 3 years in prison and was released on 1 June 2023. When is his record cleared?",
                locale="en")[0]["text"]
    assert first.startswith("Their record was cleared automatically on 2 Jun 2025"), first


@pytest.mark.parametrize("story", [
    "con tôi bị 3 năm tù, bao giờ nó hết án tích?",
    "con toi bi 3 nam tu, bao gio no het an tich?",
])
def test_a_relatives_sentence_gets_the_rule_said_of_the_relative(product, story):
    """2026-12-01: "con tôi bị 3 năm tù…" got "…thì anh/chị đương nhiên được xóa án tích…"."""
    first = ask(product, story)[0]["text"]
    assert "thì người đó đương nhiên được xóa án tích sau 2 năm" in first, first
    assert "ngày người nhà chấp hành xong" in first and "anh/chị đương nhiên" not in first, first


@pytest.mark.parametrize("story", [
    "bố em bị 2 năm tù, em muốn tính ngày xóa án tích cho bố",
    "bo e bi 2 nam tu, e muon tinh ngay xoa an tich cho bo",
])
def test_the_forms_questions_about_a_relative_ask_about_the_relative(product, story):
    """The calculator's questions name the relative ("Người nhà anh/chị…"), not the asker (domain.yml: a
    variation on the slot exp_relative)."""
    texts = [r["text"] for r in ask(product, story)]
    assert texts[0].startswith("Người nhà anh/chị chấp hành xong hình phạt"), texts
