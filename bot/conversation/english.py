"""English messages on the English page (locale ``en``).

The NLU model is trained on Vietnamese. An English message is turned into
something the Vietnamese product understands (data/normalization/english.yml):

- a message that tells a person's case (a sentence, a completion date, an
  age) becomes the same facts in Vietnamese ("2 years in prison, released on
  5 March 2024" → "bị 2 năm tù, chấp hành xong ngày 05/03/2024"), so the
  calculators answer it as they answer a Vietnamese story;
- a message that names a topic reaches Rasa as that topic's intent payload
  ("/ask_loan"), together with the specific question it asks when one of the
  topic's cue phrases is found ("where", "interest"…: the entry's id goes in
  the message metadata, ``question_id``, which the actions answer);
- an answer typed to a form's question becomes the Vietnamese words it holds
  ("prison" → "tù", "I want to open a small shop" → "kinh doanh");
- anything else passes as typed, with English dates and units written as the
  model reads them ("5 March 2024" → "05/03/2024", "3 years" → "3 năm").

A message with a crisis phrase (data/normalization/crisis.yml has English ones)
or a button payload is never rerouted: the model's crisis override sees the
words as typed. The replies are English through the catalogs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import yaml

from bot import PROJECT_ROOT
from bot.domain.knowledge import KnowledgeBase
from vietnamese.crisis import CrisisLexicon

ENGLISH_FILE = PROJECT_ROOT / "data" / "normalization" / "english.yml"


@dataclass(frozen=True)
class EnglishTurn:
    """What Rasa gets for an English message."""

    text: str
    question_id: str | None = None   # the entry the message asks, for the message metadata


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", text.lower().replace("'", "").replace("\u2019", "")))


@lru_cache(maxsize=1)
def _doc() -> dict:
    return yaml.safe_load(ENGLISH_FILE.read_text(encoding="utf-8")) or {}


@lru_cache(maxsize=1)
def _table() -> tuple[dict[tuple[str, ...], str], list[tuple[tuple[str, ...], str, int]],
                      list[tuple[tuple[str, ...], str, int]]]:
    doc = _doc()
    whole = {_words(p): intent for intent, ps in (doc.get("whole_message") or {}).items() for p in ps}
    return whole, _ranked(doc.get("phrases")), _ranked(doc.get("context_phrases"))


def _ranked(table: dict | None) -> list[tuple[tuple[str, ...], str, int]]:
    return [(_words(p), intent, rank) for rank, (intent, ps) in enumerate((table or {}).items()) for p in ps]


Cue = tuple[tuple[str, ...], ...]   # phrases that must all be found, in any order ("job creation + how much")


@lru_cache(maxsize=1)
def _question_cues() -> dict[str, list[tuple[Cue, str, int]]]:
    return {topic: [(tuple(_words(part) for part in cue.split(" + ")), qid, rank)
                    for rank, (qid, cues) in enumerate((entries or {}).items()) for cue in cues or []]
            for topic, entries in (_doc().get("questions") or {}).items()}


@lru_cache(maxsize=1)
def _crisis() -> CrisisLexicon:
    return CrisisLexicon.load()


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    return bool(phrase) and any(words[i:i + len(phrase)] == phrase for i in range(len(words) - len(phrase) + 1))


def _longest(words: tuple[str, ...], phrases: list[tuple[tuple[str, ...], str, int]]) -> str | None:
    found = [(len(p), -rank, name) for p, name, rank in phrases if _contains(words, p)]
    return max(found)[2] if found else None


def english_intent(text: str) -> str | None:
    """The intent an English message names, or None (crisis, payloads, nothing known)."""
    if not text or text.lstrip().startswith("/") or _crisis().matches(text):
        return None
    words = _words(text)
    whole, phrases, context = _table()
    if words in whole:
        return whole[words]
    found = _longest(words, phrases) or (_longest(words, context) if _asks(text, words) else None)
    if found == OUT_OF_SCOPE:
        # "open a bank account" is not a loan question, but "open a bank account to get a loan" is:
        # a topic named outside the out-of-scope phrase still wins.
        rest = _without(words, [p for p, name, _ in phrases if name == OUT_OF_SCOPE])
        return _longest(rest, [x for x in phrases if x[1] != OUT_OF_SCOPE]) or found
    return found


# Things people ask that sound like a topic but are not one ("open a bank account" names
# "bank", a loan word): listed in english.yml under this intent, they get the out-of-scope
# reply, which says what the assistant helps with.
OUT_OF_SCOPE = "out_of_scope"


def _without(words: tuple[str, ...], drop: list[tuple[str, ...]]) -> tuple[str, ...]:
    out = list(words)
    for phrase in sorted(drop, key=len, reverse=True):
        for i in range(len(out) - len(phrase) + 1):
            if tuple(out[i:i + len(phrase)]) == phrase:
                out[i:i + len(phrase)] = [""] * len(phrase)
    return tuple(out)


_QUESTION_WORDS = frozenset("what how can could do does did is are am must should will when where who which why may "
                            "need".split())


def _asks(text: str, words: tuple[str, ...]) -> bool:
    """A question, not an answer to one ("suspended sentence" typed to "what was your sentence?")."""
    return "?" in text or bool(words) and words[0] in _QUESTION_WORDS


def english_question(text: str) -> str | None:
    """The question entry an English message asks: its topic named and one of
    that topic's cue phrases found (the longest wins), or None."""
    intent = english_intent(text)
    if intent is None:
        return None
    words = _words(text)
    found = [(sum(map(len, cue)), -rank, qid) for cue, qid, rank in _question_cues().get(intent, [])
             if all(_contains(words, part) for part in cue)]
    return max(found)[2] if found else None


