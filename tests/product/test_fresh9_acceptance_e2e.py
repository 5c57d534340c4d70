"""Cases the ninth acceptance set (bench/acceptance_fresh9.yml, written on 2026-12-01 before it was
run) found wrong, through the running product (today pinned as for the other product tests; no
date depends on it): short follow-ups answered about the previous answer's topic, thanks followed
by a question, the roles of officers and mentors, and English questions that name no topic."""

from __future__ import annotations

import pytest

from harness.helpers import VIETNAMESE_LETTERS, both, chat, text

pytestmark = [pytest.mark.stack, pytest.mark.language]


def english(said: str) -> bool:
    return not VIETNAMESE_LETTERS.search(said.replace("Lối Về", ""))


@pytest.mark.parametrize("turns", both("giờ xin phiếu lý lịch tư pháp ở đâu", "mất bao nhiêu tiền"))
def test_how_much_after_the_certificate_answer_is_the_certificate_fee(product, turns):
    first, second = chat(product, *turns)
    assert "200.000" in text(second), text(second)


@pytest.mark.parametrize("turns", both("Người chấp hành xong án phạt tù được vay tối đa bao nhiêu?", "thế còn lãi suất?"))
def test_what_about_the_rate_after_the_loan_answer(product, turns):
    first, second = chat(product, *turns)
    assert "6,24" in text(second), text(second)


@pytest.mark.parametrize("turns", both("Bị án treo thì bao lâu được xóa án tích?", "nếu chưa nộp án phí thì sao"))
def test_what_if_unpaid_after_an_expungement_answer(product, turns):
    first, second = chat(product, *turns)
    said = text(second)
    assert "án phí" in said or "bồi thường" in said, said
    assert "vay" not in said.lower(), said


@pytest.mark.parametrize("turns", both("Ra tù rồi thì hộ khẩu thường trú có bị xóa không?", "cảm ơn, thế tạm trú thì sao"))
def test_thanks_then_a_question_gets_the_question_answered(product, turns):
    first, second = chat(product, *turns)
    said = text(second)
    # answered (where to register; when tạm trú is needed would be better: see acceptance_fresh9's header)
    assert "Không có gì" not in said and ("tạm trú" in said.lower() or "VNeID" in said), said


@pytest.mark.parametrize("turns", both("Tôi được xã phân công giúp đỡ một người mới ra tù, tôi phải làm gì?",
                                       "báo cáo cho ai, khi nào?"))
def test_the_mentors_report_after_the_mentors_role(product, turns):
    first, second = chat(product, *turns)
    said = text(second)
    assert "UBND xã" in said and "quý" in said, said


@pytest.mark.parametrize("turns", both("Tôi là công an xã, người chấp hành xong án phạt tù về địa phương thì tôi phải làm những gì?"))
def test_the_commune_polices_role(product, turns):
    [first] = chat(product, *turns)
    said = text(first)
    assert "hồ sơ" in said and "hằng tháng" in said, said


@pytest.mark.parametrize("turns", both("ủy ban xã phải làm những gì khi có người ra tù về xã"))
def test_the_commune_committees_role(product, turns):
    [first] = chat(product, *turns)
    assert "phân công" in text(first), text(first)


@pytest.mark.parametrize("turns", both("người tôi giúp đỡ cả tháng nay không liên lạc được, tôi có phải báo công an không"))
def test_a_mentor_who_cannot_reach_the_person_has_no_duty_to_report_them(product, turns):
    [first] = chat(product, *turns)
    assert "không có nghĩa vụ" in text(first), text(first)


def test_an_english_question_on_no_topic_gets_the_english_out_of_scope_reply(product):
    [first] = chat(product, "Who won the World Cup?", locale="en")
    said = text(first)
    assert "outside what I can help with" in said and english(said), said


def test_a_rough_day_in_english_is_distress_not_goodbye(product):
    [first] = chat(product, "Rough day today, another employer said no because of my record", locale="en")
    said = text(first)
    assert "goodbye" not in said.lower() and "115" not in said and english(said), said


def test_vietnamese_topic_words_on_the_english_page(product):
    [first] = chat(product, "how do I get ly lich tu phap", locale="en")
    said = text(first)
    assert "VNeID" in said and english(said), said
