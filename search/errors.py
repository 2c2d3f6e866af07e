"""The project's exceptions; each message says what went wrong and what to do next.

Each carries what it concerns as attributes (the parameter, the path), so callers choose
their own words (the web page speaks Vietnamese) without reading the English message.
"""

from __future__ import annotations


class VnsearchError(Exception):
    """Base class: a problem the user can act on (the CLI prints it without a traceback)."""


class IndexMissing(VnsearchError):
    """There is no index at the given place yet."""

    def __init__(self, index_dir):
        super().__init__(f"no index at {index_dir}: run `vnsearch reindex` first")
        self.index_dir = index_dir


class StaleIndex(VnsearchError):
    """The index was built by another version of the schema (or with other facets)."""

    def __init__(self, index_dir, found, expected, missing_facets=(),
                 arrays: tuple[int | None, int] | None = None):
        """`arrays`, when the generation's arrays are what is stale: the version found
        (None: it has none) and the one this vnsearch needs."""
        if arrays and arrays[0] is not None:
            what = f"has arrays of version {arrays[0]}, this vnsearch needs {arrays[1]}"
        elif arrays:
            what = "was built by an older vnsearch, without its arrays (arrays.json)"
        elif missing_facets:
            what = f"was built without the facet {', '.join(repr(f) for f in missing_facets)}"
        else:
            what = f"has schema version {found}, this vnsearch needs {expected}"
        super().__init__(f"the index at {index_dir} {what}: run `vnsearch reindex --full`")
        self.index_dir, self.found, self.expected = index_dir, found, expected
        self.missing_facets = tuple(missing_facets)


class BadQuery(VnsearchError):
    """A search parameter cannot be used (an unparseable date, a page below 1...).

    `parameter` names it ("from", "size", "province"...); `reason` says how it failed when
    the parameter alone does not: "too_long", "order" ('from' after 'to'), "range"."""

    def __init__(self, message: str, parameter: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.parameter, self.reason = parameter, reason


class ReindexBusy(VnsearchError):
    """Another reindex holds the lock on this index."""


class UnknownDocument(VnsearchError):
    """No article has this id."""

    def __init__(self, doc_id: str):
        super().__init__(f"no article with id {doc_id!r}")
        self.doc_id = doc_id


class BackendUnavailable(VnsearchError):
    """The backend named by a location cannot be used (unknown scheme, unreachable)."""


class IndexDamaged(VnsearchError):
    """The live generation's files are not the ones written with it (truncated, overwritten,
    missing), or Whoosh cannot read them."""

    def __init__(self, index_dir, detail: str = ""):
        super().__init__(f"the index at {index_dir} is damaged{f' ({detail})' if detail else ''}: "
                         "run `vnsearch reindex --full`")
        self.index_dir, self.detail = index_dir, detail


class NoSpace(VnsearchError):
    """Not enough free space to build a new generation; the live one is kept."""

    def __init__(self, path, needed: int, free: int):
        mb = 1024 * 1024
        super().__init__(f"no space left on {path}: {-(-needed // mb)} MB needed, {free // mb} MB free "
                         "(the live index is unchanged)")
        self.path, self.needed, self.free = path, needed, free