@lru_cache(maxsize=1)
def _followups() -> dict[tuple[str, ...], str]:
    return {_words(p): vi for vi, ps in (_doc().get("followups") or {}).items() for p in ps}


def english_followup(text: str) -> str | None:
    """The Vietnamese short question an English follow-up asks ("Where do I apply?" → "nộp hồ sơ ở
    đâu"), answered about the previous answer's topic; None when the message is not one."""
    words = _words(text)
    while words and words not in _followups() and words[0] in ("and", "so", "ok", "okay", "thanks", "then"):
        words = words[1:]
    return _followups().get(words)


@lru_cache(maxsize=1)
def _answer_words() -> list[tuple[tuple[str, ...], str]]:
    """Longest phrases first, so "suspended sentence" is read before "sentence"."""
    pairs = [(_words(p), vi) for vi, ps in (_doc().get("answers") or {}).items() for p in ps]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def english_answer(text: str) -> str | None:
    """The Vietnamese words of an answer typed to a form's question ("I want to open
    a small shop" → "kinh doanh"), in the order typed, or None."""
    words = list(_words(text))
    found: list[tuple[int, str]] = []
    for phrase, vi in _answer_words():
        for i in range(len(words) - len(phrase) + 1):
            if tuple(words[i:i + len(phrase)]) == phrase:
                found.append((i, vi))
                words[i:i + len(phrase)] = [""] * len(phrase)   # each word is read once
    said = list(dict.fromkeys(vi for _, vi in sorted(found)))
    return ", ".join(said) if said else None


@lru_cache(maxsize=1)
def _question_topics() -> dict[str, str]:
    """Each question entry's topic: the first of its intents (a check-in question is a support question)."""
    return {e.id: e.intents[0] for e in KnowledgeBase.load().questions() if e.intents}


# ---- dates, units and a person's facts -----------------------------------------------------------

_MONTHS = {name: i for i, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
     ("november", "nov"), ("december", "dec")], start=1) for name in names}
