"""The story forms the seventh blind set (bench/acceptance_fresh5.yml) found misread, each read
without a model (entities from vietnamese.entities, the actions' own extraction)."""

from __future__ import annotations

import datetime as dt

import pytest

from actions import expungement as exp
from vietnamese.entities import extract as entities
from vietnamese.text import fold

TODAY = dt.date(2026, 12, 1)


def ents_of(text: str) -> list[dict]:
    return [{"entity": e.entity, "value": e.value, "start": e.start, "end": e.end} for e in entities(text, TODAY)]


def dates_in(text: str) -> list[str]:
    return [str(e["value"]) for e in ents_of(text) if e["entity"] == "date"]


@pytest.mark.parametrize("text, date", [
    ("e bi 1 nam 6 thang tu, ms ra dc 3 thang, ko no j ai, bh het an tich", "2026-09"),   # "ra" then "được"
    ("em bị 2 năm tù, mới ra được 5 tháng", "2026-07"),
    ("e ra tu 4 nam 10 thang r, gio lam ho so vay qd22 con kip ko ad", "2022-02"),       # years and months
    ("tôi ra tù được 1 năm 3 tháng rồi", "2025-09"),
])
def test_time_since_release_is_a_release_date(text, date):
    assert dates_in(fold(text)) == [date] or dates_in(text) == [date]


@pytest.mark.parametrize("text", ["bi 4 nam 10 thang tu", "ra tu 4 nam 10 thang"])
def test_a_sentence_or_an_unclear_span_stays_a_duration(text):
    assert dates_in(text) == []


@pytest.mark.parametrize("text, completed", [
    ("Tôi bị 2 năm tù và phạt bổ sung 20 triệu đồng, ra tù ngày 1/10/2024, tiền phạt bổ sung nộp xong "
     "tháng 3/2025. Khi nào tôi hết án tích?", "2024-10-01"),
    ("toi bi 2 nam tu, nop phat xong 5/3/2025, ra tu 1/10/2024", "2024-10-01"),
    ("bị 3 năm tù, ra tù 01/06/2023", "2023-06-01"),
])
def test_a_payment_date_is_not_the_completion(text, completed):
    said = exp.extract({"text": text, "entities": ents_of(text)}, None, TODAY)
    assert said["exp_completed_on"] == completed


@pytest.mark.parametrize("text", [
    "bi 8 nam tu toi xam pham an ninh quoc gia thi bn lau sau moi dc xin toa xoa an tich",
    "Bị 8 năm tù về tội xâm phạm an ninh quốc gia thì bao lâu được xóa án tích?",
])
def test_a_national_security_sentence_gets_the_court_period(text):
    said = exp.extract({"text": text, "entities": ents_of(text)}, None, TODAY)
    assert said["exp_special_chapter"] is True
    answer = fold(exp.rule_answer(said, TODAY, "vi"))
    assert "5 nam" in answer and "so tham" in answer and "3 nam" not in answer
    assert "court" in exp.rule_answer(said, TODAY, "en")


def test_an_ordinary_sentence_keeps_the_automatic_period():
    text = "bi 8 nam tu thi bao lau dc xoa an tich"
    said = exp.extract({"text": text, "entities": ents_of(text)}, None, TODAY)
    answer = fold(exp.rule_answer(said, TODAY, "vi"))
    assert "3 nam" in answer and "duong nhien" in answer


@pytest.mark.parametrize("text, completed", [
    ("em bị 3 năm tù, ra tù 5/5/2023, đã nộp xong án phí ngày 10/8/2023, khi nào được xóa án tích", "2023-05-05"),
    ("e bi 2 nam tu, ra trai 1/2/2024, boi thuong xong ngay 3/6/2024, bh het an tich", "2024-02-01"),
    ("năm 2019 bị 2 năm tù, ra tù ngày 3/4/2021", "2021-04-03"),
])
def test_a_fee_or_compensation_paid_after_release_is_not_the_completion(text, completed):
    said = exp.extract({"text": text, "entities": ents_of(text)}, None, TODAY)
    assert said["exp_completed_on"] == completed
