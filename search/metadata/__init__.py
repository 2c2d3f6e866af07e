"""Facts about an article found from its own text: title, date, province, secretary, outlet.

Every field carries the evidence it came from, and a field without good evidence stays
``None``: a wrong province is worse than an honest "unknown". This module assembles the
fields; each is found in a module of its own:

- :mod:`.title`: the title and the byline, the lines at the page's edges;
- :mod:`.dates`: the article's date;
- :mod:`.names`: people's names in running text;
- :mod:`.places`: where the text names provinces, and how;
- :mod:`.people`: who is named Bí thư of a province;
- :mod:`.province`: the province, from all the evidence weighed;
- :mod:`.secretary`: the province's secretary, checked against the table;
- :mod:`.conference`: the committee's conference number and term;
- :mod:`.evidence`: the :class:`Evidence` and :class:`Metadata` values.
"""

from __future__ import annotations

from ..gazetteer import gazetteer
from ..text import nfc
from .conference import find_conference, find_term
from .dates import find_date
from .evidence import Evidence, Metadata
from .people import find_mentions
from .places import find_places
from .province import LEAD_SPAN, NATIONAL, Scores, choose_province, outlet_evidence, place_evidence, \
    secretary_evidence
from .secretary import choose_secretary
from .title import find_author, find_title

__all__ = ["Evidence", "Metadata", "extract", "EXTRACTOR_VERSION"]

# Bump when extraction changes what it finds: the next incremental reindex re-reads everything.
EXTRACTOR_VERSION = "3"  # 3: names shown in one tone style, misspelt secretaries matched to the table


def extract(text: str, *, title: str | None = None, date_hint: str | None = None,
            url: str | None = None, source: str | None = None) -> Metadata:
    """Find the metadata of one article from its (NFC) text and whatever the source gave."""
    g = gazetteer()
    text = nfc(text)
    lines = text.splitlines()
    title_ev = Evidence(title, ["given title"]) if title else find_title(lines)
    date_ev = find_date(text, lines, title_ev.value, date_hint, url)
    day = date_ev.value
    mentions = find_mentions(text, day, g)
    scores = Scores()
    outlet_evidence(text, url, source, scores, g)
    body_start = len(title_ev.value) if title_ev.value and text.startswith(title_ev.value) else 0
    lead = range(body_start, body_start + LEAD_SPAN)
    place_evidence(find_places(text, day, g), find_places(title_ev.value or "", day, g), lead, scores)
    secretary_evidence(mentions, day, title_ev.value or "", scores, g)
    national = NATIONAL.search(text, 0, lead.stop)
    province_ev = choose_province(scores, national and national.group(), g)
    province = g.province(province_ev.value) if province_ev.value else None
    return Metadata(
        title=title_ev,
        date=date_ev,
        province=province_ev,
        province_2025=Evidence(province.name_2025, [f"{province.short_name} → {province.name_2025} (1 July 2025)"])
        if province else Evidence(None),
        secretary=choose_secretary(province, day, mentions, scores, national is not None, g),
        outlet=Evidence(scores.outlet, ["dateline or domain"]) if scores.outlet else Evidence(None),
        url=Evidence(url, ["given URL"]) if url else Evidence(None),
        conference=find_conference(text),
        term=find_term(text),
        author=find_author(lines),
    )
