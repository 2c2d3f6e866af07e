"""A `vnsearch serve` from its start (issue 15): time to the first answers, the first queries
after a restart, memory after start and after 500 queries.

For each run the server is started afresh (``vnsearch serve --workers N``) on an index that
is already built, and driven over HTTP from this process:

* ``healthz``   from spawning the process to the first 200 of ``/healthz`` (every worker
                has opened the index: the server answers only then);
* ``first``     from spawning to the first 200 of ``/api/search?q=kinh tế xã hội``;
* ``restart``   the 20 queries of ``RESTART_QUERIES`` (the ones people type: words, phrases,
                abbreviations, no diacritics, filters, empty), each once, one after the other,
                right after that: each one's time and their sum;
* ``page``      then the first page a person opens, ``/`` (the first HTML: its templates);
* memory of the server's process tree (parent and workers) after the start and after 500
  queries of ``bench/queries_latency.txt`` through ``/api/search``: RSS, its anonymous part
  (the processes' own memory; the rest is mapped index files, shared between the workers and
  with the page cache) and PSS (each shared page divided among the processes mapping it).

``--src`` runs another checkout's code on the same index (e.g. main before a change), with
``--src-python`` another interpreter (its own venv, e.g. one built with another Python); the
runs are repeated ``--repeat`` times, alternating, and the medians reported. ``--no-memory``
skips the 500 queries, for more repeats of the start in the same time (this machine is shared
and noisy: 20 repeats tell apart 10 ms).

    .venv/bin/python bench/server_start.py --index /work/cache/after/index
    .venv/bin/python bench/server_start.py --index A --src /path/to/old/checkout --index-src B
    .venv/bin/python bench/server_start.py --index A --src . --src-python /other/venv/bin/python
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from index_throughput import _tree  # noqa: E402
from query_latency import QUERIES_FILE, ROOT, load_queries  # noqa: E402

RESTART_QUERIES = [
    {"q": "kinh tế xã hội"}, {"q": "UBND"}, {"q": "bí thư tỉnh ủy"}, {"q": "bi thu tinh uy"},
    {"q": "đại hội đảng bộ"}, {"q": "hội nghị ban chấp hành"}, {"q": '"ban thường vụ"'},
    {"q": "HĐND tỉnh"}, {"q": "chuyển đổi số"}, {"q": "Điện Biên"}, {"q": "an ninh quốc phòng"},
    {"q": "nghị quyết", "province": "Hà Nội"}, {"q": "xây dựng đảng NOT tham nhũng"},
    {"q": "hoi nghi", "province": "Điện Biên"}, {"q": "", "year": "2023"}, {"q": ""},
    {"q": "phát triển kinh tế", "sort": "newest"}, {"q": "ủy ban nhân dân tỉnh"},
    {"q": "tran quoc cuongg"}, {"q": "cải cách hành chính", "page": "2"},
]
MEMORY_QUERIES = 500


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float = 60) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wait_for(port: int, path: str, deadline: float) -> None:
    while time.time() < deadline:
        try:
            if get(port, path) == 200:
                return
        except OSError:
            pass
        time.sleep(0.005)
    raise SystemExit(f"no 200 for {path} before the deadline")


def memory(pid: int) -> dict:
    """RSS, anonymous RSS and PSS summed over the process tree, MB."""
    total = {"rss": 0, "anon": 0, "pss": 0}
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    key = {"Rss:": "rss", "Pss:": "pss", "Anonymous:": "anon"}.get(line.split()[0])
                    if key:
                        total[key] += int(line.split()[1])
        except OSError:
            pass
    return {k: round(v / 1024, 1) for k, v in total.items()}


def search_path(params: dict) -> str:
    return "/api/search?" + urlencode({k: v for k, v in params.items()})


def run(index: str, src: Path, workers: int, queries: list[dict], python: str = sys.executable) -> dict:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONWARNINGS": "ignore"}
    t0 = time.time()
    proc = subprocess.Popen([python, "-m", "search", "serve", "--port", str(port), "--index", index,
                             "--workers", str(workers)], cwd=src, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port, "/healthz", t0 + 120)
        healthz = time.time() - t0
        wait_for(port, search_path({"q": "kinh tế xã hội"}), t0 + 120)
        first = time.time() - t0
        restart = []
        for params in RESTART_QUERIES:
            t = time.perf_counter()
            status = get(port, search_path(params))
            restart.append(((time.perf_counter() - t) * 1000, status))
        t = time.perf_counter()
        page_status = get(port, "/")
        page = (time.perf_counter() - t) * 1000
        started = memory(proc.pid)
        for params in queries[:MEMORY_QUERIES]:
            get(port, search_path(params))
        after = memory(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    return {"healthz_ms": healthz * 1000, "first_ms": first * 1000,
            "restart_ms": [round(ms, 1) for ms, _ in restart], "restart_sum_ms": sum(ms for ms, _ in restart),
            "restart_errors": sum(status != 200 for _, status in restart) + (page_status != 200), "page_ms": page,
            "memory_start": started, "memory_after": after}


def mix() -> list[dict]:
    """The latency mix as /api/search parameters, repeated to MEMORY_QUERIES."""
    out = []
    for q in load_queries(QUERIES_FILE):
        params = {"q": q.text}
        for facet, values in q.filters.items():
            if values:
                params[facet] = values[0]
        out.append(params)
    while len(out) < MEMORY_QUERIES:
        out.extend(out[:MEMORY_QUERIES - len(out)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", required=True, help="the built index to serve")
    parser.add_argument("--src", type=Path, help="another checkout to compare with (its own --index-src)")
    parser.add_argument("--index-src", help="the index --src's code serves (default: --index)")
    parser.add_argument("--src-python", default=sys.executable, help="the interpreter --src runs on (default: this one)")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, alternating")
    parser.add_argument("--no-memory", action="store_true", help=f"skip the {MEMORY_QUERIES} queries (memory then as after start)")
    parser.add_argument("--json", type=Path, help="also write the runs here")
    args = parser.parse_args(argv)
    queries = [] if args.no_memory else mix()
    setups = [("this", ROOT, args.index, sys.executable)]
    if args.src:
        setups.insert(0, ("src", args.src.resolve(), args.index_src or args.index, args.src_python))
    runs: dict[tuple[str, int], list[dict]] = {}
    for _ in range(args.repeat):
        for workers in (int(w) for w in args.workers.split(",")):
            for name, src, index, python in setups:
                r = run(index, src, workers, queries, python)
                runs.setdefault((name, workers), []).append(r)
                print(f"{name} workers={workers}: healthz {r['healthz_ms']:.0f} ms, first {r['first_ms']:.0f} ms, "
                      f"20 after restart {r['restart_sum_ms']:.0f} ms, / {r['page_ms']:.0f} ms, memory {r['memory_start']} → "
                      f"{r['memory_after']}", flush=True)
    print("\nMedians over", args.repeat, "runs:")
    print("| code | workers | start → /healthz ms | start → first search ms | 20 queries after restart ms "
          f"| slowest of them | then / ms | RSS / anon / PSS after start MB | after {len(queries)} queries MB |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for (name, workers), rs in runs.items():
        def med(key, sub=None):
            return statistics.median(r[key][sub] if sub else r[key] for r in rs)
        slowest = max(range(len(RESTART_QUERIES)), key=lambda i: statistics.median(r["restart_ms"][i] for r in rs))
        slow_ms = statistics.median(r["restart_ms"][slowest] for r in rs)
        label = "this checkout" if name == "this" else \
            f"{args.src}" + (f" on {args.src_python}" if args.src_python != sys.executable else "")
        print(f"| {label} | {workers} | {med('healthz_ms'):.0f} | {med('first_ms'):.0f} | {med('restart_sum_ms'):.0f} "
              f"| {RESTART_QUERIES[slowest]['q'] or '(empty)'} {slow_ms:.0f} ms | {med('page_ms'):.0f} "
              f"| {med('memory_start', 'rss'):,.0f} / {med('memory_start', 'anon'):,.0f} / {med('memory_start', 'pss'):,.0f} "
              f"| {med('memory_after', 'rss'):,.0f} / {med('memory_after', 'anon'):,.0f} / {med('memory_after', 'pss'):,.0f} |")
    if args.json:
        args.json.write_text(json.dumps({f"{k[0]}-{k[1]}": v for k, v in runs.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
