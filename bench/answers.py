"""vnsearch's answers (ids in order, totals) to many queries, to check that a change keeps them.

The latency mix (``bench/queries_latency.txt``, with its filters) and the queries of the
relevance sets of ``../shared/eval`` (vmds-dev and the first ``--viquad`` of viquad, each as
written and without diacritics) are searched through ``Index.search``, the user's path, on
an index that is already built; the answers (ids in order, totals, and the rest of the page:
facets, snippets, suggestions) are written in the form ``bench/same_results.py`` compares::

    .venv/bin/python bench/answers.py --index /work/cache/idx51/new --out before.json
    (change the code)
    .venv/bin/python bench/answers.py --index /work/cache/idx51/new --out after.json
    .venv/bin/python bench/same_results.py before.json after.json

Exits 0 with "skipped: ..." when ``../shared`` is not there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from query_latency import QUERIES_FILE, load_queries  # noqa: E402
from relevance import EVAL, read_queries, strip_diacritics  # noqa: E402

K = 10


def query_sets(viquad: int) -> dict[str, list[dict]]:
    """Mode name → the requests of that mode (q and filters)."""
    sets = {"mix": [{"q": q.text, "filters": {"province": list(q.province), "year": list(q.year)}}
                    for q in load_queries(QUERIES_FILE)]}
    for name, limit in (("vmds-dev", None), ("viquad", viquad)):
        texts = list(read_queries(EVAL / name).values())[:limit]
        sets[name] = [{"q": t, "filters": {}} for t in texts]
        sets[f"{name} stripped"] = [{"q": strip_diacritics(t), "filters": {}} for t in texts]
    return sets


def page(result) -> dict:
    """What the user sees of a result besides the ids: facets, snippets, suggestion... (not
    the time, nor the scores, whose last digits may round the other way after a change)."""
    out = result.as_json()
    out.pop("took_ms")
    for hit in out["hits"]:
        hit.pop("score")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="a built index (not rebuilt)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the answers (JSON)")
    parser.add_argument("--viquad", type=int, default=500, help="how many viquad queries (default 500)")
    args = parser.parse_args(argv)
    if not EVAL.is_dir():
        print(f"skipped: {EVAL} is not there (the relevance sets of ../shared/eval)")
        return 0

    from search import SearchRequest, open_index

    index = open_index(args.index)
    answers: dict[str, list[dict]] = {}
    start = time.perf_counter()
    for mode, requests in query_sets(args.viquad).items():
        answers[mode] = []
        for r in requests:
            result = index.search(SearchRequest(q=r["q"], filters=r["filters"], size=K))
            answers[mode].append({"query": r["q"], "ids": [h.id for h in result.hits],
                                  "total": result.total, "page": page(result)})
    args.out.write_text(json.dumps({"index": str(args.index), "answers": answers}, ensure_ascii=False),
                        encoding="utf-8")
    count = sum(map(len, answers.values()))
    print(f"{count} queries in {time.perf_counter() - start:.1f} s → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
