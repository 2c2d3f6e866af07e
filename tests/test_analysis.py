"""search.analysis: the three token streams and their offsets."""

import pickle
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from search.analysis import accented_analyzer, compound_spans, compound_words, folded_analyzer
from search.schema import build_schema
from search.text import fold, nfc, normalize_token

TEXT = "Đồng chí Trần Quốc Cường, Ủy viên Trung ương Đảng, Bí thư Tỉnh uỷ phát biểu ngày 29/06/2020."


def tokens(analyzer, text):
    return [(t.text, t.startchar, t.endchar) for t in analyzer(text, positions=True, chars=True)]


def test_accented_stream_is_lower_case_canonical_tones_with_offsets():
    toks = tokens(accented_analyzer(), "Tỉnh ủy Điện Biên, HĐND")
    assert toks == [("tỉnh", 0, 4), ("uỷ", 5, 7), ("điện", 8, 12), ("biên", 13, 17), ("hđnd", 19, 23)]


def test_folded_stream_drops_every_mark():
    assert [t[0] for t in tokens(folded_analyzer(), "Tỉnh ủy Điện Biên")] == ["tinh", "uy", "dien", "bien"]


def test_old_and_new_tone_styles_index_alike():
    a = [t[0] for t in tokens(accented_analyzer(), "Tỉnh ủy, hòa bình, khóa XIV")]
    b = [t[0] for t in tokens(accented_analyzer(), "Tỉnh uỷ, hoà bình, khoá XIV")]
    assert a == b


def test_compound_words_come_from_pyvi_folded():
    words = compound_words(TEXT)
    assert {"bí_thư", "bi_thu", "trần_quốc_cường", "tran_quoc_cuong"} <= set(words)
    assert "tỉnh_uỷ" in words  # "uỷ"/"ủy" both reach pyvi's dictionary form


def test_compound_spans_point_into_the_original_text():
    spans = list(compound_spans(TEXT))
    assert spans
    for word, start, end in spans:
        assert "_".join(normalize_token(w) for w in TEXT[start:end].split()) == word


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="aăâđeêioôơuưy àáảãạằắẳẵặTĐHNBQ,.-/0123456789\n", max_size=80),
       st.sampled_from(["NFC", "NFD"]))
def test_analyzer_offsets_are_exact(text, form):
    text = nfc(unicodedata.normalize(form, text))
    for analyzer in (accented_analyzer(), folded_analyzer()):
        for t in analyzer(text, positions=True, chars=True):
            assert fold(text[t.startchar:t.endchar].lower()) == fold(t.text)


def test_schema_pickles_small():
    assert len(pickle.dumps(build_schema())) < 4000


def _paragraphs() -> list[str]:
    """Real paragraphs: the seeds', and 150 articles of ../shared when it is there."""
    import gzip
    import json

    from .conftest import SEEDS, SHARED

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    real = SHARED / "corpora" / "party_committee_subset.jsonl.gz"
    if real.exists():
        with gzip.open(real, "rt", encoding="utf-8") as f:
            texts += [json.loads(line)["body"] for _, line in zip(range(150), f)]
    return [p for t in texts for p in nfc(t).split("\n") if p.strip()]


def test_compound_words_are_pyvis_own_segmentation():
    """analysis.py runs pyvi's CRF with features and joining rules copied from pyvi 0.1.1
    (pinned): its words must be exactly those of ``ViTokenizer.tokenize``."""
    from pyvi import ViTokenizer

    from search.analysis import _PYVI_UNITS, _words
    from search.text import canonical_tones

    paragraphs = _paragraphs()
    assert len(paragraphs) > 40
    for paragraph in paragraphs:
        text = canonical_tones(paragraph)
        units = [m.group() for m in _PYVI_UNITS.finditer(text)]
        ours = ["_".join(units[first:last + 1]) for first, last in _words([units])[0]] if units else []
        assert ours == ViTokenizer.tokenize(text).split(), paragraph[:120]


def _crfsuites_labels(paragraphs: list[list[str]]) -> list[list[bool]]:
    """Whether CRFsuite, given pyvi's own features, labels each unit I_W."""
    from pyvi.ViTokenizer import ViTokenizer

    tagger = ViTokenizer.model.tagger_
    return [[label == "I_W" for label in tagger.tag(ViTokenizer.sent2features(units, False))]
            for units in paragraphs]


ODD_PARAGRAPHS = ["UBND TP.HCM họp 12 lần năm 2024 VỚI Sở Y tế", "Hà Nội", "a : b :: c -> d",
                  "Tỉnh uỷ Điện Biên", "HĐND tỉnh khoá XIV, kỳ họp thứ 7 (2021-2026)", "1.000.000 đồng ..."]


def test_our_tagger_labels_as_crfsuite_does_on_pyvis_features():
    """analysis._PyviTagger reads pyvi's CRFsuite model and tags without CRFsuite: for every
    paragraph, tagged one by one and all at once, its labels are CRFsuite's."""
    from search.analysis import _PYVI_UNITS, _tagger
    from search.text import canonical_tones

    paragraphs = [[m.group() for m in _PYVI_UNITS.finditer(canonical_tones(p))]
                  for p in _paragraphs() + ODD_PARAGRAPHS]
    paragraphs = [units for units in paragraphs if units]
    expected = _crfsuites_labels(paragraphs)
    assert _tagger().tag(paragraphs) == expected
    assert [_tagger().tag([units])[0] for units in paragraphs] == expected
    assert any(any(labels) for labels in expected) and any(not all(labels[1:]) for labels in expected)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet="aăâđeêioôơuưy àáảãạằắẳẵặTĐHNBQUBND,.:-/()0123456789", min_size=1,
                        max_size=60), min_size=1, max_size=4))
