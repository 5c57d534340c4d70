"""Question-level held-out evaluation (run in the Rasa environment).

    make eval-nlu        (after the intent evaluation)
    .venv-rasa/bin/python -m nlu.evaluate_questions [--model M] [--json out.json]
    .venv-rasa/bin/python -m nlu.evaluate_questions --dir tests/nlu/questions_dev4  (the fourth dev set)
    .venv-rasa/bin/python -m nlu.evaluate_questions --dir tests/nlu/questions_dev5  (the fifth dev set)
    (the first three dev sets are training data since 2026-12-02: data/knowledge/asked)

Scores the question entry the trained model chooses for every message of
tests/nlu/questions_heldout/*.yml (written before the training examples and
never used for tuning): top-1 per slice (clean, no diacritics, abbreviations/
teencode), where "no question chosen" (the topic answer) counts as wrong.
``--dir`` scores another directory of the same format instead, above all the
dev sets tests/nlu/questions_dev4 and _dev5 (written before tuning, tuned on), and then
writes reports/questions_dev4.md. Also reports, on the same set, the alternatives the mechanism was chosen
against (the question model over all questions without the intent gate, and
the nearest-example retriever ``vietnamese.retrieval``), the question model's
training time and the parse latency. Writes reports/questions_heldout.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
HELDOUT_DIR = ROOT / "tests" / "nlu" / "questions_heldout"
SLICES = ("clean", "nodiac", "teencode")
SLICE_NAMES = {"clean": "clean", "nodiac": "no diacritics", "teencode": "abbreviations/teencode"}


def load_heldout(directory: Path = HELDOUT_DIR) -> list[tuple[str, str, str]]:
    """(question id, slice, text) for every held-out message."""
    return [(q, s, t) for q, s, t, _ in load_heldout_files(directory)]


def load_heldout_files(directory: Path = HELDOUT_DIR) -> list[tuple[str, str, str, str]]:
    """(question id, slice, text, file stem) for every held-out message."""
    rows = []
    for path in sorted(directory.glob("*.yml")):
        for q in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            for s in SLICES:
                for text in q.get(s) or []:
                    rows.append((q["id"], s, text, path.stem))
    return rows


# A question chosen for a message that a later override turned into a crisis message
# is not answered (the crisis reply is): it counts as no answer, but for the few the
# crisis action answers after its reply (below).
NOT_ANSWERED = frozenset({"crisis"})
# A distress message gets the caring reply and then the question's answer when the
# question was chosen from this confidence (actions.crisis.ActionDistress, with
# actions.answers.CASE_QUESTION_CONFIDENCE; tests/unit/test_question_entries.py keeps the
# two equal): "bị kỳ thị vì từng đi tù thì làm sao" is answered (2026-12-01: counted as not
# answered before, though the product answered it).
DISTRESS, DISTRESS_ANSWERED_FROM = "distress", 0.5
# A crisis message gets the crisis reply and then, for these questions only, the answer
# (actions.crisis.ANSWERED_AFTER_CRISIS, same confidence; kept equal by the same test).
ANSWERED_AFTER_CRISIS = frozenset({"support.no_home", "ci.alert", "support.psychological",
                                   "support.discrimination"})


def answered(parse: dict[str, Any]) -> str | None:
    """The question entry the product answers for this parse, or None (topic answer, another flow)."""
    intent = (parse.get("intent") or {}).get("name")
    question = parse.get("question") or {}
    if intent in NOT_ANSWERED:
        if question.get("id") in ANSWERED_AFTER_CRISIS and \
                float(question.get("confidence") or 0.0) >= DISTRESS_ANSWERED_FROM:
            return question.get("id")
        return None
    if intent == DISTRESS and float(question.get("confidence") or 0.0) < DISTRESS_ANSWERED_FROM:
        return None
    return question.get("id")


def per_slice(rows: list[tuple[str, str, str]], chosen: list[str | None]) -> dict[str, float]:
    out = {}
    for s in SLICES:
        pairs = [(gold, got) for (gold, sl, _), got in zip(rows, chosen) if sl == s]
        out[s] = sum(g == c for g, c in pairs) / len(pairs) if pairs else 0.0
    pairs = [(gold, got) for (gold, _, _), got in zip(rows, chosen)]
    out["overall"] = sum(g == c for g, c in pairs) / len(pairs) if pairs else 0.0
    return out


def _percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def _parse_all(model: str, texts: list[str]) -> tuple[list[dict[str, Any]], list[float]]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    parsed, times = [], []
    for t in texts:
        start = time.perf_counter()
        parsed.append(await agent.parse_message(t))
        times.append((time.perf_counter() - start) * 1000)
    return parsed, times


def evaluate(model: str, directory: Path = HELDOUT_DIR) -> dict[str, Any]:
    from nlu import questions as nq
    from vietnamese import retrieval
    from vietnamese import text as vtext

    rows_files = load_heldout_files(directory)
    rows = [(q, s, t) for q, s, t, _ in rows_files]
    texts = [t for _, _, t in rows]
    parsed, times = asyncio.run(_parse_all(model, texts))
    product = [answered(p) for p in parsed]
    files = sorted({f for *_, f in rows_files})
    per_file = {f: per_slice([r for r, rf in zip(rows, rows_files) if rf[3] == f],
                             [c for c, rf in zip(product, rows_files) if rf[3] == f]) for f in files}
    wrong_answers = sum(1 for (gold, _, _), got in zip(rows, product) if got is not None and got != gold)
    # Each set asks one question per message: a message answered with more than one
    # question (nlu.questions.choose_many) is a changed single-question answer.
    several = sum(1 for p in parsed if (p.get("question") or {}).get("several"))
    wrong = [(gold, sl, text, got, (p.get("intent") or {}).get("name"))
             for (gold, sl, text), got, p in zip(rows, product, parsed) if got != gold]

    qs = nq.question_examples()
    abbr = vtext.Abbreviations.load()
    examples = {q: v["examples"] for q, v in qs.items()}
    start = time.perf_counter()
    plain_model = nq.QuestionModel(abbr).fit(examples)
    fit_seconds = time.perf_counter() - start
    plain = [p.id for p in plain_model.predict_many(texts)]
    with_other = nq.QuestionModel(abbr).fit(examples, nq.negative_examples(qs, ROOT / "data" / "nlu"))
    other = [None if p.id == nq.OTHER else p.id for p in with_other.predict_many(texts)]
    start = time.perf_counter()
    index = retrieval.QuestionIndex(examples, abbr, retrieval.Settings(centroid_weight=1.0))
    knn_seconds = time.perf_counter() - start
    knn = [(index.rank(t) or [(None, 0.0)])[0][0] for t in texts]
    return {
        "directory": str(directory.relative_to(ROOT)) if directory.is_relative_to(ROOT) else str(directory),
        "questions": len({g for g, _, _ in rows}),
        "messages": len(rows),
        "training_examples": sum(len(v["examples"]) for v in qs.values()),
        "product": per_slice(rows, product),
        "product_per_file": per_file,
        "wrong_answers": wrong_answers,
        "several_answered": several,
        "model_alone": per_slice(rows, plain),
        "model_with_other_class": per_slice(rows, other),
        "nearest_example": per_slice(rows, knn),
        "fit_seconds": round(fit_seconds, 2),
        "knn_build_seconds": round(knn_seconds, 2),
        "parse_ms_p50": round(statistics.median(times), 1),
        "parse_ms_p95": round(_percentile(times, 95), 1),
        "wrong": wrong,
    }


def report(r: dict[str, Any]) -> str:
    heldout = r.get("directory", "tests/nlu/questions_heldout") == "tests/nlu/questions_heldout"
    def row(name: str, d: dict[str, float]) -> str:
        return f"| {name} | " + " | ".join(f"{d[s]:.1%}" for s in (*SLICES, "overall")) + " |"

    lines = [
        "# Question-level held-out evaluation" if heldout else "# Question-level evaluation on the dev set",
        "",
        (f"{r['questions']} questions, {r['messages']} held-out messages (tests/nlu/questions_heldout, "
         f"written before the training examples, never tuned on); {r['training_examples']} training examples."
         if heldout else
         f"{r['questions']} questions, {r['messages']} messages of {r['directory']} (written before tuning, "
         f"tuned on: not a held-out figure); {r['training_examples']} training examples."),
        "Top-1: the question entry chosen; no question chosen (topic answer) counts as wrong.",
        "",
        "| mechanism | " + " | ".join(SLICE_NAMES[s] for s in SLICES) + " | overall |",
        "|---|---|---|---|---|",
        row("**product** (intent gate + question model, nlu.components.QuestionRetriever)", r["product"]),
        row("question model alone (no intent gate: also answers crisis, erasure… messages)", r["model_alone"]),
        row("question model with an 'other' class (NLU examples of intents without questions)",
            r["model_with_other_class"]),
        row("nearest example (vietnamese.retrieval, TF-IDF cosine)", r["nearest_example"]),
        "",
        f"Product, wrong question answered (not the topic answer): {r['wrong_answers']} of {r['messages']}.",
        f"Product, messages answered with more than one question (two questions in one message): "
        f"{r.get('several_answered', 0)} of {r['messages']}.",
        "",
        "Product per file:",
        "",
        "| file | " + " | ".join(SLICE_NAMES[s] for s in SLICES) + " | overall |",
        "|---|---|---|---|---|",
        *[row(f, d) for f, d in r["product_per_file"].items()],
        "",
        f"Question model training: {r['fit_seconds']} s; nearest-example index: {r['knn_build_seconds']} s. "
        f"Parse latency (whole NLU pipeline, one message at a time): p50 {r['parse_ms_p50']} ms, "
        f"p95 {r['parse_ms_p95']} ms.",
        "",
        "## Misses (product)",
        "",
        "| gold | slice | message | chosen | intent |",
        "|---|---|---|---|---|",
        *[f"| {g} | {s} | {t} | {c} | {i} |" for g, s, t, c, i in r["wrong"]],
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(ROOT / "models" / "loive.tar.gz"))
    ap.add_argument("--json")
    ap.add_argument("--dir", default=str(HELDOUT_DIR), help="directory of question sets (default: the held-out)")
    ap.add_argument("--out", help="report file (default: reports/questions_heldout.md, or <dir name>.md)")
    args = ap.parse_args(argv)
    directory = Path(args.dir).resolve()
    # reports/questions_heldout.md, or one report per dev set (questions_dev.md, questions_dev2.md)
    out = args.out or str(ROOT / "reports" / ("questions_heldout.md" if directory == HELDOUT_DIR
                                              else f"{directory.name}.md"))
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.disable(logging.WARNING)
    r = evaluate(args.model, directory)
    text = report(r)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(r, ensure_ascii=False, indent=1), encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
