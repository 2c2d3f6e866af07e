"""The embedded backend's engine reads Whoosh's postings and lengths itself: it must agree with Whoosh."""

import numpy as np
import pytest

from search.backends.ranking import IndexArrays, _field_lengths
from search.facets import FACETS
from search.scoring import all_streams
from search.backends.whoosh import open_backend
from search.indexer import reindex

from .conftest import SEEDS


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
    for ids, weights in (ix.postings(field, term), ix.read_postings(field, term)):  # mapped, decoded
        assert ids.tolist() == [d for d, _ in expected]
        assert np.allclose(weights, [w for _, w in expected])


def test_common_terms_postings_are_mapped_from_the_generation(two_segment_index):
    ix = two_segment_index
    assert ix.saved is not None and "tinh" in ix.saved.table["body_fold"]
    ids, _ = ix.postings("body_fold", "tinh")
    assert isinstance(ids.base, np.memmap) or isinstance(ids.base.base, np.memmap)
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
            mapped, read = ix.postings(field, term), fresh.read_postings(field, term)
            assert mapped[0].tolist() == read[0].tolist() and mapped[1].tolist() == read[1].tolist()


@pytest.mark.parametrize("field", ["title", "body", "body_fold", "title_word"])
def test_field_lengths_match_whoosh(two_segment_index, field):
    for reader, _ in two_segment_index.leaves:
        expected = [reader.doc_field_length(d, field, 0) or 0 for d in range(reader.doc_count_all())]
        assert _field_lengths(reader, field).tolist() == expected
