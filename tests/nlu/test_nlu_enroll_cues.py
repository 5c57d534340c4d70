"""``enroll`` needs a code or a word of registering (nlu.components.EnrollNeedsEnrollWords): folded,
the conjunction "mà" is "ma" like "mã" (code), and "ma nop ho so o dau ad" asked after a loan answer
was taken for a registration code (bench/acceptance_fresh8.yml). Every enroll training example keeps
its intent."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.runtime.rasa_env import rasa_env, rasa_python

# The components import Rasa, which lives in its own environment: the cues are checked there.
pytestmark = [pytest.mark.stack, pytest.mark.language]
ROOT = Path(PROJECT_ROOT)

QUESTIONS_OPENED_BY_MA = ["ma nop ho so o dau ad", "mà nộp hồ sơ ở đâu ạ", "ma bao lau thi co tien",
                          "mà có cần thế chấp không"]
CODES_AND_REGISTERING = ["mã của em là 8HX2KD ạ", "K3J9RM", "nhập mã rồi mà chưa thấy liên kết",
                         "I have a registration code", "mã hết hạn thì xin lại thế nào"]
THANKS = ["cam on ad"]
NOT_THANKS = ["e can it von de lam an"]


def _enroll_examples() -> list[str]:
    out = []
    for name in ("supervision.yml", "generated.yml"):
        for item in yaml.safe_load((ROOT / "data" / "nlu" / name).read_text(encoding="utf-8"))["nlu"]:
            if item.get("intent") == "enroll":
                out += [line.strip()[2:] for line in item["examples"].splitlines() if line.strip()]
    return out


_PROBE = """
import json, sys
from nlu.components import EnrollNeedsEnrollWords as E, ThanksNeedThanksWords as T
texts = json.load(sys.stdin)
print(json.dumps({"enroll": [E.says_thanks(t) for t in texts["enroll"]],
                  "thanks": [T.says_thanks(t) for t in texts["thanks"]],
                  "asks": [E.asks_after_thanks(t) for t in texts["enroll"]]}))
"""


@pytest.fixture(scope="module")
def cues() -> dict[str, dict[str, bool]]:
    enroll = _enroll_examples() + QUESTIONS_OPENED_BY_MA + CODES_AND_REGISTERING
    thanks = THANKS + NOT_THANKS
    done = subprocess.run([str(rasa_python()), "-c", _PROBE], input=json.dumps({"enroll": enroll, "thanks": thanks}),
                          cwd=ROOT, env=rasa_env(), check=True, capture_output=True, text=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return {"enroll": dict(zip(enroll, out["enroll"])), "thanks": dict(zip(thanks, out["thanks"])),
            "asks": dict(zip(enroll, out["asks"]))}


def test_every_enroll_example_has_a_cue(cues):
    missing = [e for e in _enroll_examples() if not cues["enroll"][e]]
    assert not missing, missing


@pytest.mark.parametrize("text", QUESTIONS_OPENED_BY_MA)
def test_a_question_opened_by_ma_is_not_enrollment(cues, text):
    assert not cues["enroll"][text]


@pytest.mark.parametrize("text", CODES_AND_REGISTERING)
def test_codes_and_registration_words_stay_enrollment(cues, text):
    assert cues["enroll"][text]
    assert not cues["asks"][text]   # a code followed by a question is still enrollment


def test_thanks_still_needs_thanks(cues):
    assert all(cues["thanks"][t] for t in THANKS)
    assert not any(cues["thanks"][t] for t in NOT_THANKS)
