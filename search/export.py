"""Results taken away: every page of a search as CSV or JSON Lines rows.

One place writes rows, for the web (``/export.csv``, ``/export.jsonl``) and the CLI
(``vnsearch search --format csv|jsonl``): :func:`hits` reads the results page by page up to
``EXPORT_MAX``, :func:`csv_lines` and :func:`jsonl_lines` turn them into text, a line at a
time, so a server can stream them.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from typing import Iterable, Iterator

from .query import Hit, Index, SearchRequest

__all__ = ["COLUMNS", "EXPORT_MAX", "FORMATS", "hits", "csv_lines", "jsonl_lines", "lines"]

COLUMNS = ("id", "title", "date", "province", "province_2025", "secretary", "source", "url", "score")
EXPORT_MAX = 10_000  # rows at most in one export
EXPORT_PAGE = 500  # results read from the index at a time
BOM = "\ufeff"  # so that Excel reads the CSV as UTF-8 (Vietnamese letters intact)
FORMATS = ("csv", "jsonl")


def hits(index: Index, request: SearchRequest, limit: int = EXPORT_MAX) -> Iterator[Hit]:
    """The results of `request` from its first page on (its page and size ignored), at most
    `limit`, in its order, without snippets."""
    page, given = 1, 0
    while given < limit:
        result = index.search(replace(request, page=page, size=EXPORT_PAGE, snippets=False, histogram=False,
                                      facets=False))
        chosen = result.hits[:limit - given]
        yield from chosen
        given += len(chosen)
        if len(result.hits) < EXPORT_PAGE or given >= result.total:
            return
        page += 1


def _row(hit: Hit) -> dict:
    return {name: getattr(hit, name) for name in COLUMNS}


def csv_lines(rows: Iterable[Hit], bom: bool = True) -> Iterator[str]:
    """A header, then one CSV line per hit (empty cells for unknown values)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values) -> str:
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield (BOM if bom else "") + line(COLUMNS)
    for hit in rows:
        yield line(["" if v is None else v for v in _row(hit).values()])


def jsonl_lines(rows: Iterable[Hit]) -> Iterator[str]:
    """One JSON object per hit and line (null for unknown values)."""
    for hit in rows:
        yield json.dumps(_row(hit), ensure_ascii=False) + "\n"


def lines(rows: Iterable[Hit], format: str, bom: bool = True) -> Iterator[str]:
    """The rows in `format` ("csv" or "jsonl")."""
    return csv_lines(rows, bom) if format == "csv" else jsonl_lines(rows)
