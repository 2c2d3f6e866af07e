"""The embedded backend's engine reads Whoosh's postings and lengths itself: it must agree with Whoosh."""

import random

import numpy as np
import pytest
from whoosh import query as wq

from search.backends.ranking import IndexArrays, _field_lengths
from search.facets import FACETS
from search.scoring import B, K1, all_streams
from search.backends.whoosh import open_backend
from search.indexer import reindex

from search.abbreviations import phrases
from search.text import fold, normalize_token, syllables

from .conftest import SEEDS, shared_corpus


@pytest.fixture(scope="module")
def two_segment_index(tmp_path_factory):
    base = tmp_path_factory.mktemp("ranking")
    corpus = base / "c"
    corpus.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for i in range(150):  # enough for two worker processes, hence two segments
        text = seeds[i % 5].read_text(encoding="utf-8") + f"\nBản số {i}" + (" Tỉnh ủy" * (i % 7))
        (corpus / f"{i:03d}.txt").write_text(text, encoding="utf-8")
    (corpus / "empty-title.jsonl").write_text('{"id": "x", "title": "", "body": "Nội dung."}', encoding="utf-8")
    reindex(corpus, base / "i", full=True, workers=2)
    backend = open_backend(str(base / "i"))
    yield backend.arrays
    backend.close()


def test_the_index_has_several_segments(two_segment_index):
    assert len(two_segment_index.leaves) >= 2


@pytest.mark.parametrize("field, term", [("body_fold", "tinh"), ("body", "uỷ"), ("title", "hội"),
                                         ("body_word", "bí_thư"), ("body_fold", "so"), ("body", "không-có")])
def test_postings_match_whoosh(two_segment_index, field, term):
    ix = two_segment_index
    expected = [(offset + d, w) for reader, offset in ix.leaves if (field, term) in reader
                for d, w in reader.postings(field, term).items_as("weight")]
    ids, tf = ix.read_postings(field, term)  # decoded from Whoosh's blocks
    assert ids.tolist() == [d for d, _ in expected]
    assert np.allclose(tf, [w for _, w in expected])
    mapped, impact = ix.postings(field, term)  # from the generation's arrays, or decoded and cached
    assert mapped.tolist() == ids.tolist()
    assert impact.tolist() == ix.impact(field, ids, tf).tolist()


def test_impacts_are_bm25s_saturated_term_frequency(two_segment_index):
    """What _term multiplies by idf and boost: tf·(k1+1) / (tf + k1·(1 - b + b·length/average))."""
    ix = two_segment_index
    for field, term in (("body_fold", "tinh"), ("title", "hội")):
        ids, tf = ix.read_postings(field, term)
        lengths = ix.lengths(field).astype(np.float64)
        average = lengths[ix.live].mean()
        norm = K1 * (1 - B[field] + B[field] * lengths[ids] / average)
        expected = tf * (K1 + 1) / (tf + norm)
        assert np.allclose(ix.postings(field, term)[1], expected, rtol=1e-5)
        assert len(set(expected.round(4))) > 1  # lengths differ, so impacts do


def test_common_terms_postings_are_mapped_from_the_generation(two_segment_index):
    ix = two_segment_index
    assert ix.saved is not None and "tinh" in ix.saved.table["body_fold"]
    saved, _ = ix.saved.postings("body_fold", "tinh")
    assert isinstance(saved.base, np.memmap) or isinstance(saved.base.base, np.memmap)
    ids, _ = ix.postings("body_fold", "tinh")  # as intp, which numpy indexes with fastest
    assert ids.dtype == np.intp and ids.tolist() == saved.tolist()
    assert ix.saved.postings("body", "không-có") is None  # a rare (here absent) term: read from Whoosh


def test_mapped_arrays_equal_the_ones_read_from_whoosh(two_segment_index):
    ix = two_segment_index
    fresh = IndexArrays(ix.searcher, tuple(FACETS))  # no saved arrays: from Whoosh's columns
    assert fresh.saved is None
    assert ix.live.tolist() == fresh.live.tolist() and ix.dates.tolist() == fresh.dates.tolist()
    for name in FACETS:
        assert ix.facets[name][0].tolist() == fresh.facets[name][0].tolist()
        assert ix.facets[name][1] == fresh.facets[name][1]
    for field in all_streams():
        assert ix.lengths(field).tolist() == fresh.lengths(field).tolist()
        assert ix.norm(field).tolist() == fresh.norm(field).tolist()
    for field, terms in ix.saved.table.items():
        for term in terms:
            mapped, read = ix.postings(field, term), fresh.postings(field, term)  # read and computed
            assert mapped[0].tolist() == read[0].tolist() and mapped[1].tolist() == read[1].tolist()


