"""The embedded index folder: generations, ``CURRENT``, the atomic switch, clean-up, the lock.

Layout::

    index/
      CURRENT          JSON: the live generation, its schema version, facets, document count
      gen-<stamp>/     one complete generation; readers open the one CURRENT names
        documents.json   id → content hash of the generation's documents (incremental runs)
        MANIFEST.json    size and CRC-32 of every file, written at commit, checked at open
        VERIFIED.json    the files whose CRC-32 was found right, as (size, mtime, inode)
      .reindex.lock    held (flock) while a reindex runs; it names the holder's pid

A reindex writes a new generation next to the live one, then replaces CURRENT in one
``os.replace``: readers keep the generation they opened, and a crash at any point leaves the
live index as it was. What is inside a generation is the backend's business
(``search/backends/whoosh.py``); this module knows only folders and small JSON files.
Both the indexer and the readers use it; it imports nothing of the project.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import time
import uuid
import zlib
from pathlib import Path

from .errors import IndexDamaged, IndexMissing, NoSpace, ReindexBusy

__all__ = ["Store", "Lock", "CURRENT", "DOCUMENTS", "MANIFEST", "VERIFIED", "checksum", "estimate_index_bytes"]

CURRENT = "CURRENT"
DOCUMENTS = "documents.json"
MANIFEST = "MANIFEST.json"
VERIFIED = "VERIFIED.json"
LOCK = ".reindex.lock"
PREFIX = "gen-"
UNMANIFESTED = ("WRITELOCK", ".tmp", VERIFIED)  # Whoosh's lock files, our temporary files, the stamps
# A file modified this close to the time its stamp was taken may have been changed within
# the same tick of the file system's clock, after it was read: its CRC is checked again
# (git's "racily clean" entries).
RACY_NS = 2_000_000_000
# An index takes about 6.5 bytes per byte of article text (6.6 at 51,000 articles: three
# streams with positions, stored fields twice: Whoosh's and the arrays' uncompressed copy,
# columns, the dense rows of the commonest terms); 8 leaves room for Whoosh's merge runs.
# Gzipped JSONL is ~4x text.
INDEX_BYTES_PER_TEXT_BYTE = 8
GZIP_RATIO = 4
MIN_FREE = 16 * 1024 * 1024  # a build stops before the disk is this close to full


def checksum(path: Path) -> int:
    """CRC-32 of a file's bytes (what the manifest records)."""
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def estimate_index_bytes(corpus: Path, since: float | None = None) -> int:
    """Bytes a build of the corpus folder may need (of the files changed after `since`, a
    timestamp, when given): a deliberate over-estimate, checked against the free space."""
    total = 0
    for dirpath, _, filenames in os.walk(corpus):
        for name in filenames:
            try:
                st = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue
            if since is None or st.st_mtime >= since:
                total += st.st_size * (GZIP_RATIO if name.endswith(".gz") else 1)
    return total * INDEX_BYTES_PER_TEXT_BYTE


