"""vnsearch: full-text search for Vietnamese news about provincial Party Committees.

The library: ``search.indexer.reindex`` builds an index from a corpus folder and
``search.query.search`` answers a ``SearchRequest`` with a ``SearchResult``.
"""

__version__ = "0.1.0"