@pytest.mark.parametrize("field", ["title", "body", "body_fold", "title_word"])
def test_field_lengths_match_whoosh(two_segment_index, field):
    for reader, _ in two_segment_index.leaves:
        expected = [reader.doc_field_length(d, field, 0) or 0 for d in range(reader.doc_count_all())]
        assert _field_lengths(reader, field).tolist() == expected


@pytest.fixture(scope="module")
def real_index(tmp_path_factory):
    """240 real articles (vntc_politics), two segments, a few deleted by a second run."""
    import gzip
    import json

    path = shared_corpus("vntc_politics.jsonl.gz")
    base = tmp_path_factory.mktemp("phrases")
    (base / "c").mkdir()
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = [line for _, line in zip(range(240), f)]
    target = base / "c" / "politics.jsonl"
    target.write_text("".join(lines), encoding="utf-8")
    reindex(base / "c", base / "i", full=True, workers=2)
    target.write_text("".join(lines[:-20]), encoding="utf-8")  # 20 deleted: documents not live
    reindex(base / "c", base / "i", workers=1)
    backend = open_backend(str(base / "i"))
    yield backend.arrays, [json.loads(line) for line in lines]
    backend.close()


def _phrases_of(records, seed: int = 7, count: int = 120) -> list[list[str]]:
    """Phrases of 2 to 5 syllables taken from the articles, a few that are not in them."""
    rng = random.Random(seed)
    out = [["ủy", "ban", "nhân", "dân"], ["kinh", "tế", "xã", "hội"], ["đại", "hội", "đảng", "bộ"],
           ["ban", "chấp", "hành"], ["hội", "kinh"], ["xã", "hội", "kinh", "tế"], ["nhân", "dân", "nhân", "dân"]]
    while len(out) < count:
        words = [normalize_token(s.text) for s in syllables(rng.choice(records)["body"])]
        n = rng.randint(2, 5)
        if len(words) > n:
            at = rng.randrange(len(words) - n)
            out.append(words[at:at + n])
    return out


@pytest.mark.parametrize("stream_name", ["body", "title", "body_fold", "title_fold"])
def test_phrases_are_whooshs_phrases(real_index, stream_name):
    """Positions read for the documents holding every word find exactly the documents
    Whoosh's own Phrase query finds, on real articles; so do the phrases found at build time."""
    ix, records = real_index
    folded = stream_name.endswith("_fold")
    matched = 0
    for words in _phrases_of(records) + phrases():
        words = [fold(w) for w in words] if folded else words
        expected = sorted(ix.searcher.docs_for_query(wq.Phrase(stream_name, words)))
        assert np.flatnonzero(ix.phrase_docs(stream_name, words) & ix.live).tolist() == expected, words
        assert [d for d in ix.find_phrase(stream_name, words).tolist() if ix.live[d]] == expected, words
        matched += bool(expected)
    assert matched > 20  # the phrases are found, not only missed alike


def test_the_phrases_of_abbreviations_are_found_at_build_time(real_index):
    ix, _ = real_index
    for words in phrases():
        for name, form in (("body", words), ("title_fold", [fold(w) for w in words])):
            saved = ix.saved.phrase(name, form)
            assert saved is not None and saved.tolist() == ix.find_phrase(name, form).tolist()
    assert max(len(ix.saved.phrase("body", words)) for words in phrases()) > 10  # found, not only missed
    assert ix.saved.phrase("body", ["bí", "thư"]) is None  # not an abbreviation's: looked for when asked


def _typo(rng: random.Random, word: str) -> str:
    """`word` with one letter dropped, added, changed, or two neighbours swapped."""
    at, letter = rng.randrange(len(word) + 1), rng.choice("aeiouyngdhtc")
    return rng.choice([word[:at] + word[at + 1:], word[:at] + letter + word[at:], word[:at] + letter + word[at + 1:],
                       word[:at] + word[at + 1:at + 2] + word[at:at + 1] + word[at + 2:]]) or letter


