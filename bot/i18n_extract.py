"""Babel extraction methods for the texts written in Vietnamese in data files
(babel.cfg): each knowledge entry's ``answer``, ``details`` and ``change_note``
template, the ``text`` facts they fill in, the citations (document, article,
clause) and offices to confirm with (data/knowledge/*.yml, context
"knowledge"); the texts and button titles of the Rasa responses (domain.yml,
context "domain"). The msgid is the Vietnamese text with its ``{placeholders}``;
the en catalog translates it, keeping every placeholder (tests/unit/test_i18n.py),
and the vi catalog repeats it. New files under data/knowledge are picked up by
``make extract`` without any change here."""

from __future__ import annotations

import re
from typing import Any, Iterator

import yaml

KNOWLEDGE_CONTEXT = "knowledge"   # the same names as bot/i18n.py (which this module must not import)
DOMAIN_CONTEXT = "domain"
_PLACEHOLDER = re.compile(r"\{(?:[a-z]+:)?([a-z0-9_.]+)\}")

Extracted = Iterator[tuple[int, str, tuple[str, str], list[str]]]


def _load(fileobj: Any) -> Any:
    raw = fileobj.read()
    return yaml.safe_load(raw.decode("utf-8") if isinstance(raw, bytes) else raw) or {}


def knowledge_texts(doc: dict[str, Any]) -> list[str]:
    """The user-facing Vietnamese texts of one knowledge file, in order, once each."""
    texts: list[str] = []
    entries = doc.get("entries") or []
    facts = doc.get("facts") or []
    used: set[str] = set()
    for e in entries:
        for key in ("answer", "details", "change_note"):
            value = str(e.get(key) or "").strip()   # the loader strips them too
            if value:
                texts.append(value)
                used.update(_PLACEHOLDER.findall(value))
    for item in [*entries, *facts]:
        for s in item.get("sources") or []:
            texts += [str(s.get(k) or "").strip() for k in ("document", "article", "clause")]
        texts.append(str(item.get("confirm_with") or "").strip())
    # Text facts are words of an answer: all of them, since an entry of another
    # file may fill one in.
    texts += [str(f["value"]).strip() for f in facts if f.get("kind") == "text" and " " in str(f.get("value"))]
    return [t for t in dict.fromkeys(texts) if t]


def extract_knowledge(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Extracted:
    for text in knowledge_texts(_load(fileobj)):
        yield 0, "pgettext", (KNOWLEDGE_CONTEXT, text), []


def domain_texts(doc: dict[str, Any]) -> list[str]:
    texts: list[str] = []
    for variants in (doc.get("responses") or {}).values():
        for v in variants or []:
            texts.append(str(v.get("text") or ""))
            texts += [str(b.get("title") or "") for b in v.get("buttons") or []]
    return [t for t in dict.fromkeys(texts) if t]


def extract_domain(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Extracted:
    for text in domain_texts(_load(fileobj)):
        yield 0, "pgettext", (DOMAIN_CONTEXT, text), []
