"""pyvi's dictionary of Vietnamese words, to tell a word from a syllable of another word.

The highlighter runs without pyvi's tagger (queries never run pyvi), but pyvi ships its
dictionary as a plain list (``pyvi/models/words.txt``, about 25,000 words of two or more
syllables). It is read once, on first use (about 0.1 s), lower-cased and also folded. It is
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
def words() -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]]:
    """(accented, folded): every multi-syllable word of the dictionary as a tuple of lower-case
    syllables, in canonical tones, and the same folded."""
    # Found without importing pyvi, whose package loads its tagger's model.
    package = Path(importlib.util.find_spec("pyvi").submodule_search_locations[0])
    text = (package / "models" / "words.txt").read_text(encoding="utf-8")
    lines = [line for line in text.lower().splitlines() if " " in line.strip()]
    accented = frozenset(tuple(line.split()) for line in lines)
    folded = frozenset(tuple(fold(line).split()) for line in lines)
    return accented, folded


def is_word(syllables: tuple[str, ...], accented: bool = True) -> bool:
    """Whether these lower-case syllables (canonical tones, or folded when `accented` is
    False) are one word of the dictionary: ("tỉnh", "uỷ"), ("tinh", "uy")."""
    return syllables in words()[0 if accented else 1]