def test_near_words_are_whooshs_terms_within(real_index):
    """"Did you mean" reads the folded vocabulary written at build time: the words within two
    edits sharing the first letter, with their document frequencies, are those Whoosh's
    ``terms_within`` finds in its term dictionary (two segments, deleted documents)."""
    ix, _ = real_index
    reader = ix.searcher.reader()
    vocabulary = [w for w, _ in reader.iter_field("body_fold")]
    assert len(vocabulary) > 1500
    rng = random.Random(3)
    typed = [_typo(rng, _typo(rng, reader.schema["body_fold"].from_bytes(rng.choice(vocabulary))))
             for _ in range(200)] + ["cuongg", "tinhh", "uyy", "x", "q", "ủy", "đ", "zzzzzzzz"]
    found = 0
    for word in typed:
        expected = sorted((w, reader.doc_frequency("body_fold", w))
                          for w in reader.terms_within("body_fold", word, 2, prefix=1))
        assert sorted(ix.saved.near_words(word, 2)) == expected, word
        found += len(expected)
    assert found > 400  # the typos have near words, not only none alike


def test_segments_are_read_from_the_map_not_copied(two_segment_index):
    """Whoosh's BufferFile copied each file of a compound segment (BytesIO) at every open."""
    from search.backends.whoosh import MappedFile

    reader, _ = two_segment_index.leaves[0]
    postings = reader._terms._postfile
    assert isinstance(postings.file, MappedFile)


def test_each_thread_reads_a_mapped_file_from_its_own_position():
    import threading

    from whoosh.filedb.structfile import BufferFile

    f = BufferFile(memoryview(bytes(range(256)) * 4))
    f.seek(10)
    assert f.read(3) == bytes([10, 11, 12]) and f.tell() == 13
    got, ready, moved = {}, threading.Event(), threading.Event()

    def other():
        assert f.read(2) == bytes([13, 14])  # a thread that never moved reads on from the last position
        f.seek(100)
        ready.set()
        moved.wait(5)
        got["other"] = f.read(2)

    t = threading.Thread(target=other)
    t.start()
    ready.wait(5)
    f.seek(200)  # between the other thread's seek and its read
    moved.set()
    t.join(5)
    assert got["other"] == bytes([100, 101]) and f.read(2) == bytes([200, 201])
    f.seek(-2, 2)
    assert f.read() == bytes([254, 255]) and f.read(5) == b""
    assert f.file.readline() == b"" and BufferFile(memoryview(b"ab\ncd")).file.readline() == b"ab\n"
    long_line = BufferFile(memoryview(b"x" * 10_000 + b"\nrest")).file  # past one chunk
    assert long_line.readline() == b"x" * 10_000 + b"\n" and long_line.readline() == b"rest"


