"""Find and read the articles of a corpus folder: formats, encodings, page boilerplate.

:func:`read_corpus` walks a folder and yields an :class:`Article` for every document it can
read and a :class:`Rejected` (path and reason) for every one it cannot, so one broken file
never stops the rest. Formats, one reader each in :data:`READERS`: ``.txt`` (page text like
the seeds), ``.html``/``.htm`` (saved pages, main text by trafilatura) and ``.jsonl``/``.jsonl.gz``
(one article a line: ``id``, ``title``, ``date``, ``source``, ``url``, ``body``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .metadata import EXTRACTOR_VERSION, Metadata, extract
from .pagetext import is_boilerplate, source_label
from .text import nfc

__all__ = ["Article", "Rejected", "Unchanged", "read_corpus", "count_documents", "read_file", "corpus_files",
           "decode", "READERS", "MAX_BYTES", "UTF8_REPAIR_RATE"]

MAX_BYTES = 50 * 1024 * 1024  # a larger single file is not an article
# At most one byte in this many that is not UTF-8 (and always at least one): a UTF-8 file with a
# few damaged bytes, read with them replaced by U+FFFD; more is another encoding, left to detection.
UTF8_REPAIR_RATE = 1000


@dataclass
class Article:
    """One document ready for indexing."""

    id: str
    path: str  # where it came from, "corpus/x.jsonl:12" for a JSONL line
    title: str
    body: str
    meta: Metadata
    hash: str  # of the source content: unchanged hash, unchanged document
    source: str | None = None
    warnings: list[str] = field(default_factory=list)  # read, but not quite as written: "3 bytes … replaced"


@dataclass
class Unchanged:
    """A document whose content hash matches the one already indexed (not re-read)."""

    id: str


@dataclass
class Rejected:
    """A document that could not be read, and why."""

    path: str
    reason: str


Item = Article | Rejected | Unchanged
# A reader: (document id, path, the file's bytes, id → hash already indexed) → what the file holds.
Reader = Callable[[str, Path, bytes, dict[str, str]], Iterator[Item]]

def decode(data: bytes) -> str:
    """Bytes to NFC text: UTF-8 (BOM or not), UTF-16 with BOM, or what charset-normalizer finds."""
    return _decode(data)[0]


def _decode(data: bytes) -> tuple[str, int]:
    """Like :func:`decode`, with the number of bytes that were not UTF-8 and became U+FFFD."""
    if data.startswith(b"\xef\xbb\xbf"):
        if (repaired := _repaired_utf8(data[3:])) is None:
            raise ValueError("not UTF-8 despite its UTF-8 byte-order mark")
        return nfc(repaired[0]), repaired[1]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return nfc(data.decode("utf-16")), 0
    if b"\x00" in data[:4096]:
        raise ValueError("binary file (contains NUL bytes)")
    if (repaired := _repaired_utf8(data)) is not None:
        return nfc(repaired[0]), repaired[1]
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ValueError("cannot determine the text encoding")
    return nfc(str(best)), 0


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _repaired_utf8(data: bytes) -> tuple[str, int] | None:
    """`data` as UTF-8 and the count of bytes replaced, when few enough are not UTF-8 (else None)."""
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    # surrogateescape turns each byte that is not UTF-8 into one lone surrogate: an exact count.
    bad = len(_ESCAPED_BYTE.findall(data.decode("utf-8", "surrogateescape")))
    if bad > max(1, len(data) // UTF8_REPAIR_RATE):
        return None
    return data.decode("utf-8", "replace"), bad


def _warnings(replaced: int) -> list[str]:
    """What an article's reader says about its decoding, for the report."""
    if not replaced:
        return []
    what = "byte that is" if replaced == 1 else "bytes that are"
    return [f"{replaced} {what} not UTF-8 replaced with U+FFFD"]


def _clean_body(text: str, title: str | None) -> str:
    """The article text without its title line and page furniture, paragraphs kept."""
    paragraphs = []
    title_seen = title is None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not title_seen and stripped == title:
            title_seen = True
            continue
        if is_boilerplate(stripped):
            continue
        paragraphs.append(stripped)
    return "\n\n".join(paragraphs)


