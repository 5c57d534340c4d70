"""Vietnamese entity extraction (vietnamese.entities): money, date, duration, penalty_type.

Every positive form is checked as typed, without diacritics, in upper case and
in decomposed (NFD) Unicode, with the reported span checked against
``nfc(text)[start:end]``.
"""

from __future__ import annotations

import datetime
import unicodedata

import pytest

from vietnamese.entities import Entity, extract, parse_date, parse_duration, parse_money
from vietnamese.text import fold, nfc

TODAY = datetime.date(2026, 11, 22)

VARIANTS = {
    "typed": lambda s: s,
    "no_diacritics": fold,
    "upper": str.upper,
    "nfd": lambda s: unicodedata.normalize("NFD", s),
}


def _entities(text: str, today: datetime.date = TODAY) -> list[Entity]:
    entities = extract(text, today)
    norm = nfc(text)
    for entity in entities:
        assert entity.text == norm[entity.start : entity.end]
    assert [e.start for e in entities] == sorted(e.start for e in entities)
    for a, b in zip(entities, entities[1:]):
        assert a.end <= b.start, f"overlap: {a} / {b}"
    return entities


def _of_kind(text: str, kind: str, today: datetime.date = TODAY) -> list[tuple[object, str]]:
    return [(e.value, e.text) for e in _entities(text, today) if e.entity == kind]


def _check(kind: str, variant: str, text: str, value: object, span: str, today=TODAY) -> None:
    transform = VARIANTS[variant]
    assert _of_kind(transform(text), kind, today) == [(value, nfc(transform(span)))]


# ---------------------------------------------------------------- money

