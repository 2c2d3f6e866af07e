"""Snippets: the best passage of the stored text, HTML-escaped, query words in <mark>.

Marks are found on the original text (never with pyvi): one regular expression per query
finds every spelling of its words ("tinh" as [tTìíỉĩị...]), and only those candidates are
checked, so an unaccented query ("tinh uy") marks the original "Tỉnh ủy", an accented one
only its exact words, and an abbreviation marks its expansion as well.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate
from html import escape

from .lexicon import is_word
from .text import FOLD_TABLE, fold, folded, normalize_token, syllables
from .text import accented as accented_form

__all__ = ["Marker", "matches", "mark", "snippet"]

SNIPPET_CHARS = 260


def matches(text: str, exact: set[str], loose: set[str], phrases: list[tuple[list[str], bool]],
            runs: tuple[tuple[str, ...], ...] = (), accented: bool = False,
            fallback: bool = True) -> list[tuple[int, int]]:
    """Character spans of `text` to mark, in order, not overlapping.

    `exact` words match in their accented form, `loose` ones in any form; `phrases` are
    syllable lists matched side by side (accented when their flag says so). When nothing
    matches exactly and `fallback` allows (the query matched other tones too), the folded
    forms are marked instead ("bị thu" for "bí thư"). With the
    query's `runs` of words (``querylang.highlight_terms``), only what matched as a unit is
    marked (see :func:`_as_units`). To mark several texts for one query, make its
    :class:`Marker` once."""
    return Marker(exact, loose, phrases, runs, accented, fallback).spans(text)


class Marker:
    """A query's words (the arguments of :func:`matches`) ready to be found in any number of
    texts: a results page marks twenty, each hit's title and body, and what only depends on
    the query (its patterns, its words' index forms) is done once."""

    def __init__(self, exact: set[str], loose: set[str], phrases: list[tuple[list[str], bool]],
                 runs: tuple[tuple[str, ...], ...] = (), accented: bool = False, fallback: bool = True):
        self.exact, self.loose, self.phrases, self.runs, self.accented = exact, loose, phrases, runs, accented
        self.fallback = fallback and bool(exact or any(strict for _, strict in phrases))
        self.targets = loose | {fold(w) for w in exact}
        # Numbers and the like are matched syllable by syllable; words by the patterns.
        self.by_syllables = any(not w.isalpha() for w in (*exact, *loose)) or \
            any(not w.isalpha() for p, _ in phrases for w in p)
        self._patterns: tuple | None = None
        self._looser: Marker | None = None

    def _compiled(self) -> tuple:
        """(the words' pattern or None, [(a phrase's index forms, strict, its pattern)])."""
        if self._patterns is None:
            words = _words_pattern(frozenset(self.targets)) if self.targets else None
            wanted = []
            for phrase, strict in self.phrases:
                want = [normalize_token(w) for w in phrase]
                wanted.append((want, strict, _phrase_pattern(tuple(fold(w) for w in want))))
            self._patterns = (words, wanted)
        return self._patterns

    def _looser_marker(self) -> "Marker":
        """What is marked when nothing matches exactly: the folded forms."""
        if self._looser is None:
            self._looser = Marker(set(), self.targets, [(p, False) for p, strict in self.phrases if strict],
                                  self.runs, self.accented)
        return self._looser

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The character spans of `text` to mark (see :func:`matches`)."""
        low = text.lower()
        if self.by_syllables or len(low) != len(text):
            return _matches_by_syllables(text, self.exact, self.loose, self.phrases, self.runs,
                                         self.accented, self.fallback)
        exact, loose, runs, accented = self.exact, self.loose, self.runs, self.accented
        pattern, wanted = self._compiled()
        words: dict[int, int] = {}
        forms: list[str] = []  # the words' folded forms
        if pattern is not None:
            for m in pattern.finditer(low):
                a, b = m.span()
                form = folded(m.group())
                if form in loose or accented_form(text[a:b]) in exact:
                    words[a] = b
                    forms.append(form)
        in_phrases: dict[int, int] = {}
        for want, strict, phrase_pattern in wanted:
            for m in phrase_pattern.finditer(low):
                found = [(m.start() + w.start(), m.start() + w.end()) for w in _LETTERS.finditer(m.group())]
                if strict and [accented_form(text[a:b]) for a, b in found] != want:
                    continue
                in_phrases.update(found)
        if self.fallback and not words and not in_phrases:
            return self._looser_marker().spans(text)
        spans = list(words.items())  # in order: the pattern's matches do not overlap
        hits = {**dict(_as_units(text, spans, runs, accented, forms=forms)), **in_phrases}
        if not hits:  # nothing matched as a unit: the query's syllables that are words here
            hits = dict(_as_units(text, spans, runs, accented, strict=False, forms=forms))
        if not hits:  # ... or else whatever matched
            hits = {**words, **in_phrases}
        return _merge(sorted(hits.items()), text)


def _joined(text: str, a: int, b: int) -> bool:
    """Whether text[a:b], between two syllables, is just the space inside a phrase."""
    return b - a <= 2 and text[a:b].strip() == ""


def _neighbours(text: str, a: int, b: int) -> tuple[str | None, str | None]:
    """The syllables just before and after text[a:b] in the same phrase (canonical, lower)."""
    before = _LAST_LETTERS.search(text, max(0, a - _NEIGHBOUR_CHARS), a)
    after = _LETTERS.search(text, b, b + _NEIGHBOUR_CHARS)
    prev = accented_form(before.group()) if before and _joined(text, before.end(), a) else None
    nxt = accented_form(after.group()) if after and _joined(text, b, after.start()) else None
    return prev, nxt


_NEIGHBOUR_CHARS = 12  # enough for one Vietnamese syllable and the space before it
_LAST_LETTERS = re.compile(r"[^\W\d_]+(?=[\W\d_]*$)")


@lru_cache(maxsize=1024)
def _query_units(runs: tuple[tuple[str, ...], ...], accented: bool) -> tuple[frozenset, frozenset]:
    """(pairs of syllables adjacent in the query, syllables that stand alone as a query word).

    A syllable of the query that forms a dictionary word with its neighbour in the query
    ("tỉnh" of "tỉnh ủy") does not stand alone."""
    pairs, alone = set(), set()
    for run in runs:
        forms = [w if accented else fold(w) for w in run]
        folded_run = [fold(w) for w in run]
        pairs.update(zip(folded_run, folded_run[1:]))
        for i, w in enumerate(forms):
            in_word = (i > 0 and is_word((forms[i - 1], w), accented)) or \
                      (i + 1 < len(forms) and is_word((w, forms[i + 1]), accented))
            if not in_word:
                alone.add(folded_run[i])
    return frozenset(pairs), frozenset(alone)


def _as_units(text: str, spans: list[tuple[int, int]], runs: tuple[tuple[str, ...], ...],
              accented: bool, strict: bool = True, forms: list[str] | None = None) -> list[tuple[int, int]]:
    """The word matches that matched as a unit, in order (`forms`: their folded forms, when
    known).

    A unit is a run of matched syllables side by side in the text that are side by side in
    the query ("Bí thư Tỉnh ủy"), or a lone syllable that is a word of the query on its own
    and not a syllable of another word in the text ("văn" of "văn phòng" for "Nguyễn Văn",
    "uỷ" of "Uỷ viên"). A query of one syllable marks all of its matches. Not `strict`: any
    lone syllable of the query that is not a syllable of another word here ("Trần" of "Trần
    Đại Quang" for "Trần Quốc Cường", not the "Quốc" of "Trung Quốc")."""
    if not runs or sum(len(r) for r in runs) < 2:
        return spans
    pairs, alone = _query_units(runs, accented)
    if forms is None:
        forms = [folded(text[a:b]) for a, b in spans]
    kept: list[tuple[int, int]] = []
    i, n = 0, len(spans)
    while i < n:
        j = i
        while j + 1 < n and (forms[j], forms[j + 1]) in pairs and \
                _joined(text, spans[j][1], spans[j + 1][0]):
            j += 1
        if j > i:
            kept.extend(spans[i:j + 1])
        else:
            a, b = spans[i]
            if not strict or forms[i] in alone:
                prev, nxt = _neighbours(text, a, b)
                word = accented_form(text[a:b])
                if not ((prev and is_word((prev, word))) or (nxt and is_word((word, nxt)))):
                    kept.append(spans[i])
        i = j + 1
    return kept


# Each unmarked letter stands for itself in any accented form: "tinh" finds "tỉnh", "tính"...
_VARIANTS: dict[str, str] = {}
for _code, _base in FOLD_TABLE.items():
    if chr(_code).islower():
        _VARIANTS[_base.lower()] = _VARIANTS.get(_base.lower(), "") + chr(_code)
_LETTERS = re.compile(r"[^\W\d_]+")
_EDGE_AFTER = r"(?![^\W\d_])"  # a run of letters ends here


def _letters(folded_word: str) -> str:
    return "".join(_letter(c) for c in folded_word)


def _letter(c: str) -> str:
    return f"[{c}{_VARIANTS[c]}]" if c in _VARIANTS else re.escape(c)


def _first_letters(folded_words) -> str:
    """The pattern's head: one of the letters the words begin with, at the start of a run of
    letters. A pattern that begins with a plain character class is searched by Python's
    engine in a tight loop over the text, which only stops at those letters: scanning an
    article's body for the query's words takes a third of the time it takes with a
    lookbehind first (the lookbehind is checked after the letter, over two characters)."""
    first = sorted({c for w in folded_words for c in w[:1] + _VARIANTS.get(w[:1], "")})
    return "[" + "".join(re.escape(c) for c in first) + "]" + r"(?<![^\W\d_].)"


@lru_cache(maxsize=1024)
def _words_pattern(words: frozenset[str]) -> re.Pattern[str]:
    """Any of the folded `words`, in any accented form, as a whole run of letters. After the
    head (:func:`_first_letters`), the rest of each word under a lookbehind for its own first
    letter: the words of one first letter share it."""
    rests: dict[str, list[str]] = {}
    for w in words:
        rests.setdefault(w[0], []).append(_letters(w[1:]))
    branches = ["(?:" + "|".join(sorted(r, key=len, reverse=True)) + ")" for r in rests.values()]
    if len(rests) > 1:
        branches = ["(?<=" + _letter(c) + ")" + b for c, b in zip(rests, branches)]
    return re.compile(_first_letters(words) + "(?:" + "|".join(branches) + ")" + _EDGE_AFTER)


@lru_cache(maxsize=1024)
def _phrase_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(_first_letters(words[:1]) + _letters(words[0][1:])
                      + "".join(r"[\W_]+" + _letters(w) for w in words[1:]) + _EDGE_AFTER)


def _matches_by_syllables(text: str, exact: set[str], loose: set[str],
                          phrases: list[tuple[list[str], bool]], runs: tuple[tuple[str, ...], ...] = (),
                          accented: bool = False, fallback: bool = True) -> list[tuple[int, int]]:
    """:func:`matches` token by token: for numbers and the rare text whose length lower() changes."""
    tokens = list(syllables(text))
    accented_forms = [accented_form(t.text) for t in tokens]
    folded_forms = [folded(t.text) for t in tokens]
    word = [a in exact or f in loose for a, f in zip(accented_forms, folded_forms)]
    in_phrase = [False] * len(tokens)
    for phrase, strict in phrases:
        want = [normalize_token(w) for w in phrase]
        have = accented_forms if strict else folded_forms
        if not strict:
            want = [fold(w) for w in want]
        n = len(want)
        for i in range(len(tokens) - n + 1):
            if have[i:i + n] == want:
                for k in range(n):
                    in_phrase[i + k] = True
    if fallback and not any(word) and not any(in_phrase) and (exact or any(strict for _, strict in phrases)):
        return _matches_by_syllables(text, set(), loose | {fold(w) for w in exact},
                                     [(p, False) for p, strict in phrases if strict], runs, accented)
    spans = [(t.start, t.end) for t, h in zip(tokens, word) if h]
    kept = set(_as_units(text, spans, runs, accented))
    hit = [(t.start, t.end) in kept or p for t, p in zip(tokens, in_phrase)]
    if not any(hit):  # nothing matched as a unit: the query's syllables that are words here
        kept = set(_as_units(text, spans, runs, accented, strict=False))
        hit = [(t.start, t.end) in kept for t in tokens]
    if not any(hit):  # ... or else whatever matched
        hit = [w or p for w, p in zip(word, in_phrase)]
    return _merge([(t.start, t.end) for t, h in zip(tokens, hit) if h], text)


def _merge(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Join marked spans, in order, separated only by spaces into one ("<mark>Trần Quốc Cường</mark>")."""
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and _joined(text, merged[-1][1], a):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def mark(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """text[start:end], HTML-escaped, with `spans` inside it wrapped in <mark>."""
    end = len(text) if end is None else end
    out, pos = [], start
    for a, b in spans:
        if b <= start or a >= end:
            continue
        a, b = max(a, start), min(b, end)
        out.append(escape(text[pos:a]))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        pos = b
    out.append(escape(text[pos:end]))
    return "".join(out)


def snippet(text: str, spans: list[tuple[int, int]], size: int = SNIPPET_CHARS) -> str:
    """About `size` characters around the passage with the most marks, as safe HTML."""
    if not text:
        return ""
    best_start, best_score = 0, -1
    ends = [b for _, b in spans]  # sorted: the spans are in order and do not overlap
    words = [text[a:b].lower().split() for a, b in spans]
    joins = list(accumulate((len(w) - 1 for w in words), initial=0))  # words side by side, as typed
    for i, (a, _) in enumerate(spans):
        j = bisect_right(ends, a + size, lo=i)  # the marks within `size` of this one: i..j-1
        distinct = set(words[i]).union(*words[i + 1:j])
        score = len(distinct) * 10 + (joins[j] - joins[i]) * 5 + (j - i)
        if score > best_score:
            best_start, best_score = a, score
    start = max(0, best_start - size // 4) if spans else 0
    if start > 0:  # begin at a word boundary, preferably a sentence start
        sentence = text.rfind(". ", max(0, start - 60), best_start)
        start = sentence + 2 if sentence >= 0 else (text.find(" ", start) + 1 or start)
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start + size // 2, end)
        end = space if space > 0 else end
    body = mark(text, spans, start, end).replace("\n\n", " ").replace("\n", " ")
    return ("… " if start > 0 else "") + body + (" …" if end < len(text) else "")
