"""Generate the no-diacritics and abbreviated variants of the training examples.

People type "toi muon vay von" and "e mún vay 50tr dc ko"; the hand-written
training data is clean Vietnamese. This writes ``data/nlu/generated.yml`` with,
for every hand-written example:

* a copy without diacritics (``fold``), and
* for about half of them, a copy with abbreviations from
  ``data/normalization/abbreviations.yml`` used in reverse ("không" → "ko",
  "50 triệu" → "50tr"), itself folded half of the time.

Choices are deterministic (hash of the example), so the output only changes
when the input does. A generated copy that, once folded, equals an example of
another intent is dropped: without accents it is genuinely ambiguous.

    python -m vietnamese.augment          # rewrite data/nlu/generated.yml if it changed
    python -m vietnamese.augment --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import yaml

from vietnamese.text import DEFAULT_ABBREVIATIONS, fold, nfc

ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = ROOT / "data" / "nlu"
OUTPUT = NLU_DIR / "generated.yml"
# Keys that are English words or would read oddly in reverse.
_NOT_REVERSED = {"hi", "hello", "helo", "bye", "bb", "thanks", "thank", "ok", "oke", "okie",
                 "uk", "uh", "ah", "ad", "b", "ng", "nguoi",
                 # typos, dialect and words typed together: read when typed, never written into copies
                 "tui", "ngui", "ngeo", "s", "zi", "dzi", "roai", "hum", "dx", "ib", "vd",
                 "lylich", "tamtru", "thuongtru", "cancuoc", "vayvon", "antich"}
_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


def _h(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:4], "big")


def load_examples() -> dict[str, list[str]]:
    """intent → hand-written examples (annotation markup removed)."""
    by_intent: dict[str, list[str]] = {}
    for path in sorted(NLU_DIR.glob("*.yml")):
        if path == OUTPUT:
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = _MARKUP.sub(lambda m: m.group(1) or m.group(2), line[2:].strip())
                    by_intent.setdefault(block["intent"], []).append(nfc(text))
    return by_intent


def _reverse_table(path: Path = DEFAULT_ABBREVIATIONS) -> tuple[list[tuple[re.Pattern[str], list[str]]], dict[str, list[str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    words: dict[str, list[str]] = {}
    for short, full in (data.get("words") or {}).items():
        if short in _NOT_REVERSED or fold(short) == fold(full):
            continue
        words.setdefault(nfc(full).lower(), []).append(short)
    # Longest phrases first, so "bao nhiêu" wins over "bao".
    patterns = [
        (re.compile(rf"(?<!\w){re.escape(full)}(?!\w)", re.IGNORECASE), sorted(shorts))
        for full, shorts in sorted(words.items(), key=lambda kv: -len(kv[0]))
    ]
    units: dict[str, list[str]] = {}
    for short, full in (data.get("number_units") or {}).items():
        units.setdefault(nfc(full).lower(), []).append(short)
    return patterns, {k: sorted(v) for k, v in units.items()}


def abbreviate(text: str, patterns, units) -> str:  # noqa: ANN001
    out = text.lower()
    for pattern, shorts in patterns:
        out = pattern.sub(lambda m: shorts[_h(text, m.group(0), str(m.start())) % len(shorts)], out)
    for full, shorts in units.items():
        out = re.sub(rf"(\d+)\s+{re.escape(full)}(?!\w)",
                     lambda m: m.group(1) + shorts[_h(text, full) % len(shorts)], out)
    return out


def generate() -> str:
    examples = load_examples()
    patterns, units = _reverse_table()
    owner: dict[str, set[str]] = {}
    for intent, texts in examples.items():
        for t in texts:
            owner.setdefault(fold(t), set()).add(intent)
    seen = {t for texts in examples.values() for t in texts}
    out_blocks = []
    for intent in sorted(examples):
        generated: list[str] = []
        for t in examples[intent]:
            candidates = [fold(t)]
            if _h(t, "abbr") % 2 == 0:
                short = abbreviate(t, patterns, units)
                candidates.append(fold(short) if _h(t, "fold") % 2 == 0 else short)
            for c in candidates:
                if c in seen or owner.get(fold(c), {intent}) != {intent}:
                    continue
                seen.add(c)
                generated.append(c)
        if generated:
            body = "".join(f"      - {g}\n" for g in generated)
            out_blocks.append(f"  - intent: {intent}\n    examples: |\n{body}")
    return (
        "# GENERATED by `python -m vietnamese.augment` from the hand-written files in data/nlu/\n"
        "# and data/normalization/abbreviations.yml. Do not edit: edit those and regenerate\n"
        "# (training does it). Copies without diacritics and with abbreviations.\n"
        'version: "3.1"\n\nnlu:\n' + "\n".join(out_blocks)
    )


def write_if_changed() -> bool:
    content = generate()
    if OUTPUT.exists() and OUTPUT.read_text(encoding="utf-8") == content:
        return False
    OUTPUT.write_text(content, encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != generate():
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python -m vietnamese.augment")
            return 1
        return 0
    print(f"{OUTPUT.relative_to(ROOT)}: {'written' if write_if_changed() else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
