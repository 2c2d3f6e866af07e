"""A segment's postings gathered term by term, for Whoosh's segment writer.

Whoosh==2.7.4's ``PostingPool`` keeps every posting of the segment being written as a
``(field, term, docnum, weight, value)`` tuple, sorts them all in Python when its memory
limit is reached, writes the sorted run one pickled tuple at a time, and merges the runs
tuple by tuple at the end. At 51,000 articles an analysis worker holds ~15 million
postings: sorting and spilling them was over a quarter of its time.

:class:`TermPool` gives the writer the same postings in the same order without sorting
them: each term's postings are appended to that term's list as documents are added, so
they are already in document order (the writer numbers documents as it adds them, and a
term has at most one posting per document); only the terms are sorted, when a run is
written and at the end. A run is written with ``marshal``, one record per term, and the
runs are merged by term. Memory is bounded as Whoosh bounds it (``limitmb``, counted
with Whoosh's own estimate of a posting's size).

The exception to "already in document order" is a field with separate spelling words
(all posted with document 0): vnsearch's schema has none (:func:`suits`, checked by the
tests).
"""

from __future__ import annotations

import heapq
from array import array
import marshal
import struct
from itertools import chain, groupby, repeat
from operator import itemgetter
from typing import Iterator

from whoosh.codec.whoosh3 import W3PostingsWriter
from whoosh.util import random_name

__all__ = ["TermPool", "suits", "write_postings"]

Term = tuple[tuple[str, bytes], tuple[int, ...], tuple[float, ...], tuple[bytes | None, ...]]

_SIZE = struct.Struct("<I")  # before each term's record in a run: its length

# Whoosh's estimate of a posting's bytes in memory, less the parts that vary (writing.py).
_POSTING_BYTES = 28 + 4 * 5 + 21 + 26 + 18 + 16 + 21


class TermPool:
    """Postings by field and term, in the order they were added (``PostingPool``'s interface:
    ``add``, ``iter_postings``, ``fieldnames``, ``cleanup``)."""

    def __init__(self, tempstore, segment=None, limitmb: int = 128):
        """`tempstore`: where runs are spilled; `segment` is taken as ``PostingPool`` takes
        it, and not needed."""
        self.tempstore = tempstore
        self.limit = limitmb * 1024 * 1024
        self.size = 0
        self.fields: dict[str, dict[bytes, list[tuple]]] = {}
        self.runs: list[str] = []
        self._spilled_fields: set[str] = set()

    @property
    def fieldnames(self) -> set[str]:
        return self._spilled_fields | set(self.fields)

    def add(self, item: tuple) -> None:
        """One posting: ``(fieldname, term bytes, docnum, weight, value bytes or None)``."""
        fieldname, text = item[0], item[1]
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
        postings = terms.get(text)
        if postings is None:
            terms[text] = [item]
        else:
            postings.append(item)
        self.size += _POSTING_BYTES + len(fieldname) + 2 * len(text) + len(item[4] or b"")
        if self.size > self.limit:
            self.save()

    def save(self) -> None:
        """Write the postings held in memory as a run (terms in order) and let them go."""
        if not self.fields:
            return
        path = f"{random_name()}.run"
        with self.tempstore.create_file(path).raw_file() as f:
            for key, docnums, weights, values in self._in_memory():
                record = marshal.dumps((*key, docnums, weights, values))
                f.write(_SIZE.pack(len(record)))
                f.write(record)
        self.runs.append(path)
        self._spilled_fields |= set(self.fields)
        self.fields, self.size = {}, 0

    def _in_memory(self) -> Iterator[Term]:
        for fieldname in sorted(self.fields):
            terms = self.fields[fieldname]
            for text in sorted(terms):
                _, _, docnums, weights, values = zip(*terms[text])
                yield (fieldname, text), docnums, weights, values

    def _read_run(self, path: str) -> Iterator[Term]:
        with self.tempstore.open_file(path).raw_file() as f:
            while header := f.read(_SIZE.size):  # marshal.load(f) reads a file piece by piece
                fieldname, text, docnums, weights, values = marshal.loads(f.read(_SIZE.unpack(header)[0]))
                yield (fieldname, text), docnums, weights, values

    def terms(self) -> Iterator[Term]:
        """Every term in order, ``((fieldname, term bytes), docnums, weights, values)``, its
        postings in document order."""
        if not self.runs:
            yield from self._in_memory()
            return
        # Runs were written in document order, and what is in memory came last: for a term
        # in several of them, ``heapq.merge`` gives its parts in that order (ties go to the
        # earlier iterable).
        sources = [self._read_run(path) for path in self.runs] + [self._in_memory()]
        for key, parts in groupby(heapq.merge(*sources, key=itemgetter(0)), key=itemgetter(0)):
            parts = list(parts)
            if len(parts) == 1:
                yield parts[0]
            else:
                yield key, *(tuple(chain.from_iterable(p[i] for p in parts)) for i in (1, 2, 3))

    def iter_postings(self) -> Iterator[tuple]:
        """Every posting, sorted by field, term and document, as ``PostingPool`` gives them."""
        for (fieldname, text), docnums, weights, values in self.terms():
            yield from zip(repeat(fieldname), repeat(text), docnums, weights, values)

    def cleanup(self) -> None:
        for path in self.runs:
            if self.tempstore.file_exists(path):
                self.tempstore.delete_file(path)
        self.runs = []
        self.fields, self.size = {}, 0


