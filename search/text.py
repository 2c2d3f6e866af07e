"""Vietnamese text primitives: NFC, canonical tone-mark placement, accent folding, syllables.

Every rewrite here except :func:`nfc` keeps the length of an NFC string, so character
offsets computed on the rewritten text are offsets into the original stored text.

Tone style: Vietnamese writes some syllables two ways, "hòa"/"hoà", "thủy"/"thuỷ",
"ủy"/"uỷ", "khóa"/"khoá". We canonicalise to the mark-on-the-main-vowel style ("hoà",
"thuỷ", "uỷ"), the style of pyvi's own dictionary, so segmentation and matching agree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator

__all__ = [
    "nfc",
    "fold",
    "canonical_tones",
    "display_tones",
    "has_diacritics",
    "normalize_token",
    "accented",
    "folded",
    "Syllable",
    "syllables",
    "FOLD_TABLE",
    "SYLLABLE",
    "syllable_texts",
    "edit_distance",
]

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng
_QUALITY = {"\u0302", "\u0306", "\u031b"}  # circumflex (â ê ô), breve (ă), horn (ơ ư)
_VOWELS = set("aeiouy")


def nfc(text: str) -> str:
    """Return `text` in Unicode NFC (decomposed input from a Mac or Windows-1258 composes)."""
    return unicodedata.normalize("NFC", text)


def _build_fold_table() -> dict[int, str]:
    table = {ord("đ"): "d", ord("Đ"): "D"}
    for cp in range(0x00C0, 0x1F00):
        ch = chr(cp)
        base = unicodedata.normalize("NFD", ch)[0]
        if base != ch and base.isascii() and base.isalpha():
            table[cp] = base
    return table


FOLD_TABLE = _build_fold_table()  # str.translate table: each accented letter → its base letter


def fold(text: str) -> str:
    """Remove tone and vowel marks and map đ→d; one character in, one out (for NFC text)."""
    return text.translate(FOLD_TABLE)


def has_diacritics(text: str) -> bool:
    """True when `text` carries any Vietnamese mark (tone, vowel quality or đ)."""
    return fold(text) != text


_LETTER_SPLIT = re.compile(r"([^\W\d_]+)")  # split: what lies between, then a run of letters, …
_CANONICAL: dict[str, str] = {}  # a run of letters → its canonical form, for the hot path
CANONICAL_KEPT = 100_000  # runs kept (a corpus has some 10^5 distinct ones)


def canonical_tones(text: str) -> str:
    """Move tone marks to the canonical vowel in every syllable; keeps the length of NFC text."""
    parts = _LETTER_SPLIT.split(text)
    if len(_CANONICAL) > CANONICAL_KEPT:
        _CANONICAL.clear()
    known = _CANONICAL
    # a dict lookup per run rather than a call (a third less time on real articles)
    parts[1::2] = [known.get(w) or known.setdefault(w, _canonical_syllable(w)) for w in parts[1::2]]
    return "".join(parts)


def display_tones(text: str) -> str:
    """The tone style of official names, for showing: in an open "oa", "oe" or "uy" the mark
    sits on the first vowel ("Hòa Bình", "Thanh Hóa", "Tỉnh ủy"), whatever style the source
    used. Matching never depends on it (``canonical_tones`` is for matching)."""
    return _OPEN_PAIR.sub(lambda m: _DISPLAY[m.group()], canonical_tones(text))


_DISPLAY = {}
for _pair, _moved in (("oà", "òa"), ("oá", "óa"), ("oả", "ỏa"), ("oã", "õa"), ("oạ", "ọa"),
                      ("oè", "òe"), ("oé", "óe"), ("oẻ", "ỏe"), ("oẽ", "õe"), ("oẹ", "ọe"),
                      ("uỳ", "ùy"), ("uý", "úy"), ("uỷ", "ủy"), ("uỹ", "ũy"), ("uỵ", "ụy")):
    _DISPLAY[_pair] = _moved
    _DISPLAY[_pair.capitalize()] = _moved.capitalize()
    _DISPLAY[_pair.upper()] = _moved.upper()
# the pair at the end of a syllable ("hoà", not "hoàng"), not the "u" of "qu" ("quý")
_OPEN_PAIR = re.compile(r"(?<![qQ])(?:" + "|".join(_DISPLAY) + r")(?![^\W\d_])")


def _canonical_syllable(word: str) -> str:
    if len(word) > 7 or word.isascii():
        return word
    letters = []  # (base, quality marks, tone mark)
    tone_at = -1
    for i, ch in enumerate(word):
        parts = unicodedata.normalize("NFD", ch)
        tones = [m for m in parts[1:] if m in _TONES]
        if len(tones) > 1 or (tones and tone_at >= 0):
            return word  # not a Vietnamese syllable
        if tones:
            tone_at = i
        letters.append((parts[0], "".join(m for m in parts[1:] if m not in _TONES), tones))
    if tone_at < 0:
        return word
    target = _tone_position([b.lower() for b, _, _ in letters], [q for _, q, _ in letters])
    if target is None or target == tone_at:
        return word
    tone = letters[tone_at][2][0]
    out = []
    for i, (base, quality, _) in enumerate(letters):
        marks = quality + (tone if i == target else "")
        out.append(unicodedata.normalize("NFC", base + marks))
    result = "".join(out)
    return result if len(result) == len(word) else word


def _tone_position(bases: list[str], quality: list[str]) -> int | None:
    """Index of the letter that carries the tone in the main-vowel style, or None."""
    n = len(bases)
    start = 0
    while start < n and bases[start] not in _VOWELS:
        start += 1
    if start == n:
        return None
    # "qu" and "gi" + vowel: the u/i belongs to the initial consonant.
    if start + 1 < n and bases[start + 1] in _VOWELS and not quality[start]:
        if (bases[start] == "u" and start > 0 and bases[start - 1] == "q") or (
            bases[start] == "i" and start > 0 and bases[start - 1] == "g" and start == 1
        ):
            start += 1
    end = start
    while end < n and bases[end] in _VOWELS:
        end += 1
    if any(b in _VOWELS for b in bases[end:]):
        return None  # vowels after a consonant: not one syllable
    cluster = range(start, end)
    marked = [i for i in cluster if quality[i]]
    if marked:
        return marked[-1]
    size = end - start
    if size == 1:
        return start
    if end < n:  # a final consonant: the last vowel
        return end - 1
    if size == 2:
        pair = bases[start] + bases[start + 1]
        return start + 1 if pair in ("oa", "oe", "uy") else start
    if size == 3:
        return start + 1
    return None


# Surface form → index form, for the per-token hot paths (indexing, highlighting). A corpus
# has some 10^5 distinct surface forms, so a plain dict beats recomputing.
_ACCENTED: dict[str, str] = {}
_FOLDED: dict[str, str] = {}


def accented(surface: str) -> str:
    """The accented index form of one NFC syllable: lower-case, canonical tones (cached)."""
    form = _ACCENTED.get(surface)
    if form is None:
        form = _ACCENTED[surface] = canonical_tones(surface.lower())
    return form


def folded(surface: str) -> str:
    """The folded index form of one NFC syllable: lower-case, no marks (cached)."""
    form = _FOLDED.get(surface)
    if form is None:
        form = _FOLDED[surface] = fold(surface.lower())
    return form


def normalize_token(token: str) -> str:
    """The accented index form of a token: NFC, lower-case, canonical tone placement."""
    return canonical_tones(nfc(token).lower())


@dataclass(frozen=True, slots=True)
class Syllable:
    """One syllable (or number) of a text, with its exact place in that text."""

    text: str
    start: int
    end: int


# A number keeps its separators ("47.525", "6,7", "29/06/2020"); a word is a run of letters.
SYLLABLE = re.compile(r"\d+(?:[.,/:]\d+)*|[^\W\d_]+")


def syllables(text: str) -> Iterator[Syllable]:
    """Split NFC `text` into syllables and numbers with their character offsets."""
    for m in SYLLABLE.finditer(text):
        yield Syllable(m.group(), m.start(), m.end())


def syllable_texts(text: str) -> list[str]:
    """The syllables and numbers of NFC `text`, as written (``syllables`` without offsets)."""
    return SYLLABLE.findall(text)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