def _hash(data: bytes) -> str:
    """The content hash an incremental reindex compares; it covers the extractor's version,
    so a change to metadata extraction re-reads every document on the next reindex."""
    return hashlib.blake2b(data, digest_size=12, key=EXTRACTOR_VERSION.encode()).hexdigest()


def _from_text(doc_id: str, path: str, text: str, digest: str, warnings: list[str] | None = None,
               **given) -> Article:
    """An article of `text`, its metadata extracted with whatever the source `given`."""
    meta = extract(text, **given)
    title = meta.title.value or ""
    body = _clean_body(text, title or None)
    return Article(doc_id, path, title, body, meta, digest, source_label(given.get("source")), warnings or [])


def _read_txt(doc_id: str, path: Path, data: bytes, known: dict[str, str]) -> Iterator[Item]:
    """One article: the text of a news page."""
    if known.get(doc_id) == _hash(data):
        yield Unchanged(doc_id)
        return
    text, replaced = _decode(data)
    if not text.strip():
        yield Rejected(str(path), "empty file")
        return
    yield _from_text(doc_id, str(path), text, _hash(data), _warnings(replaced))


def _read_html(doc_id: str, path: Path, data: bytes, known: dict[str, str]) -> Iterator[Item]:
    """One article: the main text of a saved page, with its title, date and URL."""
    if known.get(doc_id) == _hash(data):
        yield Unchanged(doc_id)
        return
    import trafilatura

    html, replaced = _decode(data)
    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False,
                                      favor_precision=True)
    if doc is None or not (doc.text or "").strip():
        yield Rejected(str(path), "no article text found in the HTML")
        return
    body = nfc(doc.text)
    title = nfc(doc.title) if doc.title else None
    text = "\n".join(filter(None, [title, body]))
    yield _from_text(doc_id, str(path), text, _hash(data), _warnings(replaced), title=title,
                     date_hint=doc.date, url=doc.url, source=doc.sitename or doc.hostname)


def _read_jsonl_gz(prefix: str, path: Path, data: bytes, known: dict[str, str]) -> Iterator[Item]:
    """The articles of a gzip-compressed JSONL file."""
    try:
        data = gzip.decompress(data)
    except (OSError, EOFError) as e:
        yield Rejected(str(path), f"not a readable gzip file: {e}")
        return
    yield from _read_jsonl(prefix, path, data, known)


def _id_problem(rid: object) -> str | None:
    """Why a record's `id` cannot name a document, or None when it can."""
    if rid is None:
        return "missing 'id'"
    if isinstance(rid, bool) or not isinstance(rid, (str, int, float)) \
            or isinstance(rid, float) and not math.isfinite(rid):
        return "'id' must be a string or a number"
    if not str(rid).strip():
        return "empty 'id'"
    try:
        str(rid).encode("utf-8")
    except UnicodeEncodeError:  # "\\ud800" in the JSON: no document id can hold it
        return "'id' is not valid Unicode (it holds a lone surrogate)"
    return None


def _read_jsonl(prefix: str, path: Path, data: bytes, known: dict[str, str]) -> Iterator[Item]:
    """One article a line; a bad line is rejected as ``path:LINE`` and the rest are read."""
    seen: set[str] = set()
    # An unchanged line has the hash already indexed: skip parsing it at all.
    unchanged = {digest: doc_id[len(prefix) + 1:] for doc_id, digest in known.items()
                 if doc_id.startswith(prefix + "/")}
    for number, line in enumerate(data.splitlines(), start=1):
        where = f"{path}:{number}"
        if not line.strip():
            continue
        digest = _hash(line)
        rid = unchanged.get(digest)
        if rid is not None and rid not in seen:
            seen.add(rid)
            yield Unchanged(f"{prefix}/{rid}")
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            yield Rejected(where, f"not valid JSON: {e}")
            continue
        if not isinstance(record, dict):
            yield Rejected(where, "a line must be a JSON object")
            continue
        body, rid = record.get("body"), record.get("id")
        if not isinstance(body, str) or not body.strip():
            yield Rejected(where, "no 'body' text")
            continue
        if problem := _id_problem(rid):
            yield Rejected(where, problem)
            continue
        if str(rid) in seen:
            yield Rejected(where, f"duplicate id {rid!r}")
            continue
        seen.add(str(rid))
        title = record.get("title") if isinstance(record.get("title"), str) else None
        given = {k: record[k] for k in ("url", "source") if isinstance(record.get(k), str) and record[k]}
        text = nfc("\n".join(filter(None, [title, body])))
        date = record.get("date") if isinstance(record.get("date"), str) else None
        yield _from_text(f"{prefix}/{rid}", where, text, digest, title=nfc(title) if title else None,
                         date_hint=date, **given)


