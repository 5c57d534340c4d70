"""NLU evaluation on the held-out set (run in the Rasa environment).

    make eval-nlu
    .venv-rasa/bin/python -m nlu.evaluate [--model M] [--cv 3] [--json out.json]

Prints intent accuracy and macro-F1 per slice (clean, no diacritics,
abbreviations) and overall, entity precision/recall, the 10 worst confusions,
and 3-fold cross-validation on the hand-written training examples; writes
reports/<held-out name>.md and reports/<held-out name>_confusion.png.

The held-out file (tests/nlu/heldout.yml) was written by hand by someone who
did not see the training data; training never reads it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
HELDOUT_TODAY = "2026-11-22"  # relative dates in the held-out set are resolved against this day
SLICES = ("clean", "no_diacritics", "abbreviations")
FALLBACK = "nlu_fallback"


# --- metrics (pure) -------------------------------------------------------------


def macro_f1(gold: list[str], pred: list[str]) -> float:
    """Macro-F1 over the gold labels (a fallback prediction is simply wrong)."""
    labels = sorted(set(gold))
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def accuracy(gold: list[str], pred: list[str]) -> float:
    return sum(g == p for g, p in zip(gold, pred)) / len(gold) if gold else 0.0


def _norm_value(value: Any) -> str:
    return str(value).strip().lower()


def entity_scores(expected: list[list[dict]], found: list[list[dict]]) -> dict[str, Any]:
    """Precision/recall over (entity, value) pairs, per type and overall."""
    counts: dict[str, Counter] = {}
    for exp, got in zip(expected, found):
        e = Counter((x["entity"], _norm_value(x["value"])) for x in exp)
        g = Counter((x["entity"], _norm_value(x["value"])) for x in got)
        for (etype, _), n in (e & g).items():
            counts.setdefault(etype, Counter())["tp"] += n
        for (etype, _), n in (g - e).items():
            counts.setdefault(etype, Counter())["fp"] += n
        for (etype, _), n in (e - g).items():
            counts.setdefault(etype, Counter())["fn"] += n

    def pr(c: Counter) -> dict[str, float]:
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        return {"precision": p, "recall": r, "tp": c["tp"], "fp": c["fp"], "fn": c["fn"]}

    total = sum(counts.values(), Counter())
    return {"overall": pr(total), "by_type": {k: pr(v) for k, v in sorted(counts.items())}}


def calibration(rows: list[dict], thresholds=(0.2, 0.25, 0.3, 0.35, 0.4, 0.5),
                ambiguity=(0.0, 0.05, 0.1)) -> list[dict]:
    """What FallbackClassifier thresholds would do, from each row's raw ranking.

    Rows whose prediction came from a deterministic override (unknown words →
    fallback, crisis terms → crisis) keep it; otherwise the top real intent is
    kept if its confidence ≥ threshold and its lead over the second ≥ ambiguity.
    """
    out = []
    for t in thresholds:
        for a in ambiguity:
            gold, pred, kept, caught, right, wrong = [], [], 0, 0, 0, 0
            for r in rows:
                top, c1, c2 = r["raw_top"], r["raw_c1"], r["raw_c2"]
                if r["override"]:
                    p = r["predicted"]
                else:
                    p = top if (c1 >= t and c1 - c2 >= a) else FALLBACK
                    if top == r["intent"]:
                        right += 1
                        kept += p == top
                    else:
                        wrong += 1
                        caught += p == FALLBACK
                gold.append(r["intent"])
                pred.append(p)
            out.append({"threshold": t, "ambiguity": a, "macro_f1": macro_f1(gold, pred),
                        "correct_kept": kept / right if right else 1.0,
                        "wrong_caught": caught / wrong if wrong else 1.0})
    return out


def worst_confusions(rows: list[dict], n: int = 10) -> list[dict]:
    pairs = Counter((r["intent"], r["predicted"]) for r in rows if r["intent"] != r["predicted"])
    out = []
    for (gold, pred), count in pairs.most_common(n):
        example = next(r["text"] for r in rows if r["intent"] == gold and r["predicted"] == pred)
        out.append({"gold": gold, "predicted": pred, "count": count, "example": example})
    return out


# --- running the model -----------------------------------------------------------


def _quiet() -> None:
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    logging.disable(logging.WARNING)
    import warnings

    warnings.filterwarnings("ignore")


def training_texts() -> set[str]:
    """Every training example (hand-written and generated), folded."""
    sys.path.insert(0, str(ROOT))
    from vietnamese import augment
    from vietnamese.text import fold

    texts = {fold(t) for ts in augment.load_examples().values() for t in ts}
    generated = yaml.safe_load(augment.OUTPUT.read_text(encoding="utf-8")) if augment.OUTPUT.exists() else {}
    for block in (generated or {}).get("nlu") or []:
        for line in str(block.get("examples", "")).splitlines():
            if line.strip().startswith("- "):
                texts.add(fold(line.strip()[2:]))
    return texts


def load_heldout(path: Path = HELDOUT) -> tuple[list[dict], int]:
    """The held-out rows not found in the training data, and how many were left out.

    Short canonical replies ("không", "xin chào") are bound to occur in both;
    scoring them would test memory, not understanding, so they are not scored.
    """
    from vietnamese.text import fold

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    seen = training_texts()
    rows, excluded = [], 0
    for slice_name in SLICES:
        for item in data[slice_name]:
            if fold(item["text"]) in seen:
                excluded += 1
                continue
            rows.append({"slice": slice_name, "text": item["text"], "intent": item["intent"],
                         "entities": item.get("entities") or []})
    return rows, excluded


async def _parse_all(agent: Any, texts: list[str]) -> tuple[list[dict], list[float]]:
    results, times = [], []
    for t in texts:
        t0 = time.perf_counter()
        results.append(await agent.parse_message(t))
        times.append((time.perf_counter() - t0) * 1000)
    return results, times


def evaluate_model(model: Path, rows: list[dict]) -> dict[str, Any]:
    from rasa.core.agent import Agent

    os.environ["LOIVE_TODAY"] = HELDOUT_TODAY
    t0 = time.perf_counter()
    agent = Agent.load(str(model))
    load_s = time.perf_counter() - t0
    parsed, times = asyncio.run(_parse_all(agent, [r["text"] for r in rows]))
    for row, p in zip(rows, parsed):
        row["predicted"] = p["intent"]["name"]
        row["confidence"] = p["intent"].get("confidence")
        row["found"] = [{"entity": e["entity"], "value": e["value"]} for e in p.get("entities", [])]
        real = [x for x in p.get("intent_ranking", []) if x["name"] != FALLBACK]
        row["raw_top"] = real[0]["name"] if real else FALLBACK
        row["raw_c1"] = real[0]["confidence"] if real else 0.0
        row["raw_c2"] = real[1]["confidence"] if len(real) > 1 else 0.0
        # Deterministic overrides: certainty 1.0 from UnknownWordsFallback / CrisisTermsOverride.
        row["override"] = p["intent"].get("confidence") == 1.0 and (
            p["intent"]["name"] == FALLBACK or p["intent"]["name"] != row["raw_top"]
            or p["intent"]["name"] == "crisis")
    result: dict[str, Any] = {"model": str(model), "load_s": load_s,
                              "parse_ms": {"p50": _pct(times, 50), "p95": _pct(times, 95)}, "slices": {}}
    for name in (*SLICES, "overall"):
        sel = [r for r in rows if name == "overall" or r["slice"] == name]
        gold, pred = [r["intent"] for r in sel], [r["predicted"] for r in sel]
        result["slices"][name] = {"n": len(sel), "accuracy": accuracy(gold, pred), "macro_f1": macro_f1(gold, pred),
                                  "fallback_rate": sum(p == FALLBACK for p in pred) / len(pred)}
    # Entity scores only for a set that annotates entities at all.
    annotated = any(r["entities"] for r in rows)
    result["entities"] = (entity_scores([r["entities"] for r in rows], [r["found"] for r in rows])
                          if annotated else None)
    result["confusions"] = worst_confusions(rows)
    result["calibration"] = calibration(rows)
    result["rows"] = rows
    return result


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else 0.0


def cross_validate(config: Path, folds: int = 3, seed: int = 42) -> dict[str, Any]:
    """k-fold CV on the hand-written examples (generated copies excluded, so no
    copy of a test sentence is ever in its training fold)."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from sklearn.model_selection import StratifiedKFold

    sys.path.insert(0, str(ROOT))
    from vietnamese.augment import load_examples

    examples = [(t, i) for i, ts in load_examples().items() for t in ts]
    texts, intents = [t for t, _ in examples], [i for _, i in examples]
    scores = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (train_idx, test_idx) in enumerate(
            StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, intents)
        ):
            by_intent: dict[str, list[str]] = {}
            for j in train_idx:
                by_intent.setdefault(intents[j], []).append(texts[j])
            data = {"version": "3.1", "nlu": [{"intent": i, "examples": "".join(f"- {t}\n" for t in ts)}
                                              for i, ts in by_intent.items()]}
            nlu_file = Path(tmp) / f"fold{k}.yml"
            nlu_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
            model = train_nlu(str(config), str(nlu_file), output=tmp, fixed_model_name=f"fold{k}")
            agent = Agent.load(model)
            parsed, _ = asyncio.run(_parse_all(agent, [texts[j] for j in test_idx]))
            gold = [intents[j] for j in test_idx]
            pred = [p["intent"]["name"] for p in parsed]
            scores.append({"accuracy": accuracy(gold, pred), "macro_f1": macro_f1(gold, pred), "n": len(gold)})
    return {"folds": scores, "macro_f1_mean": statistics.mean(s["macro_f1"] for s in scores),
            "accuracy_mean": statistics.mean(s["accuracy"] for s in scores)}


