"""Whether the mapped arrays of a generation (``backends/columns.py``) give the same answers as
the arrays read from Whoosh's columns, over the latency mix, on one index (same documents, same
numbering: any difference is the arrays' doing).

    python bench/same_arrays.py --index DIR [--queries bench/queries_latency.txt]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from query_latency import QUERIES_FILE, VnSearch, load_queries  # noqa: E402

from search.backends import ranking  # noqa: E402
from search.facets import FACETS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, default=QUERIES_FILE)
    args = parser.parse_args(argv)
    queries = load_queries(args.queries)
    vn = VnSearch(args.index)
    backend = vn.index.backend
    answers = {}
    for name, arrays in (("mapped", backend.arrays), ("from Whoosh", ranking.IndexArrays(backend._searcher, tuple(FACETS)))):
        backend.arrays = arrays
        answers[name] = [(vn.full(q), vn.top10(q)) for q in queries]
    same = sum(a == b for a, b in zip(answers["mapped"], answers["from Whoosh"]))
    print(f"identical: {same} of {len(queries)} queries (full and top-10 ids, order and totals)")
    for q, a, b in zip(queries, answers["mapped"], answers["from Whoosh"]):
        if a != b:
            print(f"  differs: {q.label()}")
    return 0 if same == len(queries) else 1


if __name__ == "__main__":
    sys.exit(main())
