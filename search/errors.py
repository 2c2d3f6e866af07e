"""The project's exceptions; each message says what went wrong and what to do next."""


class VnsearchError(Exception):
    """Base class: a problem the user can act on (the CLI prints it without a traceback)."""


class IndexMissing(VnsearchError):
    """There is no index at the given place yet."""

    def __init__(self, index_dir):
        super().__init__(f"no index at {index_dir}: run `vnsearch reindex` first")
        self.index_dir = index_dir


class StaleIndex(VnsearchError):
    """The index was built by another version of the schema."""

    def __init__(self, index_dir, found, expected):
        super().__init__(f"the index at {index_dir} has schema version {found}, this vnsearch "
                         f"needs {expected}: run `vnsearch reindex --full`")


class BadQuery(VnsearchError):
    """A search parameter cannot be used (an unparseable date, a page below 1...)."""


class ReindexBusy(VnsearchError):
    """Another reindex holds the lock on this index."""


class UnknownDocument(VnsearchError):
    """No article has this id."""