# --- report -----------------------------------------------------------------------


def confusion_png(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = sorted({r["intent"] for r in rows} | {r["predicted"] for r in rows})
    index = {l: i for i, l in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for r in rows:
        matrix[index[r["intent"]], index[r["predicted"]]] += 1
    fig, ax = plt.subplots(figsize=(11, 10))
    ax.imshow(np.log1p(matrix), cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(j, i, matrix[i, j], ha="center", va="center", fontsize=7,
                        color="white" if i == j else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("Held-out intent confusion (all slices)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(result: dict[str, Any], cv: dict[str, Any] | None) -> str:
    lines = [f"# NLU evaluation: `{result['heldout']}`", "", f"Model: `{Path(result['model']).name}`; "
             f"held-out: `{result['heldout']}` ({result['slices']['overall']['n']} sentences, "
             f"relative dates resolved against {HELDOUT_TODAY}; {result['excluded_seen_in_training']} more "
             "sentences that also occur in the training data are not scored).", "",
             "| slice | n | accuracy | macro-F1 | fallback rate |", "|---|---|---|---|---|"]
    for name, s in result["slices"].items():
        lines.append(f"| {name} | {s['n']} | {s['accuracy']:.3f} | {s['macro_f1']:.3f} | {s['fallback_rate']:.3f} |")
    e = result["entities"]
    if e:
        lines += ["", "## Entities", "", "| type | precision | recall | tp | fp | fn |", "|---|---|---|---|---|---|"]
        for name, s in [("overall", e["overall"]), *e["by_type"].items()]:
            lines.append(f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['tp']} | {s['fp']} | {s['fn']} |")
    lines += ["", "## Worst confusions", "", "| gold | predicted | count | example |", "|---|---|---|---|"]
    for c in result["confusions"]:
        lines.append(f"| {c['gold']} | {c['predicted']} | {c['count']} | {c['example']} |")
    lines += ["", "## FallbackClassifier calibration", "",
              "From each sentence's raw ranking: share of correct top intents kept, share of wrong ones "
              "caught by the fallback (deterministic overrides unchanged).", "",
              "| threshold | ambiguity | correct kept | wrong caught | macro-F1 |", "|---|---|---|---|---|"]
    for c in result["calibration"]:
        lines.append(f"| {c['threshold']} | {c['ambiguity']} | {c['correct_kept']:.3f} | "
                     f"{c['wrong_caught']:.3f} | {c['macro_f1']:.3f} |")
    if cv:
        lines += ["", f"## {len(cv['folds'])}-fold cross-validation (hand-written training examples)", "",
                  f"macro-F1 mean {cv['macro_f1_mean']:.3f}, accuracy mean {cv['accuracy_mean']:.3f}; folds: "
                  + ", ".join(f"{f['macro_f1']:.3f}" for f in cv["folds"])]
    lines += ["", f"Model load {result['load_s']:.2f} s in-process; parse p50 {result['parse_ms']['p50']:.1f} ms, "
              f"p95 {result['parse_ms']['p95']:.1f} ms in-process.", "", f"![confusion matrix]({result['name']}_confusion.png)", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "loive.tar.gz")
    ap.add_argument("--heldout", type=Path, default=HELDOUT)
    ap.add_argument("--config", type=Path, default=ROOT / "config.yml", help="pipeline for cross-validation")
    ap.add_argument("--cv", type=int, default=3, help="folds (0 = skip)")
    ap.add_argument("--reports", type=Path, default=ROOT / "reports")
    ap.add_argument("--json", type=Path, help="also write the numbers as JSON")
    args = ap.parse_args(argv)
    _quiet()
    os.chdir(ROOT)
    rows, excluded = load_heldout(args.heldout)
    result = evaluate_model(args.model, rows)
    result["excluded_seen_in_training"] = excluded
    result["heldout"] = str(args.heldout.resolve().relative_to(ROOT)) if args.heldout.resolve().is_relative_to(ROOT) else str(args.heldout)
    result["name"] = report_name = args.heldout.stem
    cv = cross_validate(args.config, args.cv) if args.cv else None
    args.reports.mkdir(parents=True, exist_ok=True)
    confusion_png(result["rows"], args.reports / f"{report_name}_confusion.png")
    (args.reports / f"{report_name}.md").write_text(markdown(result, cv), encoding="utf-8")
    print(f"{args.heldout.name}: {len(rows)} unseen sentences scored, {excluded} also in training left out")
    print(f"{'slice':15} {'n':>4} {'accuracy':>9} {'macro-F1':>9} {'fallback':>9}")
    for name, s in result["slices"].items():
        print(f"{name:15} {s['n']:4d} {s['accuracy']:9.3f} {s['macro_f1']:9.3f} {s['fallback_rate']:9.3f}")
    if result["entities"]:
        e = result["entities"]["overall"]
        print(f"entities: precision {e['precision']:.3f} recall {e['recall']:.3f}  "
              + "  ".join(f"{k} {v['precision']:.2f}/{v['recall']:.2f}" for k, v in result["entities"]["by_type"].items()))
    print("worst confusions:")
    for c in result["confusions"]:
        print(f"  {c['count']:3d}  {c['gold']} → {c['predicted']}   e.g. {c['example']!r}")
    if cv:
        print(f"{len(cv['folds'])}-fold CV (hand-written examples): macro-F1 {cv['macro_f1_mean']:.3f}, "
              f"accuracy {cv['accuracy_mean']:.3f}")
    print(f"report: {args.reports / (report_name + '.md')}")
    if args.json:
        out = {k: v for k, v in result.items() if k != "rows"}
        out["cv"] = cv
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
