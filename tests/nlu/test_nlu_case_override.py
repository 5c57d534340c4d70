"""When a message is a person's case to work out (nlu.components.CaseFactsOverride), from what the blind
acceptance sets of 2026-12-02 found: folded, "vậy" is "vay" and names no loan; quản chế or reporting words
in a story that asks about the record keep the case; a message with a loan word or a paper stays its own."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.runtime.rasa_env import rasa_env, rasa_python

# The component imports Rasa, which lives in its own environment: the rules are checked there.
pytestmark = [pytest.mark.stack, pytest.mark.language]

CASES = [
    # "vậy bao giờ anh em hết án tích", folded (acceptance_fresh13)
    "em hoi giup anh trai em. lan dau anh bi 2 nam tu, ra tu ngay 10/3/2021. thang 5/2022 anh lai bi xu 18 thang "
    "tu, ra tu ngay 25/11/2025. vay bao gio anh em moi het an tich?",
    "e bi 2 nam tu toi lua dao ra trai 1/7/2023 toa phat bo sung 10tr ma e chua nop dc dong nao vay e het an tich chua",
    # quản chế in a story that asks about the record (acceptance_fresh12)
    "chong toi bi xu 3 nam tu va 3 nam quan che. anh ay ra trai ngay 20/01/2025, thoi gian quan che den ngay "
    "20/01/2028. xin hoi den ngay nao thi anh ay duoc xoa an tich?",
]
NOT_CASES = [
    "e bi 2 nam tu ra 2024 mun vay von dc ko",                      # a loan
    "ra tu 2024 vay co can the chap ko",                            # "vay có" is the loan
    "bi 2 nam tu, ra thang 3/2025, phieu ly lich tu phap co ghi an khong",   # the certificate
]

_PROBE = """
import json, sys
from nlu.components import CaseFactsOverride as C
from vietnamese.clock import today_in_vietnam
from vietnamese import entities as E
texts = json.load(sys.stdin)
out = []
for t in texts:
    ents = [{"entity": e.entity, "value": e.value} for e in E.extract(t, today_in_vietnam())]
    out.append(C.is_case(t, ents))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def is_case() -> dict[str, bool]:
    texts = CASES + NOT_CASES
    done = subprocess.run([str(rasa_python()), "-c", _PROBE], input=json.dumps(texts), cwd=Path(PROJECT_ROOT),
                          env=rasa_env(), check=True, capture_output=True, text=True)
    return dict(zip(texts, json.loads(done.stdout.strip().splitlines()[-1])))


@pytest.mark.parametrize("text", CASES)
def test_a_story_that_asks_about_the_record_is_the_case(is_case, text):
    assert is_case[text]


@pytest.mark.parametrize("text", NOT_CASES)
def test_a_loan_or_a_paper_keeps_its_own_topic(is_case, text):
    assert not is_case[text]
