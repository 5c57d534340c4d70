"""The held-out NLU evaluation, with the floors the product must not fall under.

Runs `python -m nlu.evaluate` in the Rasa environment on the trained model. The
held-out set (tests/nlu/heldout.yml) is never used for training.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.runtime.rasa_env import rasa_env, rasa_python
from vietnamese.augment import load_examples
from nlu.evaluate import training_texts
from vietnamese.text import fold

pytestmark = [pytest.mark.stack, pytest.mark.language]   # needs the trained model

FLOORS = {"clean": 0.90, "no_diacritics": 0.88, "abbreviations": 0.85}
HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"


@pytest.fixture(scope="module")
def evaluation(trained_model, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("eval")
    subprocess.run(
        [str(rasa_python()), "-m", "nlu.evaluate", "--model", trained_model, "--cv", "0",
         "--reports", str(out), "--json", str(out / "eval.json")],
        cwd=PROJECT_ROOT, env=rasa_env(), check=True, capture_output=True,
    )
    assert (out / "heldout.md").exists() and (out / "heldout_confusion.png").stat().st_size > 10_000
    return json.loads((out / "eval.json").read_text())


@pytest.mark.parametrize("slice_name", sorted(FLOORS))
def test_heldout_macro_f1_floor(evaluation, slice_name):
    score = evaluation["slices"][slice_name]["macro_f1"]
    assert score >= FLOORS[slice_name], f"{slice_name}: macro-F1 {score:.3f} < {FLOORS[slice_name]}"


def test_entities_are_found(evaluation):
    overall = evaluation["entities"]["overall"]
    assert overall["tp"] >= 30
    assert overall["precision"] >= 0.85 and overall["recall"] >= 0.85, overall


def test_heldout_set_is_big_enough_and_unseen():
    """≥ 20 scored (unseen) sentences per intent; sentences that also occur in
    training are left out of the scores by the evaluation itself."""
    data = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    seen = training_texts()
    per_intent: dict[str, int] = {}
    for slice_name in FLOORS:
        for item in data[slice_name]:
            if fold(item["text"]) not in seen:
                per_intent[item["intent"]] = per_intent.get(item["intent"], 0) + 1
    assert set(per_intent) == set(load_examples())
    assert min(per_intent.values()) >= 20, per_intent


def test_generated_training_copies_are_current():
    from vietnamese import augment

    assert augment.main(["--check"]) == 0, "run: python -m vietnamese.augment"
