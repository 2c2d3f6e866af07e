"""The one Whoosh schema: three analysed streams per text field, their pairs, a column per facet.

The accented and folded streams of a text field also have a stream of their adjacent
syllables (``PAIRS``: "body" → "body_pair", "body_fold" → "body_fold_pair"), postings
without positions or frequencies: a two-syllable phrase is one lookup, a longer one an
intersection. They are the embedded backend's (OpenSearch matches phrases its own way).

Stream names come from ``search/scoring.py``, facet columns from ``search/facets.py``.
Bump ``SCHEMA_VERSION`` whenever analysis or fields change: an index built with another
version (or other facets) is refused with a request to run ``vnsearch reindex --full``.
"""

from __future__ import annotations

from whoosh.fields import ID, STORED, TEXT, FieldType, Schema
from whoosh.formats import Existence

from .analysis import accented_analyzer, compound_analyzer, folded_analyzer, pair_analyzer
from .backends import STORED_FIELDS
from .facets import FACETS
from .scoring import TEXT_FIELDS, stream

__all__ = ["SCHEMA_VERSION", "PAIRS", "build_schema"]

SCHEMA_VERSION = 3  # 3: the pair streams

PAIRS = {stream(name, kind): stream(name, kind) + "_pair" for name in TEXT_FIELDS for kind in ("accented", "folded")}


def build_schema() -> Schema:
    """Fields of an article in the index."""
    fields = {
        "id": ID(stored=True, unique=True),
        "hash": ID(stored=True),
        "date": ID(stored=True, sortable=True),  # YYYY-MM-DD, "" when unknown
        **{name: STORED() for name in STORED_FIELDS},
    }
    for name in FACETS:
        fields[name] = ID(stored=True, sortable=True)
    analyzers = {"accented": accented_analyzer, "folded": folded_analyzer, "compound": compound_analyzer}
    for name in TEXT_FIELDS:
        for kind, analyzer in analyzers.items():
            # Positions (phrases) for the syllable streams; compounds only boost.
            fields[stream(name, kind)] = TEXT(analyzer=analyzer(), stored=kind == "accented",
                                              phrase=kind != "compound")
    for positional, name in PAIRS.items():
        fields[name] = FieldType(Existence(), pair_analyzer(folded=positional.endswith("_fold")))
    return Schema(**fields)
