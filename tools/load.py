"""Load a vnsearch server: requests/s, p50/p95/p99 and errors at 1, 4 and 8 clients.

    .venv/bin/python tools/load.py --index /tmp/vnload/index          # starts `vnsearch serve`
    .venv/bin/python tools/load.py --url http://127.0.0.1:5000        # a server already running

Each client is a thread with its own keep-alive connection, sending a fixed mix of queries
(plain, unaccented, phrases, filters, browsing, paging) to /api/search and /search in turn
for `--seconds` at each level; any status other than 200, or a failed connection, is an
error. The run is bounded: levels × seconds, plus the server's start.

When it starts the server itself, it also reports the CPU time the server's processes spent
per request at each level ("cpu ms"): the load generator runs on the same cores, so req/s
alone does not tell a server that stops scaling from a machine that is full.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

QUERIES = [
    {"q": "bí thư tỉnh ủy"}, {"q": "bi thu tinh uy"}, {"q": "hội nghị ban chấp hành"},
    {"q": '"ban thường vụ"'}, {"q": "UBND tỉnh"}, {"q": "chuyển đổi số"}, {"q": "Điện Biên"},
    {"q": "kinh tế xã hội", "sort": "newest"}, {"q": "đại hội đảng bộ", "page": "2"},
    {"q": "hoi nghi", "province": "Điện Biên"}, {"q": "", "year": "2023"}, {"q": ""},
    {"q": "nghị quyết", "province": "Hà Nội", "province_2025": "Hà Nội"}, {"q": "an ninh quốc phòng"},
    {"q": "tran quoc cuongg"}, {"q": "xây dựng đảng NOT tham nhũng"},
]
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: str, port: int) -> subprocess.Popen:
    """`vnsearch serve` on `port`, once it answers /healthz."""
    proc = subprocess.Popen([sys.executable, "-m", "search", "serve", "--port", str(port), "--index", index],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not answer /healthz within 60 s")


def client(host: str, port: int, stop: float, offset: int, latencies: list, errors: list) -> None:
    """One client: requests in turn until `stop`, recording each latency (s) or error."""
    targets = itertools.cycle([f"{path}?{urlencode(q)}" for q in QUERIES for path in ("/api/search", "/search")])
    for _ in range(offset):
        next(targets)
    conn = http.client.HTTPConnection(host, port, timeout=30)
    while time.perf_counter() < stop:
        target = next(targets)
        started = time.perf_counter()
        try:
            conn.request("GET", target)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors.append(f"{r.status} {target}")
            else:
                latencies.append(time.perf_counter() - started)
        except (OSError, http.client.HTTPException) as e:
            errors.append(f"{type(e).__name__} {target}")
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.close()


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process `pid` and of its children now alive."""
    ticks = 0
    for p in [pid, *Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a worker that just ended
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else (values or [0])[0]


def run_level(host: str, port: int, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.perf_counter() + seconds
    threads = [threading.Thread(target=client, args=(host, port, stop, i * 3, latencies, errors)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"clients": clients, "requests": len(latencies) + len(errors), "rps": (len(latencies) + len(errors)) / elapsed,
            "p50": percentile(latencies, 50) * 1000, "p95": percentile(latencies, 95) * 1000,
            "p99": percentile(latencies, 99) * 1000, "errors": len(errors), "first_errors": errors[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running server, e.g. http://127.0.0.1:5000")
    where.add_argument("--index", help="start `vnsearch serve` on this index folder")
    parser.add_argument("--clients", default="1,4,8", help="client counts, comma-separated (default 1,4,8)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each level (default 10)")
    args = parser.parse_args()

    proc = None
    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
    else:
        host, port = "127.0.0.1", free_port()
        proc = start_server(args.index, port)
    try:
        print(f"vnsearch load: http://{host}:{port}, {len(QUERIES)} queries × (/api/search, /search), "
              f"{args.seconds:g} s per level, pid {os.getpid()}")
        print(f"{'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}"
              + (f" {'cpu ms':>7}" if proc else ""))
        for n in (int(c) for c in args.clients.split(",")):
            cpu = server_cpu(proc.pid) if proc else 0.0
            r = run_level(host, port, n, args.seconds)
            per_request = (server_cpu(proc.pid) - cpu) * 1000 / max(r["requests"], 1) if proc else None
            print(f"{r['clients']:>7} {r['requests']:>8} {r['rps']:>7.1f} {r['p50']:>7.1f} {r['p95']:>7.1f} "
                  f"{r['p99']:>7.1f} {r['errors']:>6}" + (f" {per_request:>7.2f}" if proc else "")
                  + (f"  e.g. {r['first_errors']}" if r["errors"] else ""))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