def test_our_tagger_labels_as_crfsuite_does_on_any_text(texts):
    from search.analysis import _PYVI_UNITS, _tagger
    from search.text import canonical_tones

    paragraphs = [units for t in texts
                  if (units := [m.group() for m in _PYVI_UNITS.finditer(canonical_tones(nfc(t)))])]
    if paragraphs:
        assert _tagger().tag(paragraphs) == _crfsuites_labels(paragraphs)


def _real_texts(count: int = 200) -> list[str]:
    import gzip
    import itertools
    import json

    from .conftest import shared_corpus

    texts = []
    for name in ("vntc_politics.jsonl.gz", "baomoi_2017.jsonl.gz"):
        with gzip.open(shared_corpus(name), "rt", encoding="utf-8") as f:
            for line in itertools.islice(f, count // 2):
                record = json.loads(line)
                texts += [nfc(record.get("title") or ""), nfc(record["body"])]
    return texts


def test_syllable_streams_index_the_postings_whooshs_positions_would():
    """The schema's syllable streams take each text's words and positions at once
    (``SyllablePositions``): the same (word, frequency, weight, encoded positions), in the
    same order, as Whoosh's Positions format over the analyser's tokens, for real articles
    and odd texts; and the analyser's tokens are the words of ``positions``."""
    from whoosh.formats import Positions

    from search.analysis import SyllablePositions

    schema = build_schema()
    streams = [(name, field) for name, field in schema.items() if isinstance(field.format, SyllablePositions)]
    assert {name for name, _ in streams} == {"title", "body", "title_fold", "body_fold"}
    texts = _real_texts() + ["", "   ", "TP.HCM 12/3/2020 23-NQ/TU", TEXT, "a a a b a", "Ủy ban\nnhân dân " * 40]
    for name, field in streams:
        plain = Positions(field_boost=field.format.field_boost)
        for text in texts:
            fast = list(field.index(text))
            want = [(field.to_bytes(w), freq, weight, value)
                    for w, freq, weight, value in plain.word_values(text, field.analyzer, mode="index")]
            assert fast == want, (name, text[:60])
            grouped: dict[str, list[int]] = {}
            for t in field.analyzer(text, positions=True):
                grouped.setdefault(t.text, []).append(t.pos)
            assert grouped == field.analyzer.positions(text)


def test_the_classes_older_schemas_name_still_resolve():
    """An index stores its schema pickled: one built before SyllableAnalyzer names the
    tokenizer and filters it was built with, and must open (to be refused as stale and
    rebuilt, not reported as damaged)."""
    import io

    from search.analysis import SyllableTokenizer

    unpickler = pickle.Unpickler(io.BytesIO(b""))
    for name in ("SyllableTokenizer", "AccentFilter", "FoldFilter", "CompoundTokenizer"):
        cls = unpickler.find_class("search.analysis", name)
        assert cls.__name__ == name
    old = pickle.loads(pickle.dumps(SyllableTokenizer() | unpickler.find_class("search.analysis", "AccentFilter")()))
    assert [t.text for t in old("Tỉnh Ủy")] == ["tỉnh", "uỷ"]


def test_the_compound_stream_posts_what_whooshs_frequency_format_posts():
    """CompoundFrequency counts compound_words at once: the same (word, frequency, weight,
    value) as Whoosh's Frequency over CompoundTokenizer's tokens, and the schema uses it."""
    from whoosh.formats import Frequency

    from search.analysis import CompoundFrequency, compound_analyzer
    from search.schema import build_schema

    texts = _paragraphs() + ["\n".join(_paragraphs()[:30]), "", "Hà Nội\r\nΑΣ ΣΑΣ", *ODD_PARAGRAPHS]
    for text in texts:
        ours = sorted(CompoundFrequency(field_boost=2.0).word_values(text, compound_analyzer()))
        whooshs = sorted(Frequency(field_boost=2.0).word_values(text, compound_analyzer()))
        assert ours == whooshs, text[:120]
        spans = [w for word, _, _ in compound_spans(text) for w in dict.fromkeys((word, fold(word)))]
        assert compound_words(text) == spans
    assert isinstance(build_schema()["body_word"].format, CompoundFrequency)


def test_our_formats_give_whoosh_the_postings_its_index_method_would():
    """FieldType.index (patched in backends/whoosh.py) takes our formats' postings lists:
    the same (bytes, frequency, weight, value) as Whoosh's own index() over word_values."""
    import search.backends.whoosh  # noqa: F401 - the patch
    from whoosh.fields import FieldType

    from search.backends.whoosh import _whoosh_field_index

    schema = build_schema()
    texts = _paragraphs()[:60] + ["", "Hà Nội\r\nΑΣ", *ODD_PARAGRAPHS]
    for name in ("body", "body_fold", "body_word", "title_fold"):
        field = schema[name]
        assert field.format.postings("x", field.analyzer) is not None
        for text in texts:
            ours = field.index(text)
            assert isinstance(ours, list) and ours == list(_whoosh_field_index(field, text)), (name, text[:80])
    assert FieldType.index is not _whoosh_field_index
