"""The question-level entries on records, expungement, the Phiếu LLTP, community
sentences and check-ins (issue 14): they load, answer briefly on every day they
are valid, carry enough ways of asking, and their held-out phrasings
(tests/nlu/questions_heldout/records.yml) stay out of every entry's examples."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.domain.knowledge import MIN_EXAMPLES, KnowledgeBase
from bot.i18n import formatters
from vietnamese.text import fold

D = dt.date
FILES = ("questions_records_expungement.yml", "questions_records_lltp.yml",
         "questions_records_duties.yml", "questions_records_checkins.yml")
PREFIXES = ("xat.", "lltp.", "duty.", "ci.")
HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "questions_heldout" / "records.yml"
DAYS = (D(2024, 6, 1), D(2026, 1, 2), D(2026, 11, 30))
MAX_CHARS = 500
SLICES = ("clean", "nodiac", "teencode")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


@pytest.fixture(scope="module")
def mine(kb):
    entries = [e for e in kb.entries if e.file in FILES]
    assert entries, "no entries loaded from the records question files"
    return entries


@pytest.fixture(scope="module")
def heldout() -> list[dict]:
    return yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[0-9a-z]+", fold(text)))


def test_every_entry_is_a_question_with_enough_ways_of_asking(mine):
    for e in mine:
        if e.variant_of:   # another entry's answer for a case the message names, not a question
            assert not e.question and not e.intents and not e.examples, e.id
            continue
        assert e.id.startswith(PREFIXES), e.id
        assert e.question, e.id
        assert e.intents, e.id
        assert len(e.examples) >= MIN_EXAMPLES, e.id
        assert len({_norm(x) for x in e.examples}) == len(e.examples), f"{e.id}: duplicate examples"
        if not e.verified:
            assert e.confirm_with, e.id


def test_ids_are_unique_per_day(mine):
    for day in DAYS:
        ids = [e.id for e in mine if e.valid_on(day)]
        assert len(ids) == len(set(ids)), day


def test_answers_render_short_on_every_day_they_are_valid(kb, mine):
    fmt = formatters("vi")
    rendered = 0
    for e in mine:
        for day in DAYS:
            if not e.valid_on(day):
                continue
            answer = kb.render(e, day, fmt)
            assert "{" not in answer.text, (e.id, day)
            assert len(answer.text) <= MAX_CHARS, (e.id, day, len(answer.text))
            assert answer.citation, (e.id, day)
            if not answer.verified:
                assert answer.confirm_with, (e.id, day)
            rendered += 1
    assert rendered >= 150


def test_every_entry_is_valid_today_or_was_replaced(mine):
    """Each question has a version valid on 2026-11-30 (the last day checked)."""
    ids = {e.id for e in mine}
    today = {e.id for e in mine if e.valid_on(D(2026, 11, 30))}
    assert ids == today


def test_heldout_ids_exist_and_have_three_per_slice(mine, heldout):
    ids = {e.id for e in mine if not e.variant_of}
    seen = set()
    for row in heldout:
        assert row["id"] in ids, row["id"]
        assert row["id"] not in seen, row["id"]
        seen.add(row["id"])
        for s in SLICES:
            assert len(row[s]) >= 3, (row["id"], s)
    assert seen == ids, f"entries without held-out questions: {sorted(ids - seen)}"


def test_heldout_phrasings_are_not_among_any_examples(kb, heldout):
    examples = {_norm(x) for e in kb.entries for x in e.examples}
    examples |= {_norm(e.question) for e in kb.entries if e.question}
    leaked = [(row["id"], q) for row in heldout for s in SLICES for q in row[s] if _norm(q) in examples]
    assert not leaked, leaked


def test_nodiac_slice_has_no_diacritics(heldout):
    for row in heldout:
        for q in row["nodiac"]:
            assert fold(q) == q.lower(), (row["id"], q)


def test_the_rules_that_matter_read_right(kb):
    fmt = formatters("vi")

    def text(entry_id: str, day: dt.date) -> str:
        return kb.render(kb.entry(entry_id, day), day, fmt).text

    today = D(2026, 11, 30)
    assert text("xat.prison_up_to_5y", today).startswith("Bị phạt tù đến 5 năm thì đương nhiên được xóa án tích sau 2 năm")
    assert "3 năm" in text("xat.prison_5_15y", today)
    assert "5 năm" in text("xat.prison_over_15y", today)
    assert "1 năm" in text("xat.suspended", today)
    assert "hết thời gian thử thách" in text("xat.early_release", today)
    assert "Sở Tư pháp" in text("lltp.where", D(2024, 6, 1))
    assert "không còn làm ở Sở Tư pháp" in text("lltp.where", today)
    assert "170.000" in text("lltp.fee", D(2025, 6, 1))
    assert "170.000" not in text("lltp.fee", D(2026, 1, 2))
    assert text("duty.completed_no_report", today).startswith("Không.")
    # Under-18 rules and THAHS 2019 figures are unverified after their laws changed.
    assert kb.render(kb.entry("xat.minor_16_17", today), today, fmt).verified is False
    assert kb.render(kb.entry("xat.minor_16_17", D(2025, 6, 1)), D(2025, 6, 1), fmt).verified is True
    assert kb.render(kb.entry("duty.leave_commune", today), today, fmt).verified is False
    assert kb.render(kb.entry("duty.leave_commune", D(2026, 1, 2)), D(2026, 1, 2), fmt).verified is True


def test_topic_answers_do_not_pull_in_the_question_entries(kb):
    """Until a question is chosen, an intent's answer stays the topic answer."""
    for intent in ("ask_expungement", "ask_criminal_record", "ask_release_duties", "ask_support", "checkin"):
        for day in DAYS:
            assert not [e.id for e in kb.entries_for(intent, day) if e.question], (intent, day)
