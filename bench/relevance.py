"""Retrieval quality of vnsearch against Whoosh, SQLite FTS5 and tantivy over the same documents.

Two evaluation sets from ``../shared/eval`` (see its README.md):

* ``vmds``: vmds-dev, 100 news-cluster names as queries; the 628 cluster articles of
  ``../shared/corpora/vmds_clusters.jsonl.gz`` are mixed with distractor articles drawn
  (seeded, reproducible) from the other corpora (baomoi_2017, vietnews_gov, vntc_politics);
* ``viquad``: UIT-ViQuAD questions over 1,008 Wikipedia passages.

Every engine indexes exactly the same documents (title and body) and runs every query twice:
as written and with its diacritics stripped ("Bí thư" → "Bi thu"). It prints MRR@10,
nDCG@10 and Recall@10 per engine and query form, and the median query time for information
(vnsearch's is a whole request of its library API: facet counts, suggestion and snippets
included).

Engines: ``vnsearch`` (this project, through its library API), ``whoosh`` (Whoosh 2.7.4,
StandardAnalyzer, BM25F), ``fts5`` (SQLite FTS5, ``unicode61 remove_diacritics 2``, bm25),
``tantivy`` (default tokenizer) and ``tantivy-fold`` (default tokenizer + ASCII folding).
The peers get the query's words ORed, with query syntax removed.

Built indexes are cached under ``--work`` (one folder per set and distractor count), so a
second run only searches. vnsearch's index folder is named by its schema version; after
a change to its analysis that keeps the version, ``--engines vnsearch --rebuild`` builds
it again. The first run with all distractors takes about half an hour on two shared cores,
most of it building vnsearch's index (pyvi segmentation); a cached run takes a few minutes.

Run from the repository root::

    .venv/bin/python bench/relevance.py                      # all distractors, both sets
    .venv/bin/python bench/relevance.py --distractors 2000 --limit-queries 500
    .venv/bin/python bench/relevance.py --sets vmds --engines vnsearch,tantivy-fold --failures 5

Exits 0 with "skipped: ../shared not found" when the evaluation data is not there.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import shutil
import sqlite3
import statistics
import sys
import time
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from peers import tantivy_folding_analyzer  # noqa: E402 (bench/ is the script folder)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EVAL = SHARED / "eval"
CORPORA = SHARED / "corpora"
CLUSTERS = "vmds_clusters.jsonl.gz"
DISTRACTORS = ("baomoi_2017.jsonl.gz", "vietnews_gov.jsonl.gz", "vntc_politics.jsonl.gz")
SEED = 20240601  # which distractors a given --distractors N picks
CHUNK = 2000  # records per corpus file (vnsearch reads files of at most 50 MB)
K = 10
SETS = ("vmds", "viquad")

# Whoosh 2.7.4 and pyvi have invalid escapes and `is` with literals: Python warns when it compiles them.
warnings.filterwarnings("ignore", category=SyntaxWarning, module=r".*[/\\](whoosh|pyvi)[/\\]")

Search = Callable[[str, int], list[str]]  # (query, k) -> document ids, best first


@dataclass
class Doc:
    """One document as every engine indexes it."""

    id: str
    title: str
    body: str


@dataclass
class EvalSet:
    """Queries with their judgments, and the folder of JSONL files holding the documents."""

    name: str
    queries: dict[str, str]  # qid -> query text
    qrels: dict[str, dict[str, int]]  # qid -> {doc id: relevance}
    corpus: Path
    documents: int


# --- text -----------------------------------------------------------------------------------

def strip_diacritics(text: str) -> str:
    """"Bí thư Đảng ủy" → "Bi thu Dang uy": NFD, combining marks dropped, đ→d, Đ→D."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def words(query: str) -> list[str]:
    """The query's words, lower-cased, without any query-language syntax."""
    return re.findall(r"\w+", query.lower())


# --- evaluation data and corpus folders -----------------------------------------------------

def read_queries(folder: Path) -> dict[str, str]:
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        return {r["qid"]: r["query"] for r in map(json.loads, f)}


