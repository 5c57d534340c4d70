"""Vietnamese entity extraction for the chatbot, pure Python (stdlib + ``vietnamese.text``).

Entities: ``money`` (int, VND), ``date`` (str), ``duration`` (str, ISO 8601
period) and ``penalty_type`` (str). Conventions:

* Matching runs on ``fold(nfc(text))`` (lower-case, no diacritics, đ → d), which
  keeps character positions, so every form works with and without diacritics
  and in any case. ``Entity.start``/``end`` index ``nfc(text)`` and
  ``Entity.text == nfc(text)[start:end]``.
* A word typed *with* diacritics must carry the right ones: "từ" is not "tù",
  "dòng" is not "đồng", "nằm" is not "năm". Words typed without any diacritic
  are accepted (that is how people type on cheap phones).
* money: a number needs a unit: tỷ/tỉ/ty, triệu/tr, nghìn/ngàn, or attached to
  the digits only (as in the abbreviation table) t (triệu), k/ng (nghìn); or a
  currency: đồng/vnđ/vnd/đ (below 1000 only when typed with "đ": "5 dong" may
  be "5 dòng"). "." or "," followed by groups of three digits are thousands
  separators; otherwise they are a decimal mark ("1,5 tỷ").
  "1tr5" = 1 500 000, "2 triệu rưỡi" = 2 500 000, "1 tỷ 200 triệu" =
  1 200 000 000. Vietnamese number words are read up to 999 per unit ("ba
  mươi lăm triệu"). A bare number ("vay 50", a phone number) is not money.
* date: "YYYY-MM-DD" when a day is given, "YYYY-MM" for month + year, "YYYY"
  for a year. Numeric dates are day first. Without a year a day or month is not
  a date; a two-digit year counts only in a whole day/month/year date ("15/7/24":
  2024, or the 1900s when 20yy is more than 10 years ahead). Years 1900-2099. Relative forms ("hôm
  qua", "năm ngoái", "3 tháng trước", "cách đây 2 năm") resolve against
  ``today``; "N năm trước" gives a year, "N tháng trước" a month, "N ngày/tuần
  trước" a day; "ra tù được 2 năm rưỡi" (time since the release) a month.
* duration: "P3Y", "P18M" (not normalised to years), "P2Y6M", "P15D", "P2W";
  "rưỡi" adds half of the last unit (year → 6 months, month → 15 days), "nửa
  năm" = "P6M". Not a duration inside a date or a relative date.
* penalty_type: warning, fine, non_custodial, suspended, prison, life, death.
  A bare "tù" counts only right after a duration ("3 năm tù"); "ra tù" is not a
  penalty. "tù treo" / "tù nhưng cho hưởng án treo" are suspended.
* Entities never overlap. Precedence between kinds: date, money, duration,
  penalty_type; within a kind the longest mention wins.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from vietnamese.clock import today_in_vietnam
from vietnamese.text import fold, nfc

__all__ = ["Entity", "extract", "parse_money", "parse_date", "parse_duration"]


@dataclass(frozen=True)
class Entity:
    entity: str  # "money" | "date" | "duration" | "penalty_type"
    value: object  # int | str
    start: int  # offsets into nfc(text)
    end: int
    text: str  # nfc(text)[start:end]


# (start, end, entity, value), offsets into the NFC text; value None claims
# the span without producing an entity.
_Candidate = tuple[int, int, str, object]


# --------------------------------------------------------------------------
# Folding and the diacritics check
# --------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    folded = fold(ch)
    return folded if len(folded) == 1 else " "


def _fold_aligned(text: str) -> str:
    """``fold(text)`` with exactly one output character per input character."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded
    return "".join(_fold_char(ch) for ch in text)


def _forms(table: dict[str, str]) -> dict[str, frozenset[str]]:
    return {key: frozenset(value.split()) for key, value in table.items()}


