"""Vietnamese text normalisation (pure Python, shared by the Rasa components)."""

from __future__ import annotations

import unicodedata

import pytest

from vietnamese.text import Abbreviations, fold, nfc, normalize


def test_fold_removes_diacritics_and_maps_d():
    assert fold("Đăng ký XÓA ÁN TÍCH") == "dang ky xoa an tich"
    assert fold("Người được phân công giúp đỡ") == "nguoi duoc phan cong giup do"


def test_decomposed_input_is_composed():
    decomposed = unicodedata.normalize("NFD", "xóa án tích")
    assert decomposed != "xóa án tích"
    assert nfc(decomposed) == "xóa án tích"
    assert fold(decomposed) == "xoa an tich"


@pytest.mark.parametrize(
    "typed, modern",
    [
        ("hoà giải", "hòa giải"),
        ("sức khoẻ", "sức khỏe"),
        ("thuỷ lợi", "thủy lợi"),
        ("xoá án tích", "xóa án tích"),
        ("HOÀ", "HÒA"),
        ("hoà.", "hòa."),
        ("Hoàng", "Hoàng"),  # closed syllable: the tone stays on the second vowel
        ("khuyến khích", "khuyến khích"),
        ("quý", "quý"),  # "qu" is a consonant
    ],
)
def test_old_style_tone_placement_is_modernised(typed, modern):
    decomposed = unicodedata.normalize("NFD", typed)
    assert normalize(typed) == modern
    assert normalize(decomposed) == modern
    assert len(normalize(typed)) == len(nfc(typed))


@pytest.fixture(scope="module")
def abbr() -> Abbreviations:
    return Abbreviations.load()


@pytest.mark.parametrize(
    "typed, expanded",
    [
        ("toi ko dc vay", "toi không được vay"),
        ("Ko bít j", "không biết gì"),
        ("đúg r, ok", "đúng rồi, đồng ý"),
        ("kô", "không"),
        ("vay 50tr", "vay 50 triệu"),
        ("2ty", "2 tỷ"),
        ("300K", "300 nghìn"),
        ("lam cccd", "lam căn cước công dân"),
        ("e mún hỏi", "em muốn hỏi"),
        # two words read together: "nc" alone is nói chuyện, "nc ngoài" nước ngoài
        ("di nc ngoai dc ko", "di nước ngoài được không"),
        ("đi nc ngoài, dc ko", "đi nước ngoài, được không"),
        ("nc vs ai z", "nói chuyện với ai vậy"),
        ("nop hs xong bao h co kq", "nop hồ sơ xong bao giờ co kết quả"),
    ],
)
def test_abbreviations_expand(abbr, typed, expanded):
    assert abbr.expand(typed) == expanded


def test_one_letter_keys_match_exactly_only(abbr):
    # "à"/"á" fold to "a" but must not become "anh".
    assert abbr.expand("vậy à") == "vậy à"
    assert abbr.expand("a ơi") == "anh ơi"


def test_a_phrase_must_be_two_words(tmp_path):
    bad = tmp_path / "abbr.yml"
    bad.write_text("words:\n  ko: không\nphrases:\n  nc: nước\n", encoding="utf-8")
    with pytest.raises(ValueError, match="two words"):
        Abbreviations.load(bad)


def test_malformed_table_names_the_file(tmp_path):
    bad = tmp_path / "abbr.yml"
    bad.write_text("words:\n  ko: 5\n", encoding="utf-8")
    with pytest.raises(ValueError, match=str(bad)):
        Abbreviations.load(bad)