def read_qrels(folder: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels.tsv", encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            qid, doc_id, relevance = line.rstrip("\n").split("\t")
            if int(relevance) > 0:
                qrels.setdefault(qid, {})[doc_id] = int(relevance)
    return qrels


def jsonl_records(path: Path) -> Iterator[dict]:
    """Records with body text (vnsearch refuses the others, so no engine gets them)."""
    with (gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")) as f:
        for line in f:
            record = json.loads(line)
            if isinstance(record.get("body"), str) and record["body"].strip():
                yield record


def write_corpus(folder: Path, records: Iterable[dict]) -> None:
    """Write `records` into `folder` as JSONL files of CHUNK lines, docs-000.jsonl, docs-001.jsonl…"""
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    out = None
    for i, record in enumerate(records):
        if i % CHUNK == 0:
            if out:
                out.close()
            out = open(partial / f"docs-{i // CHUNK:03d}.jsonl", "w", encoding="utf-8")
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    if out:
        out.close()
    partial.rename(folder)


def corpus_docs(folder: Path) -> Iterator[Doc]:
    for path in sorted(folder.glob("*.jsonl")):
        for r in jsonl_records(path):
            yield Doc(str(r["id"]), r.get("title") or "", r["body"])


def count_docs(folder: Path) -> int:
    total = 0
    for path in folder.glob("*.jsonl"):
        with open(path, encoding="utf-8") as f:
            total += sum(1 for _ in f)
    return total


def distractor_records(n: int | None) -> list[dict]:
    """`n` distractor articles (all when None), the same ones on every run."""
    records = [r for name in DISTRACTORS for r in jsonl_records(CORPORA / name)]
    if n is None or n >= len(records):
        return records
    return [records[i] for i in sorted(random.Random(SEED).sample(range(len(records)), n))]


def prepared_corpus(folder: Path, records: Callable[[], Iterable[dict]]) -> Path:
    """`folder`/corpus, written from `records()` when missing; writing it removes the whole
    `folder`, so indexes of an older corpus go with it."""
    corpus = folder / "corpus"
    if not corpus.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
        write_corpus(corpus, records())
    return corpus


def vmds_set(work: Path, distractors: int | None) -> EvalSet:
    folder = EVAL / "vmds-dev"
    corpus = prepared_corpus(work / f"vmds-{'all' if distractors is None else distractors}",
                             lambda: [*jsonl_records(CORPORA / CLUSTERS), *distractor_records(distractors)])
    return EvalSet("vmds-dev", read_queries(folder), read_qrels(folder), corpus, count_docs(corpus))


def viquad_set(work: Path) -> EvalSet:
    folder = EVAL / "viquad"
    corpus = prepared_corpus(work / "viquad", lambda: jsonl_records(folder / "passages.jsonl"))
    return EvalSet("viquad", read_queries(folder), read_qrels(folder), corpus, count_docs(corpus))


# --- engines: each builds an index in a folder and opens it as a search function -------------

def build_vnsearch(corpus: Path, folder: Path) -> None:
    from search.indexer import reindex

    report = reindex(corpus, folder, full=True, workers=2)
    if report.rejected:
        print(f"  vnsearch rejected {len(report.rejected)} documents, e.g. {report.rejected[0]}")


def open_vnsearch(folder: Path) -> Search:
    from search import SearchRequest, open_index

    index = open_index(folder)

    def run(query: str, k: int) -> list[str]:
        hits = index.search(SearchRequest(q=query, size=k)).hits
        return [h.id.split("/", 1)[1] for h in hits]  # "docs-000/<record id>" → record id

    return run


def build_whoosh(corpus: Path, folder: Path) -> None:
    from whoosh import index
    from whoosh.analysis import StandardAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    schema = Schema(id=ID(stored=True), title=TEXT(analyzer=StandardAnalyzer()),
                    body=TEXT(analyzer=StandardAnalyzer()))
    writer = index.create_in(str(folder), schema).writer(limitmb=256)
    for doc in corpus_docs(corpus):
        writer.add_document(id=doc.id, title=doc.title, body=doc.body)
    writer.commit()


def open_whoosh(folder: Path) -> Search:
    from whoosh import index
    from whoosh.qparser import MultifieldParser, OrGroup

    ix = index.open_dir(str(folder))
    searcher = ix.searcher()  # BM25F
    parser = MultifieldParser(["title", "body"], ix.schema, group=OrGroup)

    def run(query: str, k: int) -> list[str]:
        return [hit["id"] for hit in searcher.search(parser.parse(" ".join(words(query))), limit=k)]

    return run


def build_fts5(corpus: Path, folder: Path) -> None:
    with sqlite3.connect(folder / "fts5.sqlite") as db:
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
                   "tokenize = 'unicode61 remove_diacritics 2')")
        db.executemany("INSERT INTO docs VALUES (?, ?, ?)", ((d.id, d.title, d.body) for d in corpus_docs(corpus)))


def open_fts5(folder: Path) -> Search:
    db = sqlite3.connect(folder / "fts5.sqlite")

    def run(query: str, k: int) -> list[str]:
        terms = words(query)
        if not terms:
            return []
        match = " OR ".join(f'"{w}"' for w in terms)
        rows = db.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (match, k))
        return [row[0] for row in rows]

    return run


