"""The knowledge base: versioned legal facts and answers from ``data/knowledge/*.yml``.

Every file has ``entries`` (answers shown to people) and/or ``facts`` (figures
the answers and the calculators use). Both carry their legal ``sources``,
``effective_from`` / ``effective_to`` (``effective_to`` is the first day the
item no longer applies), ``last_verified`` and ``verified``; unverified items
name the office to confirm with (``confirm_with``). Lookups take the date they
are asked for, so an answer is the one valid on that day.

Answer templates use ``{money:fact.id}``, ``{rate:fact.id}``, ``{period:fact.id}``,
``{date:fact.id}`` or ``{fact.id}``; the fact valid on the same day is filled in.

A malformed file stops loading with ``KnowledgeError`` naming the file, the entry
and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from bot import PROJECT_ROOT
from bot.domain.periods import Period
from vietnamese.text import fold

KNOWLEDGE_DIR = PROJECT_ROOT / "data" / "knowledge"
FACT_KINDS = ("money", "rate", "period", "number", "date", "text", "table", "list", "record")
# Question entries: at least this many hand-written ways of asking each one.
MIN_EXAMPLES = 8
# Calculators an answer may offer as a button ("Tính ngày của tôi").
OFFERS = ("calc_expungement", "check_loan")
_PLACEHOLDER = re.compile(r"\{(?:(money|rate|period|date|number):)?([a-z0-9_.]+)\}")


class KnowledgeError(ValueError):
    pass


@dataclass(frozen=True)
class Source:
    document: str
    article: str = ""
    clause: str = ""

    def cite(self, translate: Callable[[str], str] = str) -> str:
        return " ".join(translate(p) for p in (self.clause, self.article, self.document) if p)


@dataclass(frozen=True)
class Item:
    id: str
    file: str
    sources: tuple[Source, ...]
    effective_from: dt.date
    effective_to: dt.date | None
    last_verified: dt.date
    verified: bool
    confirm_with: str

    def valid_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


@dataclass(frozen=True)
class Fact(Item):
    kind: str = "text"
    value: Any = None


@dataclass(frozen=True)
class Entry(Item):
    topic: str = ""
    intents: tuple[str, ...] = ()
    answer: str = ""
    change_note: str = ""
    keywords: tuple[str, ...] = ()
    # Question-level entries (issue 14): the one question this entry answers,
    # the ways people ask it (training data for choosing the entry), the
    # longer text behind "Xem chi tiết", and calculators to offer as buttons.
    question: str = ""
    examples: tuple[str, ...] = ()
    # More ways people asked it, collected as sets written before tuning (data/knowledge/asked/*/):
    # training data for the question model and the intent classifier, like ``examples``.
    asked: tuple[str, ...] = ()
    details: str = ""
    offer: tuple[str, ...] = ()
    # A range of prison terms the question is about, in years: more than the
    # first, at most the second (None: no upper bound). A message that says
    # the sentence ("tù 9 năm") picks the entry whose range holds it.
    prison_years: tuple[float, float | None] | None = None
    # The question asked without a sentence ("khi nào được xóa án tích"): when the message
    # does say one ("án 9 năm thì khi nào hết án tích"), the entry whose prison_years hold
    # it is chosen over this one.
    no_term_said: bool = False
    # An answer for a particular case of another entry (a question or a topic answer; not
    # a question itself): it answers instead of entry ``e`` when the message names one of
    # its phrases ("cải tạo không giam giữ" asked with the căn cước question):
    # ((e, (phrases…)), …). A phrase "a|b + c|d" needs a or b, and c or d.
    variant_of: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def named_in(self, text: str) -> bool:
        """Whether the message names one of the entry's keywords (folded, whole words)."""
        return _names(text, self.keywords)


def _names(text: str, phrases: tuple[str, ...]) -> bool:
    folded = f" {' '.join(re.findall(r'[0-9a-z/]+', fold(text)))} "
    return any(all(any(f" {alt.strip()} " in folded for alt in part.split("|")) for part in k.split(" + "))
               for k in phrases)