def test_whooshs_english_variations_work_once_deferred():
    """search.backends.whoosh defers compiling Whoosh's English morphology to its first use
    (8 ms of every start): Whoosh's Variations query still gets the real variations."""
    import subprocess
    import sys

    code = ("import sys, search.backends.whoosh, whoosh.query\n"
            "assert not hasattr(sys.modules['whoosh.lang.morph_en'], 'rules')  # not compiled yet\n"
            "from whoosh.query.terms import variations\n"
            "print(sorted(variations('rendered')))\n"
            "assert hasattr(sys.modules['whoosh.lang.morph_en'], 'rules')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'rendering'" in out and "'renders'" in out


def test_stored_fields_are_whooshs(real_index):
    """The build reads every document's stored fields from its segment's column itself and
    writes them uncompressed with the arrays, which a search reads hits from: both the same
    dicts, keys in the same order, as Whoosh's searcher (several segments, deleted documents)."""
    from search.backends.whoosh import _StoredFields

    ix, _ = real_index
    read = _StoredFields(ix.leaves)
    assert len(ix.leaves) >= 2 and not ix.live.all()
    for docnum in range(ix.n):
        want = list(ix.searcher.stored_fields(docnum).items())
        assert list(read(docnum).items()) == want
        assert list(ix.saved.stored(docnum).items()) == want


def test_words_known_from_the_common_terms_are_the_ones_whoosh_knows(real_index):
    """"Did you mean" asks whether each word of a query is in the index: a common term is
    answered from the arrays' table, any other by Whoosh. Both as Whoosh's document frequency."""
    from types import SimpleNamespace

    from search.backends.whoosh import BODY_FOLD, TEXT_FIELDS, TITLE_FOLD, WhooshBackend

    ix, records = real_index
    backend = SimpleNamespace(arrays=ix, _searcher=ix.searcher)
    reader = ix.searcher.reader()
    rng = random.Random(3)
    words = {normalize_token(s.text) for r in rng.sample(records, 40) for s in syllables(r["body"])}
    words |= {w for terms in ix.saved.table.values() for w in terms}
    words |= {"xyzq", "tỉnhh", "bi", "thu"}
    assert any(w in ix.saved.table.get("body", ()) for w in words)  # the table is asked
    for word in sorted(words):
        for accented, fields in ((True, TEXT_FIELDS), (False, (BODY_FOLD, TITLE_FOLD))):
            form = word if accented else fold(word)
            want = any(reader.doc_frequency(f, form) for f in fields)
            assert WhooshBackend.word_known(backend, form, accented=accented) == want, (form, accented)


def test_dense_rows_are_the_postings_of_the_very_common_terms_scattered(two_segment_index):
    """A term in a quarter of the documents or more has a row of impacts in every document
    (0 where it is not), equal to its postings scattered; no other term has one."""
    from search.backends.columns import dense_threshold

    saved = two_segment_index.saved
    threshold = dense_threshold(saved.n)
    rows = 0
    for field, terms in saved.table.items():
        for term in terms:
            ids, impact = saved.postings(field, term)
            dense = saved.dense(field, term)
            assert (dense is not None) == (len(ids) >= threshold), (field, term)
            if dense is not None:
                expected = np.zeros(saved.n, dtype=np.float32)
                expected[ids] = impact
                assert dense[0] == len(ids) and dense[1].tobytes() == expected.tobytes()
                rows += 1
    assert rows >= 10
    assert saved.dense("body", "không-có") is None


def test_queries_score_the_same_from_dense_rows_as_from_postings(real_index):
    """Adding a very common term's dense row gives every document the same float32 score and
    the same match as scattering its postings: real queries (common and rarer words,
    abbreviations, phrases, negations; accented and not) against arrays read from Whoosh."""
    from search import querylang
    from search.backends.ranking import evaluate

    ix, records = real_index
    fresh = IndexArrays(ix.searcher, tuple(FACETS))  # no saved arrays: every term scattered
    rng = random.Random(11)
    common = sorted({t for terms in ix.saved._dense.values() for t in terms if "_" not in t})
    queries = ["tỉnh ủy", "UBND tỉnh", "bi thu tinh uy", "\"ban chấp hành\" đảng", "kinh tế -xã",
               "HĐND nhân dân", "của và các"]
    for _ in range(60):
        words = [normalize_token(s.text) for s in syllables(rng.choice(records)["body"])]
        picked = rng.sample(words, min(len(words), rng.randint(1, 3))) + rng.sample(common, rng.randint(0, 2))
        text = " ".join(picked)
        queries += [text, fold(text)]
    dense_used = 0
    for text in queries:
        parsed = querylang.parse(text)
        for require_all in (True, False):
            got, want = evaluate(ix, parsed, require_all), evaluate(fresh, parsed, require_all)
            assert got.mask.tolist() == want.mask.tolist(), text
            assert got.score.tobytes() == want.score.tobytes(), text
        dense_used += any(fold(w) in common or w in common for c in parsed.clauses for w in c.words)
    assert dense_used >= 40


@pytest.mark.parametrize("fields", [
    {"body": "Tỉnh ủy Điện Biên", "id": "a", "title": "Hội nghị"}, {"id": "b", "title": "no body"},
    {"body": "", "id": "c"}, {"id": "d", "body": "lone \ud800 surrogate", "z": 1}, {}, {"body": 3, "id": "e"},
])
def test_stored_fields_come_back_as_they_were_written(tmp_path, fields):
    """The arrays' copy of the stored fields keeps the body apart (in UTF-16): every dict
    comes back equal, keys in order, whatever its body."""
    from search.backends import columns

    docs = [{"id": "first", "body": "Xin chào"}, fields, {"id": "last"}]
    columns._write_stored(tmp_path, lambda name, value: np.save(tmp_path / f"arrays-{name}.npy", value),
                          len(docs), docs.__getitem__)
    saved = columns.Saved.__new__(columns.Saved)
    saved._stored_at = np.load(tmp_path / "arrays-stored-at.npy")
    saved._stored = open(tmp_path / "arrays-stored.bin", "rb", buffering=0)
    try:
        for docnum, want in enumerate(docs):
            assert list(saved.stored(docnum).items()) == list(want.items())
    finally:
        saved.close()


@pytest.mark.parametrize("count", [0, 1, 2, 8, 9, 40])
def test_facet_masks_are_the_documents_with_one_of_the_values(real_index, count):
    """A filter of few values compares codes, one of many looks them up in a table: both
    the documents whose value is one of them (values the index lacks match nothing)."""
    from search.backends.ranking import facet_mask

    ix, _ = real_index
    rng = random.Random(count)
    for facet in FACETS:
        codes, known = ix.facets[facet]
        values = rng.sample(known, min(count, len(known))) + (["không có giá trị này"] if count else [])
        want = np.array([known[c] in values for c in codes.tolist()], dtype=bool)
        assert facet_mask(ix, facet, values).tolist() == want.tolist(), (facet, count)


def _arrays_bytes(folder) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(folder.glob("arrays*"))}


