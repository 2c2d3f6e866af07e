"""Whoosh analysers for Vietnamese: accented syllables, folded syllables, pyvi compound words.

Each text field is indexed three ways (see ``search/schema.py``):

* ``accented``: syllables lower-cased with one canonical tone style ("uỷ" = "ủy"); exact
  matches and phrases.
* ``folded``: the same syllables without any mark, đ→d ("tinh uy" finds "Tỉnh ủy").
* ``compound``: the multi-syllable words pyvi finds, accented and folded ("bí_thư",
  "bi_thu"), so a query with diacritics boosts only the exact word and one without boosts
  every spelling. pyvi is slow (about 450,000 characters a second): it runs at index time
  only, inside the writer's worker processes. Queries never run pyvi: they look up
  adjacent syllables joined with "_".

The syllable analysers keep exact character offsets into the stored text, so the
highlighter can mark the original words, whatever form the query took.
"""

from __future__ import annotations

import re
import string
from typing import Iterator

from whoosh.analysis import Analyzer, Filter, Token, Tokenizer
from whoosh.formats import Positions

from .text import SYLLABLE, accented, canonical_tones, fold, folded

__all__ = [
    "SyllableTokenizer",
    "SyllableAnalyzer",
    "SyllablePositions",
    "accented_analyzer",
    "folded_analyzer",
    "compound_analyzer",
    "compound_words",
    "compound_spans",
    "query_forms",
]


class SyllableTokenizer(Tokenizer):
    """Yield syllables and numbers of NFC text with positions and exact character offsets."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        matches = SYLLABLE.finditer(value) if tokenize else [_Whole(value)]
        for pos, match in enumerate(matches):
            t.text = match.group()
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = t.text
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + match.start()
                t.endchar = start_char + match.end()
            yield t


class _Whole:
    """A stand-in regex match covering the whole value (for ``tokenize=False``)."""

    def __init__(self, value: str):
        self.value = value

    def group(self) -> str:
        return self.value

    def start(self) -> int:
        return 0

    def end(self) -> int:
        return len(self.value)


class SyllableAnalyzer(Analyzer):
    """Syllables and numbers of NFC text, each in one index form (`form`: ``text.accented``,
    lower-case with canonical tones, or ``text.folded``, without marks), with positions and
    exact character offsets (length-preserving forms). For indexing, :meth:`positions`
    gives the same words with their positions at once, without a Token per syllable."""

    def __init__(self, form):
        self.form = form
        self.tokenizer = SyllableTokenizer()

    def __call__(self, value, **kwargs):
        form = self.form
        for t in self.tokenizer(value, **kwargs):
            t.text = form(t.text)
            yield t

    def positions(self, value: str) -> dict[str, list[int]]:
        """Each word of `value` (in this form) → its positions, words in order of first use."""
        out: dict[str, list[int]] = {}
        form = self.form
        for pos, match in enumerate(SYLLABLE.finditer(value)):
            word = form(match.group())
            if word in out:
                out[word].append(pos)
            else:
                out[word] = [pos]
        return out


class SyllablePositions(Positions):
    """Whoosh's Positions format (the same postings, byte for byte), its words and positions
    taken from :meth:`SyllableAnalyzer.positions` for a whole text, instead of a Token per
    syllable through a tokenizer and a filter (600 real articles indexed in 10.9 s instead
    of 12.1 s)."""

    def word_values(self, value, analyzer, **kwargs):
        if not isinstance(analyzer, SyllableAnalyzer) or not isinstance(value, str) \
                or not kwargs.get("tokenize", True) or kwargs.get("start_pos", 0):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        for word, poslist in analyzer.positions(value).items():
            yield word, len(poslist), float(len(poslist)) * boost, self.encode(poslist)


class AccentFilter(Filter):
    """Lower-case and move tone marks to the canonical vowel (length-preserving). Not used
    by the schema any more; kept because the schema of an index built before
    SyllableAnalyzer names it, and that index must open to be reported as stale."""

    def __call__(self, tokens):
        for t in tokens:
            t.text = accented(t.text)
            yield t


class FoldFilter(Filter):
    """Lower-case and strip every Vietnamese mark, đ→d (length-preserving); kept for the
    schemas of older indexes, as AccentFilter."""

    def __call__(self, tokens):
        for t in tokens:
            t.text = folded(t.text)
            yield t


class CompoundTokenizer(Tokenizer):
    """pyvi's multi-syllable words of the text, each accented then folded ("bí_thư", "bi_thu").

    Each word yields its accented form and, when different, its folded form at the same
    position, with the offsets of the words in the text. This runs pyvi: at index time only,
    in the writer's worker processes."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        words = compound_spans(value) if tokenize else [(value, 0, len(value))]
        for pos, (word, start, end) in enumerate(words):
            folded = fold(word)
            for form in (word, folded) if folded != word else (word,):
                t.text = form
                t.boost = 1.0
                t.stopped = False
                if positions:
                    t.pos = start_pos + pos
                if chars:
                    t.startchar, t.endchar = start_char + start, start_char + end
                yield t