# Folded word → the accented spellings accepted for it. Words of the patterns
# that are missing here are not checked.
_ACCENTED = _forms(
    {
        # number words
        "khong": "không", "mot": "một mốt", "hai": "hai", "ba": "ba", "bon": "bốn",
        "tu": "tư", "nam": "năm", "lam": "lăm", "nham": "nhăm", "sau": "sáu",
        "bay": "bảy bẩy", "tam": "tám", "chin": "chín", "muoi": "mười mươi",
        "tram": "trăm", "linh": "linh", "le": "lẻ",
        # money
        "trieu": "triệu", "ty": "tỷ tỉ", "ti": "tỉ tỷ", "nghin": "nghìn", "ngan": "ngàn",
        "dong": "đồng", "vnd": "vnđ", "d": "đ", "ruoi": "rưỡi rưởi",
        # dates and durations
        "ngay": "ngày", "thang": "tháng", "tuan": "tuần", "hom": "hôm", "nay": "nay này",
        "qua": "qua", "kia": "kia", "mai": "mai", "ngoai": "ngoái", "truoc": "trước",
        "roi": "rồi", "cach": "cách", "day": "đây", "ve": "về", "gieng": "giêng",
        "chap": "chạp", "mung": "mùng", "mong": "mồng", "nua": "nửa nữa", "va": "và",
        # penalties
        "canh": "cảnh", "cao": "cáo", "phat": "phạt", "tien": "tiền", "cai": "cải",
        "tao": "tạo", "ko": "kô", "hong": "hông", "giam": "giam", "giu": "giữ",
        "an": "án", "treo": "treo", "chung": "chung", "than": "thân", "hinh": "hình",
        "co": "có", "thoi": "thời", "han": "hạn", "di": "đi", "ngoi": "ngồi", "o": "ở",
        "vao": "vào", "bi": "bị", "nhung": "nhưng", "duoc": "được", "cho": "cho",
        "huong": "hưởng",
    }
)
_TU_PRISON = _forms({"tu": "tù"})
_TU_DEATH = _forms({"tu": "tử"})

_WORD_RE = re.compile(r"[^\W\d_]+")


def _accents_ok(orig: str, start: int, end: int, overrides: dict | None = None) -> bool:
    """True when every known word of ``orig[start:end]`` is typed plain or with
    one of its accepted accented spellings."""
    for m in _WORD_RE.finditer(orig, start, end):
        typed = m.group().lower()
        key = fold(typed)
        if typed == key:
            continue
        allowed = (overrides or {}).get(key) or _ACCENTED.get(key)
        if allowed is not None and typed not in allowed:
            return False
    return True


# --------------------------------------------------------------------------
# Numbers: digits and Vietnamese number words
# --------------------------------------------------------------------------

_DIGIT_WORDS = {
    "mot": 1, "hai": 2, "ba": 3, "bon": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9,
}
# After "mươi"/"mười": "hai mươi mốt", "ba mươi tư", "mười lăm". Not "năm",
# which there means "year" ("hai mươi năm" = twenty years).
_AFTER_TENS = {**_DIGIT_WORDS, "tu": 4, "lam": 5, "nham": 5}
del _AFTER_TENS["nam"]

_W = r"(?:mot|hai|ba|bon|tu|nam|lam|nham|sau|bay|tam|chin|muoi|tram|linh|le)(?![a-z])"
# A run of number words; the longest suffix that reads as a number is used.
_WORDS = rf"(?<![a-z]){_W}(?:\s+{_W})*"
# A small count: 1-3 digits or number words ("3 năm", "ba năm").
_COUNT = rf"(?:(?<![\w.,/])\d{{1,3}}(?![.,]\d)|{_WORDS})"


def _parse_words(words: list[str]) -> int | None:
    """Value of Vietnamese number words below 1000 ("ba mươi lăm" → 35), or None."""
    n, i, total = len(words), 0, 0

    def at(k: int) -> str:
        return words[k] if k < n else ""

    if at(i) in _DIGIT_WORDS and at(i + 1) == "tram":
        total, i = _DIGIT_WORDS[at(i)] * 100, i + 2
        if at(i) in ("linh", "le") and at(i + 1) in _DIGIT_WORDS:
            return total + _DIGIT_WORDS[at(i + 1)] if i + 2 == n else None
    if at(i) in _DIGIT_WORDS and _DIGIT_WORDS[at(i)] >= 2 and at(i + 1) == "muoi":
        total, i = total + _DIGIT_WORDS[at(i)] * 10, i + 2
        if at(i) in _AFTER_TENS:
            total, i = total + _AFTER_TENS[at(i)], i + 1
    elif at(i) == "muoi":
        total, i = total + 10, i + 1
        if at(i) in _AFTER_TENS:
            total, i = total + _AFTER_TENS[at(i)], i + 1
    elif at(i) in _DIGIT_WORDS:
        total, i = total + _DIGIT_WORDS[at(i)], i + 1
    return total if i == n and total > 0 else None


def _words_value(ft: str, orig: str, start: int, end: int) -> tuple[int, int] | None:
    """(value, start) of the longest suffix of ``ft[start:end]`` that is a number
    in words with correct diacritics: "sau hai" ("after two") → (2, start of "hai")."""
    tokens = [m for m in re.finditer(r"[a-z]+", ft[:end]) if m.start() >= start]
    for k, first in enumerate(tokens):
        value = _parse_words([t.group() for t in tokens[k:]])
        if value is not None and _accents_ok(orig, first.start(), end):
            return value, first.start()
    return None


def _count(ft: str, orig: str, m: re.Match, group: str) -> tuple[int, int] | None:
    """(value, start) of a ``_COUNT`` group."""
    raw = m.group(group)
    if raw.isdigit():
        return (int(raw), m.start(group)) if int(raw) > 0 else None
    return _words_value(ft, orig, m.start(group), m.end(group))


