"""Snippets: the best passage of the stored text, HTML-escaped, query words in <mark>.

Marks are found with the fast syllable splitter on the original text (never pyvi), so an
unaccented query ("tinh uy") marks the original "Tỉnh ủy", and an abbreviation marks its
expansion as well.
"""

from __future__ import annotations

from html import escape

from .text import Syllable, accented, fold, folded, normalize_token, syllables

__all__ = ["matches", "mark", "snippet"]

SNIPPET_CHARS = 260


def matches(text: str, exact: set[str], loose: set[str],
            phrases: list[tuple[list[str], bool]]) -> list[tuple[int, int]]:
    """Character spans of `text` to mark, in order, not overlapping."""
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
        # The document matched only through folding ("bị thu" for "bí thư"): mark that.
        return matches(text, set(), loose | {fold(w) for w in exact},
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