@dataclass(frozen=True)
class Answer:
    """An entry rendered for a day: the text, the citation, and whether to caution."""

    entry: Entry
    text: str
    citation: str
    verified: bool
    confirm_with: str
    facts: tuple[Fact, ...] = field(default_factory=tuple)
    # The text behind "Xem chi tiết": the entry's details.
    details: str = ""
    # Each source cited on its own (``citation`` joins them).
    cited: tuple[str, ...] = ()


def _err(file: str, item: str, fld: str, message: str) -> KnowledgeError:
    return KnowledgeError(f"{file}: entry '{item}': field '{fld}': {message}")


def _date(raw: Any, file: str, item: str, fld: str, required: bool = True) -> dt.date | None:
    if raw is None and not required:
        return None
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise _err(file, item, fld, f"expected a date YYYY-MM-DD, got {raw!r}") from None


def _common(raw: dict, file: str, item: str) -> dict[str, Any]:
    sources_raw = raw.get("sources")
    if not isinstance(sources_raw, list) or not sources_raw:
        raise _err(file, item, "sources", "expected a non-empty list of {document, article, clause}")
    sources = []
    for i, s in enumerate(sources_raw):
        if not isinstance(s, dict) or not isinstance(s.get("document"), str) or not s["document"].strip():
            raise _err(file, item, f"sources[{i}].document", "required text")
        unknown = set(s) - {"document", "article", "clause"}
        if unknown:
            raise _err(file, item, f"sources[{i}]", f"unknown keys {sorted(map(str, unknown))} "
                                                     "(quote values that contain commas)")
        sources.append(Source(s["document"].strip(), str(s.get("article") or "").strip(),
                              str(s.get("clause") or "").strip()))
    verified = raw.get("verified")
    if not isinstance(verified, bool):
        raise _err(file, item, "verified", "expected true or false")
    confirm_with = raw.get("confirm_with") or ""
    if not verified and not str(confirm_with).strip():
        raise _err(file, item, "confirm_with", "an unverified item must name the office to confirm with")
    start = _date(raw.get("effective_from"), file, item, "effective_from")
    end = _date(raw.get("effective_to"), file, item, "effective_to", required=False)
    if end is not None and end <= start:
        raise _err(file, item, "effective_to", "must be after effective_from")
    return {
        "id": item, "file": file, "sources": tuple(sources), "effective_from": start, "effective_to": end,
        "last_verified": _date(raw.get("last_verified"), file, item, "last_verified"),
        "verified": verified, "confirm_with": str(confirm_with).strip(),
    }


def _check_value(kind: str, value: Any, file: str, item: str) -> Any:
    ok = {
        "money": lambda v: isinstance(v, int) and v >= 0,
        "rate": lambda v: isinstance(v, (int, float, str)) and Decimal(str(v)) >= 0,
        "period": lambda v: isinstance(v, str) and bool(Period.parse(v)),
        "number": lambda v: isinstance(v, (int, float)),
        "date": lambda v: isinstance(v, dt.date),
        "text": lambda v: isinstance(v, str) and v.strip(),
        "table": lambda v: isinstance(v, list) and all(isinstance(r, dict) for r in v) and v,
        "list": lambda v: isinstance(v, list) and v,
        "record": lambda v: isinstance(v, dict) and v,
    }[kind]
    try:
        good = ok(value)
    except (ValueError, ArithmeticError):
        good = False
    if not good:
        raise _err(file, item, "value", f"not a valid {kind}: {value!r}")
    return value


# Sets of messages people typed, one file per topic, each a list of
# {id: question entry, clean: [...], nodiac: [...], teencode: [...]} (the held-out format).
ASKED_DIR = "asked"
ASKED_SLICES = ("clean", "nodiac", "teencode")


