"""Catalogs are complete and current; money and dates follow vi_VN."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

from babel.messages.pofile import read_po

from bot import PROJECT_ROOT
from bot.domain.knowledge import KnowledgeBase
from bot.i18n import (DOMAIN_CONTEXT, KNOWLEDGE_CONTEXT, LOCALE_DIR, format_date, format_money, formatters, gettext,
                      normalize_locale)


def test_money_and_dates_in_vietnamese_format():
    assert format_money(100_000_000) == "100.000.000\u00a0₫"
    assert format_money(4_000_000, "vi_VN") == "4.000.000\u00a0₫"
    assert format_date(dt.date(2025, 6, 1)) == "01/06/2025"
    assert format_date(dt.date(2025, 6, 1), "en") == "1 Jun 2025"


def test_locale_normalisation():
    assert normalize_locale(None) == "vi"
    assert normalize_locale("en-US") == "en"
    assert normalize_locale("fr") == "vi"


def test_vietnamese_is_the_default_translation():
    assert gettext("Loans") == "Vay vốn"
    assert gettext("Loans", "en") == "Loans"


def _catalog(locale: str):
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=locale)


def test_catalogs_are_complete_and_match_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_",
         "--no-location", "-o", str(pot), "."],
        cwd=PROJECT_ROOT, check=True, capture_output=True,
    )
    with open(pot, "rb") as fh:
        in_code = {m.id for m in read_po(fh) if m.id}
    assert in_code, "extraction found no strings"
    for locale in ("vi", "en"):
        cat = _catalog(locale)
        ids = {m.id for m in cat if m.id}
        assert in_code - ids == set(), f"{locale}: strings in code but not in the catalog (make extract)"
        untranslated = [m.id for m in cat if m.id and (not m.string or m.fuzzy)]
        assert untranslated == [], f"{locale}: untranslated or fuzzy entries"


def test_vietnamese_catalog_is_actually_vietnamese():
    cat = _catalog("vi")
    # Texts from data files (knowledge, Rasa responses) are Vietnamese msgids
    # under a context: the vi catalog repeats them.
    # Other contexts ("relative": a calculator text about a relative) are English msgids like the rest.
    data = (KNOWLEDGE_CONTEXT, DOMAIN_CONTEXT)
    same = [m.id for m in cat if m.id and m.string == m.id and m.context not in data]
    assert same == []
    changed = [m.id for m in cat if m.id and m.context in data and m.string != m.id]
    assert changed == [], "vi: a data text must be kept as written (change it in its file)"


VIETNAMESE_LETTERS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.I)
PLACEHOLDERS = re.compile(r"\{[^}]*\}")


def test_english_translations_of_data_texts_keep_placeholders_and_are_english():
    """Each knowledge template and Rasa response has an English translation
    with the same {placeholders} (they are filled after translating) and no
    Vietnamese letter: an English page never shows a Vietnamese sentence. New
    knowledge files are extracted by `make extract`; an entry left without
    English fails the completeness test above."""
    cat = _catalog("en")
    data = [m for m in cat if m.id and m.context in (KNOWLEDGE_CONTEXT, DOMAIN_CONTEXT)]
    assert len(data) > 200
    wrong = [m.id for m in data if sorted(PLACEHOLDERS.findall(m.string)) != sorted(PLACEHOLDERS.findall(m.id))]
    assert wrong == []
    vietnamese = [m.string for m in data if VIETNAMESE_LETTERS.search(m.string.replace("Lối Về", ""))]
    assert vietnamese == []


def test_every_knowledge_text_is_extracted(tmp_path):
    """The extractor takes every entry's answer, details and change note from
    every file under data/knowledge, whatever its name."""
    import yaml

    from bot.i18n_extract import knowledge_texts

    texts = set()
    for path in (PROJECT_ROOT / "data" / "knowledge").glob("*.yml"):
        texts |= set(knowledge_texts(yaml.safe_load(path.read_text(encoding="utf-8"))))
    kb = KnowledgeBase.load()
    for e in kb.entries:
        for t in (e.answer, e.details, e.change_note):
            assert not t or t in texts, e.id
    (tmp_path / "questions_new.yml").write_text(
        "entries:\n  - id: q.new\n    answer: Câu trả lời mới\n    details: Chi tiết mới\n"
        "    sources: [{document: Luật Mới 2030}]\n", encoding="utf-8")
    assert knowledge_texts(yaml.safe_load((tmp_path / "questions_new.yml").read_text(encoding="utf-8"))) == [
        "Câu trả lời mới", "Chi tiết mới", "Luật Mới 2030"]


def test_an_answer_on_the_english_page_is_english():
    kb = KnowledgeBase.load()
    day = dt.date(2026, 11, 30)
    for e in kb.entries:
        if e.valid_on(day):
            a = kb.render(e, day, formatters("en"))
            for text in (a.text, a.details, a.citation, a.confirm_with):
                assert not VIETNAMESE_LETTERS.search(text.replace("Lối Về", "")), (e.id, text)
    loan = kb.render(kb.entry("loan.qd22", day), day, formatters("en"))
    assert "100,000,000" in loan.text and "6.24% a year" in loan.text and loan.citation.startswith("Article 3")
