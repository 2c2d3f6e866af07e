"""Whether two runs of bench/query_latency.py (or bench/answers.py) gave vnsearch's same answers.

Same answers: the same ids in the same order and the same totals; for bench/answers.py also
the rest of the page (facets, snippets, suggestion).

    python bench/same_results.py BEFORE/latency.json AFTER/latency.json

Prints how many queries of each mode are identical, and the first differences; exits 1 when
any differs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def compare(before: dict, after: dict) -> tuple[int, int, list[str]]:
    """(identical, compared, descriptions of the differences) over every mode of both runs."""
    same = compared = 0
    diffs = []
    for mode in sorted(set(before["answers"]) & set(after["answers"])):
        for a, b in zip(before["answers"][mode], after["answers"][mode]):
            if a["query"] != b["query"]:
                raise SystemExit(f"the runs used different query mixes ({a['query']!r} / {b['query']!r})")
            compared += 1
            page = a.get("page", b.get("page")) == b.get("page", a.get("page"))  # when both have it
            if a["ids"] == b["ids"] and a["total"] == b["total"] and page:
                same += 1
            else:
                diffs.append(f"{mode} {a['query']!r}: total {a['total']} → {b['total']}, "
                             f"ids {'same' if a['ids'] == b['ids'] else 'differ'}"
                             + ("" if page else ", the rest of the page differs"))
    return same, compared, diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in (args.before, args.after)]
    if any("answers" not in r for r in runs):
        raise SystemExit("a latency.json without answers: rerun bench/query_latency.py")
    same, compared, diffs = compare(*runs)
    print(f"identical: {same} of {compared} (query, mode) answers")
    for line in diffs[:20]:
        print("  " + line)
    return 0 if same == compared else 1


if __name__ == "__main__":
    sys.exit(main())
