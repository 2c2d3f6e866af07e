"""The arrays of one Whoosh generation, written as ``.npy`` files at build time and mapped on open.

Opening a generation used to rebuild its per-document arrays (live documents, facet codes,
dates, field lengths) from Whoosh's stored columns, and a query decoded the postings of its
common terms from Whoosh's blocks on first use: seconds after every start or reindex, and a
private copy in every process. The build now writes them once, next to Whoosh's files, with
the documents of the phrases every abbreviation brings into a query ("UBND" also searches
"uỷ ban nhân dân", "kinh tế xã hội" also "KT-XH"), whose positions would otherwise be
read at the first such query::

    gen-<stamp>/
      arrays.json                 version, document count, facet values, the common terms
                                  (one newline-separated string per stream), the phrases
      arrays-live.npy             bool[N]   documents not deleted
      arrays-dates.npy            int32[N]  YYYYMMDD, 0 when unknown
      arrays-facet-<name>.npy     int32[N]  code of each document's value (arrays.json names them)
      arrays-length-<stream>.npy  float32[N] each document's length in the stream (Whoosh's byte)
      arrays-postings-ids.npy     int32[P]  document numbers of the common terms, term after term,
                                            then of the phrases the query language adds
                                            (``abbreviations.phrases``), found once here
      arrays-postings-impact.npy  float32[P] their BM25 impacts, tf·(k1+1)/(tf+norm) (1 for a phrase)
      arrays-postings-at.npy      int64[T, 2] where each common term's postings start, and how many
      arrays-dense.npy            float32[D, N] the impacts of the very common terms (in a
                                  quarter of the documents or more: arrays.json names them)
                                  in every document, 0 where a term is not
      arrays-vocab-text.npy       uint8[B]  the folded body vocabulary, UTF-8, each word ended
                                            by a newline, in Whoosh's (byte) order
      arrays-vocab-offsets.npy    int64[V+1] where each word starts (and where the last ends)
      arrays-vocab-df.npy         int32[V]  each word's document frequency (Whoosh's)
      arrays-stored.bin           each document's stored fields (the dict Whoosh stores,
                                  pickled, its body left out and appended in UTF-16),
                                  document after document, not compressed
      arrays-stored-at.npy        int64[N+1, 2] where each document's starts (and the last
                                  ends), and where its body starts within it (-1: not apart)

A very common term's row is added to a query's scores as one contiguous sweep, and its
documents marked by its impacts above zero: about 19 µs at 51,000 documents, where
scattering its 13,000 to 50,000 postings took 45 to 165 µs. Those terms are four fifths of
the postings a query of the latency mix touches, and their rows take about the room of
their postings (4 bytes a document against 8 a posting); the postings are kept as well, for
the phrases and the document frequency.

The vocabulary serves "did you mean" (:meth:`Saved.near_words`): reading the 80,000 words of
a 51,000-article index from Whoosh's term dictionary takes a third of a second, and Whoosh's
``terms_within`` then measures each word's distance in Python (~0.1 s per misspelt word).

The stored fields are Whoosh's, without its zlib: decompressing them was 19 of the 32 µs
of fetching a hit (a results page fetches ten). Decoding a Vietnamese body from UTF-8 then
took most of what was left (10 µs for 2,000 characters, against 3 µs from UTF-16, for half
as many bytes more). They are read with ``os.pread``, not
mapped: pages mapped for a few hits would stay in every server's resident memory.

``numpy.load(mmap_mode="r")`` maps the arrays: a fresh process pays nothing to open them, and
processes serving the same generation share their pages. They are listed in the manifest
like Whoosh's files (``store.write_manifest``). A generation without ``arrays.json`` was
built by an older vnsearch: ``whoosh._open`` refuses it as stale (a reindex rebuilds it).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..abbreviations import phrases
from ..scoring import TEXT_FIELDS, all_streams, stream
from ..text import fold

__all__ = ["ARRAYS", "VERSION", "Saved", "write", "load", "version", "hot_threshold", "dense_threshold"]

ARRAYS = "arrays.json"
# 2: phrases; 3: vocabulary; 4: impacts, not term frequencies; 5: stored fields;
# 6: dense rows of the commonest terms, bodies stored apart in UTF-16
VERSION = 6
PREFIX = "arrays-"
BODY = "body"  # the stored field kept apart, in UTF-16
HOT_MIN_DF = 64  # a term in fewer documents is read from Whoosh when asked (a few blocks)
HOT_SHARE = 400  # ...and so is one in fewer than 1/400 of the documents
DENSE_SHARE = 4  # a term in at least 1/4 of the documents also gets a dense row of impacts


def hot_threshold(n: int) -> int:
    """The document frequency from which a term's postings are written as arrays."""
    return max(HOT_MIN_DF, n // HOT_SHARE)


def dense_threshold(n: int) -> int:
    """The document frequency from which a term's impacts are also written as a dense row."""
    return max(HOT_MIN_DF, -(-n // DENSE_SHARE))


class Saved:
    """The mapped arrays of a generation (what ``ranking.IndexArrays`` uses instead of Whoosh)."""

    def __init__(self, folder: Path, meta: dict[str, Any]):
        def array(name: str) -> np.ndarray:
            # A plain ndarray over the map (no copy): numpy's memmap subclass would make every
            # result of an operation on it a memmap too.
            return np.asarray(np.load(folder / f"{PREFIX}{name}.npy", mmap_mode="r", allow_pickle=False))

        self.n: int = meta["documents"]
        self.live = array("live")
        self.dates = array("dates")
        self.facets = {name: (array(f"facet-{name}"), list(values))
                       for name, values in meta["facets"].items()}
        self.lengths = {name: array(f"length-{name}") for name in meta["streams"]}
        self.ids, self.impacts = array("postings-ids"), array("postings-impact")
        # term → its row of `_at`, stream by stream: built from strings, as a JSON object of
        # 15,000 [start, count] lists took 15 ms of every start to parse
        self._at = array("postings-at")
        self.table = _rows(meta["postings"])
        dense = array("dense")
        # stream → term → (document frequency, its dense row): one lookup per query term
        self._dense: dict[str, dict[str, tuple[int, np.ndarray]]] = {}
        for name, rows in _rows(meta["dense"]).items():
            at = np.array([self.table[name][term] for term in rows], dtype=np.intp)
            counts = self._at[at, 1].tolist()
            self._dense[name] = {term: (count, dense[row]) for (term, row), count in zip(rows.items(), counts)}
        self.phrases: dict[str, dict[str, list[int]]] = meta["phrases"]
        self._initials: dict[str, list[int]] = meta["vocabulary"]["initials"]
        self._vocab = array("vocab-text"), array("vocab-offsets"), array("vocab-df")
        self._stored_at = array("stored-at")
        self._stored = open(folder / f"{PREFIX}stored.bin", "rb", buffering=0)

    def stored(self, docnum: int) -> dict[str, Any]:
        """The stored fields of document `docnum` (what Whoosh's ``stored_fields`` returns)."""
        (start, body), (end, _) = self._stored_at[docnum:docnum + 2].tolist()
        if end == start:
            return {}
        record = os.pread(self._stored.fileno(), end - start, start)
        if body < 0:
            return pickle.loads(record)
        fields = pickle.loads(memoryview(record)[:body])
        fields[BODY] = record[body:].decode("utf-16-le", "surrogatepass")  # its place in the dict kept
        return fields

    def close(self) -> None:
        self._stored.close()

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(document numbers, BM25 impacts) of a common term, or None when not written."""
        row = self.table.get(field, {}).get(term)
        if row is None:
            return None
        start, count = self._at[row].tolist()
        return self.ids[start:start + count], self.impacts[start:start + count]

    def dense(self, field: str, term: str) -> tuple[int, np.ndarray] | None:
        """(document frequency, impact in every document) of a very common term, or None
        when it has no dense row."""
        return self._dense.get(field, {}).get(term)

    def phrase(self, field: str, words: list[str]) -> np.ndarray | None:
        """Document numbers of a phrase found at build time, or None when it was not."""
        at = self.phrases.get(field, {}).get(" ".join(words))
        return None if at is None else self.ids[at[0]:at[0] + at[1]]

    def near_words(self, word: str, distance: int) -> list[tuple[str, int]]:
        """Words of the vocabulary within `distance` edits of `word` (Damerau-Levenshtein,
        each transposition of neighbours one edit, as Whoosh's ``terms_within`` counts)
        that share its first character, each with its document frequency."""
        from rapidfuzz import process  # here: "did you mean" only, not every start
        from rapidfuzz.distance import OSA

        at = self._initials.get(word[:1])
        if at is None:
            return []
        text, offsets, df = self._vocab
        start, end = at
        words = bytes(text[offsets[start]:offsets[end]]).decode("utf-8").split("\n")[:-1]
        near = process.extract(word, words, scorer=OSA.distance, score_cutoff=distance, limit=None)
        return [(w, int(df[start + i])) for w, _, i in near]


def _rows(streams: dict[str, str]) -> dict[str, dict[str, int]]:
    """Stream → term → row, from each stream's terms as one newline-separated string (rows
    numbered across the streams, in order)."""
    table, row = {}, 0
    for name, text in streams.items():
        terms = text.split("\n") if text else []
        table[name] = dict(zip(terms, range(row, row + len(terms))))
        row += len(terms)
    return table


def load(folder: Path) -> Saved | None:
    """The arrays of the generation in `folder`, or None when it has none of this version
    (an older build: :func:`version` says which)."""
    meta = _meta(folder)
    if meta is None or meta.get("version") != VERSION:
        return None
    return Saved(folder, meta)


def version(folder: Path) -> int | None:
    """The version of the arrays in `folder`; None when there are none."""
    meta = _meta(folder)
    return None if meta is None else meta.get("version")


def _meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / ARRAYS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return meta if isinstance(meta, dict) else {}


def write(folder: Path, arrays, reader, vocabulary_field: str,
          stored: Callable[[int], dict[str, Any]], reopen: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Write the arrays of the committed generation in `folder`.

    `arrays` is a ``ranking.IndexArrays`` opened on it the slow way (from Whoosh's columns),
    `reader` its Whoosh reader (for the terms and their document frequencies),
    `vocabulary_field` the stream whose words "did you mean" suggests, `stored` gives a
    document's stored fields (Whoosh's, by document number). With `reopen` (a context
    manager that opens another ``IndexArrays`` on the generation, with its own files), a
    forked process reads the first half of the postings and phrases while this one reads
    the second (``_read_in_two``): they are nine tenths of the time. Files that an
    incremental run hard-linked from the live generation are unlinked first: writing
    through the link would change the live generation too."""
    for old in [*folder.glob(PREFIX + "*"), folder / ARRAYS]:
        old.unlink(missing_ok=True)

    def save(name: str, value: np.ndarray) -> None:
        np.save(folder / f"{PREFIX}{name}.npy", value, allow_pickle=False)

    save("live", arrays.live)
    save("dates", arrays.dates)
    facets = {}
    for name, (codes, values) in arrays.facets.items():
        save(f"facet-{name}", codes)
        facets[name] = values
    streams = [s for s in all_streams() if s in reader.schema]
    for name in streams:
        save(f"length-{name}", arrays.lengths(name))
    threshold = hot_threshold(arrays.n)
    # What is read, in the order it is written: every common term of each stream, then the
    # phrases the query language adds; each with its cost (the postings it reads).
    units: list[tuple[str, str, str | list[str]]] = []
    costs: list[int] = []
    vocabulary_terms: list[tuple[bytes, int]] = []  # for "did you mean"
    phrase_streams = [(stream(f, k), k == "folded") for f in TEXT_FIELDS for k in ("accented", "folded")]
    frequencies: dict[str, dict[str, int]] = {}  # of the phrases' streams
    for name in streams:
        terms = document_frequencies(reader, name)
        to_text = reader.schema[name].from_bytes
        hot = [(to_text(term), df) for term, df in terms if df >= threshold]
        units += [("term", name, term) for term, _ in hot]
        costs += [df for _, df in hot]
        if name == vocabulary_field:
            vocabulary_terms = terms
        if any(name == phrase_stream for phrase_stream, _ in phrase_streams):
            frequencies[name] = {to_text(term): df for term, df in terms}
    for name, folded in phrase_streams:
        for words in phrases():
            form = [fold(w) for w in words] if folded else words
            units.append(("phrase", name, form))
            costs.append(sum(frequencies[name].get(w, 0) for w in form))
    dense_df = dense_threshold(arrays.n)
    parts = _read_in_two(folder, arrays, reopen, units, costs, dense_df) if reopen else \
        [_read_units(folder, arrays, units, dense_df, "all")]
    # Each part's raw values, one part after the other, given their .npy header: memory
    # stays that of one term whatever the corpus. (Counts come from the postings read:
    # Whoosh's document frequency can count one more after a run was killed mid-way.)
    table: dict[str, dict[str, list[int]]] = {name: {} for name in streams}
    found: dict[str, dict[str, list[int]]] = {name: {} for name, _ in phrase_streams}
    dense: dict[str, list[str]] = {name: [] for name in streams}
    at = 0
    for (kind, name, key), (count, is_dense) in zip(units, (r for part in parts for r in part["read"])):
        (table if kind == "term" else found)[name][key if kind == "term" else " ".join(key)] = [at, count]
        at += count
        if is_dense:
            dense[name].append(key)
    rows = sum(len(terms) for terms in dense.values())
    for kind, dtype, shape in (("postings-ids", "<i4", (at,)), ("postings-impact", "<f4", (at,)),
                               ("dense", "<f4", (rows, arrays.n))):
        with open(folder / f"{PREFIX}{kind}.npy", "wb") as out:
            np.lib.format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False, "shape": shape})
            for part in parts:
                tmp = Path(part[kind])
                with open(tmp, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
                tmp.unlink()
    vocabulary = _write_vocabulary(save, reader.schema[vocabulary_field].from_bytes, vocabulary_terms)
    _write_stored(folder, save, arrays.n, stored)
    vocabulary["field"] = vocabulary_field
    save("postings-at", np.array([at for terms in table.values() for at in terms.values()],
                                 dtype=np.int64).reshape(-1, 2))
    meta = {"version": VERSION, "documents": arrays.n, "facets": facets, "streams": streams,
            "postings": {name: "\n".join(terms) for name, terms in table.items()},
            "dense": {name: "\n".join(terms) for name, terms in dense.items()},
            "phrases": found, "vocabulary": vocabulary}
    (folder / ARRAYS).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return meta


def _read_units(folder: Path, arrays, units: list, dense_df: int, part: str) -> dict[str, Any]:
    """Read `units` (common terms and phrases) in order, appending their documents and
    impacts (and each very common term's dense row) to this part's raw files: where those
    are, and (count, has a dense row) per unit."""
    paths = {kind: str(folder / f"{PREFIX}{kind}.{part}.tmp") for kind in ("postings-ids", "postings-impact", "dense")}
    read = []
    with open(paths["postings-ids"], "wb") as ids_out, open(paths["postings-impact"], "wb") as impact_out, \
            open(paths["dense"], "wb") as rows:
        for kind, name, key in units:
            if kind == "term":
                ids, tf = arrays.read_postings(name, key)
                impact = arrays.impact(name, ids, tf)
            else:
                ids = arrays.find_phrase(name, key)
                impact = np.ones(len(ids), dtype=np.float32)
            ids_out.write(np.ascontiguousarray(ids, dtype="<i4").tobytes())
            impact_out.write(np.ascontiguousarray(impact, dtype="<f4").tobytes())
            is_dense = kind == "term" and len(ids) >= dense_df
            if is_dense:
                row = np.zeros(arrays.n, dtype="<f4")
                row[ids] = impact
                rows.write(row.tobytes())
            read.append((len(ids), is_dense))
    return {**paths, "read": read}


def _read_in_two(folder: Path, arrays, reopen: Callable[[], Any], units: list, costs: list[int],
                 dense_df: int) -> list[dict[str, Any]]:
    """`_read_units` for the first half of `units` (by cost) in a forked process, with its
    own ``IndexArrays`` (`reopen`: forked file objects share their position), and for the
    second half here, at the same time: the parts, in order. A failure in the child is
    raised here (an OSError as one, so a full disk is still reported as such)."""
    import multiprocessing

    from ..store import die_with_parent

    half = int(np.searchsorted(np.cumsum(costs, dtype=np.int64), sum(costs) / 2)) + 1
    first, second = units[:half], units[half:]
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    parent = os.getpid()

    def child() -> None:
        die_with_parent(parent)
        try:
            with reopen() as own:
                send.send(("ok", _read_units(folder, own, first, dense_df, "a")))
        except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises it
            send.send(("error", getattr(e, "errno", None), f"{type(e).__name__}: {e}"))

    process = context.Process(target=child, name="vnsearch-arrays", daemon=True)
    process.start()
    send.close()  # the child's end: when it dies, recv() sees the pipe closed
    try:
        mine = _read_units(folder, arrays, second, dense_df, "b")
        try:
            answer = receive.recv()
        except EOFError:
            process.join()
            answer = ("error", None, f"the process reading the first half died (exit code {process.exitcode})")
    except BaseException:
        process.terminate()
        raise
    finally:
        process.join()
        receive.close()
    if answer[0] != "ok":
        _, errno, message = answer
        if errno is not None:
            raise OSError(errno, message)
        raise RuntimeError(f"writing the index's arrays: {message}")
    return [answer[1], mine]


def document_frequencies(reader, field: str) -> list[tuple[bytes, int]]:
    """Every term of `field` (Whoosh's bytes, in their order) with its document frequency,
    summed over the segments as Whoosh's ``iter_field`` would: read segment by segment,
    because over several segments that looks each term up in every segment (12,000
    articles, six streams: 21 s instead of 4)."""
    counts: dict[bytes, int] = {}
    for leaf, _ in reader.leaf_readers():
        for term, info in leaf.iter_field(field):
            counts[term] = counts.get(term, 0) + info.doc_frequency()
    return sorted(counts.items())


def _write_stored(folder: Path, save, n: int, stored: Callable[[int], dict[str, Any]]) -> None:
    """Every document's stored fields, one after the other (written as they are read:
    memory stays that of one document): pickled, the body apart in UTF-16 (its value in the
    pickle None); where each starts, and where its body does."""
    at = np.full((n + 1, 2), -1, dtype=np.int64)
    at[0, 0] = 0
    with open(folder / f"{PREFIX}stored.bin", "wb") as out:
        for docnum in range(n):
            fields = stored(docnum)
            size = 0
            if fields:
                body = fields.get(BODY)
                if isinstance(body, str):
                    size = out.write(pickle.dumps({**fields, BODY: None}, pickle.HIGHEST_PROTOCOL))
                    at[docnum, 1] = size
                    size += out.write(body.encode("utf-16-le", "surrogatepass"))
                else:
                    size = out.write(pickle.dumps(fields, pickle.HIGHEST_PROTOCOL))
            at[docnum + 1, 0] = at[docnum, 0] + size
    save("stored-at", at)


def _write_vocabulary(save, to_text, terms: list[tuple[bytes, int]]) -> dict[str, Any]:
    """The words of a stream (`terms`, sorted, with their document frequencies; `to_text`
    decodes one), and where each first character's words begin and end (sorted, those of
    one character are together)."""
    words, df, initials = [], [], {}
    for term, frequency in terms:
        word = to_text(term)
        first = initials.setdefault(word[:1], [len(words), len(words)])
        first[1] = len(words) + 1
        words.append(word)
        df.append(frequency)
    encoded = [(w + "\n").encode("utf-8") for w in words]
    save("vocab-text", np.frombuffer(b"".join(encoded), dtype=np.uint8))
    save("vocab-offsets", np.cumsum([0] + [len(e) for e in encoded], dtype=np.int64))
    save("vocab-df", np.array(df, dtype=np.int32))
    return {"initials": initials}