_INT_RE = re.compile(r"0|[1-9]\d*")
_GROUPED_RE = re.compile(r"[1-9]\d{0,2}(?P<sep>[.,])\d{3}(?:(?P=sep)\d{3})*")
_DECIMAL_RE = re.compile(r"(0|[1-9]\d*)[.,](\d+)")


def _number(raw: str) -> Fraction | None:
    """"50" → 50, "50.000.000"/"50,000,000" → 50000000, "1,5"/"1.5" → 3/2.
    Leading zeros ("0912345678") are not amounts."""
    if _INT_RE.fullmatch(raw):
        return Fraction(int(raw))
    if _GROUPED_RE.fullmatch(raw):
        return Fraction(int(re.sub(r"[.,]", "", raw)))
    m = _DECIMAL_RE.fullmatch(raw)
    if m:
        return int(m.group(1)) + Fraction(int(m.group(2)), 10 ** len(m.group(2)))
    return None


_SPACE_RE = re.compile(r"\s*")


def _skip_space(ft: str, pos: int) -> int:
    return _SPACE_RE.match(ft, pos).end()


def _prev_word(ft: str, pos: int) -> str:
    m = re.search(r"(\w+)\s*$", ft[max(0, pos - 40) : pos])
    return m.group(1) if m else ""


# --------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------

_MULTIPLIERS = {
    "ty": 10**9, "ti": 10**9, "trieu": 10**6, "tr": 10**6, "t": 10**6,
    "nghin": 10**3, "ngan": 10**3, "k": 10**3, "ng": 10**3,
}
_ATTACHED_ONLY = {"t", "k", "ng"}  # "50t", "200k": never after a space
_WORD_UNITS = r"trieu|tr|nghin|ngan(?!\s+hang)|ty|ti"  # "ngân hàng" is a bank

_MONEY_PIECE_RE = re.compile(
    rf"""
    (?:
        (?<![\w.,/])(?P<num>\d+(?:[.,]\d+)*)(?P<gap>\s*)
        (?P<unit>{_WORD_UNITS}|ng|t|k)(?P<tail>\d{{1,3}})?      # "50 triệu", "1tr5"
      | (?P<words>{_WORDS})\s+(?P<wunit>{_WORD_UNITS})          # "năm mươi triệu"
    )(?![a-z0-9])
    """,
    re.X,
)
_MONEY_BARE_RE = re.compile(
    r"(?<![\w.,/])(?P<num>\d+(?:[.,]\d+)*)(?P<gap>\s*)(?P<cur>dong|vnd|d)(?![a-z0-9])"
)
_RUOI_RE = re.compile(r"\s+ruoi(?![a-z])")
_CURRENCY_RE = re.compile(r"\s*(?:dong|vnd|d)(?![a-z0-9])")


def _money_piece(ft: str, orig: str, m: re.Match) -> tuple[int, int, Fraction, int] | None:
    """(start, end, amount, multiplier) of one "number unit" piece."""
    if m.group("num") is not None:
        unit, gap, tail = m.group("unit"), m.group("gap"), m.group("tail")
        if gap and (unit in _ATTACHED_ONLY or tail):
            return None
        value = _number(m.group("num"))
        if value is None:
            return None
        if tail:  # "1tr5" = 1.5 triệu, "1tr250" = 1.25 triệu
            if value.denominator != 1:
                return None
            value += Fraction(int(tail), 10 ** len(tail))
        start = m.start()
    else:
        unit = m.group("wunit")
        found = _words_value(ft, orig, m.start("words"), m.end("words"))
        if found is None:
            return None
        value, start = Fraction(found[0]), found[1]
    if not _accents_ok(orig, start, m.end()):
        return None
    return start, m.end(), value * _MULTIPLIERS[unit], _MULTIPLIERS[unit]


