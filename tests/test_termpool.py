"""search/backends/termpool.py: the same postings, in the same order, as Whoosh's PostingPool."""

import gzip
import json
import random

import pytest
from whoosh import index as whoosh_index
from whoosh.codec import base as codec_base
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import PostingPool

from search.backends.termpool import TermPool, suits
from search.backends.whoosh import _whoosh_fields
from search.corpus import Article, read_file
from search.indexer import document_fields
from search.schema import build_schema

from .conftest import SEEDS, SHARED


def _postings(seed: int, docs: int) -> list[tuple]:
    """Random postings as a segment writer adds them: document after document, each term of
    a field at most once per document, values bytes or None."""
    rng = random.Random(seed)
    vocabulary = [w.encode() for w in ("bí", "thư", "tỉnh", "uỷ", "a", "ab", "b", "z" * 40, "", "đ")]
    out = []
    for docnum in range(docs):
        for field in rng.sample(["title", "body", "body_f", "x"], rng.randint(0, 4)):
            for term in rng.sample(vocabulary, rng.randint(0, len(vocabulary))):
                value = None if field == "x" else bytes(rng.randrange(256) for _ in range(rng.randint(0, 30)))
                out.append((field, term, docnum, float(rng.randint(1, 5)), value))
    return out


@pytest.mark.parametrize("limitmb", [0, 1, 64])  # 0: a run for every posting; 64: none
def test_the_postings_come_out_as_whooshs_pool_gives_them(limitmb, tmp_path):
    storage = FileStorage(str(tmp_path))
    postings = _postings(seed=limitmb, docs=1500)
    whoosh_pool = PostingPool(storage, None, limitmb=limitmb)
    ours = TermPool(storage, None, limitmb=limitmb)
    for item in postings:
        whoosh_pool.add(item)
        ours.add(item)
    assert (limitmb == 64) == (not ours.runs)
    assert ours.fieldnames == whoosh_pool.fieldnames == {p[0] for p in postings}
    expected = list(whoosh_pool.iter_postings())
    assert list(ours.iter_postings()) == expected == sorted(postings)
    runs = list(ours.runs)
    ours.cleanup()
    assert not ours.runs and not [r for r in runs if storage.file_exists(r)]


def _articles(count: int) -> list[Article]:
    real = SHARED / "corpora" / "party_committee_subset.jsonl.gz"
    if real.exists():
        with gzip.open(real, "rt", encoding="utf-8") as f:
            lines = [line for _, line in zip(range(count), f)]
        return [a for a in _read_jsonl(lines) if isinstance(a, Article)]
    return [a for p in sorted(SEEDS.glob("*.txt")) for a in read_file(p, SEEDS) if isinstance(a, Article)]


def _read_jsonl(lines: list[str]):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "news.jsonl"
        path.write_text("".join(lines), encoding="utf-8")
        return list(read_file(path, Path(d)))


def test_a_segment_written_through_the_term_pool_is_byte_for_byte_whooshs(tmp_path, monkeypatch):
    """Every file of the index (each file of the segment, the TOC) is the same bytes with
    either pool, with runs spilled (1 MB) and without. (Not compound: a compound segment
    also records when each of its files was written.)"""
    monkeypatch.setattr(codec_base.Segment, "_random_id", classmethod(lambda cls, size=16: "s" * size))
    fields = [document_fields(a) for a in _articles(60)]
    assert len(fields) >= 5
    rng = random.Random(7)  # and short ones, so that common terms fill several blocks of 128
    words = "Bí thư Tỉnh ủy Điện Biên hội nghị kinh tế xã hội UBND tỉnh năm 2024 số".split()
    for i in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        fields.append({**fields[i % 5], "id": f"short-{i}", "title": text[:20], "body": text})
    docs = [_whoosh_fields(f) for f in fields]
    folders = {}
    for limitmb in (1, 256):
        for pool in (None, TermPool):
            folder = tmp_path / f"{limitmb}-{pool.__name__ if pool else 'whoosh'}"
            folder.mkdir()
            ix = whoosh_index.create_in(str(folder), build_schema())
            writer = ix.writer(limitmb=limitmb, poolclass=pool, compound=False)
            assert isinstance(writer.pool, pool or PostingPool)
            for doc in docs:
                writer.add_document(**doc)
            writer.commit()
            ix.close()
            folders[limitmb, pool] = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    for limitmb in (1, 256):
        assert folders[limitmb, TermPool] == folders[limitmb, None]
    assert any(name.endswith(".pst") for name in folders[1, None])


def test_the_schema_suits_the_term_pool():
    """No field posts spelling words apart (all with document 0, out of document order)."""
    assert suits(build_schema())
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import TEXT, Schema

    assert not suits(Schema(text=TEXT(analyzer=StemmingAnalyzer(), spelling=True)))  # stems indexed, words spelled
