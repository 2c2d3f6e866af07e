"""The embedded backend's engine reads Whoosh's postings and lengths itself: it must agree with Whoosh."""

import numpy as np
import pytest

from search.backends.ranking import _field_lengths
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
    return open_backend(str(base / "i")).arrays


def test_the_index_has_several_segments(two_segment_index):
    assert len(two_segment_index.leaves) >= 2


@pytest.mark.parametrize("field, term", [("body_fold", "tinh"), ("body", "uỷ"), ("title", "hội"),
                                         ("body_word", "bí_thư"), ("body_fold", "so"), ("body", "không-có")])
def test_postings_match_whoosh(two_segment_index, field, term):
    ix = two_segment_index
    ids, weights = ix.postings(field, term)
    expected = [(offset + d, w) for reader, offset in ix.leaves if (field, term) in reader
                for d, w in reader.postings(field, term).items_as("weight")]
    assert ids.tolist() == [d for d, _ in expected]
    assert np.allclose(weights, [w for _, w in expected])


@pytest.mark.parametrize("field", ["title", "body", "body_fold", "title_word"])
def test_field_lengths_match_whoosh(two_segment_index, field):
    for reader, _ in two_segment_index.leaves:
        expected = [reader.doc_field_length(d, field, 0) or 0 for d in range(reader.doc_count_all())]
        assert _field_lengths(reader, field).tolist() == expected
