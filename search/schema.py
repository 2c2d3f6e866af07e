"""The one Whoosh schema: three analysed streams per text field, and a column per facet.

Stream names come from ``search/scoring.py``, facet columns from ``search/facets.py``.
Bump ``SCHEMA_VERSION`` whenever analysis or fields change: an index built with another
version (or other facets) is refused with a request to run ``vnsearch reindex --full``.
"""

from __future__ import annotations

from whoosh.fields import ID, STORED, TEXT, Schema

from .analysis import CompoundFrequency, SyllablePositions, accented_analyzer, compound_analyzer, folded_analyzer
from .backends import STORED_FIELDS
from .facets import FACETS
from .scoring import TEXT_FIELDS, stream

__all__ = ["SCHEMA_VERSION", "build_schema"]

SCHEMA_VERSION = 2


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
            field = TEXT(analyzer=analyzer(), stored=kind == "accented", phrase=kind != "compound")
            fmt = CompoundFrequency if kind == "compound" else SyllablePositions
            field.format = fmt(field_boost=field.format.field_boost)
            fields[stream(name, kind)] = field
    return Schema(**fields)
