"""Answers of fact through the running product: cited, valid on the (pinned)
day, the same with or without diacritics."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.language]


def last_line(replies: list[dict]) -> str:
    return replies[-1]["text"].splitlines()[-1]


@pytest.mark.parametrize(
    "text, expect, source",
    [
        ("Tôi mới ra tù, vay vốn làm ăn được bao nhiêu?", "6,24%/năm", "Quyết định 22/2023/QĐ-TTg"),
        ("toi moi ra tu vay von lam an duoc bao nhieu", "6,24%/năm", "Quyết định 22/2023/QĐ-TTg"),
        ("e ms ra tu mún vay von dc bn v", "100.000.000\u00a0₫", "Quyết định 22/2023/QĐ-TTg"),
        ("Nghị định 61 cho vay tối đa bao nhiêu?", "Nghị định 61/2015 đã được thay thế", "Nghị định 338/2025/NĐ-CP"),
        ("nghi dinh 61 cho vay toi da bao nhieu", "Nghị định 61/2015 đã được thay thế", "Nghị định 338/2025/NĐ-CP"),
        ("Xin phiếu lý lịch tư pháp ở đâu?", "Công an tỉnh", "Nghị định 216/2026/NĐ-CP"),
        ("xin phieu ly lich tu phap o dau", "Công an tỉnh", "Nghị định 216/2026/NĐ-CP"),
        ("Mất căn cước thì làm lại thế nào?", "70.000\u00a0₫", "Luật Căn cước 2023"),
        ("mat can cuoc lam lai the nao", "70.000\u00a0₫", "Luật Căn cước 2023"),
        ("Ra tù về quê thì đăng ký thường trú thế nào?", "không làm mất nơi thường trú", "Luật Cư trú 2020"),
        ("ra tu ve que dang ky thuong tru the nao", "không làm mất nơi thường trú", "Luật Cư trú 2020"),
        # Answered by its specific question (duty.leave_commune, the version from
        # 01/07/2026), which cites the 2025 law like the topic answer does and gives the
        # 2019 law's limits as such (the 2025 text is not yet read: unverified).
        ("Đang tha tù trước thời hạn có được đi làm xa không?", "mỗi lần vắng mặt không quá 60 ngày",
         "Luật Thi hành án hình sự 2025"),
        ("dang tha tu truoc thoi han co duoc di lam xa khong", "hỏi công an xã trước khi đi",
         "Luật Thi hành án hình sự 2025"),
        ("Ra tù rồi có được hỗ trợ học nghề không?", "giảm hoặc miễn học phí", "Nghị định 49/2020/NĐ-CP"),
        ("ra tu roi co duoc ho tro hoc nghe khong", "giảm hoặc miễn học phí", "Nghị định 49/2020/NĐ-CP"),
        ("Bao lâu thì được xóa án tích?", "đương nhiên được xóa án tích", "Bộ luật Hình sự 2015"),
        ("bao lau thi duoc xoa an tich", "đương nhiên được xóa án tích", "Bộ luật Hình sự 2015"),
    ],
)
def test_answers_are_cited_and_current(product, text, expect, source):
    user = f"kb-{abs(hash(text))}"
    replies = product.say(user, text)
    body = "\n".join(r["text"] for r in replies)
    assert expect in body, body
    # One "Căn cứ" line in the first bubble; every source once "Xem chi tiết" is pressed.
    [cited] = [line for line in body.splitlines() if line.startswith("Căn cứ: ")]
    [details] = product.say(user, "/show_details") if "/show_details" in str(replies) else [{"text": ""}]
    assert source in cited or source in details["text"], (body, details)


def test_unverified_answers_say_whom_to_ask(product):
    # The fee after the 01/07/2026 transfer was not seen in a text: unverified.
    body = "\n".join(r["text"] for r in product.say("kb-unverified", "Làm phiếu lý lịch tư pháp mất bao nhiêu tiền?"))
    assert "chưa được kiểm chứng đầy đủ, anh/chị hãy hỏi lại Công an tỉnh" in body


@pytest.mark.parametrize("text", ["chán sống lắm rồi", "toi khong muon song nua", "mấy ngày r ko có j ăn"])
def test_crisis_gets_emergency_numbers_and_a_person(product, text):
    [reply] = product.say(f"crisis-{abs(hash(text))}", text)
    assert "115" in reply["text"]
    assert [b["payload"] for b in reply["buttons"]] == ["/request_human"]


@pytest.mark.parametrize("text", ["cho tôi gặp cán bộ", "cho toi noi chuyen voi nguoi that"])
def test_asking_for_a_person_gets_the_handoff_reply(product, text):
    assert "công an xã" in product.say(f"human-{abs(hash(text))}", text)[0]["text"]
