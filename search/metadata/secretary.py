"""The province's Party secretary: the person named Bí thư, confirmed by the secretaries table."""

from __future__ import annotations

from datetime import date

from ..gazetteer import Gazetteer, Province, SecretaryTerm, name_key, term_years
from ..text import display_tones, fold, nfc
from .dates import LAST_YEAR
from .evidence import Evidence
from .people import Mention
from .province import ENOUGH_NATIONAL, WEIGHT, Scores

__all__ = ["choose_secretary"]


def _past_term(m: Mention, province: Province, day: date | None, g: Gazetteer) -> bool:
    """True when the post is named with a term that is over ("Bí thư … nhiệm kỳ 2010-2015"):
    before the article's year, or (undated) no later than the table's first record for the province."""
    if m.term_end is None:
        return False
    if day is not None:
        return m.term_end < day.year
    starts = [_term_start_year(t) for t in g.secretaries
              if t.province_code == province.code and t.scope == "province_pre2025"]
    return bool(starts) and m.term_end <= min(starts)


def _term_start_year(term: SecretaryTerm) -> int:
    """The year `term` began: its recorded start, else its term's first year, else far in the future."""
    years = term_years(term.term)
    return term.start.year if term.start else years[0] if years else LAST_YEAR


def _fits(m: Mention, province: Province, day: date | None) -> bool:
    """True when `m` may name the secretary of `province` (not a city's, another's, a former one)."""
    if m.former or (m.stated is not None and m.stated.code != province.code):
        return False
    # "Thành ủy" of a provincial city is a district-level post.
    return not m.committee or (m.committee == "thành") == province.is_city_on(day)


def choose_secretary(province: Province | None, day: date | None, mentions: list[Mention],
                     s: Scores, national: bool, g: Gazetteer) -> Evidence:
    """The person named Bí thư of `province`, confirmed by the table or else named unambiguously."""
    if province is None:
        return Evidence(None)
    in_office = g.secretary_on(province, day) if day else \
        [t for t in g.secretaries if t.province_code == province.code and t.scope == "province_pre2025"]
    by_key = {name_key(t.name): t for t in in_office}
    # The same letters without their marks: a misspelling of the table's person ("Nghi" for "Nghị").
    by_letters = {fold(name_key(t.name)): t for t in in_office}
    # "Bí thư Thành ủy X" without a province is this province's only when no other province
    # is in view, and, in a national story, when the province itself is the clear subject.
    alone = sum(v >= WEIGHT["party"] for v in s.score.values()) == 1
    clear = alone and (not national or province.code in s.party or s.score[province.code] >= ENOUGH_NATIONAL)
    untabled: dict[str, Mention] = {}
    for m in mentions:
        if not _fits(m, province, day):
            continue
        if term := by_key.get(name_key(m.name)):
            return Evidence(term.name, [f"named Bí thư: '{m.quote}'",
                                        f"secretary of {province.short_name} per {term.source}"])
        if term := by_letters.get(fold(name_key(m.name))):
            return Evidence(term.name, [f"named Bí thư: '{m.quote}'", f"'{m.name}' taken as the table's "
                                        f"{term.name}, secretary of {province.short_name} per {term.source}"])
        if g.terms_of(m.name):
            continue  # the table knows this person, but not as this province's secretary then
        if m.stated is not None or clear:
            # A past term stays in the count: with it, the text names more than one secretary.
            untabled.setdefault(name_key(m.name), m)
    # A dated table entry in office that day outweighs an unknown name; an undated one
    # ("2015-2020", no start) only says the person held the post at some time in the term.
    known_then = day is not None and any(t.start is not None for t in in_office)
    if len(untabled) == 1 and not known_then:
        m = next(iter(untabled.values()))
        if _past_term(m, province, day, g):
            return Evidence(None, [f"{m.name} is named Bí thư for a term that is over: '{m.quote}'"])
        return Evidence(display_tones(nfc(m.name)), [f"named Bí thư: '{m.quote}'", "not in the secretaries table"])
    if len(untabled) > 1:
        return Evidence(None, [f"several people named Bí thư: {', '.join(m.name for m in untabled.values())}"])
    return Evidence(None)
