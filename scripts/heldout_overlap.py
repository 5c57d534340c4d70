#!/usr/bin/env python3
"""Print the held-out sentences that also occur in the training data (after
folding), without printing any training data: lets an independent author of
held-out sentences avoid collisions without seeing the training set."""

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nlu.evaluate import training_texts  # noqa: E402
from vietnamese.text import fold  # noqa: E402

path = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/nlu/heldout.yml")
seen = training_texts()
data = yaml.safe_load(path.read_text(encoding="utf-8"))
hits = [(s, i["intent"], i["text"]) for s in data for i in data[s] if fold(i["text"]) in seen]
for s, intent, text in hits:
    print(f"{s}\t{intent}\t{text}")
print(f"{len(hits)} of {sum(len(v) for v in data.values())} held-out sentences also occur in training", file=sys.stderr)