_MONTH = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"((?:19|20)\d\d)"
_DATES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\s*,?\s*{_YEAR}\b", re.I), "dmy"),
    (re.compile(rf"\b{_MONTH}\s+{_DAY}\s*,?\s*{_YEAR}\b", re.I), "mdy"),
    (re.compile(rf"\b(?:in\s+|of\s+)?{_MONTH}\s*,?\s*(?:of\s+)?{_YEAR}\b", re.I), "my"),
)
_RELATIVE = ((re.compile(r"\blast year\b", re.I), "năm ngoái"), (re.compile(r"\bthis year\b", re.I), "năm nay"),
             (re.compile(r"\blast month\b", re.I), "tháng trước"))
_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {"a": 1, "an": 1}
_N = r"(\d{1,2}(?:[.,]5)?|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
_UNIT = r"(years?|yrs?|months?)"


def _date_vi(match: re.Match[str], kind: str) -> str:
    if kind == "dmy":
        day, month, year = match.group(1), _MONTHS[match.group(2).lower()], match.group(3)
    elif kind == "mdy":
        month, day, year = _MONTHS[match.group(1).lower()], match.group(2), match.group(3)
    else:
        return f"tháng {_MONTHS[match.group(1).lower()]} năm {match.group(2)}"
    return f"{int(day):02d}/{month:02d}/{year}"


def _vietnamese_dates(text: str) -> str:
    for pattern, kind in _DATES:
        text = pattern.sub(lambda m, k=kind: _date_vi(m, k), text)
    for pattern, words in _RELATIVE:
        text = pattern.sub(words, text)
    text = re.sub(r"\b(released|finished|completed|ended|out|left prison)\s+((?:19|20)\d\d)\b",
                  lambda m: f"{m.group(1)} năm {m.group(2)}", text, flags=re.I)
    return re.sub(r"\b(?:in|since|during)\s+((?:19|20)\d\d)\b", r"năm \1", text, flags=re.I)


@lru_cache(maxsize=1)
def _units() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(rf"(\d+)\s*(?:{'|'.join(map(re.escape, sorted(words, key=len, reverse=True)))})\b",
                             re.I), unit) for unit, words in (_doc().get("units") or {}).items())


def glossed(text: str) -> str:
    """English dates and units of time written as the Vietnamese model reads them."""
    text = _vietnamese_dates(text)
    for pattern, unit in _units():
        text = pattern.sub(rf"\1 {unit}", text)
    return text


def _number(word: str) -> float:
    word = word.lower()
    return float(_NUMBERS[word]) if word in _NUMBERS else float(word.replace(",", "."))


def _length_vi(number: str, unit: str) -> str:
    n = _number(number)
    if unit.lower().startswith("m"):
        return f"{int(n)} tháng"
    return f"{int(n)} năm" if n == int(n) else f"{int(n * 12)} tháng"


_LIFE = re.compile(r"\blife (?:sentence|imprisonment|in prison)\b", re.I)
_REDUCED = re.compile(rf"\b(?:reduced|commuted|cut)\s+to\s+{_N}\s+{_UNIT}", re.I)
_SUSPENDED = re.compile(rf"\b(?:suspended sentence\s+(?:of\s+)?{_N}[\s-]+{_UNIT}|{_N}[\s-]+{_UNIT}\s+suspended)", re.I)
_PROBATION = re.compile(rf"\bprobation(?:ary)?(?:\s+period)?\s+(?:of\s+)?{_N}[\s-]+{_UNIT}"
                        rf"|\b{_N}[\s-]+{_UNIT}\s+(?:of\s+)?probation", re.I)