def _find_money(ft: str, orig: str) -> list[_Candidate]:
    found: list[_Candidate] = []
    pos = 0
    while m := _MONEY_PIECE_RE.search(ft, pos):
        piece = _money_piece(ft, orig, m)
        if piece is None:
            pos = m.start() + 1
            continue
        start, end, total, last = piece
        while True:  # lower units may follow: "1 tỷ 200 triệu"
            at = _skip_space(ft, end)
            nm = _MONEY_PIECE_RE.match(ft, at) if at > end else None
            nxt = _money_piece(ft, orig, nm) if nm else None
            if nxt is None or nxt[0] != at or nxt[3] >= last or nxt[2] >= last:
                break
            end, total, last = nxt[1], total + nxt[2], nxt[3]
        if (r := _RUOI_RE.match(ft, end)) and _accents_ok(orig, end, r.end()):
            total, end = total + Fraction(last, 2), r.end()
        if (c := _CURRENCY_RE.match(ft, end)) and _accents_ok(orig, end, c.end()):
            end = c.end()
        if total >= 1:
            found.append((start, end, "money", round(total)))
        pos = end
    for m in _MONEY_BARE_RE.finditer(ft):
        value = _number(m.group("num"))
        if value is None or value.denominator != 1 or value < 1:
            continue
        if not _accents_ok(orig, m.start(), m.end()):
            continue
        # Below 1000 the currency must be typed with "đ": "lớp 12D", "5 dong"
        # (5 dòng, five lines) are not amounts, "12đ" is.
        cur = orig[m.start("cur") : m.end("cur")]
        if value < 1000 and "đ" not in cur.lower():
            continue
        found.append((m.start(), m.end(), "money", int(value)))
    return found


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

_B = r"(?<![a-z0-9])"  # left word boundary on the folded text
_DAY_PREFIX = r"(?:(?:ngay|mung|mong)\s+)"
_MONTH = (
    r"(?P<m>\d{1,2}|muoi\s+mot|muoi\s+hai|gieng|chap|mot|hai|ba|tu|bon|nam|sau|bay|tam"
    r"|chin|muoi)(?![a-z0-9])"
)
_MONTH_WORDS = {
    "gieng": 1, "mot": 1, "hai": 2, "ba": 3, "tu": 4, "bon": 4, "nam": 5, "sau": 6,
    "bay": 7, "tam": 8, "chin": 9, "muoi": 10, "muoi mot": 11, "muoi hai": 12, "chap": 12,
}
_YEAR = r"(?P<y>\d{4})(?!\d|[.,/\-]\d)"
_YEAR_SEP = r"(?:\s+nam\s+|\s*[/.\-,]\s*|\s+)"
_REL_YEAR = r"\s+nam\s+(?P<rel>nay|ngoai|truoc|roi|kia)(?![a-z])"
_REL_YEAR_OFFSET = {"nay": 0, "ngoai": 1, "truoc": 1, "roi": 1, "kia": 2}
_NUMERIC_END = r"(?!\w|[/.\-]\d)"

_ISO_DATE_RE = re.compile(
    rf"{_B}{_DAY_PREFIX}?(?<![\w/.\-])(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})"
    + _NUMERIC_END
)
_DMY_RE = re.compile(
    rf"{_B}{_DAY_PREFIX}?(?<![\w/.\-])(?P<d>\d{{1,2}})(?P<sep>[/.\-])(?P<m>\d{{1,2}})(?P=sep)"
    rf"(?P<y>\d{{4}}){_NUMERIC_END}"
)
# "15/7/24", "3.5.24": a two-digit year in a full day/month/year date, as people text it.
_DMY_SHORT_RE = re.compile(
    rf"{_B}{_DAY_PREFIX}?(?<![\w/.\-])(?P<d>\d{{1,2}})(?P<sep>[/.\-])(?P<m>\d{{1,2}})(?P=sep)"
    rf"(?P<y>\d{{2}}){_NUMERIC_END}"
)
_DMY_WORDS_RE = re.compile(
    rf"{_B}{_DAY_PREFIX}(?P<d>\d{{1,2}})\s+thang\s+{_MONTH}(?:{_YEAR_SEP}{_YEAR}|{_REL_YEAR})"
)
_MY_WORDS_RE = re.compile(rf"{_B}thang\s+{_MONTH}(?:{_YEAR_SEP}{_YEAR}|{_REL_YEAR})")
# "15/6 năm ngoái", "15/6 năm 2025": a day and a month in figures, the year in words.
_DM_YEAR_WORDS_RE = re.compile(
    rf"{_B}{_DAY_PREFIX}?(?<![\w/.\-])(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})(?:\s+nam\s+{_YEAR}|{_REL_YEAR})"
)
_MY_RE = re.compile(rf"(?<![\w/.\-])(?P<m>\d{{1,2}})/(?P<y>\d{{4}}){_NUMERIC_END}")
# Texting shorthand for "tháng": "t5/2025", "t6-2024", "t3 năm ngoái".
_MY_SHORT_RE = re.compile(rf"{_B}t(?P<m>\d{{1,2}})(?:{_YEAR_SEP}{_YEAR}|{_REL_YEAR})")
_YEAR_RE = re.compile(rf"{_B}nam\s+(?P<y>\d{{4}})(?!\w|[.,/\-]\d)")
# A bare year right after a release: "ra tù 2021", "mãn hạn tù 2019", "ra trại từ 2018" (the year alone).
_RELEASE_YEAR_RE = re.compile(
    rf"{_B}(?:ra\s+(?:tu|trai)|man\s+han(?:\s+tu)?|chap\s+hanh\s+xong(?:\s+an)?)(?:\s+(?:tu|vao|hoi|tu))?"
    rf"\s+(?P<y>(?:19|20)\d{{2}})(?!\w|[.,/\-]\d|\s*(?:trieu|tr|k|d|dong|ngay|thang|nam|tuan)\b)")
