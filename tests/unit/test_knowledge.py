"""The knowledge base: valid, date-aware, cited; malformed files are named precisely."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

from bot.domain.knowledge import KNOWLEDGE_DIR, Formatters, KnowledgeBase, KnowledgeError
from bot.i18n import format_date, format_money, format_period, format_rate

D = dt.date


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


@pytest.fixture(scope="module")
def fmt() -> Formatters:
    return Formatters(money=format_money, date=format_date, period=format_period, rate=format_rate)


def test_every_entry_renders_on_every_day_it_is_valid(kb, fmt):
    days = [D(2023, 10, 10), D(2025, 3, 1), D(2025, 12, 1), D(2026, 1, 1), D(2026, 7, 1), D(2026, 11, 22)]
    for e in kb.entries:
        for day in days:
            if e.valid_on(day):
                a = kb.render(e, day, fmt)
                assert "{" not in a.text and a.citation, e.id


def test_current_loan_answer_uses_todays_rate(kb, fmt):
    [entry] = kb.entries_for("ask_loan", D(2026, 11, 22), "tôi muốn vay vốn")
    a = kb.render(entry, D(2026, 11, 22), fmt)
    assert "100.000.000\u00a0₫" in a.text and "6,24%/năm" in a.text and "120 tháng" in a.text
    assert "Quyết định 22/2023/QĐ-TTg" in a.citation and a.verified


def test_loan_answer_before_december_2025_used_the_old_rate_with_a_caution(kb, fmt):
    [entry] = kb.entries_for("ask_loan", D(2025, 6, 1), "vay von")
    a = kb.render(entry, D(2025, 6, 1), fmt)
    assert "6,6%/năm" in a.text and not a.verified and "Ngân hàng Chính sách xã hội" in a.confirm_with


@pytest.mark.parametrize("text", ["Nghị định 61 cho vay bao nhiêu", "nghi dinh 61 vay duoc bn", "nđ 61/2015 còn áp dụng không"])
def test_decree_61_today_explains_the_replacement_with_current_figures(kb, fmt, text):
    [entry] = kb.entries_for("ask_loan", D(2026, 11, 22), text)
    a = kb.render(entry, D(2026, 11, 22), fmt)
    assert "200.000.000\u00a0₫" in a.text
    assert "Từ 01/01/2026, Nghị định 61/2015 đã được thay thế" in a.text
    assert "Nghị định 338/2025/NĐ-CP" in a.citation


def test_decree_61_before_2026_gives_the_old_figures(kb, fmt):
    [entry] = kb.entries_for("ask_loan", D(2025, 6, 1), "nghị định 61")
    assert "100.000.000\u00a0₫" in kb.render(entry, D(2025, 6, 1), fmt).text


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "bad.yml").write_text(text, encoding="utf-8")
    return tmp_path


GOOD_FACT = """
  - id: x.amount
    kind: money
    value: 5
    sources: [{document: Luật X}]
    effective_from: 2024-01-01
    last_verified: 2026-01-01
    verified: true
"""


@pytest.mark.parametrize(
    "content, message",
    [
        ("facts:" + GOOD_FACT.replace("value: 5", "value: năm"), r"bad.yml: entry 'x.amount': field 'value'"),
        ("facts:" + GOOD_FACT.replace("kind: money", "kind: colour"), r"field 'kind'"),
        ("facts:" + GOOD_FACT.replace("effective_from: 2024-01-01", "effective_from: 1/1/2024"), r"field 'effective_from'"),
        ("facts:" + GOOD_FACT.replace("verified: true", "verified: false"), r"field 'confirm_with'"),
        ("facts:" + GOOD_FACT.replace("sources: [{document: Luật X}]", "sources: []"), r"field 'sources'"),
        ("facts:" + GOOD_FACT + "entries:\n  - id: e1\n    answer: 'Vay {money:x.nothing}'\n    sources: [{document: L}]\n"
         "    effective_from: 2024-01-01\n    last_verified: 2026-01-01\n    verified: true\n",
         r"entry 'e1': field 'answer': refers to unknown fact 'x.nothing'"),
        ("facts:\n  - {kind: money}\n", r"field 'id'"),
        ("facts:" + GOOD_FACT.replace("[{document: Luật X}]", "[{document: Luật X, article: Điều 1, 2}]"),
         r"field 'sources\[0\]': unknown keys"),
        ("other: 1\n", r"bad.yml: expected top-level keys"),
        ("facts: [\n", r"bad.yml: not valid YAML"),
    ],
)
def test_malformed_files_name_file_entry_and_field(tmp_path, content, message):
    with pytest.raises(KnowledgeError, match=message):
        KnowledgeBase.load(write(tmp_path, content))


def _docstring_lines(source: str) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def test_no_legal_figure_is_written_in_python():
    """Amounts, rates and periods live in data/knowledge, not in code (comments
    and docstrings may show examples)."""
    root = KNOWLEDGE_DIR.parent.parent
    pattern = re.compile(r"\d+\s*(triệu|tỷ|tháng|năm|%)|\d{1,3}(\.\d{3}){2,}")
    offenders = []
    for py in [*root.glob("bot/**/*.py"), *root.glob("actions/**/*.py")]:
        source = py.read_text(encoding="utf-8")
        skip = _docstring_lines(source)
        for n, line in enumerate(source.splitlines(), 1):
            if n not in skip and pattern.search(line.split("#", 1)[0]):
                offenders.append(f"{py.relative_to(root)}:{n}: {line.strip()}")
    assert offenders == []
