"""What the benchmarks share about their peers: the corpora and tantivy's folding analyser."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
# The four source corpora (party_committee_subset repeats their ids, so it is left out).
CORPUS_FILES = ("baomoi_2017.jsonl.gz", "vietnews_gov.jsonl.gz", "vntc_politics.jsonl.gz",
                "vmds_clusters.jsonl.gz")


def tantivy_folding_analyzer():
    """tantivy's default-like analyser with ASCII folding ("Tỉnh ủy" → "tinh uy"; đ → d)."""
    import tantivy

    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .build())
