"""pyvi's dictionary of Vietnamese words, to tell a word from a syllable of another word.

The highlighter runs without pyvi's tagger (queries never run pyvi), but pyvi ships its
dictionary as a plain list (``pyvi/models/words.txt``, about 25,000 words of two or more
syllables). It is read once, on first use, lower-cased and also folded, and kept as two
sets of words spelled with single spaces ("tỉnh uỷ"): about half the time that sets of
syllable tuples took (every server worker reads it beside its first searches). It is
written in our canonical tone style already ("tỉnh uỷ", "hoà": tests/test_highlight.py
checks it), so a query's or a text's syllables in canonical tones look it up directly.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from .text import fold

__all__ = ["is_word", "words"]


@lru_cache(maxsize=1)
def words() -> tuple[frozenset[str], frozenset[str]]:
    """(accented, folded): every multi-syllable word of the dictionary, lower-case, in canonical
    tones, its syllables joined by one space; and the same folded."""
    # Found without importing pyvi, whose package loads its tagger's model.
    package = Path(importlib.util.find_spec("pyvi").submodule_search_locations[0])
    text = (package / "models" / "words.txt").read_text(encoding="utf-8").lower()
    lines = [" ".join(line.split()) for line in text.splitlines()]  # one space between syllables
    accented = frozenset(line for line in lines if " " in line)
    folded = frozenset(line for line in fold("\n".join(lines)).splitlines() if " " in line)
    return accented, folded


def is_word(syllables: tuple[str, ...], accented: bool = True) -> bool:
    """Whether these lower-case syllables (canonical tones, or folded when `accented` is
    False) are one word of the dictionary: ("tỉnh", "uỷ"), ("tinh", "uy")."""
    return " ".join(syllables) in words()[0 if accented else 1]
