"""How vnsearch's costs grow with the corpus (issue 15): build, open, query, memory at 3 sizes.

For each size (default about 12,000, 25,000 and all 50,871 articles of the four corpora of
``../shared/corpora`` that ``bench/query_latency.py`` uses) the articles are taken round
robin from the four files (so every size has the same mix), written as JSONL under
``--work``/corpus-<size> (files of 5,000), and indexed from scratch by ``vnsearch reindex --full`` in a
subprocess whose process tree is sampled (peak RSS and PSS, as ``bench/index_throughput.py``
does), and its parent process alone (peak RSS and its anonymous part). Then, in a fresh process per size:

* ``open``    ``open_index`` (manifest check, Whoosh's TOC, the mapped arrays), ms, the first
              time after the build (the CRCs of the files written last are read) and then;
* ``first``   the first query ("kinh tế xã hội"), ms;
* the query mix of ``bench/queries_latency.txt`` in the two modes of ``query_latency.py``
  (``top10``: the backend's ranked top ten; ``full``: what the search page needs), a first
  pass (each query for the first time) and ``--passes`` warm ones (per query the best):
  p50 / p95 ms;
* the process's memory after opening and after the mix: RSS, its anonymous part (what the
  process holds of its own; the rest is mapped index files, shared with every other process
  serving the same generation and given back by the kernel under pressure) and PSS.

Every size runs in the same invocation, one after the other, so the load of the machine
(it may be shared) hits them alike; the table ends with each figure divided by the
smallest size's, next to the ratio of the sizes, so the curve is read, not guessed.

Run from the repository root::

    .venv/bin/python bench/growth.py --work /work/cache/growth
    .venv/bin/python bench/growth.py --sizes 2000,4000 --passes 1       # a quick look
    .venv/bin/python bench/growth.py --index 50871=/path/to/index        # a built index reused

An index of a size already under ``--work`` (or given with ``--index``) is reused as it is
(an incremental reindex, a no-op when nothing changed) unless ``--rebuild``.
Exits 0 with "skipped: ..." when ``../shared`` is not there.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from itertools import cycle
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from index_throughput import Watch, _dir_mb  # noqa: E402 (bench/ is the script folder)
from query_latency import CORPORA, CORPUS_FILES, QUERIES_FILE, ROOT, best_of, load_queries, run_passes  # noqa: E402

FIRST_QUERY = "kinh tế xã hội"


PER_FILE = 5000  # articles per JSONL file (vnsearch refuses files over 50 MB)


def write_corpus(folder: Path, size: int) -> int:
    """The first `size` articles, round robin over the four corpus files, as JSONL files of
    ``PER_FILE`` articles; kept when already written. Past the corpora's end (a size above
    their 50,871 articles) they are read again, each copy's ids suffixed with ``~r2``, ``~r3``
    ...: the same texts as new articles (a corpus that grows by repeating itself keeps its
    vocabulary; a real one would also add words, so this understates the index's growth)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "WRITTEN"
    if done.exists():
        return int(done.read_text())
    for old in folder.glob("*.jsonl"):
        old.unlink()
    written, out, copy = 0, None, 1
    while written < size:
        files = [gzip.open(CORPORA / name, "rt", encoding="utf-8") for name in CORPUS_FILES]
        live, before = list(files), written
        for f in cycle(files):
            if written == size or not live:
                break
            if f not in live:
                continue
            line = f.readline()
            if not line:
                live.remove(f)
                continue
            if copy > 1:
                record = json.loads(line)
                record["id"] = f"{record['id']}~r{copy}"
                line = json.dumps(record, ensure_ascii=False) + "\n"
            if written % PER_FILE == 0:
                if out:
                    out.close()
                out = open(folder / f"articles-{written // PER_FILE:03d}.jsonl", "w", encoding="utf-8")
            out.write(line)
            written += 1
        for f in files:
            f.close()
        if written == before:  # no articles at all
            break
        copy += 1
    if out:
        out.close()
    done.write_text(str(written))
    return written


class ParentMemory:
    """Samples the peak RSS and anonymous RSS of one process (the reindex's parent)."""

    def __init__(self, pid: int):
        import threading

        self.pid, self.rss, self.anon = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            self.rss = max(self.rss, int(line.split()[1]) // 1024)
                        elif line.startswith("RssAnon:"):
                            self.anon = max(self.anon, int(line.split()[1]) // 1024)
            except OSError:
                return

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join()
        return self.rss, self.anon


def build(corpus: Path, index: Path, full: bool, workers: int) -> dict:
    """``vnsearch reindex`` in a subprocess, its tree's memory sampled."""
    cmd = [str(Path(sys.executable).with_name("vnsearch")), "reindex", "--corpus", str(corpus),
           "--index", str(index), "--workers", str(workers)] + (["--full"] if full else [])
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, cwd=ROOT)
    watch = Watch(proc.pid, heartbeat=120, label=f"reindex {corpus.name}")
    parent = ParentMemory(proc.pid)
    proc.wait()
    wall = time.perf_counter() - t0
    machine = watch.stop(0.0)
    parent_rss, parent_anon = parent.stop()
    if proc.returncode:
        raise SystemExit(f"reindex of {corpus} failed (exit {proc.returncode})")
    return {"reindex_s": round(wall, 1), "parent_peak_rss_mb": parent_rss, "parent_peak_anon_mb": parent_anon,
            "peak_rss_mb": machine["tree_peak_rss_mb"],
            "peak_pss_mb": machine["tree_peak_pss_mb"], "load1_mean": machine["load1_mean"],
            "rebuilt": full}


def memory_mb() -> dict:
    """This process's RSS, its anonymous part, and PSS, in MB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "RssAnon:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                out["Pss"] = int(line.split()[1]) / 1024
    return {"rss": round(out["VmRSS"], 1), "anon": round(out["RssAnon"], 1), "pss": round(out["Pss"], 1)}


def probe(index: str, passes: int, limit: int | None) -> None:
    """(In a fresh process) open, first query, the mix; prints one JSON line."""
    import warnings

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    from search import SearchRequest, open_index
    from query_latency import VnSearch

    t1 = time.perf_counter()
    index_obj = open_index(index)
    t2 = time.perf_counter()
    index_obj.search(SearchRequest(q=FIRST_QUERY, size=10))
    t3 = time.perf_counter()
    opened = memory_mb()
    index_obj.close()
    vn = VnSearch(Path(index))
    queries = load_queries(QUERIES_FILE)[:limit]
    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            timings = run_passes({"vnsearch": vn}, queries, passes)
        finally:
            sys.stdout = stdout
    result = {"import_ms": (t1 - t0) * 1000, "open_ms": (t2 - t1) * 1000, "first_ms": (t3 - t2) * 1000,
              "memory_open": opened, "memory_after": memory_mb(), "documents": vn.index.backend.health()["documents"]}
    for mode in ("top10", "full"):
        first = np.asarray(timings.ms["vnsearch", mode, 0])
        warm = best_of(timings, "vnsearch", mode, passes)
        result[mode] = {"pass0_p50": float(np.percentile(first, 50)), "pass0_p95": float(np.percentile(first, 95)),
                        "warm_p50": float(np.percentile(warm, 50)), "warm_p95": float(np.percentile(warm, 95))}
    print("RESULT " + json.dumps(result))


def first_open(index: Path) -> float:
    """ms to open the index in a fresh process the first time after its build (the files
    written last have their CRC read: ``store.verify``); the probe's later open does not."""
    code = ("import time; from search import open_index; t = time.perf_counter(); i = open_index(%r); "
            "print((time.perf_counter() - t) * 1000)" % str(index))
    time.sleep(2.5)  # past store.RACY_NS: what the build wrote is then trusted by its stamp
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def measure(index: Path, passes: int, limit: int | None) -> dict:
    opened_after_build = first_open(index)
    cmd = [sys.executable, "-W", "ignore", __file__, "--probe", str(index), "--passes", str(passes)]
    if limit:
        cmd += ["--limit", str(limit)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"probe of {index} failed:\n{out.stderr[-2000:]}")
    result = json.loads(next(l for l in out.stdout.splitlines() if l.startswith("RESULT "))[7:])
    result["first_open_ms"] = opened_after_build
    return result


def table(rows: list[dict]) -> str:
    base = rows[0]
    lines = ["| articles | reindex s | peak RSS / anon MB (parent) | peak RSS / PSS MB (tree) | index MB | open ms (first after the build) | first query ms "
             "| top-10 pass 0 p50/p95 | top-10 warm p50/p95 | full pass 0 p50/p95 | full warm p50/p95 "
             "| RSS / anon / PSS after open MB | after the mix MB |",
             "|" + " ---: |" * 13]

    def pair(r, mode, which):
        return f"{r[mode][which + '_p50']:.1f} / {r[mode][which + '_p95']:.1f}"

    def mem(m):
        return f"{m['rss']:,.0f} / {m['anon']:,.0f} / {m['pss']:,.0f}"

    for r in rows:
        b = r.get("build") or {}
        lines.append(f"| {r['documents']:,} | {b.get('reindex_s', '–')} | {b.get('parent_peak_rss_mb', '–')} / "
                     f"{b.get('parent_peak_anon_mb', '–')} | {b.get('peak_rss_mb', '–')} / "
                     f"{b.get('peak_pss_mb', '–')} | {r['index_mb']:,.0f} | {r['open_ms']:.0f} ({r['first_open_ms']:.0f}) | {r['first_ms']:.0f} "
                     f"| {pair(r, 'top10', 'pass0')} | {pair(r, 'top10', 'warm')} | {pair(r, 'full', 'pass0')} "
                     f"| {pair(r, 'full', 'warm')} | {mem(r['memory_open'])} | {mem(r['memory_after'])} |")
    lines.append("")
    lines.append(f"Each figure ÷ the {base['documents']:,}-article one (the sizes' ratio first):")
    lines.append("| articles | size | reindex | index | open | full warm p50 | full warm p95 | top-10 warm p50 "
                 "| anon after the mix | PSS after the mix |")
    lines.append("|" + " ---: |" * 10)

    def ratio(a, b):
        return f"{a / b:.2f}×" if a and b else "–"

    for r in rows:
        b, bb = r.get("build") or {}, base.get("build") or {}
        lines.append(f"| {r['documents']:,} | {r['documents'] / base['documents']:.2f}× "
                     f"| {ratio(b.get('reindex_s'), bb.get('reindex_s'))} | {ratio(r['index_mb'], base['index_mb'])} "
                     f"| {ratio(r['open_ms'], base['open_ms'])} "
                     f"| {ratio(r['full']['warm_p50'], base['full']['warm_p50'])} "
                     f"| {ratio(r['full']['warm_p95'], base['full']['warm_p95'])} "
                     f"| {ratio(r['top10']['warm_p50'], base['top10']['warm_p50'])} "
                     f"| {ratio(r['memory_after']['anon'], base['memory_after']['anon'])} "
                     f"| {ratio(r['memory_after']['pss'], base['memory_after']['pss'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/vnsearch-growth"), help="corpora and indexes")
    parser.add_argument("--sizes", default="12000,25000,51000", help="comma-separated article counts")
    parser.add_argument("--index", action="append", default=[], metavar="SIZE=PATH",
                        help="use this built index for a size instead of building one under --work")
    parser.add_argument("--rebuild", action="store_true", help="reindex --full even when an index exists")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="reindex analysis processes")
    parser.add_argument("--passes", type=int, default=2, help="warm passes of the query mix")
    parser.add_argument("--limit", type=int, help="only the first N queries of the mix")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        probe(args.probe, args.passes, args.limit)
        return 0
    if not CORPORA.is_dir():
        print(f"skipped: {CORPORA} not found (the growth benchmark needs ../shared)")
        return 0
    given = dict(item.split("=", 1) for item in args.index)
    rows = []
    for size in sorted(int(s) for s in args.sizes.split(",")):
        if str(size) in given:
            index, build_figures = Path(given[str(size)]), None
        else:
            corpus = args.work / f"corpus-{size}"
            written = write_corpus(corpus, size)
            index = args.work / f"index-{size}"
            fresh = args.rebuild or not (index / "CURRENT").exists()
            print(f"{written:,} articles: {'building' if fresh else 'updating'} {index}", flush=True)
            build_figures = build(corpus, index, fresh, args.workers)
            if not fresh:
                build_figures = None  # an update of a kept index says nothing of a build
        row = measure(index, args.passes, args.limit)
        live = json.loads((index / "CURRENT").read_text(encoding="utf-8"))["generation"]
        row["build"], row["index_mb"] = build_figures, _dir_mb(index / live)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