def _stamp(st: os.stat_result) -> list[int]:
    """What identifies a file's bytes once its CRC was read: size, modification time, inode."""
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _trusted(generation: Path) -> dict[str, list[int]]:
    """The stamps of a generation's VERIFIED.json a file may be trusted by: not those of
    files modified too close to the time the stamps were taken (``RACY_NS``)."""
    try:
        record = json.loads((generation / VERIFIED).read_text(encoding="utf-8"))
        taken, stamps = int(record["at"]), record["files"]
        return {name: stamp for name, stamp in stamps.items()
                if isinstance(stamp, list) and len(stamp) == 3 and stamp[1] < taken - RACY_NS}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _write_stamps(generation: Path, stamps: dict[str, list[int]]) -> None:
    """Record the files whose CRC was found right (best effort: a reader may not write)."""
    tmp = generation / f".{VERIFIED}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps({"at": time.time_ns(), "files": stamps}), encoding="utf-8")
        os.replace(tmp, generation / VERIFIED)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def _write_new(path: Path, text: str) -> None:
    """Write a file as a new inode (never through a hard link shared with the live generation)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Store:
    """An index folder of generations."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- reading ---------------------------------------------------------------------------

    def current(self) -> dict | None:
        """The CURRENT record, or None when there is no index (or it cannot be read).

        A CURRENT the process may not read (permissions) raises the OSError: "no index"
        would send the operator to rebuild what is there."""
        try:
            record = json.loads((self.root / CURRENT).read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError, ValueError):
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

    def verify(self, generation: Path, checksums: bool = True) -> None:
        """Check a generation's files against its manifest: that each is there with its size
        and (`checksums`) its CRC-32; raises IndexDamaged. A generation written before
        manifests existed has none and passes.

        A file's CRC is computed once: when it is right, the file's size, modification time
        and inode go into the generation's VERIFIED.json, and later opens only compare
        those (a ``stat``), so a fresh process opens a large index at once. A file written
        to since (a change of its bytes moves its modification time), replaced or
        truncated is checked in full again. Without the right to write the stamp (a
        read-only index) every open checks every CRC, as before."""
        try:
            manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
            files = manifest["files"]
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IndexDamaged(self.root, f"{MANIFEST} of {generation.name} is unreadable: {e}") from None
        trusted = _trusted(generation) if checksums else {}
        checked: dict[str, list[int]] = {}
        for name, entry in sorted(files.items()):
            path = generation / name
            try:
                st = path.stat()
            except FileNotFoundError:
                raise IndexDamaged(self.root, f"{generation.name}/{name} is missing") from None
            if st.st_size != entry["size"]:
                raise IndexDamaged(self.root, f"{generation.name}/{name} has {st.st_size} bytes, "
                                              f"{entry['size']} were written")
            if not checksums or trusted.get(name) == _stamp(st):
                continue
            if checksum(path) != entry["crc32"]:
                raise IndexDamaged(self.root, f"{generation.name}/{name} does not match its checksum")
            checked[name] = _stamp(st)
        if checked:
            _write_stamps(generation, {**trusted, **checked})

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
        _write_new(listing, json.dumps(hashes))

    def write_manifest(self, generation: Path, linked_from: str | None = None) -> dict:
        """Record the size and CRC-32 of every file of a finished generation (its MANIFEST).

        Files hard-linked from the generation `linked_from` (an incremental run) reuse its
        entries: the same inode holds the same bytes, so only new files are read."""
        before = {}
        if linked_from:
            try:
                before = json.loads((self.root / linked_from / MANIFEST).read_text(encoding="utf-8"))["files"]
            except (OSError, ValueError, KeyError, TypeError):
                before = {}
        trusted = _trusted(self.root / linked_from) if linked_from else {}
        files, stamps = {}, {}
        for path in sorted(generation.iterdir()):
            if path.name == MANIFEST or path.name.endswith(UNMANIFESTED) or not path.is_file():
                continue
            st = path.stat()
            old = before.get(path.name)
            if old and old["size"] == st.st_size and path.name != DOCUMENTS and self._linked(
                    path, self.root / linked_from / path.name):
                files[path.name] = old
                if trusted.get(path.name) == _stamp(st):  # its CRC was found right before
                    stamps[path.name] = _stamp(st)
            else:
                files[path.name] = {"size": st.st_size, "crc32": checksum(path)}
                stamps[path.name] = _stamp(st)
        manifest = {"files": files}
        _write_new(generation / MANIFEST, json.dumps(manifest, indent=0))
        _write_stamps(generation, stamps)
        return manifest

    @staticmethod
    def _linked(a: Path, b: Path) -> bool:
        try:
            return os.path.samefile(a, b)
        except OSError:
            return False

    # -- space -----------------------------------------------------------------------------

    def free_bytes(self) -> int:
        """Bytes free for this process on the index folder's file system."""
        st = os.statvfs(self.root if self.root.exists() else self.root.parent)
        return st.f_bavail * st.f_frsize

    def need_space(self, needed: int) -> None:
        """Raise NoSpace unless `needed` bytes (and a margin) are free on the index folder."""
        free = self.free_bytes()
        if free < needed + MIN_FREE:
            raise NoSpace(self.root, needed + MIN_FREE, free)

    def no_space(self, error: OSError, needed: int = 0) -> NoSpace:
        """The NoSpace to raise for an ENOSPC/EDQUOT `error` met while building."""
        return NoSpace(self.root, max(needed, MIN_FREE, 1 << 20), self.free_bytes())

    @staticmethod
    def is_no_space(error: BaseException) -> bool:
        return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)

    def switch(self, generation: Path, **record) -> dict:
        """Make `generation` the live one, atomically; the old live one is kept (open
        readers may still use it) and older ones are removed. Returns the new record."""
        previous = (self.current() or {}).get("generation")
        record = {"generation": generation.name, **record, "previous": previous,
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

    def clear_unfinished(self) -> list[str]:
        """Remove generations left half-built by crashed reindexes (call it holding the lock);
        the live one and the one before it stay. The names removed."""
        record = self.current()
        if record is None:
            return self.remove_generations(keep=set())
        live = record["generation"]
        if "previous" in record:
            keep = {live, record["previous"]}
        else:  # CURRENT written before it named the previous: keep what is older than live
            keep = {p.name for p in self.root.glob(PREFIX + "*") if p.name <= live}
        return self.remove_generations(keep=keep)

    def discard(self, generation: Path) -> None:
        """Remove a generation that was never switched to."""
        shutil.rmtree(generation, ignore_errors=True)


_HELD: set = set()  # the lock files this process holds open


def _forget_locks_after_fork() -> None:
    """In a forked child (Whoosh's analysis workers), close the inherited lock files: a flock
    belongs to the open file, so a child holding a copy would keep the lock after its parent
    died. Closing a copy never unlocks the parent's."""
    for f in list(_HELD):
        try:
            f.close()
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_locks_after_fork)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """In a forked child: have the kernel kill it when `parent` dies (kill -9 included), so
    no orphan goes on working (Linux; elsewhere the child notices a closed pipe or socket)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (on this host)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _command(pid: int) -> str:
    """A process's command line as `ps` shows it ("" when it cannot be read)."""
    try:
        argv = [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return ""
    return " ".join([Path(argv[0]).name, *argv[1:]])[:100] if argv else ""


def _holders(path: Path) -> list[int]:
    """The live processes that have `path` open (Linux /proc), for naming a lock's holder."""
    target = str(path.resolve())
    pids = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) == target for fd in fd_dir.iterdir()):
                pids.append(int(fd_dir.parent.name))
        except OSError:
            continue
    return sorted(p for p in pids if p != os.getpid())


class Lock:
    """An exclusive flock on a file; the kernel drops it when the process dies, so a dead
    process's lock is never stale (forked children do not inherit it: see above)."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> "Lock":
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            written = self.file.read().strip()
            self.file.close()
            raise ReindexBusy(f"another reindex of {self.path.parent} is running {self._holder(written)}; "
                              "wait for it to finish") from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()
        _HELD.add(self.file)
        return self

    def _holder(self, written: str) -> str:
        """"(pid 1234) as `vnsearch reindex`": the live process holding the lock, the pid
        written in the file when it is alive, else whoever has the file open."""
        pids = [int(written)] if written.isdigit() and process_alive(int(written)) else _holders(self.path)[:3]
        if not pids:
            return "(in a process that could not be identified)"
        command = _command(pids[0])
        return f"(pid {', '.join(map(str, pids))})" + (f" as `{command}`" if command else "")

    def __exit__(self, *exc) -> None:
        _HELD.discard(self.file)
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()