# "a suspended sentence with 3 years of probation": suspended, its length not said
_SUSPENDED_ONLY = re.compile(r"\bsuspended\s+(?:prison\s+)?(?:sentence|term)\b|\bgiven\s+a\s+suspended\b", re.I)
# "4 years, finished on 9 January 2023" (typed to "what was your sentence?"): a length that opens
# the message is the sentence, unless it says how long ago or the probation
_LEADING_LENGTH = re.compile(rf"^\s*{_N}[\s-]+{_UNIT}(?!\s+(?:ago|of\s+probation|probation|later|after))\b", re.I)
_PRISON = re.compile(
    rf"\b{_N}[\s-]+{_UNIT}(?:\s+and\s+{_N}\s+months?)?\s+(?:of\s+|in\s+)?(?:prison|jail|imprisonment|custody)"
    rf"|\b(?:sentenced\s+to|got|served|serving|did|given)\s+{_N}[\s-]+{_UNIT}"
    rf"|\b{_N}[\s-]+(year|month)\s+(?:prison|jail)\s+(?:sentence|term)"
    # "I was in prison for 4 years", "jailed for 18 months", "locked up for two years"
    rf"|\b(?:in\s+(?:prison|jail)|imprisoned|jailed|locked\s+up|behind\s+bars|inside)\s+for\s+{_N}[\s-]+{_UNIT}",
    re.I)
_AGE = re.compile(r"\b(?:i\s+was|aged|at\s+the\s+age\s+of|at\s+age"
                  # "My son was 17 and got 2 years", "when he was 16": a relative's age at the offence
                  r"|(?:he|she|they)\s+(?:was|were)|(?:my|our)\s+(?:\w+\s+)?(?:son|daughter|child|kid|brother|sister|"
                  r"nephew|niece|grandson|granddaughter|husband|wife)\s+was)"
                  r"\s+(?:only\s+|just\s+)?(\d{1,2})\b(?!%)(?!\s*(?:years?\s+(?:in|of)|months?))"
                  r"|\b(\d{1,2})\s*(?:years?\s+old|yo)\b", re.I)
# "clause 1 of Article 173", "Article 173 clause 2", "Article 168(2)": the article and clause the court
# applied, as the Vietnamese calculator reads them ("khoản 1 Điều 173"); the offence class (BLHS Điều 9)
# decides an offence at 16–17 (Điều 107).
_CLAUSE_OF_ARTICLE = re.compile(r"\b(?:clause|paragraph)\s+(\d)\s+(?:of\s+)?article\s+(\d{3})\b", re.I)
_ARTICLE_CLAUSE = re.compile(r"\barticle\s+(\d{3})(?:\s*\((\d)\)|,?\s+(?:clause|paragraph)\s+(\d))?", re.I)
# Crimes named in English → the Vietnamese words the calculator maps to an article (unambiguous ones only).
_CRIMES = ((re.compile(r"\b(?:theft|stealing|stole)\b", re.I), "trộm cắp"),
           (re.compile(r"\b(?:bag|purse|phone)\s*-?snatching\b|\bsnatch(?:ing|ed)?\b", re.I), "cướp giật"),
           (re.compile(r"\brobbery\b|\brobbed\b", re.I), "cướp tài sản"),
           (re.compile(r"\bfraud\b|\bscam(?:ming)?\b", re.I), "lừa đảo"))


def _offence_vi(text: str) -> str | None:
    if m := _CLAUSE_OF_ARTICLE.search(text):
        return f"khoản {m.group(1)} Điều {m.group(2)}"
    if m := _ARTICLE_CLAUSE.search(text):
        clause = m.group(2) or m.group(3)
        return f"khoản {clause} Điều {m.group(1)}" if clause else f"Điều {m.group(1)}"
    return next((vi for regex, vi in _CRIMES if regex.search(text)), None)


_UNPAID = re.compile(r"\b(?:not|never|havent|haven't|have not|didnt|didn't|did not)\s+(?:\w+\s+){0,2}paid\b"
                     r"|\bunpaid\b|\bstill owe\b", re.I)
_PAID = re.compile(r"\b(?:paid|settled)\b", re.I)
_NUMERIC_DATE = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d\d\b")
_VI_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b|tháng \d{1,2} năm \d{4}|năm \d{4}|năm ngoái|năm nay|tháng trước")


_HALVES = (re.compile(rf"\b{_N}\s+and\s+a\s+half\s+{_UNIT}", re.I),   # "2 and a half years"
           re.compile(rf"\b{_N}\s+{_UNIT}\s+and\s+a\s+half\b", re.I))   # "a year and a half"


