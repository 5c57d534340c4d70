"""Crisis terms: found with or without diacritics and abbreviations, never
invented by folding a different accented word."""

from __future__ import annotations

import pytest

from vietnamese.crisis import CrisisLexicon


@pytest.fixture(scope="module")
def lexicon() -> CrisisLexicon:
    return CrisisLexicon.load()


@pytest.mark.parametrize(
    "text, category",
    [
        ("Tôi không muốn sống nữa", "self_harm"),
        ("chan song lam roi", "self_harm"),
        ("toi muon tu tu", "self_harm"),
        ("mấy ngày r ko có j ăn", "hunger"),
        ("con bi duoi khoi nha roi", "no_shelter"),
        ("tối nay em không có chỗ ngủ", "no_shelter"),
        ("mik lại dùng đá r, ko dừng dc", "relapse"),
        ("có người dọa giết tôi", "violence"),
    ],
)
def test_crisis_messages_are_found(lexicon, text, category):
    assert category in {m.category for m in lexicon.matches(text)}


@pytest.mark.parametrize(
    "text",
    [
        "tôi ra tù từ năm ngoái, muốn vay vốn",  # "tù từ" is not "tự tử"
        "toi ra tu tu nam ngoai muon vay von",  # ambiguous without diacritics: not a crisis
        "cứ từ từ rồi tính",
        "người được hưởng án treo có được ra khỏi xã không",
        "an treo co duoc di khoi tinh khong",  # "treo co" is not "treo cổ" here
        "dùng đá chườm cho đỡ đau",
        "tôi muốn vay vốn mở quán",
    ],
)
def test_ordinary_messages_are_not_crises(lexicon, text):
    assert lexicon.matches(text) == []


def test_malformed_file_names_the_entry(tmp_path):
    bad = tmp_path / "crisis.yml"
    bad.write_text("self_harm:\n  - {phrase: '', without_diacritics: false}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"self_harm\[0\]"):
        CrisisLexicon.load(bad)
