"""pyvi's dictionary of Vietnamese words, to tell a word from a syllable of another word.

The highlighter runs without pyvi's tagger (queries never run pyvi), but pyvi ships its
dictionary as a plain list (``pyvi/models/words.txt``, about 25,000 words of two or more
syllables). It is read once, lower-cased, and kept as two sets of words spelled with single
spaces ("tỉnh uỷ"), one accented and one folded, each built on its first use (a server
reads both once it listens: ``web.server``). It is written in our canonical tone style
already ("tỉnh uỷ", "hoà": tests/test_highlight.py checks it), so a query's or a text's
syllables in canonical tones look it up directly.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from .text import fold

__all__ = ["is_word", "words"]


def words() -> tuple[frozenset[str], frozenset[str]]:
    """(accented, folded): every multi-syllable word of the dictionary, lower-case, in canonical
    tones, its syllables joined by one space; and the same folded."""
    return _accented(), _folded()


def is_word(syllables: tuple[str, ...], accented: bool = True) -> bool:
    """Whether these lower-case syllables (canonical tones, or folded when `accented` is
    False) are one word of the dictionary: ("tỉnh", "uỷ"), ("tinh", "uy")."""
    return " ".join(syllables) in (_accented() if accented else _folded())


# Each set is built on its first use: a server's first query with diacritics needs only the
# accented one (12 ms to read; folding 25,000 words takes twice that, str.translate being
# per character), a query without them the folded one.

@lru_cache(maxsize=1)
def _accented() -> frozenset[str]:
    # Found without importing pyvi, whose package loads its tagger's model.
    package = Path(importlib.util.find_spec("pyvi").submodule_search_locations[0])
    text = (package / "models" / "words.txt").read_text(encoding="utf-8").lower()
    return frozenset(line if line == line.strip() and "  " not in line else " ".join(line.split())
                     for line in text.splitlines() if " " in line.strip())  # one space between syllables


@lru_cache(maxsize=1)
def _folded() -> frozenset[str]:
    return frozenset(fold("\n".join(_accented())).split("\n"))
