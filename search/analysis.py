"""Whoosh analysers for Vietnamese: accented syllables, folded syllables, pyvi compound words.

Each text field is indexed three ways (see ``search/schema.py``):

* ``accented``: syllables lower-cased with one canonical tone style ("uỷ" = "ủy"); exact
  matches and phrases.
* ``folded``: the same syllables without any mark, đ→d ("tinh uy" finds "Tỉnh ủy").
* ``compound``: the multi-syllable words pyvi finds, accented and folded ("bí_thư",
  "bi_thu"), so a query with diacritics boosts only the exact word and one without boosts
  every spelling. pyvi's CRF model is run by our own tagger (``_PyviTagger``: CRFsuite's
  labels, without CRFsuite's conversion of each feature), at index time only, inside the
  writer's worker processes. Queries never run pyvi: they look up adjacent syllables
  joined with "_".

The syllable analysers keep exact character offsets into the stored text, so the
highlighter can mark the original words, whatever form the query took.
"""

from __future__ import annotations

import re
import string
import struct
from functools import lru_cache
from pathlib import Path
from pickle import dumps
from typing import Iterator

import numpy as np

from whoosh.analysis import Analyzer, Filter, Token, Tokenizer
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint

from .text import SYLLABLE, accented, canonical_tones, fold, folded

