"""The embedded index folder: generations, ``CURRENT``, the atomic switch, clean-up, the lock.

Layout::

    index/
      CURRENT          JSON: the live generation, its schema version, facets, document count
      gen-<stamp>/     one complete generation; readers open the one CURRENT names
        documents.json   id → content hash of the generation's documents (incremental runs)
      .reindex.lock    held (flock) while a reindex runs

A reindex writes a new generation next to the live one, then replaces CURRENT in one
``os.replace``: readers keep the generation they opened, and a crash at any point leaves the
live index as it was. What is inside a generation is the backend's business
(``search/backends/whoosh.py``); this module knows only folders and small JSON files.
Both the indexer and the readers use it; it imports nothing of the project.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from .errors import IndexMissing, ReindexBusy

__all__ = ["Store", "Lock", "CURRENT", "DOCUMENTS"]

CURRENT = "CURRENT"
DOCUMENTS = "documents.json"
LOCK = ".reindex.lock"
PREFIX = "gen-"


class Store:
    """An index folder of generations."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- reading ---------------------------------------------------------------------------

    def current(self) -> dict | None:
        """The CURRENT record, or None when there is no index (or it cannot be read)."""
        try:
            record = json.loads((self.root / CURRENT).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("generation") else None

    def live(self) -> tuple[dict, Path]:
        """(the CURRENT record, the live generation's folder); raises IndexMissing."""
        record = self.current()
        if record is None or not (self.root / record["generation"]).is_dir():
            raise IndexMissing(self.root)
        return record, self.root / record["generation"]

    def hashes(self, generation: str) -> dict[str, str] | None:
        """Id → content hash of a generation's documents, or None when it has no list."""
        try:
            listing = json.loads((self.root / generation / DOCUMENTS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return listing if isinstance(listing, dict) else None

    # -- writing ---------------------------------------------------------------------------

    def lock(self) -> "Lock":
        """The exclusive reindex lock (a context manager)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return Lock(self.root / LOCK)

    def new_generation(self) -> Path:
        """The folder for a new generation (not yet created), named uniquely."""
        return self.root / f"{PREFIX}{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"

    def write_hashes(self, generation: Path, hashes: dict[str, str]) -> None:
        """Store a generation's id → hash list as a new file.

        A generation copied from the live one by hard links shares its files: writing
        through the link would change the live generation's list as well."""
        listing = generation / DOCUMENTS
        tmp = listing.with_suffix(".tmp")
        tmp.write_text(json.dumps(hashes), encoding="utf-8")
        os.replace(tmp, listing)

    def switch(self, generation: Path, **record) -> dict:
        """Make `generation` the live one, atomically; the old live one is kept (open
        readers may still use it) and older ones are removed. Returns the new record."""
        previous = (self.current() or {}).get("generation")
        record = {"generation": generation.name, **record,
                  "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        tmp = self.root / f".{CURRENT}.{os.getpid()}"
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        with open(tmp) as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.root / CURRENT)
        self.remove_generations(keep={generation.name, previous})
        return record

    def remove_generations(self, keep: set[str | None]) -> list[str]:
        """Delete every generation folder not named in `keep`; the names removed."""
        removed = []
        for path in sorted(self.root.glob(PREFIX + "*")):
            if path.name not in keep and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed

    def discard(self, generation: Path) -> None:
        """Remove a generation that was never switched to."""
        shutil.rmtree(generation, ignore_errors=True)


class Lock:
    """An exclusive flock on a file; the kernel drops it when the process dies, so a dead
    process's lock is never stale."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> "Lock":
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise ReindexBusy(f"another reindex of {self.path.parent} is running (pid {holder}); "
                              "wait for it to finish") from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()