def _tantivy_index(folder: Path, ascii_fold: bool, create: bool):
    """The tantivy index in `folder` (new when `create`), its text fields analysed by
    tantivy's "default" analyser, plus ASCII folding when `ascii_fold`."""
    import tantivy

    tokenizer = "default_fold" if ascii_fold else "default"
    if create:
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("title", tokenizer_name=tokenizer)
        builder.add_text_field("body", tokenizer_name=tokenizer)
        ix = tantivy.Index(builder.build(), path=str(folder))
    else:
        ix = tantivy.Index.open(str(folder))
    if ascii_fold:
        ix.register_tokenizer(tokenizer, tantivy_folding_analyzer())
    return ix


def build_tantivy(corpus: Path, folder: Path, ascii_fold: bool = False) -> None:
    import tantivy

    writer = _tantivy_index(folder, ascii_fold, create=True).writer(heap_size=256_000_000, num_threads=1)
    for doc in corpus_docs(corpus):
        writer.add_document(tantivy.Document(id=doc.id, title=doc.title, body=doc.body))
    writer.commit()
    writer.wait_merging_threads()


def open_tantivy(folder: Path, ascii_fold: bool = False) -> Search:
    ix = _tantivy_index(folder, ascii_fold, create=False)
    searcher = ix.searcher()

    def run(query: str, k: int) -> list[str]:
        terms = words(query)
        if not terms:
            return []
        q = ix.parse_query(" ".join(terms), ["title", "body"])  # OR of the words
        return [searcher.doc(address)["id"][0] for _, address in searcher.search(q, k).hits]

    return run


ENGINES: dict[str, tuple[Callable[[Path, Path], None], Callable[[Path], Search]]] = {
    "vnsearch": (build_vnsearch, open_vnsearch),
    "whoosh": (build_whoosh, open_whoosh),
    "fts5": (build_fts5, open_fts5),
    "tantivy": (build_tantivy, open_tantivy),
    "tantivy-fold": (lambda corpus, folder: build_tantivy(corpus, folder, ascii_fold=True),
                     lambda folder: open_tantivy(folder, ascii_fold=True)),
}


def index_folder(set_folder: Path, engine: str) -> Path:
    """Where `engine` keeps its index of a set; vnsearch's folder is named by its schema
    version, so an analysis change that bumps it gets a new index."""
    if engine == "vnsearch":
        from search.schema import SCHEMA_VERSION

        return set_folder / f"vnsearch-schema{SCHEMA_VERSION}"
    return set_folder / engine


def open_engine(name: str, corpus: Path, folder: Path, rebuild: bool = False) -> tuple[Search, float]:
    """The engine's search function over `corpus` (its index built into `folder` when missing
    or when `rebuild`), and the seconds the build took (0 when cached)."""
    build, open_ = ENGINES[name]
    if rebuild:
        shutil.rmtree(folder, ignore_errors=True)
    seconds = 0.0
    if not folder.is_dir():
        started = time.perf_counter()
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        build(corpus, partial)
        partial.rename(folder)
        seconds = time.perf_counter() - started
    return open_(folder), seconds


# --- metrics --------------------------------------------------------------------------------

def reciprocal_rank(ranked: list[str], relevant: dict[str, int]) -> float:
    return next((1 / i for i, d in enumerate(ranked[:K], 1) if d in relevant), 0.0)


def ndcg(ranked: list[str], relevant: dict[str, int]) -> float:
    """nDCG@K with the relevance value as gain."""
    dcg = sum(relevant.get(d, 0) / math.log2(i + 1) for i, d in enumerate(ranked[:K], 1))
    ideal = sum(g / math.log2(i + 1) for i, g in enumerate(sorted(relevant.values(), reverse=True)[:K], 1))
    return dcg / ideal


def recall(ranked: list[str], relevant: dict[str, int]) -> float:
    return len(set(ranked[:K]) & relevant.keys()) / len(relevant)