def write_postings(fieldwriter, schema, lengths, pool: TermPool) -> None:
    """Write `pool`'s postings with Whoosh 3's field writer (``W3FieldWriter``): the same
    bytes as its ``add_postings(schema, lengths, pool.iter_postings())``, which hands the
    postings writer one posting at a time (a method call, four type checks, a document
    length looked up, per posting). Here a term's postings are handed to it a block at a
    time, each block's statistics computed as its ``add_posting`` computes them."""
    for fieldname, terms in groupby(pool.terms(), key=lambda term: term[0][0]):
        fieldwriter.start_field(fieldname, schema[fieldname])
        length = _lengths(lengths, fieldname)
        for (_, text), docnums, weights, values in terms:
            fieldwriter.start_term(text)
            _add_blocks(fieldwriter._postwriter, docnums, weights, values, length)
            fieldwriter.finish_term()
        fieldwriter.finish_field()


def _lengths(lengths, fieldname: str):
    """docnum → the length ``add_postings`` gives the postings writer (``doc_field_length``,
    which is None for a document without the field): every document's read once, up front,
    and looked up by the list's own ``__getitem__`` (no Python call per posting)."""
    if not lengths:
        return lambda docnum: 0
    return [lengths.doc_field_length(docnum, fieldname) for docnum in range(lengths.doc_count_all())].__getitem__


def _add_blocks(postwriter: W3PostingsWriter, docnums, weights, values, length) -> None:
    """A term's postings given to a started ``W3PostingsWriter`` a block at a time: its state
    after ``add_posting`` of each, a full block written when the next posting comes (the
    last block is left to ``finish_postings``, which may inline it)."""
    limit = postwriter._blocklimit
    for start in range(0, len(docnums), limit):
        if start:
            postwriter._write_block()
        block = slice(start, start + limit)
        postwriter._ids = array("I", docnums[block])
        postwriter._weights = array("f", weights[block])
        postwriter._values = [v for v in values[block] if v]
        heaviest = max(weights[block])
        postwriter._maxweight = heaviest if heaviest > 0 else 0
        known = [n for n in map(length, docnums[block]) if n]
        postwriter._minlength = min(known) if known else None
        postwriter._maxlength = max(known) if known else 0


def suits(schema) -> bool:
    """Whether a writer of `schema` can use a :class:`TermPool` (see the module's docstring)."""
    return not any(field.separate_spelling() for _, field in schema.items())
