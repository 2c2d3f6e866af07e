"""The embedded backend against OpenSearch (1 node; 3 nodes with 3 shards and 1 replica), in one run.

The same documents (the first ``--limit`` articles of the four corpora of ``../shared/corpora``,
taken in proportion to each file; all of them without ``--limit``) are indexed by
``search.indexer.reindex`` into each backend, timed: a full build, then an incremental one
adding 1 % new articles (Whoosh: a hard-linked generation; OpenSearch: a ``_clone`` of the
live index plus ``_bulk``). Then the latency mix of ``bench/query_latency.py``
(``bench/queries_latency.txt``) runs through ``search.Index`` on each backend, interleaved per
query in a shuffled order:

* ``top10``  ``backend.search(SearchSpec)``: the 10 best, all words required, no facets;
* ``full``   ``Index.search``: what the search page needs (10 best, total, the four facets
             counted disjunctively, highlighted snippets, the "did you mean" check).

Pass 0 is every query's first run (reported apart); per query the best of the warm passes
is kept (the machine is shared). The OpenSearch nodes are real JVMs on this machine
(``tests/opensearch_cluster.py``), so with 2 cores they compete with the client for CPU.

    .venv/bin/python bench/opensearch_latency.py --limit 5000
    .venv/bin/python bench/opensearch_latency.py            # the ~51,000 articles (about an hour)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
warnings.filterwarnings("ignore", category=SyntaxWarning)

from query_latency import CORPORA, CORPUS_FILES, K, QUERIES_FILE, SEED, load_queries, stats  # noqa: E402

# Steady-state speed for a benchmark (the tests' nodes use C1 only, for fast starts).
BENCH_JVM = ("-Xmx1g", "-Xms1g", "-XX:+UseSerialGC")
MODES = ("top10", "full")


def make_corpus(work: Path, limit: int | None) -> Path:
    """work/corpus-N: the first articles of each corpus file, in proportion to its size."""
    folder = work / f"corpus-{limit or 'all'}"
    if folder.is_dir():
        return folder
    folder.mkdir(parents=True)
    counts = {}
    for name in CORPUS_FILES:
        with gzip.open(CORPORA / name, "rt", encoding="utf-8") as f:
            counts[name] = sum(1 for _ in f)
    total = sum(counts.values())
    for name in CORPUS_FILES:
        keep = counts[name] if limit is None else round(limit * counts[name] / total)
        with gzip.open(CORPORA / name, "rt", encoding="utf-8") as f, \
                gzip.open(folder / name, "wt", encoding="utf-8") as out:
            for i, line in enumerate(f):
                if i >= keep:
                    break
                out.write(line)
    return folder


def add_one_percent(corpus: Path, n_docs: int) -> Path:
    """A file of 1 % more articles (copies of existing ones under new ids), for the incremental run."""
    extra = corpus / "extra.jsonl"
    want = max(1, n_docs // 100)
    lines = []
    with gzip.open(corpus / CORPUS_FILES[0], "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= want:
                break
            record = json.loads(line)
            record["id"] = f"extra-{i}"
            record["title"] = "Bổ sung: " + (record.get("title") or "")
            lines.append(json.dumps(record, ensure_ascii=False))
    extra.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return extra


class Engine:
    def __init__(self, name: str, location: str):
        from search import Index

        self.name, self.location = name, location
        self.index = Index(location)

    def top10(self, q) -> tuple[list[str], int]:
        from search import querylang
        from search.backends import Filters, SearchSpec

        parsed = querylang.parse(q.text)
        spec = SearchSpec(parsed, querylang.require_all(parsed),
                          Filters({k: tuple(v) for k, v in q.filters.items() if v}), limit=K)
        found = self.index.backend.search(spec)
        return [m.doc["id"] for m in found.hits], found.total

    def full(self, q) -> tuple[list[str], int]:
        from search import SearchRequest

        result = self.index.search(SearchRequest(q=q.text, filters=q.filters, size=K))
        return [h.id for h in result.hits], result.total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, help="articles to index (default: all of the four corpora)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/vnsearch-opensearch-bench"))
    parser.add_argument("--passes", type=int, default=2, help="warm passes after the first")
    parser.add_argument("--queries", type=int, help="only the first N queries of the mix")
    parser.add_argument("--workers", type=int, default=2, help="analysis processes of each reindex")
    args = parser.parse_args(argv)
    if not CORPORA.is_dir():
        print(f"skipped: {CORPORA} not found")
        return 0
    from tests.opensearch_cluster import OpenSearchCluster, available

    reason = available()
    if reason:
        print(f"skipped: {reason}")
        return 0
    from search.indexer import reindex

    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared: nodes, analysis and client "
          f"compete), Python {platform.python_version()}; OpenSearch JVMs {' '.join(BENCH_JVM)}")
    shutil.rmtree(args.work / "run", ignore_errors=True)
    run = args.work / "run"
    run.mkdir(parents=True)
    corpus = make_corpus(args.work, args.limit)
    (corpus / "extra.jsonl").unlink(missing_ok=True)

    t0 = time.perf_counter()
    one = OpenSearchCluster(run / "one", nodes=1, name="bench-one", jvm_options=BENCH_JVM).start()
    three = OpenSearchCluster(run / "three", nodes=3, name="bench-three", jvm_options=BENCH_JVM).start()
    print(f"clusters started in {time.perf_counter() - t0:.0f} s")
    hosts3 = ",".join(u.removeprefix("http://") for u in three.urls)
    locations = {"whoosh": str(run / "index"),
                 "opensearch-1node": f"opensearch+{one.url}/bench",
                 "opensearch-3shards": f"opensearch+http://{hosts3}/bench?shards=3&replicas=1"}
    try:
        print(f"\nreindex ({args.workers} analysis workers each), seconds:")
        print("| backend | documents | full | articles/s | +1 % incremental |")
        print("| --- | ---: | ---: | ---: | ---: |")
        builds = {}
        for name, location in locations.items():
            t = time.perf_counter()
            report = reindex(corpus, location, full=True, workers=args.workers)
            builds[name] = [report.added, time.perf_counter() - t]
        extra = add_one_percent(corpus, max(r[0] for r in builds.values()))
        for name, location in locations.items():
            t = time.perf_counter()
            report = reindex(corpus, location, workers=args.workers)
            builds[name].append(time.perf_counter() - t)
            builds[name].append(report.added)
        extra.unlink()
        for name, (n, full, incr, added) in builds.items():
            print(f"| {name} | {n:,} | {full:.1f} | {n / full:.0f} | {incr:.1f} ({added} added) |")

        engines = {name: Engine(name, location) for name, location in locations.items()}
        queries = load_queries(QUERIES_FILE)[:args.queries]
        print(f"\n{len(queries)} queries from {QUERIES_FILE.name}; pass 0 + {args.passes} warm passes, "
              "engines and modes interleaved per query (shuffled)")
        ms: dict[tuple[str, str, int], list[float]] = {}
        answers: dict[tuple[str, str], list] = {}
        rng = random.Random(SEED)
        pairs = [(e, m) for e in engines for m in MODES]
        for p in range(args.passes + 1):
            started = time.perf_counter()
            for q in queries:
                order = pairs[:]
                rng.shuffle(order)
                for e, m in order:
                    t = time.perf_counter()
                    got = getattr(engines[e], m)(q)
                    ms.setdefault((e, m, p), []).append((time.perf_counter() - t) * 1000)
                    if p == 0:
                        answers.setdefault((e, m), []).append(got)
            print(f"  pass {p}: {time.perf_counter() - started:.0f} s", flush=True)

        def table(title: str, values) -> None:
            print(f"\n{title}")
            print("| backend | mode | p50 | p95 | p99 | mean |")
            print("| --- | --- | ---: | ---: | ---: | ---: |")
            for e in engines:
                for m in MODES:
                    s = stats(values(e, m))
                    print(f"| {e} | {m} | {s['p50']:.1f} | {s['p95']:.1f} | {s['p99']:.1f} | {s['mean']:.1f} |")

        table("pass 0 (first run of each query), ms", lambda e, m: ms[e, m, 0])
        table(f"per query, the best of the {args.passes} warm passes, ms",
              lambda e, m: list(np.min([ms[e, m, p] for p in range(1, args.passes + 1)], axis=0)))
        print("\nagreement with the embedded backend (pass 0):")
        for e in list(engines)[1:]:
            for m in MODES:
                ours, theirs = answers[e, m], answers["whoosh", m]
                same_total = sum(a[1] == b[1] for a, b in zip(ours, theirs))
                same_top = sum(a[0] == b[0] for a, b in zip(ours, theirs))
                same_set = sum(set(a[0]) == set(b[0]) for a, b in zip(ours, theirs))
                print(f"  {e} {m}: totals equal {same_total}/{len(ours)}, same top-10 in the same order "
                      f"{same_top}/{len(ours)}, same top-10 set {same_set}/{len(ours)}")
        for name, cluster in (("opensearch-1node", one), ("opensearch-3shards", three)):
            backend = engines[name].index.backend
            st = backend.client.indices.stats(index=backend.generation, metric="store,docs")["_all"]
            print(f"  {name}: index {st['primaries']['store']['size_in_bytes'] / 1e6:.0f} MB primaries, "
                  f"{st['total']['store']['size_in_bytes'] / 1e6:.0f} MB with replicas")
        print(f"  whoosh: index {sum(f.stat().st_size for f in (run / 'index').rglob('*') if f.is_file()) / 1e6:.0f} MB "
              "(every generation kept in the folder)")
        (args.work / "latency.json").write_text(json.dumps(
            {"builds": builds, "ms": {f"{e} {m} {p}": v for (e, m, p), v in ms.items()}}, indent=1))
    finally:
        one.stop()
        three.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
