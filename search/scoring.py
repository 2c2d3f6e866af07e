"""Ranking settings and the names of the indexed streams, for every backend.

Each text field (title, body) is indexed as three streams (``search/analysis.py``):

* ``accented``  canonical-tone syllables ("bí", "thư"), in the field itself: ``body``;
* ``folded``    the same without diacritics ("bi", "thu"), in ``body_fold``;
* ``compound``  pyvi's words ("bí_thư"), in ``body_word``.

A query scores each stream with BM25 (its own length normalisation) and adds them up with the
weights below (BM25F-style). The numbers were tuned on vmds-dev with ``bench/relevance.py``;
change them here and nowhere else, then run that benchmark.
"""

from __future__ import annotations

import math

__all__ = ["TEXT_FIELDS", "STREAMS", "stream", "all_streams", "K1", "B", "FIELD_BOOST",
           "EXACT", "FOLDED_WHEN_EXACT", "COMPOUND", "idf"]

TEXT_FIELDS = ("title", "body")
STREAMS = ("accented", "folded", "compound")
_SUFFIX = {"accented": "", "folded": "_fold", "compound": "_word"}


def stream(field: str, kind: str) -> str:
    """The indexed name of one stream of a text field: ``stream("body", "folded") == "body_fold"``."""
    return field + _SUFFIX[kind]


def all_streams() -> list[str]:
    """Every indexed stream name, field by field."""
    return [stream(f, kind) for f in TEXT_FIELDS for kind in STREAMS]


K1 = 1.6  # BM25 term-frequency saturation; 1.2 and 0.9 ranked vmds-dev slightly worse
_FIELD_B = {"title": 0.5, "body": 0.75}  # BM25 length normalisation: titles are all short
B = {stream(f, kind): _FIELD_B[f] for f in TEXT_FIELDS for kind in STREAMS}

FIELD_BOOST = {"title": 1.0, "body": 1.0}  # a heavier title (2.5, 1.5) lowered MRR@10
EXACT = 1.0  # a syllable as typed, in the accented stream
FOLDED_WHEN_EXACT = 0.35  # the same syllable's folded form, when the query had diacritics
COMPOUND = 0.6  # adjacent query syllables that pyvi also indexed as one word (optional boost)


def idf(n: int, df: int) -> float:
    """Robertson-Sparck Jones idf of a term in `df` of `n` documents, kept positive."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
