"""Fill catalog entries after `make extract`.

    .venv/bin/python scripts/fill_translations.py NEW.py

NEW.py defines ``T = {msgid: "Vietnamese" or ("Vietnamese plural",)}``; those
go into the vi catalog. The en catalog gets each msgid as its own text (English
is the source language). Then run `make catalogs`.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

LOCALE = Path(__file__).resolve().parent.parent / "bot" / "locale"


def _update(locale: str, fill) -> int:  # noqa: ANN001
    path = LOCALE / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh)
    n = 0
    for m in catalog:
        if m.id and fill(m):
            m.flags.discard("fuzzy")
            n += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100)
    return n


def main(argv: list[str]) -> None:
    table = runpy.run_path(argv[1])["T"] if len(argv) > 1 else {}

    def vi(m) -> bool:  # noqa: ANN001
        key = m.id if isinstance(m.id, str) else m.id[0]
        if key not in table:
            return False
        m.string = table[key]
        return True

    def en(m) -> bool:  # noqa: ANN001
        done = all(m.string) if isinstance(m.id, tuple) else bool(m.string)
        if done and not m.fuzzy:
            return False
        m.string = m.id
        return True

    print(f"vi: {_update('vi', vi)} filled; en: {_update('en', en)} filled")


if __name__ == "__main__":
    main(sys.argv)
