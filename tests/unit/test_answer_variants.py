"""An entry's answer for a particular case the message names (``variant_of``,
issue 14 gaps of 2026-12-01): a community sentence asking about the căn cước gets
the rule for that sentence, a person serving cải tạo không giam giữ asking about
being away gets that sentence's leave rule, with and without diacritics; other
messages keep the entry's own answer."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.knowledge import KnowledgeBase, KnowledgeError
from bot.i18n import formatters
from vietnamese import text as vtext

KB = KnowledgeBase.load()
ABBR = vtext.Abbreviations.load()
DAYS = (dt.date(2026, 1, 2), dt.date(2026, 12, 1))


def variant(entry_id: str, day: dt.date, text: str) -> str:
    return KB.variant(KB.entry(entry_id, day), day, text, ABBR.expand(vtext.normalize(text))).id


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("entry_id, text, expected", [
    ("idcard.after_prison", "cải tạo không giam giữ có bị giữ căn cước ko", "idcard.community_sentence"),
    ("idcard.after_prison", "cai tao khong giam giu co bi giu can cuoc ko", "idcard.community_sentence"),
    ("idcard.returned", "án treo có bị thu căn cước không", "idcard.community_sentence"),
    ("idcard.returned", "an treo co bi thu can cuoc khong", "idcard.community_sentence"),
    ("idcard.returned", "ra tù có được trả lại căn cước không", "idcard.returned"),
    ("duty.leave_commune", "đang cải tạo không giam giữ muốn đi làm xa 1 tháng có được không",
     "duty.noncustodial_leave"),
    ("duty.leave_commune", "dang cai tao khong giam giu muon di lam xa 1 thang co duoc khong",
     "duty.noncustodial_leave"),
    ("duty.leave_commune", "án treo đi làm xa được không", "duty.leave_commune"),
    ("duty.noncustodial_duties", "ctkgg đi vắng khỏi xã có phải xin phép ko", "duty.noncustodial_leave"),
    ("duty.noncustodial_duties", "ctkgg di vang khoi xa co phai xin phep ko", "duty.noncustodial_leave"),
    ("duty.noncustodial_duties", "cải tạo không giam giữ phải làm gì", "duty.noncustodial_duties"),
])
def test_the_case_named_gets_its_own_answer(day, entry_id, text, expected):
    assert variant(entry_id, day, text) == expected


@pytest.mark.parametrize("day", DAYS)
def test_the_duty_list_needs_both_the_sentence_and_being_away(day):
    duties = "duties.2019" if day < dt.date(2026, 7, 1) else "duties.2026"
    assert variant(duties, day, "ctkgg di vang khoi xa co phai xin phep ko") == "duty.noncustodial_leave"
    assert variant(duties, day, "cải tạo không giam giữ phải làm gì") == duties
    assert variant(duties, day, "án treo đi vắng có phải xin phép không") == duties


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_variants_render_short_and_cited(day, locale):
    for entry_id in ("idcard.community_sentence", "duty.noncustodial_leave"):
        answer = KB.render(KB.entry(entry_id, day), day, formatters(locale))
        assert "{" not in answer.text and answer.citation, entry_id
        assert len(answer.text) + len(answer.cited[0]) <= 480, (entry_id, locale)
        assert not KB.entry(entry_id, day).question and not KB.entry(entry_id, day).intents


def test_a_variant_of_an_unknown_entry_stops_loading(tmp_path):
    (tmp_path / "x.yml").write_text(
        "entries:\n  - id: x.variant\n    variant_of: {no.such.entry: [an treo]}\n    answer: Không.\n"
        "    sources: [{document: Luật Căn cước 2023}]\n    effective_from: 2024-07-01\n"
        "    last_verified: 2026-12-01\n    verified: true\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="variant_of"):
        KnowledgeBase.load(tmp_path)
