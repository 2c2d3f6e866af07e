"""What a server's start cannot go under (issue 15): an interpreter starting, then importing
the libraries `vnsearch serve` is built on, before any of the project's own code runs.

For each interpreter given (default: this one), three fresh processes, each ``--repeat``
times, alternating, with medians and minimums:

* ``python -c pass``  the interpreter's own start (its site, the venv's .pth files);
* ``libraries``       that, then importing click, Flask, numpy, Whoosh (what the embedded
                      backend opens an index with) and waitress;
* ``all``             that, then the project's modules a server imports.

Compare ``all`` with ``bench/server_start.py``'s start → /healthz in the same window: the
difference is opening the index and the first request.

    .venv/bin/python bench/import_floor.py
    .venv/bin/python bench/import_floor.py --python .venv/bin/python --python /other/venv/bin/python
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = "import click, flask, numpy, whoosh.index, whoosh.searching, whoosh.codec.whoosh3, waitress.server"
CASES = {
    "python -c pass": "pass",
    "libraries": LIBRARIES,
    "all": LIBRARIES + "; import search.cli, web, web.server, search.backends.whoosh",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", action="append", help="an interpreter (its venv's python); repeatable")
    parser.add_argument("--repeat", type=int, default=15, help="runs of each (default 15)")
    args = parser.parse_args(argv)
    pythons = args.python or [sys.executable]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeat):
        for python in pythons:
            for name, code in CASES.items():
                t = time.perf_counter()
                subprocess.run([python, "-c", code], env=env, cwd=ROOT, check=True)
                times.setdefault((python, name), []).append((time.perf_counter() - t) * 1000)
    print(f"| interpreter | {' | '.join(CASES)} |  (median / min of {args.repeat}, ms)")
    print("| --- |" + " ---: |" * len(CASES))
    for python in pythons:
        cells = [f"{statistics.median(times[python, n]):.0f} / {min(times[python, n]):.0f}" for n in CASES]
        print(f"| {python} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
