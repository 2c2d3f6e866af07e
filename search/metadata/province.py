"""The province an article is about: evidence weighed per province, and the clear winner or none.

A dateline ("ĐBP -"), an outlet's domain, statements such as "tỉnh Điện Biên" or "Tỉnh ủy
Sơn La", the title, and the person named as Bí thư Tỉnh ủy checked against the secretaries
table count for much; passing mentions count for little. An article that speaks about many
provinces at once (a national round-up) gets no province at all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit

from ..gazetteer import Gazetteer, Province, gazetteer, name_key
from .evidence import Evidence
from .people import Mention
from .places import Place

__all__ = ["Scores", "outlet_evidence", "place_evidence", "secretary_evidence", "choose_province",
           "WEIGHT", "ENOUGH_NATIONAL", "LEAD_SPAN", "NATIONAL"]

WEIGHT = {"party": 2.0, "admin": 2.0, "city": 2.0, "local": 1.0, "bare": 0.5, "listed": 0.5}
_CAP = {"party": 3, "admin": 3, "city": 3, "local": 2, "bare": 3, "listed": 2}  # how many of each count
_STRONG = 5.0  # dateline, outlet domain
_SECRETARY = 5.0  # someone named Bí thư who, per the table, led exactly one province
_TITLE = 3.0
_LEAD = 1.0  # named in the first sentences of the body
LEAD_SPAN = 300  # the lead: the body's first characters, where news names its place
_ENOUGH = 5.0  # below this, the text does not say where it is from (two statements deep in it, say)
# A story that opens with national actors (the Prime Minister, a ministry, the National
# Assembly) names provinces in passing: the venue, a court, a company's seat. Unless it
# names the province's Party committee, it needs more evidence.
ENOUGH_NATIONAL = 7.0
# A province that neither the title, the lead, an outlet nor a known secretary names is, more
# often than not, a venue or a comparison: the body must dwell on it, and in a national story
# it is a side topic whatever the body says.
_ENOUGH_UNANCHORED = 10.0
NATIONAL = re.compile(  # the actors, not titles in apposition ("Uỷ viên Bộ Chính trị, Bí thư…")
    r"Thủ tướng|Chính phủ|(?<![Bb]iểu )Quốc hội|(?<!viên )Bộ Chính trị|(?<!viên )Ban Bí thư|Tổng Bí thư|"
    r"Chủ tịch nước|(?<!\w)Bộ (?!Chỉ huy)(?:trưởng|[A-ZĐ])|Thứ trưởng|Tổng cục|[Tt]ối cao|APEC|toàn quốc|cả nước")
DATELINE_PARAGRAPHS = 40  # a dateline opens one of the first paragraphs
EDGE_HEAD_CHARS, EDGE_TAIL_CHARS = 300, 600  # the page's edges, where an outlet prints its domain
REASONS_SHOWN = 6  # how many reasons the chosen province's evidence lists
PROVINCES_SHOWN = 4  # how many contenders the evidence shows with their scores


@dataclass
class Scores:
    """Evidence per province (by code): a score and the reasons, as they are found."""

    score: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    why: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    outlet: str | None = None
    party: set[str] = field(default_factory=set)  # provinces whose Party committee or outlet is named
    anchored: set[str] = field(default_factory=set)  # named by the title, the lead, an outlet, a secretary

    def add(self, province: Province | None, weight: float, reason: str, anchor: bool = False) -> None:
        """Count `reason` once for `province`; an anchor is evidence of where the story is told."""
        if province is not None and reason not in self.why[province.code]:
            self.score[province.code] += weight
            self.why[province.code].append(reason)
            if anchor:
                self.anchored.add(province.code)


@lru_cache(maxsize=1)
def _dateline_pattern() -> tuple[re.Pattern[str], dict[str, object]]:
    """A pattern for every outlet's dateline ("ĐBP -", "BBK -"), and the outlet of each."""
    outlets = {d: o for o in gazetteer().outlets for d in o.datelines}
    alternation = "|".join(re.escape(d) for d in sorted(outlets, key=len, reverse=True))
    return re.compile(rf"^\s*(?:{alternation})"), outlets


