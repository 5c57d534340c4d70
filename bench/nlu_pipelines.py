"""Compare NLU pipelines on the held-out set (run in the Rasa environment).

    PYTHONPATH=. .venv-rasa/bin/python bench/nlu_pipelines.py [config ...]

Default: config.yml (the product) and every bench/nlu/*.yml. For each it
trains an NLU-only model on the product's training data (fresh cache), then
measures training time, in-process model load time, parse latency and held-out
accuracy / macro-F1 per slice. Writes reports/nlu_pipelines.md.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu.evaluate import SLICES, _quiet, evaluate_model, load_heldout  # noqa: E402


def main(argv: list[str]) -> int:
    _quiet()
    os.chdir(ROOT)
    configs = [Path(a) for a in argv] or [ROOT / "config.yml", *sorted((ROOT / "bench" / "nlu").glob("*.yml"))]
    from rasa.model_training import train_nlu

    from vietnamese import augment

    augment.write_if_changed()
    rows = []
    for config in configs:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["RASA_CACHE_DIRECTORY"] = str(Path(tmp) / "cache")
            t0 = time.perf_counter()
            model = train_nlu(str(config), "data/nlu", output=tmp, fixed_model_name="bench")
            train_s = time.perf_counter() - t0
            size_mb = Path(model).stat().st_size / 1e6
            result = evaluate_model(Path(model), load_heldout()[0])
        rows.append((config.relative_to(ROOT), train_s, size_mb, result))
        s = result["slices"]
        print(f"{str(config.relative_to(ROOT)):28} train {train_s:6.1f} s  load {result['load_s']:5.2f} s  "
              f"parse p50/p95 {result['parse_ms']['p50']:.1f}/{result['parse_ms']['p95']:.1f} ms  "
              + "  ".join(f"{k} {s[k]['macro_f1']:.3f}" for k in (*SLICES, "overall")), flush=True)
    lines = ["# NLU pipelines compared on the held-out set", "",
             "Macro-F1 per slice; training on the product's data with a fresh cache; load and parse in-process; "
             f"{os.cpu_count()} CPUs.", "",
             "| config | clean | no diacritics | abbreviations | overall | accuracy | train s | load s | parse p50/p95 ms | model MB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for config, train_s, size_mb, r in rows:
        s = r["slices"]
        lines.append(f"| `{config}` | {s['clean']['macro_f1']:.3f} | {s['no_diacritics']['macro_f1']:.3f} | "
                     f"{s['abbreviations']['macro_f1']:.3f} | {s['overall']['macro_f1']:.3f} | "
                     f"{s['overall']['accuracy']:.3f} | {train_s:.1f} | {r['load_s']:.2f} | "
                     f"{r['parse_ms']['p50']:.1f}/{r['parse_ms']['p95']:.1f} | {size_mb:.1f} |")
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "nlu_pipelines.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