_AGO_RE = re.compile(
    rf"(?P<n>{_COUNT})\s*(?P<u>nam|thang|tuan|ngay|(?<=\d)n)\s+(?:ve\s+)?truoc(?![a-z])"
)
# "ra tù được 2 năm rưỡi", "mãn hạn được 3 tháng": the release, that long before today.
# "ms ra dc 3 thang" (typed without "tù": "ra" then "được"); "ra tù 4 năm 10 tháng r" (years and months).
_SINCE_RE = re.compile(
    rf"{_B}(?:ra\s+(?:tu|trai)|ra(?=\s+(?:duoc|dc|da\s+duoc)\s)|man\s+han|chap\s+hanh\s+xong(?:\s+an)?"
    rf"|(?:o\s+tu\s+)?ve(?:\s+nha)?)"
    rf"\s+(?:(?P<since>duoc|dc|da\s+duoc|da)\s+)?(?:(?:khoang|gan|hon)\s+)?"
    rf"(?P<n>{_COUNT})(?P<u>\s*(?:nam|thang|tuan|ngay)|(?<=\d)n)(?:\s+(?P<n2>{_COUNT})\s*thang)?(?P<half>\s+ruoi)?"
    rf"(?P<tail>\s+(?:roi|nay|r))?(?![a-z])"
)
_CACH_DAY_RE = re.compile(
    rf"{_B}cach\s+day\s+(?P<n>{_COUNT})\s*(?P<u>nam|thang|tuan|ngay)"
    rf"(?:\s+(?:ve\s+)?truoc)?(?![a-z])"
)
_RELATIVE_PHRASES = {
    "hom nay": ("day", 0), "hom qua": ("day", 1), "hom kia": ("day", 2),
    "ngay mai": ("day", -1), "nam nay": ("year", 0), "nam ngoai": ("year", 1),
    "nam truoc": ("year", 1), "nam roi": ("year", 1), "nam kia": ("year", 2),
    "thang nay": ("month", 0), "thang truoc": ("month", 1), "thang roi": ("month", 1),
}
_RELATIVE_RE = re.compile(
    _B + "(?P<phrase>"
    + "|".join(p.replace(" ", r"\s+") for p in _RELATIVE_PHRASES)
    + r")(?![a-z])"
)
_AGE_AFTER_RE = re.compile(r"\s+(?:(?:em|e|toi|anh|a|chi|c|bo|me|con|chau|ong|ba|no)\s+)?"
                           r"(?:(?:da|duoc|dc|moi|vua|tron)\s+)?\d{1,3}\s*(?:tuoi|t)(?![a-z])")
# "3 năm rồi", "mấy năm nay" are durations, not "last year" / "this year".
_QUANTIFIERS = set(_DIGIT_WORDS) | {
    "muoi", "lam", "nham", "may", "vai", "nhieu", "nhung", "cac", "nua",
}


def _valid_year(year: int) -> bool:
    return 1900 <= year <= 2099


def _ymd(year: int, month: int, day: int) -> str | None:
    if not _valid_year(year):
        return None
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _short_year(yy: int, today: _dt.date) -> int:
    """A two-digit year: this century unless that lies more than 10 years ahead ("15/7/24" → 2024,
    "3/4/98" → 1998)."""
    year = 2000 + yy
    return year if year <= today.year + 10 else year - 100


def _ym(year: int, month: int) -> str | None:
    return f"{year:04d}-{month:02d}" if _valid_year(year) and 1 <= month <= 12 else None


