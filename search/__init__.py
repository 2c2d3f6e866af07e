"""vnsearch: full-text search for Vietnamese news about provincial Party Committees.

The library in two calls: ``search.indexer.reindex(corpus_dir, index_dir)`` builds an index
from a corpus folder, and ``search.open_index(index_dir)`` returns an :class:`Index` whose
``.search(SearchRequest(...))`` returns a :class:`SearchResult`.
"""

from .query import Document, Index, SearchRequest, SearchResult, open_index

__all__ = ["Index", "open_index", "SearchRequest", "SearchResult", "Document"]
__version__ = "0.1.0"
