"""Vietnamese text normalisation, pure Python (no Rasa), shared by the Rasa
components and the app.

* ``nfc``: compose text typed with combining marks (NFD keyboards, VNI/Telex
  leftovers) into the canonical precomposed form.
* ``fold``: the diacritics-free view users type on cheap phones: "Đăng ký" →
  "dang ky" (đ → d, which neither of sklearn's ``strip_accents`` modes does).
* ``Abbreviations``: the abbreviation/teencode table, kept as data in
  ``data/normalization/abbreviations.yml``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_ABBREVIATIONS = (
    Path(__file__).resolve().parent.parent / "data" / "normalization" / "abbreviations.yml"
)

_D_MAP = str.maketrans({"đ": "d", "Đ": "D"})


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# Old-style tone placement on the open diphthongs oa, oe, uy ("hoà", "khoẻ",
# "thuỷ") → the modern style the training data uses ("hòa", "khỏe", "thủy").
# Only where the diphthong ends the syllable: "hoàng", "khuyến" are unchanged;
# "quý" is unchanged because "qu" is a consonant there.
_TONES = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng


def _toned(base: str, tone: str) -> str:
    return unicodedata.normalize("NFC", base + tone)


_OLD_STYLE = {
    _toned(first, "") + _toned(second, tone): _toned(first, tone) + second
    for first, second in (("o", "a"), ("o", "e"), ("u", "y"), ("O", "A"), ("O", "E"), ("U", "Y"))
    for tone in _TONES
}
_OLD_STYLE_RE = re.compile(
    r"(?<![qQ])(" + "|".join(map(re.escape, _OLD_STYLE)) + r")(?!\w)"
)


def modern_tones(text: str) -> str:
    """Move tone marks of old-style "oà/oé/uý…" to the modern position (same length)."""
    return _OLD_STYLE_RE.sub(lambda m: _OLD_STYLE[m.group(1)], text)


def normalize(text: str) -> str:
    """The accented view: NFC composition, then modern tone placement."""
    return modern_tones(nfc(text))


def fold(text: str) -> str:
    """Lower-case, remove every diacritic, map đ to d."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_MAP))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped).lower()


_EDGE_PUNCT = re.compile(r"^([^\w]*)(.*?)([^\w]*)$", re.DOTALL)


def _key(token: str) -> str:
    lowered = nfc(token).lower()
    return lowered if len(lowered) < 2 else fold(lowered)


def _phrase_table(path: Path, phrases: dict[str, str]) -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for key, value in phrases.items():
        parts = fold(nfc(key)).split()
        if len(parts) != 2:
            raise ValueError(f"{path}: phrase '{key}' must be two words")
        table.setdefault(parts[0], {})[parts[1]] = nfc(value)
    return table


@dataclass(frozen=True)
class Abbreviations:
    """Whole-token replacements plus number-unit suffixes ("50tr" → "50 triệu").

    Keys of two or more letters are matched on the folded, lower-cased token,
    so "ko", "Ko" and "kô" are one entry. One-letter keys ("k", "j", "a") match
    only exactly, so that "à" or "á" is never read as "a" (anh).
    """

    words: dict[str, str]
    number_units: dict[str, str]
    digest: str
    # Two-word forms read together ("nc ngoài" is nước ngoài, while "nc" alone is
    # nói chuyện): folded first word → folded second word → expansion.
    phrases: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | str = DEFAULT_ABBREVIATIONS) -> "Abbreviations":
        path = Path(path)
        raw = path.read_bytes()
        data = yaml.safe_load(raw) or {}
        words = data.get("words") or {}
        units = data.get("number_units") or {}
        phrases = data.get("phrases") or {}
        for section, table in (("words", words), ("number_units", units), ("phrases", phrases)):
            if not isinstance(table, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and k and v for k, v in table.items()
            ):
                raise ValueError(f"{path}: '{section}' must map non-empty strings to strings")
        return cls(
            words={_key(k): nfc(v) for k, v in words.items()},
            number_units={fold(k): nfc(v) for k, v in units.items()},
            digest=hashlib.sha256(raw).hexdigest(),
            phrases=_phrase_table(path, phrases),
        )

    def _number_unit_re(self) -> re.Pattern[str]:
        units = "|".join(sorted(map(re.escape, self.number_units), key=len, reverse=True))
        return re.compile(rf"^(\d+(?:[.,]\d+)?)({units})$")

    def expand_token(self, token: str) -> str:
        """Expansion of one token (may be several words), or the token itself.

        Punctuation around the token is kept: "r," → "rồi,".
        """
        m = _EDGE_PUNCT.match(token)
        if m and (m.group(1) or m.group(3)) and m.group(2):
            return m.group(1) + self.expand_token(m.group(2)) + m.group(3)
        key = _key(token)
        if key in self.words:
            return self.words[key]
        key = fold(token)
        if self.number_units:
            m = self._number_unit_re().match(key)
            if m:
                return f"{m.group(1)} {self.number_units[m.group(2)]}"
        return token

    def expand(self, text: str) -> str:
        tokens = text.split()
        out: list[str] = []
        i = 0
        while i < len(tokens):
            if i + 1 < len(tokens) and self.phrases:
                second = self.phrases.get(fold(tokens[i]))
                m = _EDGE_PUNCT.match(tokens[i + 1])
                if second and m and not _EDGE_PUNCT.match(tokens[i]).group(3) and fold(m.group(2)) in second:
                    out.append(m.group(1) + second[fold(m.group(2))] + m.group(3))
                    i += 2
                    continue
            out.append(self.expand_token(tokens[i]))
            i += 1
        return " ".join(out)