def outlet_evidence(text: str, url: str | None, source: str | None, s: Scores, g: Gazetteer) -> None:
    """Datelines opening a paragraph and outlet domains in the URL, source or the page's edges."""
    pattern, outlets = _dateline_pattern()
    for para in text.split("\n")[:DATELINE_PARAGRAPHS]:
        if m := pattern.match(para.replace("–", "-")):
            o = outlets[m.group().strip()]
            s.outlet = s.outlet or o.name
            if o.province_code:
                s.add(g.province_by_code(o.province_code), _STRONG, f"dateline '{m.group().strip()}' of {o.name}", True)
                s.party.add(o.province_code)
    edges = text[:EDGE_HEAD_CHARS] + " " + text[-EDGE_TAIL_CHARS:]
    hosts = re.findall(r"(?i)(?<![\w.-])((?:[a-z0-9-]+\.)+(?:vn|com|net|org|info))(?![\w-])", edges)
    if url:
        hosts.insert(0, urlsplit(url if "//" in url else "//" + url).hostname or "")
    if source:
        hosts.append(source.split()[0] if source.split() else "")
    for host in dict.fromkeys(h.lower() for h in hosts if h):
        if o := g.outlet_for_domain(host):
            s.outlet = s.outlet or o.name
            if o.province_code:
                s.add(g.province_by_code(o.province_code), _STRONG, f"outlet domain '{host}' ({o.name})", True)
                s.party.add(o.province_code)


def place_evidence(places: list[Place], title_places: list[Place], lead: range, s: Scores) -> None:
    """Weigh the namings of provinces: statements much, bare names little, lists less."""
    grouped: dict[tuple[str, str], list[Place]] = defaultdict(list)
    for p in places:
        grouped[(p.province.code, p.kind)].append(p)
    for (code, kind), group in grouped.items():
        n = min(len(group), _CAP[kind])
        if kind == "party":
            s.party.add(code)
        label = "mention" if kind == "bare" else kind
        s.add(group[0].province, WEIGHT[kind] * n, f"{label} '{group[0].quote}'" + (f" ×{n}" if n > 1 else ""))
    for p in title_places:
        if p.kind not in ("local", "listed"):
            s.add(p.province, _TITLE, f"title names '{p.quote}'", True)
    # News names its place in the opening sentence; a round-up names provinces further down.
    for p in places:
        if p.start in lead and p.kind != "listed":
            s.add(p.province, _LEAD, f"the lead names '{p.quote}'", True)


def secretary_evidence(mentions: list[Mention], day: date | None, title: str, s: Scores,
                       g: Gazetteer) -> None:
    """Someone named Bí thư whom the table knows as one province's secretary (then) points to it;
    so does a title about someone the text names Bí thư of a province ("Bí thư Nhân thăm …")."""
    title_key = name_key(title)
    for m in mentions:
        if m.former:
            continue
        if m.stated is not None and name_key(m.name) in title_key:
            s.add(m.stated, _TITLE, f"title names {m.name}, Bí thư of {m.stated.short_name}", True)
        terms = [t for t in g.terms_of(m.name) if t.scope == "province_pre2025" and (day is None or t.covers(day))]
        codes = {t.province_code for t in terms}
        if len(codes) == 1 and (m.stated is None or m.stated.code in codes):
            when = f"on {day.isoformat()}" if day else "per the secretaries table"
            code = codes.pop()
            s.add(g.province_by_code(code), _SECRETARY, f"{m.name}, named Bí thư, led it {when}", True)
            s.party.add(code)


def choose_province(s: Scores, national: str | None, g: Gazetteer) -> Evidence:
    """The province with clearly the most evidence, or None with the reason."""
    if not s.score:
        return Evidence(None)
    ranked = sorted(s.score.items(), key=lambda kv: kv[1], reverse=True)
    code, best = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    others = sum(v for _, v in ranked[1:] if v >= WEIGHT["party"])
    shown = {g.province_by_code(c).short_name: v for c, v in ranked[:PROVINCES_SHOWN]}
    if best < _ENOUGH:
        return Evidence(None, [f"evidence too weak: {shown}"])
    if national and best < ENOUGH_NATIONAL and code not in s.party:
        return Evidence(None, [f"a national story ('{national}') with weak evidence for one province: {shown}"])
    if code not in s.anchored and (national or best < _ENOUGH_UNANCHORED):
        return Evidence(None, [f"named only further down the text, not in its title or lead: {shown}"])
    if best < 2 * second:
        return Evidence(None, [f"evidence split between provinces: {shown}"])
    if best < others:
        return Evidence(None, [f"the text speaks of many provinces: {shown}"])
    runner_up = f", next {next(iter(list(shown)[1:]), 'none')} {second:g}" if len(ranked) > 1 else ""
    reasons = s.why[code][:REASONS_SHOWN] + [f"score {best:g}{runner_up}"]
    return Evidence(g.province_by_code(code).short_name, reasons)
