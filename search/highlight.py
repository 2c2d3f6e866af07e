"""Snippets: the best passage of the stored text, HTML-escaped, query words in <mark>.

Marks are found on the original text (never with pyvi): one regular expression per query
finds every spelling of its words ("tinh" as [tTìíỉĩị...]), and only those candidates are
checked, so an unaccented query ("tinh uy") marks the original "Tỉnh ủy", an accented one
only its exact words, and an abbreviation marks its expansion as well.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

from .text import FOLD_TABLE, Syllable, accented, fold, folded, normalize_token, syllables

__all__ = ["matches", "mark", "snippet"]

SNIPPET_CHARS = 260


def matches(text: str, exact: set[str], loose: set[str],
            phrases: list[tuple[list[str], bool]]) -> list[tuple[int, int]]:
    """Character spans of `text` to mark, in order, not overlapping.

    `exact` words match in their accented form, `loose` ones in any form; `phrases` are
    syllable lists matched side by side (accented when their flag says so). When nothing
    matches exactly, the folded forms are marked instead ("bị thu" for "bí thư")."""
    low = text.lower()
    if len(low) != len(text) or any(not w.isalpha() for w in (*exact, *loose)) or \
            any(not w.isalpha() for p, _ in phrases for w in p):
        return _matches_by_syllables(text, exact, loose, phrases)
    hits: dict[int, int] = {}
    targets = loose | {fold(w) for w in exact}
    if targets:
        for m in _words_pattern(frozenset(targets)).finditer(low):
            a, b = m.span()
            if fold(m.group()) in loose or accented(text[a:b]) in exact:
                hits[a] = b
    for phrase, strict in phrases:
        want = [normalize_token(w) for w in phrase]
        for m in _phrase_pattern(tuple(fold(w) for w in want)).finditer(low):
            words = [(m.start() + w.start(), m.start() + w.end()) for w in _LETTERS.finditer(m.group())]
            if strict and [accented(text[a:b]) for a, b in words] != want:
                continue
            hits.update(words)
    if not hits and (exact or any(strict for _, strict in phrases)):
        return matches(text, set(), targets, [(p, False) for p, strict in phrases if strict])
    return _merge([Syllable(text[a:b], a, b) for a, b in sorted(hits.items())], text)


# Each unmarked letter stands for itself in any accented form: "tinh" finds "tỉnh", "tính"...
_VARIANTS: dict[str, str] = {}
for _code, _base in FOLD_TABLE.items():
    if chr(_code).islower():
        _VARIANTS[_base.lower()] = _VARIANTS.get(_base.lower(), "") + chr(_code)
_LETTERS = re.compile(r"[^\W\d_]+")
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![^\W\d_])", r"(?![^\W\d_])"  # whole runs of letters


def _letters(folded_word: str) -> str:
    return "".join(f"[{c}{_VARIANTS[c]}]" if c in _VARIANTS else re.escape(c) for c in folded_word)


@lru_cache(maxsize=1024)
def _words_pattern(words: frozenset[str]) -> re.Pattern[str]:
    alternatives = sorted((_letters(w) for w in words), key=len, reverse=True)
    return re.compile(_EDGE_BEFORE + "(?:" + "|".join(alternatives) + ")" + _EDGE_AFTER)


@lru_cache(maxsize=1024)
def _phrase_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(_EDGE_BEFORE + r"[\W_]+".join(_letters(w) for w in words) + _EDGE_AFTER)


def _matches_by_syllables(text: str, exact: set[str], loose: set[str],
                          phrases: list[tuple[list[str], bool]]) -> list[tuple[int, int]]:
    """:func:`matches` token by token: for numbers and the rare text whose length lower() changes."""
    tokens = list(syllables(text))
    accented_forms = [accented(t.text) for t in tokens]
    folded_forms = [folded(t.text) for t in tokens]
    hit = [a in exact or f in loose for a, f in zip(accented_forms, folded_forms)]
    for phrase, strict in phrases:
        want = [normalize_token(w) for w in phrase]
        have = accented_forms if strict else folded_forms
        if not strict:
            want = [fold(w) for w in want]
        n = len(want)
        for i in range(len(tokens) - n + 1):
            if have[i:i + n] == want:
                for k in range(n):
                    hit[i + k] = True
    if not any(hit) and (exact or phrases):
        return _matches_by_syllables(text, set(), loose | {fold(w) for w in exact},
                                     [(p, False) for p, strict in phrases if strict])
    return _merge([t for t, h in zip(tokens, hit) if h], text)


def _merge(tokens: list[Syllable], text: str) -> list[tuple[int, int]]:
    """Join marked tokens separated only by spaces into one span ("<mark>Trần Quốc Cường</mark>")."""
    spans: list[list[int]] = []
    for t in tokens:
        if spans and text[spans[-1][1]:t.start].strip() == "" and t.start - spans[-1][1] <= 2:
            spans[-1][1] = t.end
        else:
            spans.append([t.start, t.end])
    return [(a, b) for a, b in spans]


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
    for i, (a, _) in enumerate(spans):
        inside = [text[s[0]:s[1]].lower().split() for s in spans[i:] if s[1] <= a + size]
        distinct = {w for span in inside for w in span}
        together = sum(len(span) - 1 for span in inside)  # words found side by side, as typed
        score = len(distinct) * 10 + together * 5 + len(inside)
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
