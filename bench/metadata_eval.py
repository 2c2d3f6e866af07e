"""Measure metadata extraction on the shared news corpora: coverage, speed, and a sample to read.

    python bench/metadata_eval.py [--corpora DIR] [--only NAME ...] [--limit N]
    python bench/metadata_eval.py --sample 50 --seed 1 [--only party_committee_subset] [--found province]

Coverage is the share of articles for which :func:`search.metadata.extract` finds each
field. Coverage alone says nothing about correctness, so ``--sample N --seed S`` prints N
random articles with the chosen province and secretary, their evidence, the opening of the
text and every sentence that names a "Bí thư", for a person to judge. The records are fed
to ``extract`` exactly as ``search/corpus.py`` feeds JSONL records, so the figures are the
index's figures.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Iterator

from search.metadata import Metadata, extract
from search.text import nfc

HERE = Path(__file__).resolve().parent
DEFAULT_CORPORA = HERE.parent.parent / "shared" / "corpora"
FIELDS = ("title", "date", "province", "province_2025", "secretary", "outlet", "url",
          "conference", "term", "author")
_BI_THU = re.compile(r"[^.\n]*\bBí\s+[Tt]hư\b[^.\n]*", re.IGNORECASE)


def records(path: Path, limit: int | None = None) -> Iterator[dict]:
    """The JSON records of one corpus file, at most `limit` of them."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for number, line in enumerate(f):
            if limit is not None and number >= limit:
                return
            if line.strip():
                yield json.loads(line)


def run_extract(record: dict) -> tuple[str, Metadata] | None:
    """(text, metadata) for one record, called the way ``search.corpus._read_jsonl`` calls it."""
    body = record.get("body")
    if not isinstance(body, str) or not body.strip():
        return None  # the indexer rejects these too
    title = record.get("title") if isinstance(record.get("title"), str) else None
    given = {k: record[k] for k in ("url", "source") if isinstance(record.get(k), str) and record[k]}
    day = record.get("date") if isinstance(record.get("date"), str) else None
    text = nfc("\n".join(filter(None, [title, body])))
    meta = extract(text, title=nfc(title) if title else None, date_hint=day, **given)
    return text, meta


def coverage(path: Path, limit: int | None) -> dict[str, float | int]:
    """Articles, articles/second and the count of articles having each field, for one file."""
    counts = {"articles": 0, **{f: 0 for f in FIELDS}}
    elapsed = 0.0
    for record in records(path, limit):
        started = time.perf_counter()
        done = run_extract(record)
        elapsed += time.perf_counter() - started
        if done is None:
            continue
        counts["articles"] += 1
        for name, value in done[1].values().items():
            counts[name] += value is not None
    counts["per_second"] = counts["articles"] / elapsed if elapsed else 0.0
    return counts


def print_coverage(table: dict[str, dict]) -> None:
    """One row per corpus: articles, speed, then the percentage having each field."""
    short = {"province_2025": "prov2025", "conference": "conf", "secretary": "secret."}
    head = ["corpus", "articles", "art/s"] + [short.get(f, f) for f in FIELDS]
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for name, c in table.items():
        n = c["articles"] or 1
        cells = [name, str(c["articles"]), f"{c['per_second']:.0f}"]
        cells += [f"{100 * c[f] / n:.1f}%" for f in FIELDS]
        print(" | ".join(cells))


def sample(paths: list[Path], size: int, seed: int, chars: int, found: str | None = None) -> None:
    """Print `size` random articles (drawn with `seed`) with what was chosen and why.

    With `found`, draw only among articles where that field was found: a sample for
    precision alone, since most articles of national press name no province."""
    pool = [(p.name, r) for p in paths for r in records(p)]
    if found:
        pool = [(name, r) for name, r in pool
                if (done := run_extract(r)) and done[1].values()[found] is not None]
    rng = random.Random(seed)
    for number, (corpus, record) in enumerate(rng.sample(pool, min(size, len(pool))), start=1):
        done = run_extract(record)
        print(f"=== [{number}] {corpus} {record.get('id')}")
        if done is None:
            print("(no body: the indexer rejects it)\n")
            continue
        text, meta = done
        for name in ("date", "province", "secretary", "outlet"):
            ev = getattr(meta, name)
            print(f"{name.upper()}: {ev.value!r}")
            for reason in ev.evidence:
                print(f"    - {reason}")
        print("TEXT:", " ".join(text[:chars].split()))
        sentences = [" ".join(s.split()) for s in _BI_THU.findall(text)]
        for s in dict.fromkeys(sentences):
            print("  BÍ THƯ:", s[:300])
        print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--only", nargs="*", help="corpus names without .jsonl.gz")
    parser.add_argument("--limit", type=int, help="at most N records per corpus (coverage)")
    parser.add_argument("--sample", type=int, help="print N random articles instead of coverage")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chars", type=int, default=600, help="text shown per sampled article")
    parser.add_argument("--found", choices=FIELDS, help="sample only articles where this field was found")
    args = parser.parse_args(argv)

    if not args.corpora.is_dir():
        print(f"skipped: no corpora folder at {args.corpora} (the shared corpora are not here)")
        return 0
    paths = sorted(args.corpora.glob("*.jsonl.gz"))
    if args.only:
        paths = [p for p in paths if p.name.removesuffix(".jsonl.gz") in args.only]
    if not paths:
        print(f"skipped: no matching *.jsonl.gz in {args.corpora}")
        return 0
    if args.sample:
        sample(paths, args.sample, args.seed, args.chars, args.found)
        return 0
    table = {}
    for path in paths:
        table[path.name.removesuffix(".jsonl.gz")] = coverage(path, args.limit)
        print(f"  {path.name}: done", file=sys.stderr)
    print_coverage(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