def _with_asked(entries: list[Entry], directory: Path) -> list[Entry]:
    """``entries`` with the ways of asking in ``directory`` (any depth) added to their questions."""
    asked: dict[str, list[str]] = {}
    for path in sorted(directory.glob("**/*.yml")) if directory.is_dir() else ():
        name = str(path.relative_to(directory.parent))
        try:
            rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as exc:
            raise KnowledgeError(f"{name}: not valid YAML: {exc}") from None
        if not isinstance(rows, list):
            raise KnowledgeError(f"{name}: expected a list of {{id, clean, nodiac, teencode}}")
        for row in rows:
            if not isinstance(row, dict) or not isinstance(row.get("id"), str) or set(row) - {"id", *ASKED_SLICES}:
                raise KnowledgeError(f"{name}: expected a list of {{id, clean, nodiac, teencode}}, got {row!r}")
            texts = [t for s in ASKED_SLICES for t in (row.get(s) or [])]
            if not all(isinstance(t, str) and t.strip() for t in texts):
                raise _err(name, row["id"], "clean/nodiac/teencode", "expected lists of messages")
            asked.setdefault(row["id"], []).extend(t.strip() for t in texts)
    questions = {e.id for e in entries if e.question}
    if unknown := sorted(set(asked) - questions):
        raise KnowledgeError(f"{directory.name}: ways of asking for unknown questions: {', '.join(unknown)}")
    return [replace(e, asked=tuple(x for x in dict.fromkeys(asked[e.id]) if x not in e.examples))
            if e.question and e.id in asked else e for e in entries]