@dataclass
class Scores:
    mrr: float
    ndcg: float
    recall: float
    median_ms: float


def evaluate(run: Search, queries: dict[str, str], qrels: dict[str, dict[str, int]]) -> Scores:
    """Average metrics of `run` over the judged queries (texts already in the form to test)."""
    rr, gains, found, times = [], [], [], []
    for qid, text in queries.items():
        started = time.perf_counter()
        ranked = run(text, K)
        times.append((time.perf_counter() - started) * 1000)
        rr.append(reciprocal_rank(ranked, qrels[qid]))
        gains.append(ndcg(ranked, qrels[qid]))
        found.append(recall(ranked, qrels[qid]))
    return Scores(statistics.mean(rr), statistics.mean(gains), statistics.mean(found), statistics.median(times))


def show_failures(run: Search, queries: dict[str, str], qrels: dict[str, dict[str, int]], limit: int) -> None:
    """Print queries whose first relevant document is not ranked first, with what came first."""
    shown = 0
    for qid, text in queries.items():
        ranked = run(text, 100)
        relevant = qrels[qid]
        if ranked[:1] and ranked[0] in relevant:
            continue
        ranks = {d: (ranked.index(d) + 1 if d in ranked else ">100") for d in relevant}
        print(f"    {qid}: {text!r}")
        print(f"      relevant (rank): {', '.join(f'{d} ({r})' for d, r in ranks.items())}")
        print(f"      top 3: {', '.join(ranked[:3]) or '(nothing)'}")
        shown += 1
        if shown == limit:
            return


# --- the run --------------------------------------------------------------------------------

def run_set(ev: EvalSet, engines: list[str], args: argparse.Namespace) -> None:
    judged = [q for q in ev.queries if q in ev.qrels][: args.limit_queries]
    forms = {"as written": {q: ev.queries[q] for q in judged},
             "stripped": {q: strip_diacritics(ev.queries[q]) for q in judged}}
    print(f"\n{ev.name}: {ev.documents:,} documents, {len(judged):,} queries")
    rows = []
    for name in engines:
        run, seconds = open_engine(name, ev.corpus, index_folder(ev.corpus.parent, name), args.rebuild)
        if seconds:
            print(f"  built the {name} index in {seconds:.0f} s")
        for form, queries in forms.items():
            rows.append((name, form, evaluate(run, queries, ev.qrels)))
            if args.failures and name == "vnsearch":
                print(f"  vnsearch, {form}: queries without a relevant document first")
                show_failures(run, queries, ev.qrels, args.failures)
    print(f"  {'engine':<14}{'queries':<12}{'MRR@10':>8}{'nDCG@10':>9}{'R@10':>7}{'median ms':>11}")
    for name, form, s in rows:
        print(f"  {name:<14}{form:<12}{s.mrr:>8.3f}{s.ndcg:>9.3f}{s.recall:>7.3f}{s.median_ms:>11.1f}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--distractors", type=int, default=None,
                   help="distractor articles mixed into vmds-dev (default: all, about 50,000)")
    p.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    p.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated, of {', '.join(ENGINES)}")
    p.add_argument("--limit-queries", type=int, default=None, help="only the first N queries of each set")
    p.add_argument("--work", type=Path, default=Path("/tmp/vnsearch-bench"), help="where indexes are cached")
    p.add_argument("--rebuild", action="store_true", help="rebuild the indexes of the engines chosen")
    p.add_argument("--failures", type=int, default=0, metavar="N",
                   help="print up to N queries where vnsearch does not rank a relevant document first")
    args = p.parse_args(argv)
    args.sets = args.sets.split(",")
    args.engines = args.engines.split(",")
    for value, allowed in ((args.sets, SETS), (args.engines, ENGINES)):
        unknown = set(value) - set(allowed)
        if unknown:
            p.error(f"unknown: {', '.join(sorted(unknown))} (choose from {', '.join(allowed)})")
    if args.distractors is not None and args.distractors < 0:
        p.error("--distractors must be 0 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not SHARED.is_dir():
        print("skipped: ../shared not found")
        return 0
    started = time.perf_counter()
    for name in args.sets:
        set_started = time.perf_counter()
        ev = vmds_set(args.work, args.distractors) if name == "vmds" else viquad_set(args.work)
        run_set(ev, args.engines, args)
        print(f"  ({time.perf_counter() - set_started:.0f} s)")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
