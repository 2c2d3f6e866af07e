"""The one Whoosh schema: three analysed streams per text field, and facet columns.

Bump ``SCHEMA_VERSION`` whenever analysis or fields change: an index built with another
version is refused with a request to run ``vnsearch reindex --full``.
"""

from __future__ import annotations

from whoosh.fields import ID, STORED, TEXT, Schema

from .analysis import accented_analyzer, compound_analyzer, folded_analyzer

__all__ = ["SCHEMA_VERSION", "TEXT_FIELDS", "FACETS", "UNKNOWN", "build_schema"]

SCHEMA_VERSION = 2

TEXT_FIELDS = ("title", "body")  # each also has "<name>_fold" and "<name>_word"
FACETS = ("province", "province_2025", "secretary", "year")
UNKNOWN = "_"  # the indexed value of a facet the article does not tell ("Không rõ")


def build_schema() -> Schema:
    """Fields of an article in the index."""
    fields = {
        "id": ID(stored=True, unique=True),
        "hash": ID(stored=True),
        "date": ID(stored=True, sortable=True),  # YYYY-MM-DD, "" when unknown
        "source": STORED(),
        "url": STORED(),
        "outlet": STORED(),
        "conference": STORED(),
        "term": STORED(),
        "author": STORED(),
    }
    for name in FACETS:
        fields[name] = ID(stored=True, sortable=True)
    for name in TEXT_FIELDS:
        fields[name] = TEXT(analyzer=accented_analyzer(), stored=True, phrase=True)
        fields[f"{name}_fold"] = TEXT(analyzer=folded_analyzer(), phrase=True)
        fields[f"{name}_word"] = TEXT(analyzer=compound_analyzer(), phrase=False)
    return Schema(**fields)
