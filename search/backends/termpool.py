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
import marshal
import struct
from itertools import groupby, repeat
from operator import itemgetter
from typing import Iterator

from whoosh.util import random_name

__all__ = ["TermPool", "suits"]

_SIZE = struct.Struct("<I")  # before each term's record in a run: its length

# Whoosh's estimate of a posting's bytes in memory, less the parts that vary (writing.py).
_POSTING_BYTES = 28 + 4 * 5 + 21 + 26 + 18 + 16 + 21


class TermPool:
    """Postings by field and term, in the order they were added (``PostingPool``'s interface:
    ``add``, ``iter_postings``, ``fieldnames``, ``cleanup``)."""

    def __init__(self, tempstore, segment, limitmb: int = 128):
        self.tempstore, self.segment = tempstore, segment
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
            for (fieldname, text), postings in self._in_memory():
                _, _, docnums, weights, values = zip(*postings)
                record = marshal.dumps((fieldname, text, docnums, weights, values))
                f.write(_SIZE.pack(len(record)))
                f.write(record)
        self.runs.append(path)
        self._spilled_fields |= set(self.fields)
        self.fields, self.size = {}, 0

    def _in_memory(self) -> Iterator[tuple[tuple[str, bytes], list[tuple]]]:
        for fieldname in sorted(self.fields):
            terms = self.fields[fieldname]
            for text in sorted(terms):
                yield (fieldname, text), terms[text]

    def _read_run(self, path: str) -> Iterator[tuple[tuple[str, bytes], Iterator[tuple]]]:
        with self.tempstore.open_file(path).raw_file() as f:
            while header := f.read(_SIZE.size):  # marshal.load(f) reads a file piece by piece
                fieldname, text, docnums, weights, values = marshal.loads(f.read(_SIZE.unpack(header)[0]))
                yield (fieldname, text), zip(repeat(fieldname), repeat(text), docnums, weights, values)

    def iter_postings(self) -> Iterator[tuple]:
        """Every posting, sorted by field, term and document, as ``PostingPool`` gives them."""
        if not self.runs:
            for _, postings in self._in_memory():
                yield from postings
            return
        # Runs were written in document order, and what is in memory came last: for a term
        # in several of them, ``heapq.merge`` gives its parts in that order (ties go to the
        # earlier iterable).
        sources = [self._read_run(path) for path in self.runs] + [self._in_memory()]
        merged = heapq.merge(*sources, key=itemgetter(0))
        for _, parts in groupby(merged, key=itemgetter(0)):
            for _, postings in parts:
                yield from postings

    def cleanup(self) -> None:
        for path in self.runs:
            if self.tempstore.file_exists(path):
                self.tempstore.delete_file(path)
        self.runs = []
        self.fields, self.size = {}, 0


def suits(schema) -> bool:
    """Whether a writer of `schema` can use a :class:`TermPool` (see the module's docstring)."""
    return not any(field.separate_spelling() for _, field in schema.items())
