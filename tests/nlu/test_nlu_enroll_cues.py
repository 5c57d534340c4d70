"""``enroll`` needs a code or a word of registering (nlu.components.EnrollNeedsEnrollWords): folded,
the conjunction "mà" is "ma" like "mã" (code), and "ma nop ho so o dau ad" asked after a loan answer
was taken for a registration code (bench/acceptance_fresh8.yml). Every enroll training example keeps
its intent."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

components = pytest.importorskip("nlu.components")
ROOT = Path(__file__).resolve().parents[2]


def _enroll_examples() -> list[str]:
    out = []
    for name in ("supervision.yml", "generated.yml"):
        for item in yaml.safe_load((ROOT / "data" / "nlu" / name).read_text(encoding="utf-8"))["nlu"]:
            if item.get("intent") == "enroll":
                out += [line.strip()[2:] for line in item["examples"].splitlines() if line.strip()]
    return out


def test_every_enroll_example_has_a_cue():
    missing = [e for e in _enroll_examples() if not components.EnrollNeedsEnrollWords.says_thanks(e)]
    assert not missing, missing


@pytest.mark.parametrize("text", ["ma nop ho so o dau ad", "mà nộp hồ sơ ở đâu ạ", "ma bao lau thi co tien",
                                  "mà có cần thế chấp không"])
def test_a_question_opened_by_ma_is_not_enrollment(text):
    assert not components.EnrollNeedsEnrollWords.says_thanks(text)


@pytest.mark.parametrize("text", ["mã của em là 8HX2KD ạ", "K3J9RM", "nhập mã rồi mà chưa thấy liên kết",
                                  "I have a registration code", "mã hết hạn thì xin lại thế nào"])
def test_codes_and_registration_words_stay_enrollment(text):
    assert components.EnrollNeedsEnrollWords.says_thanks(text)


def test_thanks_still_needs_thanks():
    assert components.ThanksNeedThanksWords.says_thanks("cam on ad")
    assert not components.ThanksNeedThanksWords.says_thanks("e can it von de lam an")