READERS: dict[str, Reader] = {  # a file's suffix (lower case) → its reader; longest suffix wins
    ".txt": _read_txt,
    ".html": _read_html,
    ".htm": _read_html,
    ".jsonl": _read_jsonl,
    ".jsonl.gz": _read_jsonl_gz,
}
_LINES = {".jsonl", ".jsonl.gz"}  # formats of one document a line, counted by line for progress


def _suffix(name: str) -> str | None:
    """The :data:`READERS` suffix `name` ends with (any case), None when it is not an article format."""
    lower = name.lower()
    return max((s for s in READERS if lower.endswith(s)), key=len, default=None)


def _doc_id(rel: str, suffix: str) -> str:
    """The id of the document at `rel`: its path without the suffix (when spelt in lower case)."""
    return rel[: -len(suffix)] if rel.endswith(suffix) else rel


def _shown(path: Path) -> str:
    """`path` as text that encodes as UTF-8: bytes of its name that are not UTF-8 as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


_FILE_TYPES = [(stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory")]


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode cannot be read as a document (reading a FIFO blocks forever)."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _FILE_TYPES if test(mode)), "a special file")
    return f"not a regular file ({kind})"


def read_file(path: Path, root: Path | None = None, known: dict[str, str] | None = None) -> Iterator[Item]:
    """Articles (or rejections) from one file; ids are relative to `root`.

    `known` maps ids to the content hash already indexed: those documents come back as
    :class:`Unchanged` without being analysed again."""
    rel = path.relative_to(root).as_posix() if root else path.name
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by the file system as lone surrogates
        yield Rejected(_shown(path), f"file name is not valid UTF-8: {os.fsencode(rel)!r}")
        return
    try:
        info = path.stat()  # of the target, for a symbolic link; never opens the file
        if problem := _not_regular(info.st_mode):
            yield Rejected(str(path), problem)
            return
        size = info.st_size
        if size > MAX_BYTES:
            yield Rejected(str(path), f"file too large ({size:,} bytes; the limit is {MAX_BYTES:,})")
            return
        data = path.read_bytes()
    except OSError as e:
        yield Rejected(str(path), f"cannot read: {e.strerror or e}")
        return
    if not data.strip():
        yield Rejected(str(path), "empty file")
        return
    suffix = _suffix(path.name) or ".txt"
    try:
        yield from READERS[suffix](_doc_id(rel, suffix), path, data, known or {})
    except (ValueError, UnicodeError) as e:
        yield Rejected(str(path), str(e))


def corpus_files(root: Path) -> list[Path]:
    """Every readable document file under `root`, in a stable order (hidden files skipped)."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and _suffix(name) is not None:
                files.append(Path(dirpath) / name)
    return files


def count_documents(root: Path) -> int:
    """How many documents `root` holds (JSONL lines counted), quickly, for progress bars."""
    total = 0
    for path in corpus_files(root):
        suffix = _suffix(path.name)
        try:
            if suffix not in _LINES or _not_regular(path.stat().st_mode):
                total += 1  # one document, or one rejection: a FIFO is never opened
                continue
            with (gzip.open if suffix.endswith(".gz") else open)(path, "rb") as f:
                total += sum(1 for line in f if line.strip())
        except (OSError, EOFError):
            total += 1
    return total


def read_corpus(root: Path, known: dict[str, str] | None = None) -> Iterator[Item]:
    """Every article of the folder `root`, and every document that could not be read."""
    for path in corpus_files(root):
        yield from read_file(path, root, known)