def _probation_vi(text: str) -> str:
    probation = _PROBATION.search(text)
    if not probation:
        return ""
    groups = [g for g in probation.groups() if g is not None]
    return f" thử thách {_length_vi(groups[0], groups[1])}"


def _sentence_vi(text: str) -> str | None:
    for pattern in _HALVES:
        text = pattern.sub(lambda m: f"{int(_number(m.group(1)))}.5 {m.group(2)}", text)
    if _LIFE.search(text):
        reduced = _REDUCED.search(text)
        return f"tù chung thân giảm xuống {_length_vi(*reduced.groups())}" if reduced else "tù chung thân"
    suspended = _SUSPENDED.search(text)
    if suspended:
        number, unit = (suspended.group(1), suspended.group(2)) if suspended.group(1) else suspended.group(3, 4)
        return f"án treo {_length_vi(number, unit)}{_probation_vi(text)}"
    if _SUSPENDED_ONLY.search(text):
        return f"án treo{_probation_vi(text)}"
    prison = _PRISON.search(text)
    if not prison:
        return None
    groups = [g for g in prison.groups() if g is not None]
    number, unit = groups[0], groups[1]
    length = _length_vi(number, unit)
    if len(groups) >= 3 and unit.lower().startswith("y"):
        length = f"{int(_number(number) * 12 + _number(groups[2]))} tháng"
    return f"bị {length} tù"


# "My son got 3 years…": the story is a relative's, and the answer speaks of them
# (actions/expungement.py reads "người nhà tôi bị …" as a relative's story).
_A_RELATIVES = re.compile(r"\b(?:my|our)\s+(?:(?:older|younger|elder|little|big)\s+)?(?:son|daughter|child|kid|husband|wife|"
                       r"brother|sister|father|dad|mother|mum|mom|nephew|niece|grandson|granddaughter|cousin|"
                       r"partner|boyfriend|girlfriend|friend|uncle|aunt|relative)\b", re.I)


def english_story(text: str) -> str | None:
    """The facts of a person's case in an English message, written in Vietnamese
    ("bị 2 năm tù, chấp hành xong ngày 05/03/2024, khi phạm tội 17 tuổi"), or
    None when it tells neither a sentence, a date nor an age."""
    sentence = _sentence_vi(text)
    dated = _vietnamese_dates(text)
    date = _VI_DATE.search(dated) or _NUMERIC_DATE.search(dated)
    age = _AGE.search(text)
    if sentence is None and date is None:
        return f"lúc đó {age.group(1) or age.group(2)} tuổi" if age else None
    if sentence is None and date is not None and (lead := _LEADING_LENGTH.search(text)):
        sentence = f"bị {_length_vi(*lead.groups())} tù"   # "4 years, finished on 9 January 2023"
    suspended = bool(sentence and sentence.startswith("án treo"))
    if sentence == "án treo" and date is None:
        sentence = None   # "my brother got a suspended sentence, can he borrow?": a question, not a case
        if age is None:
            return None
    if sentence and _A_RELATIVES.search(text):
        sentence = "người nhà tôi " + (sentence if sentence.startswith(("bị", "án treo")) else f"bị {sentence}")
    parts = [sentence] if sentence else []
    if date:
        when = date.group(0)
        prefix = "hết thử thách" if suspended else "chấp hành xong"
        parts.append(f"{prefix} ngày {when}" if re.match(r"\d", when) else f"{prefix} {when}")
    if age:
        parts.append(f"khi phạm tội {age.group(1) or age.group(2)} tuổi")
    if sentence and (offence := _offence_vi(text)):
        parts.append(f"tội {offence}" if not offence.startswith("khoản") and not offence.startswith("Điều")
                     else offence)
    if _UNPAID.search(text):
        parts.append("chưa nộp xong án phí, bồi thường")
    elif _PAID.search(text):
        parts.append("đã nộp xong án phí, bồi thường")
    return ", ".join(parts)