MONEY = [
    ("vay 50 triệu", 50_000_000, "50 triệu"),
    ("50 triệu đồng", 50_000_000, "50 triệu đồng"),
    ("vay 50tr mở tiệm", 50_000_000, "50tr"),
    ("khoảng 50 tr thôi", 50_000_000, "50 tr"),
    ("cần 50t để mở tiệm", 50_000_000, "50t"),
    ("giá 50.000.000đ", 50_000_000, "50.000.000đ"),
    ("50.000.000 đồng", 50_000_000, "50.000.000 đồng"),
    ("50,000,000 vnd", 50_000_000, "50,000,000 vnd"),
    ("50000000đ", 50_000_000, "50000000đ"),
    ("1,5 tỷ", 1_500_000_000, "1,5 tỷ"),
    ("1.5 tỷ", 1_500_000_000, "1.5 tỷ"),
    ("2 tỷ", 2_000_000_000, "2 tỷ"),
    ("2 tỉ", 2_000_000_000, "2 tỉ"),
    ("200 nghìn", 200_000, "200 nghìn"),
    ("200 ngàn", 200_000, "200 ngàn"),
    ("200k", 200_000, "200k"),
    ("lương 4 triệu/tháng", 4_000_000, "4 triệu"),
    ("100 triệu đồng", 100_000_000, "100 triệu đồng"),
    ("1,5 triệu", 1_500_000, "1,5 triệu"),
    ("1tr5", 1_500_000, "1tr5"),
    ("2 triệu rưỡi", 2_500_000, "2 triệu rưỡi"),
    ("1 tỷ 200 triệu", 1_200_000_000, "1 tỷ 200 triệu"),
    ("vay năm mươi triệu", 50_000_000, "năm mươi triệu"),
    ("một trăm triệu", 100_000_000, "một trăm triệu"),
    ("hai trăm triệu", 200_000_000, "hai trăm triệu"),
    ("mười triệu", 10_000_000, "mười triệu"),
    ("ba mươi lăm triệu", 35_000_000, "ba mươi lăm triệu"),
    ("hai mươi mốt triệu", 21_000_000, "hai mươi mốt triệu"),
    ("một tỷ", 1_000_000_000, "một tỷ"),
    ("một trăm linh năm nghìn", 105_000, "một trăm linh năm nghìn"),
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("text, value, span", MONEY)
def test_money(text, value, span, variant):
    _check("money", variant, text, value, span)


@pytest.mark.parametrize(
    "text",
    [
        "vay 50",
        "tôi cần 50 để làm ăn",
        "sđt 0912345678",
        "gọi 0912345678 nhé",
        "lớp 12",
        "lớp 12D",
        "50 t",  # "t" means triệu only attached to the digits
        "5 dòng",  # "dòng" (line) is not "đồng"
        "vay 2 ngân hàng",
        "vay 2 ngan hang",
        "năm 2023",
        "3 năm",
    ],
)
def test_not_money(text):
    assert _of_kind(text, "money") == []
    assert _of_kind(fold(text), "money") == []


# ---------------------------------------------------------------- date

DATES = [
    ("01/06/2023", "2023-06-01", "01/06/2023"),
    ("ra tù 1/6/2023", "2023-06-01", "1/6/2023"),
    ("1-6-2023", "2023-06-01", "1-6-2023"),
    ("1.6.2023.", "2023-06-01", "1.6.2023"),
    ("2023-06-01", "2023-06-01", "2023-06-01"),
    ("ngày 1 tháng 6 năm 2023", "2023-06-01", "ngày 1 tháng 6 năm 2023"),
    ("ra tù ngày 01/06/2023", "2023-06-01", "ngày 01/06/2023"),
    ("tháng 6 năm 2023", "2023-06", "tháng 6 năm 2023"),
    ("tháng 6/2023", "2023-06", "tháng 6/2023"),
    ("tháng 06-2023", "2023-06", "tháng 06-2023"),
    ("ra trại t5/2025", "2025-05", "t5/2025"),  # texting shorthand for tháng
    ("t3 năm ngoái", "2025-03", "t3 năm ngoái"),
    ("tháng tư năm 2024", "2024-04", "tháng tư năm 2024"),
    ("từ 6/2023", "2023-06", "6/2023"),
    ("năm 2023", "2023", "năm 2023"),
    ("hôm nay", "2026-11-22", "hôm nay"),
    ("hôm qua", "2026-11-21", "hôm qua"),
    ("năm nay", "2026", "năm nay"),
    ("năm ngoái", "2025", "năm ngoái"),
    ("năm trước", "2025", "năm trước"),
    ("năm rồi", "2025", "năm rồi"),
    ("năm kia", "2024", "năm kia"),
    ("tháng này", "2026-11", "tháng này"),
    ("tháng trước", "2026-10", "tháng trước"),
    ("tháng rồi", "2026-10", "tháng rồi"),
    ("2 năm trước", "2024", "2 năm trước"),
    ("hai năm trước", "2024", "hai năm trước"),
    ("3 tháng trước", "2026-08", "3 tháng trước"),
    ("cách đây 2 năm", "2024", "cách đây 2 năm"),
    ("tháng 3 năm ngoái", "2025-03", "tháng 3 năm ngoái"),
    ("ra tù năm ngoái", "2025", "năm ngoái"),
    # The time since the release is the release date (issue 14), to the month.
    ("ra tù được 3 năm rồi", "2023-11", "3 năm rồi"),
    ("ra tù được 2 năm rưỡi", "2024-05", "2 năm rưỡi"),
    ("mãn hạn được 3 tháng", "2026-08", "3 tháng"),
    ("ra trại 2 năm rồi", "2024-11", "2 năm rồi"),
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("text, value, span", DATES)
def test_date(text, value, span, variant):
    _check("date", variant, text, value, span)


@pytest.mark.parametrize(
    "text, today, value",
    [
        ("tháng trước", datetime.date(2026, 1, 15), "2025-12"),
        ("3 tháng trước", datetime.date(2026, 1, 15), "2025-10"),
        ("năm ngoái", datetime.date(2026, 1, 1), "2025"),
        ("hôm qua", datetime.date(2026, 3, 1), "2026-02-28"),
    ],
)
def test_relative_date_rolls_over(text, today, value):
    assert parse_date(text, today) == value


@pytest.mark.parametrize(
    "text",
    [
        "tháng 1",  # no year: not a date
        "ngày 15 tháng 8",
        "15/08",
        "31/02/2023",
        "tháng 13 năm 2023",
        "13/2023",
        "t13/2024",
        "cat5/2025",
        "năm 23",
        "lớp 12",
        "3 năm rồi",  # a duration, not "last year"
        "mấy năm nay",
        "năm ngoài",  # "ngoài" (outside) is not "ngoái"
    ],
)
def test_not_date(text):
    assert _of_kind(text, "date") == []


def test_invalid_month_does_not_fall_back_to_the_year():
    assert _entities("tháng 13 năm 2023") == []


# ---------------------------------------------------------------- duration

DURATIONS = [
    ("3 năm", "P3Y", "3 năm"),
    ("18 tháng", "P18M", "18 tháng"),
    ("2 năm 6 tháng", "P2Y6M", "2 năm 6 tháng"),
    ("2 năm và 6 tháng", "P2Y6M", "2 năm và 6 tháng"),
    ("6 tháng", "P6M", "6 tháng"),
    ("15 ngày", "P15D", "15 ngày"),
    ("2 tuần", "P2W", "2 tuần"),
    ("1 năm rưỡi", "P1Y6M", "1 năm rưỡi"),
    ("3 tháng rưỡi", "P3M15D", "3 tháng rưỡi"),
    ("nửa năm", "P6M", "nửa năm"),
    ("ba năm", "P3Y", "ba năm"),
    ("năm năm", "P5Y", "năm năm"),
    ("mười năm", "P10Y", "mười năm"),
    ("mười lăm năm", "P15Y", "mười lăm năm"),
    ("hai mươi năm", "P20Y", "hai mươi năm"),
    ("bị 3 năm tù", "P3Y", "3 năm"),
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("text, value, span", DURATIONS)
def test_duration(text, value, span, variant):
    _check("duration", variant, text, value, span)


@pytest.mark.parametrize(
    "text",
    ["2 năm trước", "tháng 6 năm 2023", "tháng 13 năm 2023", "năm 2023", "năm nay", "lớp 12"],
)
def test_not_duration(text):
    assert _of_kind(text, "duration") == []
    assert _of_kind(fold(text), "duration") == []


# ---------------------------------------------------------------- penalty_type

PENALTIES = [
    ("bị cảnh cáo", "warning", "cảnh cáo"),
    ("bị phạt tiền", "fine", "phạt tiền"),
    ("cải tạo không giam giữ", "non_custodial", "cải tạo không giam giữ"),
    ("cải tạo ko giam giữ", "non_custodial", "cải tạo ko giam giữ"),
    ("được hưởng án treo", "suspended", "hưởng án treo"),
    ("bị tù treo", "suspended", "tù treo"),
    ("3 năm tù nhưng cho hưởng án treo", "suspended", "tù nhưng cho hưởng án treo"),
    ("phạt tù có thời hạn", "prison", "phạt tù có thời hạn"),
    ("bị phạt tù", "prison", "phạt tù"),
    ("bị 3 năm tù", "prison", "tù"),
    ("lãnh 6 tháng tù", "prison", "tù"),
    ("từng đi tù", "prison", "đi tù"),
    ("ngồi tù 2 năm", "prison", "ngồi tù"),
    ("ở tù", "prison", "ở tù"),
    ("án chung thân", "life", "chung thân"),
    ("tù chung thân", "life", "tù chung thân"),
    ("án tử hình", "death", "án tử hình"),
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("text, value, span", PENALTIES)
def test_penalty_type(text, value, span, variant):
    _check("penalty_type", variant, text, value, span)


@pytest.mark.parametrize(
    "text",
    [
        "ra tù",
        "tôi mới ra tù",
        "tôi ra tù tháng 3",
        "tù",
        "2 năm từ khi về",  # "từ" (since) is not "tù"
    ],
)
def test_not_penalty(text):
    assert _of_kind(text, "penalty_type") == []


# ---------------------------------------------------------------- sentences


def _summary(text: str, today: datetime.date = TODAY) -> list[tuple[str, object]]:
    return [(e.entity, e.value) for e in _entities(text, today)]


def test_headline_sentence():
    text = "toi ra tu thang 3 nam 2024 muon vay 50tr mo tiem sua xe"
    entities = _entities(text)
    assert [(e.entity, e.value, e.text) for e in entities] == [
        ("date", "2024-03", "thang 3 nam 2024"),
        ("money", 50_000_000, "50tr"),
    ]


def test_headline_sentence_with_diacritics():
    text = "Tôi ra tù tháng 3 năm 2024, muốn vay 50tr mở tiệm sửa xe"
    assert _summary(text) == [("date", "2024-03"), ("money", 50_000_000)]


def test_sentence_prison_then_release():
    text = "tôi bị 3 năm tù, ra tù ngày 15/08/2022"
    assert _summary(text) == [
        ("duration", "P3Y"),
        ("penalty_type", "prison"),
        ("date", "2022-08-15"),
    ]
    assert _summary(fold(text)) == _summary(text)


def test_suspended_sentence_with_duration():
    assert _summary("án treo 2 năm") == [("penalty_type", "suspended"), ("duration", "P2Y")]
    assert _summary("an treo 2 nam") == [("penalty_type", "suspended"), ("duration", "P2Y")]


def test_suspended_is_not_prison():
    kinds = [v for k, v in _summary("bị 2 năm tù nhưng cho hưởng án treo") if k == "penalty_type"]
    assert kinds == ["suspended"]


def test_nam_as_five_year_and_this_year():
    assert _summary("vay năm mươi triệu") == [("money", 50_000_000)]
    assert _summary("3 năm") == [("duration", "P3Y")]
    assert _summary("năm 2023") == [("date", "2023")]
    assert _summary("năm năm tù") == [("duration", "P5Y"), ("penalty_type", "prison")]


def test_last_year_against_today():
    assert _summary("năm ngoái", datetime.date(2026, 11, 22)) == [("date", "2025")]


def test_offsets_point_into_nfc_text():
    text = unicodedata.normalize("NFD", "Tôi VAY 50 Triệu từ THÁNG 6/2023")
    entities = _entities(text)
    norm = nfc(text)
    assert [(e.entity, e.value) for e in entities] == [("money", 50_000_000), ("date", "2023-06")]
    assert [norm[e.start : e.end] for e in entities] == ["50 Triệu", "THÁNG 6/2023"]


def test_nothing_in_plain_text():
    assert _entities("xin chào, tôi muốn hỏi về thủ tục xóa án tích") == []
    assert _entities("") == []


def test_entity_is_frozen():
    entity = _entities("50tr")[0]
    with pytest.raises(AttributeError):
        entity.value = 1  # type: ignore[misc]


def test_today_may_be_a_datetime():
    now = datetime.datetime(2026, 11, 22, 10, 30)
    assert extract("hôm nay", now)[0].value == "2026-11-22"


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    "text, value",
    [
        ("50tr", 50_000_000),
        ("50 Triệu", 50_000_000),
        ("50 trieu", 50_000_000),
        ("khoảng 1,5 tỷ ạ", 1_500_000_000),
        ("vay 50", None),
        ("0912345678", None),
    ],
)
def test_parse_money(text, value):
    assert parse_money(text) == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("15/08/2022", "2022-08-15"),
        ("thang 3 nam 2024", "2024-03"),
        ("năm ngoái", "2025"),
        ("tháng 1", None),
        ("31/02/2023", None),
    ],
)
def test_parse_date(text, value):
    assert parse_date(text, TODAY) == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("2 năm 6 tháng", "P2Y6M"),
        ("1 nam ruoi", "P1Y6M"),
        ("nửa năm", "P6M"),
        ("2 năm trước", None),
        ("tháng 6 năm 2023", None),
        ("50 triệu", None),
    ],
)
def test_parse_duration(text, value):
    assert parse_duration(text) == value


@pytest.mark.parametrize(
    "text, penalty",
    [
        ("tù 5 năm, ra tù 01/06/2023", "prison"),
        ("tu 3 nam ra tu 01/06/2023", "prison"),
        ("ra tù 5 năm rồi", None),  # time since release, not a term
    ],
)
def test_bare_tu_before_a_duration(text, penalty):
    found = [e.value for e in extract(text, TODAY) if e.entity == "penalty_type"]
    assert found == ([penalty] if penalty else [])


@pytest.mark.parametrize("text", ["tù trên 5 năm thì bao lâu được xóa án tích", "tu duoi 15 nam thi sao",
                                  "Án tù từ trên 5 năm đến 15 năm"])
def test_a_bound_of_a_range_is_not_a_term(text):
    """"trên 5 năm" names the law's range (more than 5 years), not a 5-year sentence."""
    durations = [e.value for e in extract(text, TODAY) if e.entity == "duration"]
    assert "P5Y" not in durations