__all__ = [
    "SyllableTokenizer",
    "SyllableAnalyzer",
    "SyllablePositions",
    "CompoundFrequency",
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
        get = out.get
        for pos, word in enumerate(map(self.form, SYLLABLE.findall(value))):
            at = get(word)
            if at is None:
                out[word] = [pos]
            else:
                at.append(pos)
        return out


class _WholeText:
    """A format that makes a whole text's postings at once (``_values``: word, frequency,
    weight, value bytes), when it is given a text to tokenize from the start with its own
    kind of analyzer (``ANALYZER``); anything else goes to Whoosh's format."""

    ANALYZER: type

    def _takes(self, value, analyzer, kwargs: dict) -> bool:
        return isinstance(analyzer, self.ANALYZER) and isinstance(value, str) \
            and kwargs.get("tokenize", True) and not kwargs.get("start_pos", 0)

    def word_values(self, value, analyzer, **kwargs):
        if not self._takes(value, analyzer, kwargs):
            return super().word_values(value, analyzer, **kwargs)
        return iter(self._values(value, analyzer))

    def postings(self, value: str, analyzer) -> list[tuple] | None:
        """What ``FieldType.index`` yields for `value` (the words UTF-8 encoded), as one list;
        None when Whoosh's format is to make them (``backends/whoosh.py`` then asks Whoosh)."""
        if not self._takes(value, analyzer, {}):
            return None
        return [(word.encode("utf-8"), n, weight, v) for word, n, weight, v in self._values(value, analyzer)]


class SyllablePositions(_WholeText, Positions):
    """Whoosh's Positions format (the same postings, byte for byte), its words and positions
    taken from :meth:`SyllableAnalyzer.positions` for a whole text, instead of a Token per
    syllable through a tokenizer and a filter (600 real articles indexed in 10.9 s instead
    of 12.1 s)."""

    ANALYZER = SyllableAnalyzer

    def _values(self, value: str, analyzer) -> list[tuple[str, int, float, bytes]]:
        boost, once, out = self.field_boost, _ONE_POSITION, []
        for word, poslist in analyzer.positions(value).items():
            if len(poslist) == 1:  # most words of a text: Whoosh's encoding, its pickle kept
                pos = poslist[0]  # (a new bytes each time: pickle writes one shared twice otherwise)
                pickled = once.get(pos) or once.setdefault(pos, dumps(poslist, 2))
                out.append((word, 1, 1.0 * boost, _ONE + pickled))
            else:
                out.append((word, len(poslist), float(len(poslist)) * boost, self.encode(poslist)))
        return out


_ONE = pack_uint(1)  # Positions.encode([p]) is _ONE + dumps([p], 2)
_ONE_POSITION: dict[int, bytes] = {}  # position p → dumps([p], 2)


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
            for form in _forms(word):
                t.text = form
                t.boost = 1.0
                t.stopped = False
                if positions:
                    t.pos = start_pos + pos
                if chars:
                    t.startchar, t.endchar = start_char + start, start_char + end
                yield t


class CompoundFrequency(_WholeText, Frequency):
    """Whoosh's Frequency format for the compound stream (the same postings, byte for byte),
    its words counted from :func:`compound_words` of a whole text at once, instead of a
    Token per word and form through Whoosh's token loop."""

    ANALYZER = CompoundTokenizer

    def _values(self, value: str, analyzer) -> list[tuple[str, int, float, bytes]]:
        counts: dict[str, int] = {}
        get = counts.get
        for word in compound_words(value):
            counts[word] = get(word, 0) + 1
        boost = self.field_boost
        return [(word, n, float(n) * boost, pack_uint(n)) for word, n in counts.items()]


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


# The attributes of pyvi's features (ViTokenizer.word2features) that are true or false, in
# pyvi's order within each of the three groups: the unit itself, the one before, the one after.
_OWN_FLAGS = ("word.isupper()", "word.istitle()", "word.isdigit()")
_BEFORE_FLAGS = ("-1:word.istitle()", "-1:word.isupper()", "-1:word.bi_gram()", "-2:word.tri_gram()")
_AFTER_FLAGS = ("+1:word.istitle()", "+1:word.isupper()", "+1:word.bi_gram()", "+2:word.tri_gram()")
_FEATURE = np.dtype([("type", "<u4"), ("src", "<u4"), ("dst", "<u4"), ("weight", "<f8")])


def _isin(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Which of `values` are among the sorted `codes` (negative values never are)."""
    if not len(codes) or not len(values):
        return np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(codes, values), len(codes) - 1)
    return (codes[at] == values) & (values >= 0)


def _add_where(scores: np.ndarray, flags, weights) -> None:
    """Add each flag's weights (B_W, I_W) to the units' `scores` where the flag is true."""
    for flag, w in zip(flags, weights):
        np.add(scores, w, out=scores, where=flag[:, None])


def _cqdb_keys(data: bytes, at: int) -> dict[str, int]:
    """The strings of a CRFsuite string table (a "CQDB" chunk at `at`) → their ids."""
    chunk, _, _, _, _, backward = struct.unpack_from("<4s5I", data, at)
    if chunk != b"CQDB":
        raise ValueError(f"no CQDB chunk at {at}")
    refs = struct.unpack_from("<512I", data, at + 24)
    end = min([refs[i] for i in range(0, 512, 2) if refs[i]] or [backward])  # the hash tables follow the keys
    keys, p = {}, at + 24 + 2048
    while p < at + end:
        key_id, size = struct.unpack_from("<iI", data, p)
        keys[data[p + 8:p + 7 + size].decode("utf-8")] = key_id  # the key ends in a NUL
        p += 8 + size
    return keys


class _PyviTagger:
    """pyvi's CRF (its CRFsuite model file) tagging units as CRFsuite's Viterbi does, the
    features scored straight from the units.

    pyvi hands CRFsuite one dict of features per unit; CRFsuite then builds each attribute's
    name ("-1:word.lower():tỉnh") and looks it up: 0.54 s of its 0.59 s tagging 7,331 real
    paragraphs, and making the dicts took 0.44 s more. Here each distinct unit is looked at
    once (its row in the tables of what the model knows of a word as the unit itself, the one
    before and the one after: 2,438, 2,250 and 1,635 words of its 6,335 attributes; its case;
    whether it is a digit; its number among the syllables of pyvi's dictionary n-grams), and
    a text's units are then scored together with numpy: the true/false features add their
    weights where they are true. A label's score is the same sum, in the same order, as
    CRFsuite's ("``state += weight * 1.0``" over the attributes in pyvi's order; an
    attribute the model lacks adds nothing, nor one that is false), and the Viterbi path is
    CRFsuite's, ties included (the first label of equal score wins), so the labels are
    CRFsuite's: tests/test_analysis.py compares them with ``tagger.tag`` on pyvi's own
    features."""

    def __init__(self, vi):
        data = Path(vi.model.modelfile.name).read_bytes()
        magic, _, kind, _, _, labels, _, features, label_table, attr_table = struct.unpack_from("<4sI4s7I", data)
        if magic != b"lCRF" or kind != b"FOMC":
            raise ValueError("pyvi's model is not a CRFsuite first-order CRF")
        if _cqdb_keys(data, label_table) != {"B_W": 0, "I_W": 1} or labels != 2:
            raise ValueError("pyvi's model has other labels than B_W and I_W")
        attrs = _cqdb_keys(data, attr_table)
        chunk, _, count = struct.unpack_from("<4sII", data, features)
        if chunk != b"FEAT":
            raise ValueError("no features in pyvi's model")
        feats = np.frombuffer(data, _FEATURE, count, features + 12)
        weights = np.zeros((len(attrs), 2))  # attribute id → its weight for B_W, I_W
        state = feats[feats["type"] == 0]
        weights[state["src"], state["dst"]] = state["weight"]
        self.transition = np.zeros((2, 2))
        trans = feats[feats["type"] == 1]
        self.transition[trans["src"], trans["dst"]] = trans["weight"]

        def weight(attr: str) -> np.ndarray:
            return weights[attrs[attr]] if attr in attrs else np.zeros(2)

        self.bias = weight("bias")
        self.own_flags = [weight(a) for a in _OWN_FLAGS]
        self.before_flags = [weight(a) for a in _BEFORE_FLAGS]
        self.after_flags = [weight(a) for a in _AFTER_FLAGS]
        prefixes = ("word.lower():", "-1:word.lower():", "+1:word.lower():")
        words = sorted({a[len(p):] for a in attrs for p in prefixes if a.startswith(p)})
        self.row = {w: i for i, w in enumerate(words, 1)}  # row 0: a word the model does not know
        self.own, self.before, self.after = (
            np.array([np.zeros(2)] + [weight(p + w) for w in words]) for p in prefixes)
        # pyvi's dictionary n-grams as numbers: each syllable in one of them has an id, a pair
        # of ids x, y is x * k + y, a triple (x * k + y) * k + z (units never hold a space)
        bi = [g for g in (g.split(" ") for g in vi.bi_grams) if len(g) == 2]
        tri = [g for g in (g.split(" ") for g in vi.tri_grams) if len(g) == 3]
        ids = self.gram_id = {s: i for i, s in enumerate(sorted({s for g in (*bi, *tri) for s in g}))}
        k = self.k = len(ids)
        self.bi_codes = np.unique([ids[x] * k + ids[y] for x, y in bi])
        self.tri_codes = np.unique([(ids[x] * k + ids[y]) * k + ids[z] for x, y, z in tri])
        self._forget_units()

    UNITS_KEPT = 100_000  # units whose features are kept (~15 MB): a text's are nearly all known

    def _forget_units(self) -> None:
        self._unit_id: dict[str, int] = {}
        self._unit_features = np.zeros((1024, 5), np.int64)  # row, upper, title, digit, gram id

    def _unit_ids(self, units: list[str]) -> np.ndarray:
        """Each unit's number in ``_unit_features``, the units not seen yet added to it."""
        known = self._unit_id
        if len(known) > self.UNITS_KEPT:
            self._forget_units()
            known = self._unit_id
        ids = [known.get(u, -1) for u in units]
        if -1 in ids:
            for at, unit in enumerate(units):
                if ids[at] == -1:
                    ids[at] = known.get(unit, -1)
                    if ids[at] == -1:
                        ids[at] = known[unit] = self._learn(unit, len(known))
        return np.array(ids, dtype=np.intp)

    def _learn(self, unit: str, number: int) -> int:
        if number == len(self._unit_features):
            self._unit_features = np.concatenate([self._unit_features, np.zeros_like(self._unit_features)])
        low = unit.lower()
        self._unit_features[number] = (self.row.get(low, 0), unit.isupper(), unit.istitle(), unit.isdigit(),
                                       self.gram_id.get(low, -1))
        return number

    def scores(self, paragraphs: list[list[str]]) -> np.ndarray:
        """Each unit's score for B_W and I_W, the units of `paragraphs` one after the other."""
        ids = self._unit_ids([u for p in paragraphs for u in p])  # first: it may grow the table
        features = self._unit_features[ids]
        row, gram = features[:, 0], features[:, 4]
        upper, title, digit = features[:, 1] == 1, features[:, 2] == 1, features[:, 3] == 1
        ends = np.cumsum([len(p) for p in paragraphs])
        last = np.zeros(len(row), bool)
        last[ends - 1] = True  # the last unit of its paragraph: no "after" features
        first = np.roll(last, 1)  # the first unit of its paragraph: no "before" features
        # bi[i]: units i, i + 1 are a two-syllable word of pyvi's dictionary (in one paragraph);
        # tri[i]: units i, i + 1, i + 2 a three-syllable one
        k, known = self.k, gram >= 0
        pair = np.where(known[:-1] & known[1:] & ~last[:-1], gram[:-1] * k + gram[1:], -1)
        bi = np.append(_isin(pair, self.bi_codes), False)
        triple = np.where((pair[:-1] >= 0) & (pair[1:] >= 0), pair[:-1] * k + gram[2:], -1)
        tri = np.append(_isin(triple, self.tri_codes), [False, False])[:len(row)]

        def before(a: np.ndarray) -> np.ndarray:  # a[i - 1], none (0) for a paragraph's first unit
            out = np.zeros_like(a)
            out[1:] = a[:-1]
            out[first] = 0
            return out

        def after(a: np.ndarray) -> np.ndarray:  # a[i + 1], none for a paragraph's last unit
            out = np.zeros_like(a)
            out[:-1] = a[1:]
            out[last] = 0
            return out

        # CRFsuite's sum, in pyvi's order of the features: a flag's weight is added only where
        # it is true (CRFsuite adds 0.0 for a false one), each step one rounding as CRFsuite's
        s = self.own[row] + self.bias
        _add_where(s, (upper, title, digit), self.own_flags)
        s += self.before[before(row)]
        _add_where(s, (before(title), before(upper), before(bi), before(before(tri))), self.before_flags)
        s += self.after[after(row)]
        _add_where(s, (after(title), after(upper), bi, tri), self.after_flags)
        return s

    def tag(self, paragraphs: list[list[str]]) -> list[list[bool]]:
        """For each unit of each paragraph, whether CRFsuite labels it I_W (inside a word)."""
        s = self.scores(paragraphs)
        b_scores, i_scores = s[:, 0].tolist(), s[:, 1].tolist()
        (bb, bi), (ib, ii) = self.transition.tolist()
        out, at = [], 0
        for p in paragraphs:
            end = at + len(p)
            b, i = b_scores[at], i_scores[at]
            back = []  # per unit after the first: 1 if its best B_W came from I_W, + 2 if its I_W did
            for sb, si in zip(b_scores[at + 1:end], i_scores[at + 1:end]):
                # CRFsuite's step: from B_W or from I_W, the first of two equal scores winning
                to_b, to_b_from_i, to_i, to_i_from_i = b + bb, i + ib, b + bi, i + ii
                if to_b < to_b_from_i:
                    to_b, came = to_b_from_i, 1
                else:
                    came = 0
                if to_i < to_i_from_i:
                    to_i, came = to_i_from_i, came + 2
                back.append(came)
                b, i = to_b + sb, to_i + si
            label = b < i  # the last unit's label: I_W only if its score is higher
            labels = [label]
            for came in reversed(back):
                label = bool(came & (2 if label else 1))
                labels.append(label)
            labels.reverse()
            out.append(labels)
            at = end
        return out


@lru_cache(maxsize=1)
def _tagger() -> _PyviTagger:
    return _PyviTagger(_pyvi_model())


def _words(paragraphs: list[list[str]]) -> list[list[tuple[int, int]]]:
    """pyvi's words of each paragraph of units, as (first, last) unit index pairs."""
    out: list[list[tuple[int, int]]] = []
    if not paragraphs:
        return out
    for units, labels in zip(paragraphs, _tagger().tag(paragraphs)):
        words, first = [], 0
        for i in range(1, len(units)):
            cur, prev = units[i], units[i - 1]
            # pyvi's own joining rule (ViTokenizer.tokenize), kept so results match pyvi.
            joined = (labels[i] and cur not in _PUNCT and prev not in _PUNCT
                      and not cur[0].isdigit() and not prev[0].isdigit()
                      and not (cur[0].istitle() and not prev[0].istitle()))
            if not joined:
                words.append((first, i - 1))
                first = i
        words.append((first, len(units) - 1))
        out.append(words)
    return out


def _compounds(paragraphs: list[list[str]]) -> Iterator[tuple[int, int, int, str]]:
    """pyvi's multi-syllable words in paragraphs of units: (paragraph, first unit, last
    unit, the units lower-cased and joined by "_")."""
    for number, (units, words) in enumerate(zip(paragraphs, _words(paragraphs))):
        low = None
        for first, last in words:
            if last > first:
                low = low or [u.lower() for u in units]
                yield number, first, last, "_".join(low[first:last + 1])


def compound_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Multi-syllable words pyvi finds in NFC `text`: (word joined by "_", start, end).

    The word is lower-case in the canonical tone style ("bí_thư", "tỉnh_uỷ")."""
    canonical = canonical_tones(text)  # pyvi's dictionary writes "uỷ", "hoà": match it
    paragraphs = []  # (start of the paragraph, its units' matches), tagged all at once
    for para in re.finditer(r"[^\n]+", canonical):
        matches = list(_PYVI_UNITS.finditer(para.group()))
        if len(matches) >= 2:
            paragraphs.append((para.start(), matches))
    units = [[m.group() for m in matches] for _, matches in paragraphs]
    for number, first, last, word in _compounds(units):
        offset, matches = paragraphs[number]
        yield word, offset + matches[first].start(), offset + matches[last].end()


def compound_words(text: str) -> list[str]:
    """The compound-word stream of `text`: each word accented, then folded when different
    (the words of :func:`compound_spans`, without their offsets)."""
    canonical = canonical_tones(text)
    paragraphs = [units for para in canonical.split("\n") if len(units := _PYVI_UNITS.findall(para)) >= 2]
    return [form for _, _, _, word in _compounds(paragraphs) for form in _forms(word)]


def _forms(word: str) -> tuple[str, ...]:
    """A compound word's forms in the stream: accented, then folded when different."""
    folded = fold(word)
    return (word, folded) if folded != word else (word,)


def query_forms(token: str) -> tuple[str, str]:
    """(accented, folded) index forms of one query syllable."""
    accented = canonical_tones(token.lower())
    return accented, fold(accented)