def test_the_arrays_read_in_two_processes_are_those_read_in_one(tmp_path, monkeypatch):
    """A build with several workers reads the first half of the common terms and phrases in
    a forked process: the arrays are byte for byte those one process writes."""
    from search.backends import columns
    from search.backends.whoosh import WhooshBuild
    from search.store import Store

    corpus = tmp_path / "c"
    corpus.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for i in range(130):
        (corpus / f"{i:03d}.txt").write_text(seeds[i % 5].read_text(encoding="utf-8") + f"\nBản {i}", encoding="utf-8")
    parts = []
    in_two = columns._read_in_two
    monkeypatch.setattr(columns, "_read_in_two", lambda *a: parts.extend(in_two(*a)) or parts)
    reindex(corpus, tmp_path / "i", full=True, workers=2)
    assert len(parts) == 2 and all(part["read"] for part in parts)  # both processes read some
    folder = tmp_path / "i" / Store(tmp_path / "i").current()["generation"]
    two = _arrays_bytes(folder)
    build = WhooshBuild.__new__(WhooshBuild)
    build.folder, build.workers = folder, 1
    build._write_arrays()  # again, in this process alone
    assert _arrays_bytes(folder) == two and len(two) > 20
    assert not list(folder.glob("*.tmp"))


def test_a_failure_of_the_process_reading_half_the_arrays_is_raised(two_segment_index, tmp_path):
    import contextlib
    import errno
    import os

    from search.backends import columns

    units, costs = [("term", "body_fold", "tinh")] * 2, [1, 1]

    @contextlib.contextmanager
    def full_disk():
        raise OSError(errno.ENOSPC, "No space left on device")
        yield

    with pytest.raises(OSError) as failed:
        columns._read_in_two(tmp_path, two_segment_index, full_disk, units, costs, 10**9)
    assert failed.value.errno == errno.ENOSPC  # still a full disk, which the build reports as such

    @contextlib.contextmanager
    def killed():
        os._exit(3)
        yield

    with pytest.raises(RuntimeError, match=r"the process reading the first half died \(exit code 3\)"):
        columns._read_in_two(tmp_path, two_segment_index, killed, units, costs, 10**9)


def _first_block_protocol(reader, field: str, term: str) -> int:
    """The pickle protocol of the first postings block of `term` (Whoosh 3's layout)."""
    from search.backends.ranking import _raw_blocks

    m = reader.postings(field, term)
    while not hasattr(m, "_read_data"):
        m = m.child
    _, data = next(_raw_blocks(m))
    return data()[1]  # after the PROTO opcode


def test_postings_blocks_are_pickled_at_protocol_3_and_older_ones_still_read(tmp_path, monkeypatch):
    """Blocks are written at pickle protocol 3 (bytes as bytes); an index whose blocks
    Whoosh pickled at its protocol 2 (built before) reads the same postings."""
    from whoosh import compat
    from whoosh.codec import whoosh3

    corpus = tmp_path / "c"
    corpus.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for i in range(70):
        (corpus / f"{i:03d}.txt").write_text(seeds[i % 5].read_text(encoding="utf-8") + f"\nBản {i}", encoding="utf-8")
    reindex(corpus, tmp_path / "new", full=True, workers=1)
    monkeypatch.setattr(whoosh3, "dumps", compat.dumps)  # Whoosh's own: protocol 2
    reindex(corpus, tmp_path / "old", full=True, workers=1)
    monkeypatch.undo()
    read = {}
    for name, protocol in (("new", 3), ("old", 2)):
        backend = open_backend(str(tmp_path / name))
        try:
            ix = backend.arrays
            reader = ix.leaves[0][0]
            assert _first_block_protocol(reader, "body_fold", "tinh") == protocol
            read[name] = []
            for field, term in (("body_fold", "tinh"), ("body", "uỷ"), ("title_fold", "tinh"), ("body_word", "bí_thư")):
                expected = [(offset + d, w, v) for r, offset in ix.leaves if (field, term) in r
                            for (d, w), (_, v) in zip(r.postings(field, term).items_as("weight"),
                                                      r.postings(field, term).all_items())]  # Whoosh's reading
                ids, tf = ix.read_postings(field, term)
                assert ids.tolist() == [d for d, _, _ in expected] and len(ids) > 10, (name, field, term)
                assert tf.tolist() == [w for _, w, _ in expected]
                read[name].append(expected)
        finally:
            backend.close()
    assert read["new"] == read["old"]