class KnowledgeBase:
    def __init__(self, facts: Iterable[Fact], entries: Iterable[Entry]) -> None:
        self.facts = list(facts)
        self.entries = list(entries)

    # --- loading ----------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path = KNOWLEDGE_DIR) -> "KnowledgeBase":
        facts: list[Fact] = []
        entries: list[Entry] = []
        files = sorted(Path(directory).glob("*.yml"))
        if not files:
            raise KnowledgeError(f"{directory}: no knowledge files (*.yml)")
        for path in files:
            name = path.name
            try:
                doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise KnowledgeError(f"{name}: not valid YAML: {exc}") from None
            if not isinstance(doc, dict) or set(doc) - {"facts", "entries"}:
                raise KnowledgeError(f"{name}: expected top-level keys 'facts' and/or 'entries'")
            for raw in doc.get("facts") or []:
                item = str(raw.get("id") or "?") if isinstance(raw, dict) else "?"
                if not isinstance(raw, dict) or not raw.get("id"):
                    raise _err(name, item, "id", "every fact needs an id")
                kind = raw.get("kind")
                if kind not in FACT_KINDS:
                    raise _err(name, item, "kind", f"one of {', '.join(FACT_KINDS)}")
                facts.append(Fact(**_common(raw, name, item), kind=kind,
                                  value=_check_value(kind, raw.get("value"), name, item)))
            for raw in doc.get("entries") or []:
                item = str(raw.get("id") or "?") if isinstance(raw, dict) else "?"
                if not isinstance(raw, dict) or not raw.get("id"):
                    raise _err(name, item, "id", "every entry needs an id")
                answer = raw.get("answer")
                if not isinstance(answer, str) or not answer.strip():
                    raise _err(name, item, "answer", "required Vietnamese text")
                intents = raw.get("intents") or []
                if not isinstance(intents, list) or not all(isinstance(i, str) for i in intents):
                    raise _err(name, item, "intents", "expected a list of intent names")
                keywords = raw.get("keywords") or []
                if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
                    raise _err(name, item, "keywords", "expected a list of phrases")
                question = str(raw.get("question") or "").strip()
                examples = raw.get("examples") or []
                if not isinstance(examples, list) or not all(isinstance(x, str) and x.strip() for x in examples):
                    raise _err(name, item, "examples", "expected a list of ways people ask the question")
                if question and len(examples) < MIN_EXAMPLES:
                    raise _err(name, item, "examples",
                               f"a question needs at least {MIN_EXAMPLES} ways of asking it, got {len(examples)}")
                prison_years = raw.get("prison_years")
                if prison_years is not None and not (
                        isinstance(prison_years, list) and len(prison_years) == 2
                        and isinstance(prison_years[0], (int, float))
                        and (prison_years[1] is None or isinstance(prison_years[1], (int, float))
                             and prison_years[1] > prison_years[0])):
                    raise _err(name, item, "prison_years", "expected [more than, at most] years (at most may be null)")
                offer = raw.get("offer") or []
                if not isinstance(offer, list) or set(offer) - set(OFFERS):
                    raise _err(name, item, "offer", f"expected a list of {', '.join(OFFERS)}")
                variant_of = raw.get("variant_of") or {}
                if not isinstance(variant_of, dict) or not all(
                        isinstance(q, str) and isinstance(ps, list) and ps and all(isinstance(p, str) and p.strip()
                                                                                    for p in ps)
                        for q, ps in variant_of.items()):
                    raise _err(name, item, "variant_of", "expected {question id: [phrases]}")
                if variant_of and (question or intents):
                    raise _err(name, item, "variant_of", "a variant answers for another entry: no question, no intents")
                entries.append(Entry(**_common(raw, name, item), topic=str(raw.get("topic") or ""),
                                     intents=tuple(intents), answer=answer.strip(),
                                     change_note=str(raw.get("change_note") or "").strip(),
                                     keywords=tuple(fold(k) for k in keywords),
                                     question=question, examples=tuple(x.strip() for x in examples),
                                     details=str(raw.get("details") or "").strip(), offer=tuple(offer),
                                     prison_years=tuple(prison_years) if prison_years is not None else None,
                                     no_term_said=bool(raw.get("no_term_said")),
                                     variant_of=tuple((q, tuple(fold(p) for p in ps))
                                                      for q, ps in variant_of.items())))
        kb = cls(facts, _with_asked(entries, Path(directory) / ASKED_DIR))
        kb._check_references()
        return kb

    def _check_references(self) -> None:
        ids = [i.id for i in self.facts]
        known = {e.id for e in self.entries if not e.variant_of}
        for e in self.entries:
            for eid, _ in e.variant_of:
                if eid not in known:
                    raise KnowledgeError(f"{e.file}: entry '{e.id}': field 'variant_of': no entry '{eid}'")
            for kind, fact_id in _PLACEHOLDER.findall(f"{e.answer}\n{e.details}\n{e.change_note}"):
                versions = [f for f in self.facts if f.id == fact_id]
                if not versions:
                    raise _err(e.file, e.id, "answer", f"refers to unknown fact '{fact_id}'")
                # Some version of the fact must cover every day the entry is valid:
                # check the entry's first day and each day a version stops applying.
                days = {e.effective_from} | {
                    f.effective_to for f in versions
                    if f.effective_to and e.effective_from <= f.effective_to
                    and (e.effective_to is None or f.effective_to < e.effective_to)
                }
                for day in sorted(days):
                    if not any(f.valid_on(day) for f in versions):
                        raise _err(e.file, e.id, "answer", f"fact '{fact_id}' is not valid on {day}")
        for fid in set(ids):
            versions = sorted((f for f in self.facts if f.id == fid), key=lambda f: f.effective_from)
            for a, b in zip(versions, versions[1:]):
                if a.effective_to is None or a.effective_to > b.effective_from:
                    raise _err(b.file, fid, "effective_from", "overlaps an earlier version of the same fact")

    # --- lookups ----------------------------------------------------------------

    def fact(self, fact_id: str, on: dt.date) -> Fact:
        for f in self.facts:
            if f.id == fact_id and f.valid_on(on):
                return f
        raise KeyError(f"no fact '{fact_id}' valid on {on.isoformat()}")

    def value(self, fact_id: str, on: dt.date) -> Any:
        return self.fact(fact_id, on).value

    def entries_for(self, intent: str, on: dt.date, text: str = "") -> list[Entry]:
        """The entries answering ``intent`` on that day. Entries with keywords
        answer only when the message names one of them, and then they answer
        instead of the general ones ("Nghị định 61" → the job-creation loan)."""
        # Question entries answer only when the question is chosen (questions()).
        valid = [e for e in self.entries if intent in e.intents and e.valid_on(on) and not e.question]
        named = [e for e in valid if e.named_in(text)]
        return named or [e for e in valid if not e.keywords]

    def questions(self, on: dt.date | None = None) -> list[Entry]:
        """Question-level entries (valid on ``on`` when given): chosen by what the
        message asks (nlu.components.QuestionRetriever), never by intent alone."""
        return [e for e in self.entries if e.question and (on is None or e.valid_on(on))]

    def variant(self, entry: Entry, on: dt.date, *texts: str) -> Entry:
        """The answer for the case the message names, when an entry is a ``variant_of``
        this one and one of ``texts`` (the message as typed, and with its
        abbreviations expanded) names one of its phrases; else ``entry`` itself."""
        for e in self.entries:
            for eid, phrases in e.variant_of:
                if eid == entry.id and e.valid_on(on) and any(_names(t, phrases) for t in texts):
                    return e
        return entry

    def entry(self, entry_id: str, on: dt.date) -> Entry:
        for e in self.entries:
            if e.id == entry_id and e.valid_on(on):
                return e
        raise KeyError(f"no entry '{entry_id}' valid on {on.isoformat()}")

    # --- rendering --------------------------------------------------------------

    def render(self, entry: Entry, on: dt.date, formatters: "Formatters",
               extra: dict[str, str] | None = None) -> Answer:
        used: list[Fact] = []

        def fill(m: re.Match[str]) -> str:
            kind, fact_id = m.group(1), m.group(2)
            if extra and fact_id in extra:
                return extra[fact_id]
            f = self.fact(fact_id, on)
            used.append(f)
            kind = kind or f.kind
            # A text fact is words of the answer: translated like the template.
            return formatters.translate(f.value) if kind == "text" else formatters.format(kind, f.value)

        # The templates are translated before their placeholders are filled
        # (bot/i18n.py: the catalogs hold each template, "knowledge" context).
        tr = formatters.translate
        # The change note stays with the answer: it often is the answer ("Nghị
        # định 61 đã được thay thế …").
        text = formatters.finish(
            "\n".join(_PLACEHOLDER.sub(fill, tr(t)) for t in (entry.answer, entry.change_note) if t))
        details = formatters.finish(_PLACEHOLDER.sub(fill, tr(entry.details))) if entry.details else ""
        items: list[Item] = [entry, *used]
        # A short citation: the entry's own sources, plus facts' sources from
        # documents the entry does not already cite (e.g. the current rate).
        sources: list[Source] = list(entry.sources)
        for it in used:
            for s in it.sources:
                if all(s.document != c.document for c in sources):
                    sources.append(s)
        unverified = [it for it in items if not it.verified]
        cited = tuple(s.cite(tr) for s in sources)
        return Answer(
            entry=entry, text=text, citation="; ".join(cited),
            verified=not unverified,
            confirm_with=(tr(unverified[0].confirm_with) if unverified else ""),
            facts=tuple(used), details=details, cited=cited,
        )


class Formatters:
    """How fact values read in an answer; built by the caller with its locale."""

    def __init__(self, money, date, period, rate, translate=None, finish=None) -> None:  # noqa: ANN001
        self._fmt = {"money": money, "date": date, "period": period, "rate": rate}
        # Knowledge text (templates, text facts, citations, offices) in the
        # reader's language; Vietnamese as written by default.
        self.translate: Callable[[str], str] = translate or (lambda text: text)
        # The filled answer as the language writes it (English: "5 days (working days)" → "5 working days").
        self.finish: Callable[[str], str] = finish or (lambda text: text)

    def format(self, kind: str, value: Any) -> str:
        fmt = self._fmt.get(kind)
        return fmt(value) if fmt else str(value)
