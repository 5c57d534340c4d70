"""Conversations typed the way many people type: without diacritics, with
abbreviations. Each must reach the same answer as the accented question."""

from __future__ import annotations

import itertools

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.language]
_ids = itertools.count()


@pytest.mark.parametrize(
    "typed, expect",
    [
        ("chao ban", "Xin chào anh/chị!"),
        ("alo co ai ko", "Xin chào anh/chị!"),
        ("cam on nhieu nha", "Không có gì ạ."),
        ("thoi chao nhe", "Chào anh/chị, chúc anh/chị"),
        ("ban giup dc gi", "Anh/chị muốn hỏi về việc gì?"),
        ("gia vang hom nay bn", "Xin lỗi, việc này nằm ngoài"),
        ("ra tu roi vay von o dau", "tổ tiết kiệm và vay vốn"),
        ("lai suat vay von cho ng ra tu bn", "6,24%/năm"),
        ("vay von co can the chap ko", "không phải thế chấp"),
        # since 2026-12-02 the entry loan.jobs.old_loan answers it: old contracts continue under NĐ 61
        ("nd 61 con ap dung ko", "ký trước 01/01/2026 tiếp tục thực hiện theo hợp đồng"),
        ("bao lau thi het an tich", "đương nhiên được xóa án tích"),
        ("lam giay to sau khi ra tu", "Anh/chị cần hỏi về loại giấy tờ nào?"),
        ("lam lltp o dau", "Phiếu lý lịch tư pháp do Công an tỉnh"),
        ("le phi xin ly lich tu phap bn", "200.000\u00a0₫"),
        ("phieu lltp so 1 va so 2 khac nhau the nao", "phiếu số 2"),
        ("dang ky tam tru the nao", "VNeID"),   # where and online: the residence.where question
        ("ho khau cua toi con ko sau khi di tu", "không làm mất nơi thường trú"),
        ("mat cccd lam lai mat bao lau", "7 ngày làm việc"),
        ("dang an treo co dc di nuoc ngoai ko", "không được xuất cảnh"),
        ("ra tu kiem viec lam o dau", "Trung tâm dịch vụ việc làm"),
        ("co hoi cho viec lam ko", "hội chợ việc làm"),
        ("toi muon bao cao thang nay", "Báo cáo định kỳ"),
        ("cho toi gap can bo", "công an xã"),
        ("toi ko muon song nua", "115"),
        ("xin chao, toi moi ra trai", "Xin chào anh/chị!"),
        ("tks ad nhe", "Không có gì ạ."),
        ("menu", "Anh/chị muốn hỏi về việc gì?"),
        ("vay hoc nghe dc bn 1 thang", "4.000.000\u00a0₫/tháng"),
        ("vay von ngan hang chinh sach can dieu kien gi", "giấy chứng nhận chấp hành xong án phạt tù"),
        ("nghi dinh 338 cho vay toi da bn", "200.000.000\u00a0₫"),
        ("xoa an tich can lam thu tuc gi", "đương nhiên được xóa án tích"),
        ("xin lltp online dc ko", "VNeID"),
        ("ly lich tu phap mat bao nhieu tien", "200.000\u00a0₫"),
        ("can cuoc bi giu khi di tu co dc tra lai ko", "được trả lại khi chấp hành xong"),
        ("chuyen ve o nha vo thi dang ky cu tru sao", "vợ hoặc chồng, con thì đăng ký thường trú"),
        ("dang tha tu truoc thoi han muon di lam xa phai lam gi", "hỏi công an xã trước khi đi"),
        # Answered by its specific question (support.psychological), not the topic.
        ("ra trai co dc ho tro tam ly ko", "Tư vấn tâm lý"),
        ("e can nguoi giup do tim viec", "Trung tâm dịch vụ việc làm"),
        ("ko hieu gi het", "Anh/chị muốn hỏi về việc gì?"),
        ("may ngay roi e ko co gi an", "115"),
        ("co nguoi doa giet toi", "115"),
        ("noi chuyen voi nguoi that dc ko", "công an xã"),
        ("thoi ko hoi nua, bye", "Chào anh/chị, chúc anh/chị"),
        ("em bi duoi khoi nha roi", "115"),
    ],
)
def test_typed_without_diacritics(product, typed, expect):
    replies = product.chat(f"plain-{next(_ids)}").say(typed)   # a browser on the page, not yet enrolled
    assert expect in "\n".join(r["text"] for r in replies), replies


def test_expungement_calculation_without_diacritics(product):
    user = f"plain-{next(_ids)}"
    replies = product.say(user, "an treo 2 nam, het thu thach 15/03/2024, bao gio xoa an tich")  # answer first
    assert "từ ngày 16/03/2025" in "\n".join(r["text"] for r in replies)


def test_loan_check_in_teencode(product):
    user = f"plain-{next(_ids)}"
    replies = product.say(user, "e ra tu t5/2025 mun vay 40tr nuoi heo, da co giay r")
    assert "100.000.000\u00a0₫" in "\n".join(r["text"] for r in replies)