def _months_back(today: _dt.date, n: int) -> str | None:
    index = today.year * 12 + today.month - 1 - n
    return _ym(index // 12, index % 12 + 1)


def _month_of(m: re.Match) -> int:
    raw = " ".join(m.group("m").split())
    return int(raw) if raw.isdigit() else _MONTH_WORDS[raw]


def _year_of(m: re.Match, today: _dt.date) -> int:
    if m.group("y"):
        return int(m.group("y"))
    return today.year - _REL_YEAR_OFFSET[m.group("rel")]


def _ago(today: _dt.date, n: int, unit: str) -> str | None:
    if unit == "nam":
        return str(today.year - n) if _valid_year(today.year - n) else None
    if unit == "thang":
        return _months_back(today, n)
    days = n * 7 if unit == "tuan" else n
    try:
        return (today - _dt.timedelta(days=days)).isoformat()
    except OverflowError:
        return None


# "đầu năm 2024", "giữa năm", "cuối năm": a part of a year, read as the last month of that part (the
# later, safer bound for a completion; the answer states it as its assumption): đầu → 3, giữa → 7, cuối → 12.
_PART_OF_YEAR_RE = re.compile(r"(?<![a-z])(?P<part>dau|giua|cuoi)\s+(?:nam\s+)?(?P<y>(?:19|20)\d\d)(?!\d)")
_PART_OF_YEAR_MONTH = {"dau": 3, "giua": 7, "cuoi": 12}


def _find_dates(ft: str, orig: str, today: _dt.date) -> list[_Candidate]:
    found: list[_Candidate] = []

    def add(start: int, end: int, value: str | None) -> None:
        # An invalid date ("tháng 13 năm 2023", "31/02/2023") is kept with value
        # None: it claims its span, so "năm 2023" inside it is not read alone.
        if _accents_ok(orig, start, end):
            found.append((start, end, "date", value))

    for m in _ISO_DATE_RE.finditer(ft):
        add(m.start(), m.end(), _ymd(int(m["y"]), int(m["m"]), int(m["d"])))
    for m in _DMY_RE.finditer(ft):
        add(m.start(), m.end(), _ymd(int(m["y"]), int(m["m"]), int(m["d"])))
    for m in _DMY_SHORT_RE.finditer(ft):
        add(m.start(), m.end(), _ymd(_short_year(int(m["y"]), today), int(m["m"]), int(m["d"])))
    for m in _DMY_WORDS_RE.finditer(ft):
        add(m.start(), m.end(), _ymd(_year_of(m, today), _month_of(m), int(m["d"])))
    for m in _DM_YEAR_WORDS_RE.finditer(ft):
        add(m.start(), m.end(), _ymd(_year_of(m, today), int(m["m"]), int(m["d"])))
    for m in _MY_WORDS_RE.finditer(ft):
        add(m.start(), m.end(), _ym(_year_of(m, today), _month_of(m)))
    for m in _MY_RE.finditer(ft):
        add(m.start(), m.end(), _ym(int(m["y"]), int(m["m"])))
    for m in _MY_SHORT_RE.finditer(ft):
        add(m.start(), m.end(), _ym(_year_of(m, today), _month_of(m)))
    for m in _PART_OF_YEAR_RE.finditer(ft):
        if _valid_year(int(m["y"])):
            add(m.start(), m.end(), _ym(int(m["y"]), _PART_OF_YEAR_MONTH[m["part"]]))
    for m in _YEAR_RE.finditer(ft):
        add(m.start(), m.end(), m["y"] if _valid_year(int(m["y"])) else None)
    for m in _RELEASE_YEAR_RE.finditer(ft):
        add(m.start("y"), m.end(), m["y"] if _valid_year(int(m["y"])) else None)
    for m in _AGO_RE.finditer(ft):
        if count := _count(ft, orig, m, "n"):
            add(count[1], m.end(), _ago(today, count[0], "nam" if m["u"] == "n" else m["u"]))
    for m in _SINCE_RE.finditer(ft):
        if not (m["since"] or m["tail"]):
            continue  # "ra tù 2 năm": which? only "được 2 năm" or "2 năm rồi" say it is the time since
        if count := _count(ft, orig, m, "n"):
            n, unit = count[0], m["u"].strip()
            unit = "nam" if unit == "n" else unit  # "ra trai dc 3n r"
            if unit in ("nam", "thang"):  # to the month: "2 năm rưỡi" is not to the day
                months = n * 12 if unit == "nam" else n
                months += (6 if unit == "nam" else 0) if m["half"] else 0
                if unit == "nam" and m["n2"] and (more := _count(ft, orig, m, "n2")):
                    months += more[0]  # "4 năm 10 tháng rồi"
                value = _months_back(today, months)
            else:
                value = _ago(today, n, unit)
            add(count[1], m.end(), value)
    for m in _CACH_DAY_RE.finditer(ft):
        if (count := _count(ft, orig, m, "n")) and count[1] == m.start("n"):
            add(m.start(), m.end(), _ago(today, count[0], m["u"]))
    for m in _RELATIVE_RE.finditer(ft):
        kind, back = _RELATIVE_PHRASES[" ".join(m["phrase"].split())]
        before = _prev_word(ft, m.start())
        if kind != "day" and (before in _QUANTIFIERS or before.isdigit()):
            continue
        if kind == "year" and (age := _AGE_AFTER_RE.match(ft, m.end())):
            # "năm nay 35 tuổi", "nam nay 60t": an age now, neither a date nor "60 triệu"
            found.append((m.start(), age.end(), "date", None))
            continue
        if kind == "day":
            add(m.start(), m.end(), (today - _dt.timedelta(days=back)).isoformat())
        elif kind == "month":
            add(m.start(), m.end(), _months_back(today, back))
        else:
            add(m.start(), m.end(), str(today.year - back))
    return found


# --------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------

_DURATION_UNITS = ("nam", "thang", "tuan", "ngay")  # coarse to fine
_DURATION_PIECE_RE = re.compile(
    rf"""
    (?:
        (?<![\w.,/])(?P<num>\d{{1,3}})(?![.,]\d)\s*
      | (?P<words>{_WORDS})\s+
      | (?<![a-z])(?P<half>nua)\s+                      # "nửa năm"
    )
    (?P<unit>nam|thang|tuan|ngay|n|th)(?![a-z])
    """,
    re.X,
)
# "2n", "5n tù": years typed as a digit run with "n" glued to it (teencode); a bare "n" after
# a space or after number words is no unit ("hai n…").


_SHORT_UNITS = {"n": "nam", "th": "thang"}


def _unit(m: re.Match) -> str:
    return _SHORT_UNITS.get(m.group("unit"), m.group("unit"))


def _short_unit_ok(m: re.Match) -> bool:
    """A glued "n"/"th" counts only right after digits: "3n", "18th" (not "3 n", not "ba n"), and "th"
    not as an English ordinal ("the 4th", "4th of July")."""
    unit = m.group("unit")
    if unit not in _SHORT_UNITS:
        return True
    if m.group("num") is None or m.start("unit") != m.end("num"):
        return False
    return unit == "n" or not (re.search(r"(?<![a-z])the\s+$", m.string[:m.start()])
                               or re.match(r"\s+of(?![a-z])", m.string[m.end():]))
_DURATION_JOIN_RE = re.compile(r"\s+(?:va\s+)?")
_HALF_OF = {"nam": ("thang", 6), "thang": ("ngay", 15)}  # "rưỡi", "nửa"
_NOT_AFTER = {"thang", "ngay", "mung", "mong"}  # "tháng 13 năm 2023" is no duration
# "tù trên 5 năm", "dưới 15 năm": a bound of a range the law names, not a person's term
_BOUND_BEFORE = {"tren", "duoi"}


def _iso_period(amounts: dict[str, int]) -> str:
    years, months = amounts.get("nam", 0), amounts.get("thang", 0)
    weeks, days = amounts.get("tuan", 0), amounts.get("ngay", 0)
    if weeks and (years or months or days):
        days, weeks = days + 7 * weeks, 0
    parts = ((years, "Y"), (months, "M"), (weeks, "W"), (days, "D"))
    return "P" + "".join(f"{n}{unit}" for n, unit in parts if n)


def _duration_piece(ft: str, orig: str, m: re.Match | None) -> tuple[int, dict[str, int]] | None:
    """(start, {unit: amount}) of one "number unit" piece ("nửa năm" → {"thang": 6})."""
    if m is None or not _short_unit_ok(m):
        return None
    unit = _unit(m)
    if m.group("half") is not None:
        half = _HALF_OF.get(unit)
        return (m.start(), {half[0]: half[1]}) if half else None
    count = _count(ft, orig, m, "num" if m.group("num") is not None else "words")
    return (count[1], {unit: count[0]}) if count else None


def _find_durations(ft: str, orig: str) -> list[_Candidate]:
    found: list[_Candidate] = []
    pos = 0
    while m := _DURATION_PIECE_RE.search(ft, pos):
        pos = m.start() + 1
        piece = _duration_piece(ft, orig, m)
        if piece is None or _prev_word(ft, piece[0]) in _NOT_AFTER | _BOUND_BEFORE:
            continue
        start, amounts = piece[0], dict(piece[1])
        end, last = m.end(), m
        while last.group("half") is None:
            if ruoi := _RUOI_RE.match(ft, end):  # "1 năm rưỡi": ends the duration
                half = _HALF_OF.get(_unit(last))
                if half and _accents_ok(orig, end, ruoi.end()):
                    amounts[half[0]] = amounts.get(half[0], 0) + half[1]
                    end = ruoi.end()
                break
            join = _DURATION_JOIN_RE.match(ft, end)  # finer units: "2 năm (và) 6 tháng"
            nm = _DURATION_PIECE_RE.match(ft, join.end()) if join else None
            nxt = _duration_piece(ft, orig, nm)
            if (
                nxt is None
                or nm.group("half") is not None
                or nxt[0] != join.end()
                or _DURATION_UNITS.index(_unit(nm))
                <= _DURATION_UNITS.index(_unit(last))
            ):
                break
            amounts.update(nxt[1])
            end, last = nm.end(), nm
        if re.match(r"\s+\d{4}(?!\d)", ft[end:]) or not _accents_ok(orig, start, end):
            continue  # "6 năm 2023" is the tail of a date
        found.append((start, end, "duration", _iso_period(amounts)))
        pos = end
    return found


# --------------------------------------------------------------------------
# Penalty types
# --------------------------------------------------------------------------

_PENALTY_PATTERNS = [
    ("suspended", r"(?:phat\s+)?tu(?:\s+(?:nhung|duoc|cho|huong))+\s+an\s+treo", _TU_PRISON),
    ("suspended", r"(?:phat\s+)?tu\s+treo", _TU_PRISON),
    ("suspended", r"(?:huong\s+)?an\s+treo", _TU_PRISON),
    ("life", r"(?:(?:phat\s+)?tu\s+)?chung\s+than", _TU_PRISON),
    ("death", r"(?:an\s+)?tu\s+hinh", _TU_DEATH),
    ("non_custodial", r"(?:phat\s+)?cai\s+tao\s+(?:khong|ko|kg|kh|k|hong)\s+giam\s+giu", None),
    ("warning", r"(?:phat\s+)?canh\s+cao", None),
    ("fine", r"phat\s+tien", None),
    ("prison", r"(?:phat\s+)?tu\s+(?:co\s+thoi\s+han|giam)", _TU_PRISON),
    ("prison", r"(?:phat|di|ngoi|o|vao|bi|an)\s+tu", _TU_PRISON),
]
_PENALTY_RES = [
    (kind, re.compile(rf"(?<![a-z]){pattern}(?![a-z])"), overrides)
    for kind, pattern, overrides in _PENALTY_PATTERNS
]
_BARE_TU_RE = re.compile(r"(?<![a-z])tu(?![a-z])")


# "phạt tiền 20tr, không bị tù": a prison term denied is no penalty said.
_DENIED_RE = re.compile(r"(?<![a-z])(?:khong|ko|k|kh|kg|hong|chua)\s+$")


def _find_penalties(ft: str, orig: str, durations: list[Entity]) -> list[_Candidate]:
    found: list[_Candidate] = []
    for kind, regex, overrides in _PENALTY_RES:
        for m in regex.finditer(ft):
            if kind == "prison" and _DENIED_RE.search(ft[:m.start()]):
                continue
            if _accents_ok(orig, m.start(), m.end(), overrides):
                found.append((m.start(), m.end(), "penalty_type", kind))
    duration_ends = {d.end for d in durations}
    duration_starts = {d.start for d in durations}
    for m in _BARE_TU_RE.finditer(ft):
        if not _accents_ok(orig, m.start(), m.end(), _TU_PRISON):
            continue
        before = re.search(r"\s+$", ft[: m.start()])
        after = re.match(r"\s+", ft[m.end():])
        if before and before.start() in duration_ends:  # "3 năm tù"
            found.append((m.start(), m.end(), "penalty_type", "prison"))
        elif (after and m.end() + after.end() in duration_starts  # "tù 5 năm"
              and not re.search(r"(?<![a-z])ra\s+$", ft[: m.start()])):  # not "ra tù 5 năm (rồi)"
            found.append((m.start(), m.end(), "penalty_type", "prison"))
    return found


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def extract(text: str, today: _dt.date) -> list[Entity]:
    """All entities of ``text``, sorted by start, non-overlapping."""
    if isinstance(today, _dt.datetime):
        today = today.date()
    orig = nfc(text)
    ft = _fold_aligned(orig)
    chosen: list[Entity] = []
    claimed: list[tuple[int, int]] = []

    def take(candidates: list[_Candidate]) -> None:
        for start, end, kind, value in sorted(candidates, key=lambda c: (c[0] - c[1], c[0])):
            if all(end <= s or start >= e for s, e in claimed):
                claimed.append((start, end))
                if value is not None:
                    chosen.append(Entity(kind, value, start, end, orig[start:end]))

    take(_find_dates(ft, orig, today))
    take(_find_money(ft, orig))
    take(_find_durations(ft, orig))
    take(_find_penalties(ft, orig, [e for e in chosen if e.entity == "duration"]))
    return sorted(chosen, key=lambda e: e.start)


def _first(text: str, kind: str, today: _dt.date | None = None) -> object | None:
    for entity in extract(text, today or today_in_vietnam()):
        if entity.entity == kind:
            return entity.value
    return None


def parse_money(s: str) -> int | None:
    """VND amount of the first money mention in ``s`` ("50tr" → 50000000), or None."""
    return _first(s, "money")  # type: ignore[return-value]


def parse_date(s: str, today: _dt.date) -> str | None:
    """First date in ``s`` as "YYYY-MM-DD", "YYYY-MM" or "YYYY", or None."""
    return _first(s, "date", today)  # type: ignore[return-value]


def parse_duration(s: str) -> str | None:
    """First duration in ``s`` as an ISO 8601 period ("2 năm 6 tháng" → "P2Y6M"), or None."""
    return _first(s, "duration")  # type: ignore[return-value]