def accented_analyzer():
    """Syllables, lower-case, canonical tone style."""
    return SyllableAnalyzer(accented)


def folded_analyzer():
    """Syllables, lower-case, without marks."""
    return SyllableAnalyzer(folded)


def compound_analyzer():
    """pyvi compound words, accented and folded."""
    return CompoundTokenizer()


# pyvi's own syllabification (ViTokenizer.sylabelize), with offsets kept.
_PYVI_UNITS = re.compile(
    r"[A-ZĐ]+\.|Tp\.|Mr\.|Mrs\.|Ms\.|Dr\.|ThS\.|==>|->|\.\.\.|>>"
    r"|\w+://[^\s]+|[a-zA-Z0-9_.+-]+@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+"
    r"|\d+(?:[.,_]\d+)+|[^\w\s]|\w+"
)
_PUNCT = set(string.punctuation)


def _pyvi_model():
    from pyvi.ViTokenizer import ViTokenizer  # loads a CRF model: only where analysis runs

    return ViTokenizer


def _features(units: list[str], vi) -> list[dict]:
    """pyvi's ViTokenizer.sent2features, computed once per unit instead of per use, and
    without the features that are false.

    CRFsuite scores a label by the sum of each feature's value times its weight, so a false
    feature (value 0.0) adds nothing: left out, the labels are the same, in the same order of
    summing what is left. Two thirds of pyvi's features are false (a unit is seldom upper
    case, a digit, or the start of a dictionary bigram), and the CRF's tagging takes about
    half the time without them (``tests/test_analysis.py`` compares the words with pyvi's)."""
    low = [u.lower() for u in units]
    upper = [u.isupper() for u in units]
    title = [u.istitle() for u in units]
    n = len(units)
    bigram = [f"{low[i]} {low[i + 1]}" in vi.bi_grams for i in range(n - 1)]
    trigram = [f"{low[i]} {low[i + 1]} {low[i + 2]}" in vi.tri_grams for i in range(n - 2)]
    features = []
    for i, unit in enumerate(units):
        # pyvi's features in pyvi's order, each only where it is true
        f = {"bias": 1.0, "word.lower()": low[i]}
        if upper[i]:
            f["word.isupper()"] = True
        if title[i]:
            f["word.istitle()"] = True
        if unit.isdigit():
            f["word.isdigit()"] = True
        if i > 0:
            f["-1:word.lower()"] = low[i - 1]
            if title[i - 1]:
                f["-1:word.istitle()"] = True
            if upper[i - 1]:
                f["-1:word.isupper()"] = True
            if bigram[i - 1]:
                f["-1:word.bi_gram()"] = True
            if i > 1 and trigram[i - 2]:
                f["-2:word.tri_gram()"] = True
        if i < n - 1:
            f["+1:word.lower()"] = low[i + 1]
            if title[i + 1]:
                f["+1:word.istitle()"] = True
            if upper[i + 1]:
                f["+1:word.isupper()"] = True
            if bigram[i]:
                f["+1:word.bi_gram()"] = True
            if i < n - 2 and trigram[i]:
                f["+2:word.tri_gram()"] = True
        features.append(f)
    return features


def _segment(units: list[str]) -> list[tuple[int, int]]:
    """pyvi word boundaries over `units`, as (first, last) unit index pairs."""
    vi = _pyvi_model()
    labels = vi.model.tagger_.tag(_features(units, vi))
    words, first = [], 0
    for i in range(1, len(units)):
        cur, prev = units[i], units[i - 1]
        # pyvi's own joining rule (ViTokenizer.tokenize), kept so results match pyvi.
        joined = (labels[i] == "I_W" and cur not in _PUNCT and prev not in _PUNCT
                  and not cur[0].isdigit() and not prev[0].isdigit()
                  and not (cur[0].istitle() and not prev[0].istitle()))
        if not joined:
            words.append((first, i - 1))
            first = i
    words.append((first, len(units) - 1))
    return words


def compound_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Multi-syllable words pyvi finds in NFC `text`: (word joined by "_", start, end).

    The word is lower-case in the canonical tone style ("bí_thư", "tỉnh_uỷ")."""
    canonical = canonical_tones(text)  # pyvi's dictionary writes "uỷ", "hoà": match it
    for para in re.finditer(r"[^\n]+", canonical):
        matches = list(_PYVI_UNITS.finditer(para.group()))
        if len(matches) < 2:
            continue
        units = [m.group() for m in matches]
        for first, last in _segment(units):
            if last > first:
                word = "_".join(u.lower() for u in units[first:last + 1])
                yield word, para.start() + matches[first].start(), para.start() + matches[last].end()


def compound_words(text: str) -> list[str]:
    """The compound-word stream of `text`: each word accented, then folded when different."""
    return [t.text for t in CompoundTokenizer()(text)]


def query_forms(token: str) -> tuple[str, str]:
    """(accented, folded) index forms of one query syllable."""
    accented = canonical_tones(token.lower())
    return accented, fold(accented)
