"""Find and read the articles of a corpus folder: formats, encodings, page boilerplate.

:func:`read_corpus` walks a folder and yields an :class:`Article` for every document it can
read and a :class:`Rejected` (path and reason) for every one it cannot, so one broken file
never stops the rest. Formats: ``.txt`` (page text like the seeds), ``.html``/``.htm``
(saved pages, main text by trafilatura) and ``.jsonl``/``.jsonl.gz`` (one article a line:
``id``, ``title``, ``date``, ``source``, ``url``, ``body``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .metadata import EXTRACTOR_VERSION, Metadata, extract
from .pagetext import is_boilerplate
from .text import nfc

__all__ = ["Article", "Rejected", "Unchanged", "read_corpus", "count_documents", "read_file", "decode", "SUFFIXES", "MAX_BYTES"]

SUFFIXES = (".txt", ".html", ".htm", ".jsonl", ".jsonl.gz")
MAX_BYTES = 50 * 1024 * 1024  # a larger single file is not an article


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


@dataclass
class Unchanged:
    """A document whose content hash matches the one already indexed (not re-read)."""

    id: str


@dataclass
class Rejected:
    """A document that could not be read, and why."""

    path: str
    reason: str


def decode(data: bytes) -> str:
    """Bytes to NFC text: UTF-8 (BOM or not), UTF-16 with BOM, or what charset-normalizer finds."""
    if data.startswith(b"\xef\xbb\xbf"):
        return nfc(data[3:].decode("utf-8"))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return nfc(data.decode("utf-16"))
    if b"\x00" in data[:4096]:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        return nfc(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ValueError("cannot determine the text encoding")
    return nfc(str(best))


def _doc_id(rel: str) -> str:
    for suffix in (".jsonl.gz", ".jsonl", ".html", ".htm", ".txt"):
        if rel.endswith(suffix):
            return rel[: -len(suffix)]
    return rel


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


def _from_text(doc_id: str, path: str, text: str, digest: str, **given) -> Article:
    meta = extract(text, **given)
    title = meta.title.value or ""
    body = _clean_body(text, title or None)
    return Article(doc_id, path, title, body, meta, digest, given.get("source"))


def _read_txt(doc_id: str, path: Path, data: bytes, known: dict) -> Iterator[Article | Rejected | Unchanged]:
    if known.get(doc_id) == _hash(data):
        yield Unchanged(doc_id)
        return
    text = decode(data)
    if not text.strip():
        yield Rejected(str(path), "empty file")
        return
    yield _from_text(doc_id, str(path), text, _hash(data))


def _read_html(doc_id: str, path: Path, data: bytes, known: dict) -> Iterator[Article | Rejected | Unchanged]:
    if known.get(doc_id) == _hash(data):
        yield Unchanged(doc_id)
        return
    import trafilatura

    html = decode(data)
    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False,
                                      favor_precision=True)
    if doc is None or not (doc.text or "").strip():
        yield Rejected(str(path), "no article text found in the HTML")
        return
    body = nfc(doc.text)
    title = nfc(doc.title) if doc.title else None
    yield _from_text(doc_id, str(path), "\n".join(filter(None, [title, body])), _hash(data),
                     title=title, date_hint=doc.date, url=doc.url, source=doc.sitename or doc.hostname)


def _read_jsonl(prefix: str, path: Path, data: bytes, known: dict) -> Iterator[Article | Rejected | Unchanged]:
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            yield Rejected(str(path), f"not a readable gzip file: {e}")
            return
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
        if rid is None or str(rid) in seen:
            yield Rejected(where, "missing 'id'" if rid is None else f"duplicate id {rid!r}")
            continue
        seen.add(str(rid))
        title = record.get("title") if isinstance(record.get("title"), str) else None
        given = {k: record[k] for k in ("url", "source") if isinstance(record.get(k), str) and record[k]}
        text = nfc("\n".join(filter(None, [title, body])))
        date = record.get("date") if isinstance(record.get("date"), str) else None
        yield _from_text(f"{prefix}/{rid}", where, text, digest, title=nfc(title) if title else None,
                         date_hint=date, **given)


def read_file(path: Path, root: Path | None = None,
              known: dict[str, str] | None = None) -> Iterator[Article | Rejected | Unchanged]:
    """Articles (or rejections) from one file; ids are relative to `root`.

    `known` maps ids to the content hash already indexed: those documents come back as
    :class:`Unchanged` without being analysed again."""
    rel = path.relative_to(root).as_posix() if root else path.name
    try:
        size = path.stat().st_size
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
    name = path.name.lower()
    reader = (_read_jsonl if name.endswith((".jsonl", ".jsonl.gz"))
              else _read_html if name.endswith((".html", ".htm")) else _read_txt)
    try:
        yield from reader(_doc_id(rel), path, data, known or {})
    except (ValueError, UnicodeError) as e:
        yield Rejected(str(path), str(e))


def corpus_files(root: Path) -> list[Path]:
    """Every readable document file under `root`, in a stable order (hidden files skipped)."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and name.lower().endswith(SUFFIXES):
                files.append(Path(dirpath) / name)
    return files


def count_documents(root: Path) -> int:
    """How many documents `root` holds (JSONL lines counted), quickly, for progress bars."""
    total = 0
    for path in corpus_files(root):
        name = path.name.lower()
        if name.endswith((".jsonl", ".jsonl.gz")):
            try:
                opener = gzip.open if name.endswith(".gz") else open
                with opener(path, "rb") as f:
                    total += sum(1 for line in f if line.strip())
            except (OSError, EOFError):
                total += 1
        else:
            total += 1
    return total


def read_corpus(root: Path, known: dict[str, str] | None = None) -> Iterator[Article | Rejected | Unchanged]:
    """Every article of the folder `root`, and every document that could not be read."""
    for path in corpus_files(root):
        yield from read_file(path, root, known)

