"""Cases the twelfth acceptance set (bench/acceptance_fresh11.yml, written blind on 2026-12-02 before it
was run) found wrong, through the running product: two sentences and two releases in one message, a
negligent traffic death, án treo and the QĐ 22 loan, a 17-year-old and the job-creation loan, a move on
conditional early release, a mentor whose mentee does not pick up, follow-ups after the căn cước and the
quản chế answers, and going abroad on the English page."""

from __future__ import annotations

import pytest

from harness.helpers import both, chat, text
from vietnamese.text import fold

pytestmark = [pytest.mark.stack, pytest.mark.language]


@pytest.mark.parametrize("turns", both("e bị 2 năm tù ra 01/03/2021 tới năm 2022 lại bị bắt xử thêm 1 năm 6 tháng tù tới "
                                       "mới ra lần 2 ngày 15/07/2025 án phí 2 lần đều nộp đủ hỏi bao giờ e sạch án tích"))
def test_two_sentences_and_two_releases_restart_the_period_from_the_second(product, turns):
    """BLHS Điều 73 khoản 2: the period counts again from completing the new sentence (2 years)."""
    [first, *_] = chat(product, *turns)
    said = text(first)
    assert "15/07/2027" in said or "16/07/2027" in said, said
    assert "01/03/2023" not in said and "02/03/2023" not in said, said


@pytest.mark.parametrize("turns", both(
    "Thưa anh chị, năm 2023 chồng tôi lái xe tải gây tai nạn làm chết một người, tòa xử theo khoản 1 Điều 260 Bộ "
    "luật Hình sự, phạt 2 năm tù. Anh ấy đã ra tù tháng 4/2025, bồi thường đầy đủ rồi. Tôi muốn biết bao giờ chồng "
    "tôi hết án tích để anh ấy đi xin việc lái xe."))
def test_a_negligent_traffic_death_under_clause_1_leaves_no_record(product, turns):
    """BLHS Điều 69 khoản 2: a negligent crime that is nghiêm trọng leaves no án tích."""
    [first, *_] = chat(product, *turns)
    said = fold(text(first))
    assert "khong bi coi la co an tich" in said or "khong co an tich" in said, said


@pytest.mark.parametrize("turns", both(
    "Con trai tôi bị án treo 2 năm, nay đã hết thời gian thử thách. Tôi nghe nói có chương trình cho người chấp "
    "hành xong án phạt tù vay vốn không cần thế chấp, cháu có thuộc diện đó không?"))
def test_a_suspended_sentence_is_not_the_qd22_loans_and_the_job_loan_is_named(product, turns):
    [first, *_] = chat(product, *turns)
    said = fold(text(first))
    assert said.startswith("khong") and "tao viec lam" in said, said


@pytest.mark.parametrize("turns", both(
    "Cháu tôi năm nay 17 tuổi, vừa chấp hành xong án, muốn vay vốn giải quyết việc làm để mở quầy sửa điện "
    "thoại. Ở tuổi này cháu có tự đứng tên vay được không?"))
def test_a_job_creation_loan_needs_full_civil_capacity(product, turns):
    [first, *_] = chat(product, *turns)
    assert "18" in text(first), text(first)


@pytest.mark.parametrize("turns", both("e lam mat the can cuoc r lam lai mat bn tien", "bao lau thi lay dc"))
def test_how_long_after_the_id_card_answer_is_the_cards_days(product, turns):
    _, second = chat(product, *turns)
    said = text(second)
    assert "7 ngày" in said and "án tích" not in said, said


@pytest.mark.parametrize("turns", both("bi quan che mun ve que an dam gio thi xin giay phep dc may ngay",
                                       "the con phai bao cao may lan"))
def test_how_often_after_the_quan_che_answer_is_quan_ches_monthly_report(product, turns):
    _, second = chat(product, *turns)
    said = fold(text(second))
    assert "moi thang" in said, said


@pytest.mark.parametrize("turns", both(
    "Em tôi đang trong thời gian thử thách do được tha tù trước thời hạn có điều kiện. Nay em muốn chuyển vào "
    "Bình Dương ở với vợ, thì có được không và phải làm thủ tục gì?"))
def test_moving_on_conditional_early_release_is_the_move_not_the_loan(product, turns):
    [first, *_] = chat(product, *turns)
    said = fold(text(first))
    assert "15 ngay" in said and "vay" not in said, said


@pytest.mark.parametrize("turns", both("e dc phân công giúp đỡ 1 bạn ra tù 3 tuần nay bạn ấy ko nghe máy e có phải báo "
                                       "công an bắt ko"))
def test_a_mentee_not_picking_up_is_no_case_to_work_out(product, turns):
    [first, *_] = chat(product, *turns)
    said = fold(text(first))
    assert said.startswith("khong bat buoc") and "hinh phat chinh" not in said, said


def test_going_abroad_on_a_suspended_sentence_outweighs_the_job_it_is_for(product):
    [replies] = chat(product, "My brother got a suspended sentence and is still in his probation period. A company "
                              "offered him a job in Japan. Is he allowed to go abroad?", locale="en")
    said = text(replies).lower()
    assert "abroad" in said and "job advice" not in said, said