# Amounts of money as people write them in English: "200 million", "200m", "VND 200 million",
# "200 million dong", "200,000,000 VND", "₫200,000,000" → "200 triệu", the words the
# Vietnamese money extractor reads (a stated loan amount is then weighed against the cap).
_MILLION = re.compile(r"(?<![\w.,])(\d{1,4}(?:[.,]\d+)?)\s*(?:millions?|mil|mn|m)\b", re.I)
_FULL = re.compile(r"(?<![\w.,])(?:₫|vnd|vnđ|đ)?\s*(\d{1,3}(?:[,.]\d{3}){2,3})\s*(?:₫|vnd|vnđ|dong|đồng|đ)?(?![\w.,]\d)",
                   re.I)


def english_money(text: str) -> list[str]:
    """The amounts of money an English message states, as "N triệu", in the order typed."""
    found: list[tuple[int, str]] = []
    for m in _MILLION.finditer(text):
        n = float(m.group(1).replace(",", "."))
        found.append((m.start(), f"{n:g} triệu"))
    for m in _FULL.finditer(text):
        digits = int(re.sub(r"[,.]", "", m.group(1)))
        if digits >= 1_000_000:
            found.append((m.start(), f"{digits / 1_000_000:g} triệu"))
    return [vi for _, vi in sorted(found)]


# Questions about the most one may borrow: with an amount stated, the amount is weighed instead.
AMOUNT_QUESTIONS = frozenset({"loan.qd22.amount", "loan.jobs.amount"})

STORY_QUESTIONS = {"ask_expungement": "bao giờ được xóa án tích?", "ask_loan": "tôi có vay vốn được không?",
                   "ask_criminal_record": "xin phiếu lý lịch tư pháp có ghi án không?"}


def english_turn(text: str) -> EnglishTurn:
    """What Rasa gets for an English message (see the module's docstring)."""
    if not text or text.lstrip().startswith("/"):
        return EnglishTurn(text)
    if _crisis().matches(text):
        return EnglishTurn(glossed(text))
    intent = english_intent(text)
    story = english_story(text)
    if story is not None and intent in STORY_QUESTIONS:
        return EnglishTurn(f"{story}, {STORY_QUESTIONS[intent]}")
    if story is not None and intent is None:
        return EnglishTurn(story)   # an answer to a form's question, or facts with no question
    if (followup := english_followup(text)) is not None:
        return EnglishTurn(followup)
    question = english_question(text)
    if question in AMOUNT_QUESTIONS and english_money(text):
        question = None   # "what is the maximum, can I borrow 200 million?": that amount against the cap
    if question is not None:
        return EnglishTurn(f"/{_question_topics().get(question, intent)}", question)
    answer = english_answer(text)
    money = english_money(text)
    if intent == "ask_loan" and (answer or money):   # "I want to borrow 50 million to raise pigs"
        return EnglishTurn(" ".join(["tôi muốn vay", *money, *([f"để {answer}"] if answer else [])]))
    if intent is not None:
        return EnglishTurn(f"/{intent}")
    if answer is not None:
        return EnglishTurn(", ".join([answer, *money]))
    if _asks(text, _words(text)) and _english_sentence(text):
        # "Who won the World Cup?": an English question that names no topic and tells no case is not
        # one the Vietnamese model can read; the out-of-scope reply says what the assistant helps with.
        return EnglishTurn(f"/{OUT_OF_SCOPE}")
    return EnglishTurn(glossed(text))


# Function words of English: a message with at least ENGLISH_WORDS of them (and no Vietnamese letter)
# is an English sentence, not Vietnamese typed without marks on the English page.
_ENGLISH = frozenset("the a an is are was were did do does who what when where which why how will would can could "
                     "you your my i me it this that of in on at for to and or with about".split())
ENGLISH_WORDS = 2
_VIETNAMESE_LETTER = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)


def _english_sentence(text: str) -> bool:
    words = _words(text)
    return not _VIETNAMESE_LETTER.search(text) and sum(w in _ENGLISH for w in words) >= ENGLISH_WORDS

