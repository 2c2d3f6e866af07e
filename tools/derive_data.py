"""Derive vnsearch's gazetteer files (search/data/*.csv) from the team's reference tables.

    python tools/derive_data.py [REFERENCE_DIR]   # default: ../shared/reference

The reference tables (with their SOURCES.md) are facts gathered by hand; this script keeps
their source and confidence columns, adds the short province name and the 2025 unit, and
marks every spelling the compiler added as unverified. Run it again when they change.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "search" / "data"

# Provinces that became centrally-run cities recently, so that before that day their
# "Thành ủy" was a city-level (district) committee inside the province. Source: the
# reference's SOURCES.md, "Reorganisation (2025) pages": Huế became a centrally-run city on
# 1/1/2025 (Resolution 175/2024/QH15, per S1c). Other centrally-run cities predate online news.
CITY_SINCE = {"46": ("2025-01-01", "S1c (Resolution 175/2024/QH15), per SOURCES.md")}
DERIVED_NOTE = """

## Columns added by tools/derive_data.py

* provinces.csv `short_name` (the official name without "Tỉnh"/"Thành phố"), `code_2025` and
  `name_2025` (from `merged_into_2025` and provinces_2025.csv), `unit_type` (copied),
  `city_since` / `city_since_source` (the day a province became a centrally-run city when that is
  recent: Huế, 2025-01-01, per S1c), and `aliases_confidence`: every alias is a press convention
  added by the compiler and **unverified** (see "Editorial aliases" above).
* secretaries.csv and outlets.csv are the reference tables with their columns reordered; their
  `source` and `confidence` columns are kept as they are.
"""


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fields, lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow({k: row.get(k, "") for k in fields})
    print(f"wrote {path.relative_to(HERE.parent)}: {len(rows)} rows")


def short_name(official: str) -> str:
    for prefix in ("Thành phố ", "Tỉnh "):
        if official.startswith(prefix):
            return official[len(prefix):]
    return official


def main(ref: Path) -> None:
    DATA.mkdir(exist_ok=True)
    units = {r["code_2025"]: r for r in read(ref / "provinces_2025.csv")}
    provinces = []
    for r in read(ref / "provinces.csv"):
        code_2025 = r["merged_into_2025"].split(" ", 1)[0]
        provinces.append({
            "code": r["code"], "name": r["name"], "short_name": short_name(r["name"]),
            "ascii_name": r["ascii_name"], "aliases": r["aliases"],
            "code_2025": code_2025, "name_2025": units[code_2025]["short_name"],
            "unit_type": r["unit_type"],
            "city_since": CITY_SINCE.get(r["code"], ("", ""))[0],
            "city_since_source": CITY_SINCE.get(r["code"], ("", ""))[1],
            "source_ids": r["source_ids"],
            "aliases_confidence": "unverified (press conventions added by the compiler)",
        })
    write(DATA / "provinces.csv", list(provinces[0]), provinces)
    write(DATA / "provinces_2025.csv", list(next(iter(units.values()))), list(units.values()))

    secretaries = read(ref / "secretaries.csv")
    write(DATA / "secretaries.csv", ["province_code", "scope", "province", "name", "term", "start",
                                     "end", "end_inferred", "confidence", "source", "note"], secretaries)

    outlets = read(ref / "outlets.csv")
    write(DATA / "outlets.csv", ["province_code", "province", "outlet_name", "domain",
                                 "dateline_abbrev", "outlet_type", "confidence", "source", "note"], outlets)

    sources = (ref / "SOURCES.md").read_text(encoding="utf-8").rstrip("\n") + DERIVED_NOTE
    (DATA / "SOURCES.md").write_text(sources, encoding="utf-8")
    print("wrote search/data/SOURCES.md")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "reference")
