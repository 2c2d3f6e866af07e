"""Server time and weight of the results page, with and without the chart (issue 14).

The search page now counts its results by month (``SearchSpec.histogram``) and draws them.
This times ``GET /search`` through Flask's test client (the whole page: search, facets,
snippets, the template) over the query mix of ``bench/queries_latency.txt`` in three
variants, each in its own worker process over the same index (opened read-only):

* ``before``  the code of another source tree (``--before-src``: e.g. main's, from
              ``git archive main``): today's page;
* ``nochart`` this tree with the chart turned off (``RESULTS_CHART=False``);
* ``chart``   this tree as it serves.

The workers are warmed up with one pass, then driven in turn query by query, in a shuffled
(seeded) order for each pass, so load from other processes falls on all of them alike; each
query's time is the best of its passes. Printed: median and p95 per variant, the ratios, and
the page's weight (median bytes of the HTML).

    .venv/bin/python bench/page_time.py --index /path/to/index [--before-src DIR] [--passes 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
SEED = 20241414


def _queries(path: Path) -> list[str]:
    """The page URLs of the query mix (query, province and year filters)."""
    urls = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, province, year = (line.split("\t") + ["", ""])[:3]
        pairs = [("q", text)] + [("province", p) for p in province.split("|") if p] + \
            [("year", y) for y in year.split("|") if y]
        urls.append("/search?" + urlencode(pairs))
    return urls


def worker(index: str, chart: bool) -> None:
    """Answer one URL a line on stdin with '<ms> <bytes> <status>' on stdout."""
    import warnings

    warnings.simplefilter("ignore")
    from web import create_app

    config = {"INDEX_DIR": index, "TESTING": True}
    if not chart:
        config["RESULTS_CHART"] = False
    client = create_app(config).test_client()
    print("ready", flush=True)
    for line in sys.stdin:
        url = line.strip()
        started = time.perf_counter()
        r = client.get(url)
        data = r.get_data()
        took = (time.perf_counter() - started) * 1000
        print(f"{took:.3f} {len(data)} {r.status_code}", flush=True)


class Worker:
    def __init__(self, name: str, src: Path, index: str, chart: bool):
        self.name = name
        env_path = str(src)
        code = (f"import sys; sys.path.insert(0, {env_path!r}); sys.path.insert(1, {str(ROOT / 'bench')!r}); "
                f"import page_time; page_time.worker({index!r}, {chart!r})")
        self.process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, cwd=str(src))
        line = self.process.stdout.readline().strip()
        if line != "ready":
            raise SystemExit(f"{name}: the worker did not start ({line!r})")

    def get(self, url: str) -> tuple[float, int, int]:
        self.process.stdin.write(url + "\n")
        self.process.stdin.flush()
        ms, size, status = self.process.stdout.readline().split()
        return float(ms), int(size), int(status)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True, help="An index folder (opened read-only).")
    parser.add_argument("--before-src", type=Path, default=None,
                        help="Another source tree to time as 'before' (e.g. git archive main).")
    parser.add_argument("--queries", type=Path, default=ROOT / "bench" / "queries_latency.txt")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="Only the first N queries (0: all).")
    args = parser.parse_args()

    urls = _queries(args.queries)
    if args.limit:
        urls = urls[:args.limit]
    variants = [("chart", ROOT, True), ("nochart", ROOT, False)]
    if args.before_src:
        variants.insert(0, ("before", args.before_src.resolve(), True))
    started = time.perf_counter()
    workers = [Worker(name, src, args.index, chart) for name, src, chart in variants]
    print(f"{len(urls)} queries, {args.passes} passes, workers opened in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    rng = random.Random(SEED)
    best: dict[str, list[float]] = {w.name: [float("inf")] * len(urls) for w in workers}
    sizes: dict[str, list[int]] = {w.name: [0] * len(urls) for w in workers}
    for w in workers:  # warm-up: every query once (posting arrays, caches)
        for url in urls:
            w.get(url)
    for n in range(args.passes):
        order = list(range(len(urls)))
        rng.shuffle(order)
        for i in order:
            for w in rng.sample(workers, len(workers)):
                ms, size, status = w.get(urls[i])
                if status != 200:
                    raise SystemExit(f"{w.name}: {urls[i]} answered {status}")
                best[w.name][i] = min(best[w.name][i], ms)
                sizes[w.name][i] = size
        print(f"pass {n + 1} done", file=sys.stderr)
    for w in workers:
        w.close()
    report = {name: {"median_ms": round(statistics.median(times), 2), "p95_ms": round(_p95(times), 2),
                     "median_kb": round(statistics.median(sizes[name]) / 1024, 1),
                     "p95_kb": round(_p95([float(s) for s in sizes[name]]) / 1024, 1)}
              for name, times in best.items()}
    print("| variant | median ms | p95 ms | median KB | p95 KB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in report.items():
        print(f"| {name} | {r['median_ms']} | {r['p95_ms']} | {r['median_kb']} | {r['p95_kb']} |")
    for a, b in (("chart", "nochart"), ("chart", "before")):
        if a in report and b in report:
            print(f"{a}/{b}: median {report[a]['median_ms'] / report[b]['median_ms']:.3f}, "
                  f"p95 {report[a]['p95_ms'] / report[b]['p95_ms']:.3f}")
    print(json.dumps({"queries": len(urls), "passes": args.passes, **report}))


if __name__ == "__main__":
    main()
