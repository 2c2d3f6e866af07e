"""The query language: plain words, "quoted phrases", AND / OR / NOT, -word, field:value.

:func:`parse` never fails: anything malformed (a stray quote, a dangling operator) is read
as plain words. A backend (``search/backends/``) evaluates the parsed query over the three streams of
each text field:

* a syllable typed with diacritics matches its exact (canonical-tone) form strongly and its
  folded form weakly, so "bí thư" ranks "bí thư" above "bị thu";
* a syllable typed without diacritics matches the folded stream ("tinh uy" finds "Tỉnh ủy");
* adjacent syllables also look up pyvi's compound words ("bi_thu") as an optional boost, so
  a real word outranks the same syllables scattered;
* abbreviations and their expansions find each other (``search/abbreviations.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field as dataclass_field

from .abbreviations import abbreviations_in, expansions_of
from .scoring import TEXT_FIELDS, stream
from .text import fold, has_diacritics, nfc, normalize_token, syllable_texts

__all__ = ["Clause", "ParsedQuery", "parse", "require_all", "compound_terms", "highlight_terms", "STOPWORDS"]

# Words so common in this domain that they do not help ranking on their own. They are not
# required in an AND query and not scored in an OR one, but phrases keep them.
STOPWORDS = frozenset("""và của các là có được cho với về đã này những một trong để khi thì
từ theo tại trên đến cũng như nhiều đó vào ra nên do bị sẽ đang rằng mà hay hoặc nhưng
""".split())

AND_LIMIT = 4  # up to this many content words, every one is required


@dataclass
class Clause:
    """One unit of the query: a word, a phrase, or a filter (province:/secretary:)."""

    words: list[str]  # syllables as typed (NFC)
    phrase: bool = False
    negated: bool = False
    field: str | None = None  # "title", "province", "secretary" or None (all text)
    alternatives: list[list[str]] = dataclass_field(default_factory=list)  # abbreviation forms

    @property
    def stop(self) -> bool:
        return not self.phrase and len(self.words) == 1 and normalize_token(self.words[0]) in STOPWORDS


@dataclass
class ParsedQuery:
    """Groups of clauses: clauses in a group are ANDed, groups are ORed ("a b OR c").

    `accented` is True when the user typed any diacritic: then every word is taken as
    written ("Sơn La": "la" is not "là", "hội" is not "Hợi"). `loose` widens such a query
    to the folded forms too, exact ones still first: the fallback when the words as written
    find (almost) nothing."""

    groups: list[list[Clause]]
    filters: dict[str, list[str]]
    accented: bool = False
    loose: bool = False

    @property
    def reading(self) -> str:
        """How words match: "exact" (as written), "loose" (as written first, then folded), "folded"."""
        return "folded" if not self.accented else "loose" if self.loose else "exact"

    @property
    def clauses(self) -> list[Clause]:
        return [c for g in self.groups for c in g]

    @property
    def empty(self) -> bool:
        return not any(not c.negated for c in self.clauses)


_TOKEN = re.compile(r'(-?)(?:(title|province|secretary):)?(?:"([^"]*)"|(\S+))')
_FIELDS = {"title", "province", "secretary"}


def parse(text: str) -> ParsedQuery:
    """Read a user's query; malformed syntax falls back to plain words, never an error."""
    text = nfc(text or "").strip()
    if text.count('"') % 2:
        text = text.replace('"', " ")  # a stray quote: read the words as plain terms
    groups: list[list[Clause]] = [[]]
    filters: dict[str, list[str]] = {}
    negate_next = False
    for m in _TOKEN.finditer(text):
        minus, fieldname, quoted, bare = m.groups()
        if quoted is None and bare in ("AND", "&&"):
            continue
        if quoted is None and bare in ("OR", "||"):
            if groups[-1]:
                groups.append([])
            continue
        if quoted is None and bare == "NOT":
            negate_next = True
            continue
        raw = quoted if quoted is not None else bare
        if fieldname in ("province", "secretary"):
            if raw.strip():
                filters.setdefault(fieldname, []).append(raw.replace("-", " ").strip())
            continue
        words = syllable_texts(raw)
        if not words:
            continue
        negated = bool(minus) or negate_next
        negate_next = False
        phrase = quoted is not None or len(words) > 1  # "23-NQ/TU", "TP.HCM": one unit
        if phrase or negated or fieldname:
            groups[-1].append(Clause(words, phrase=phrase, negated=negated, field=fieldname,
                                     alternatives=expansions_of(words)))
        else:
            groups[-1].append(Clause(words))
    groups = [g for g in groups if g]
    for group in groups:
        _mark_abbreviations(group)
    if groups and all(c.negated for c in groups[-1]) and len(groups) > 1:
        groups[-2].extend(groups.pop())  # "a OR -b": attach the negation to its neighbour
    return ParsedQuery(groups, filters, accented=has_diacritics(text))


def _mark_abbreviations(group: list[Clause]) -> None:
    """Give runs of plain words that spell an expansion ("ủy ban nhân dân") their abbreviation."""
    plain = [i for i, c in enumerate(group) if not c.phrase and not c.negated and not c.field]
    words = [group[i].words[0] for i in plain]
    for start, end, others in reversed(abbreviations_in(words)):
        if end - start == 1:
            group[plain[start]].alternatives = others
            continue
        first = group[plain[start]]
        merged = Clause([w for i in plain[start:end] for w in group[i].words], phrase=True,
                        alternatives=others)
        for i in reversed(plain[start + 1:end]):
            del group[i]
        group[group.index(first)] = merged


def content_clauses(parsed: ParsedQuery) -> list[Clause]:
    """The clauses that must match: positive, not field filters, not stop words."""
    return [c for c in parsed.clauses if not c.negated and not c.stop]


def require_all(parsed: ParsedQuery) -> bool:
    """Every content word is required up to ``AND_LIMIT`` of them; longer queries rank by
    how many (and how rare) of their words a document has."""
    return len(content_clauses(parsed)) <= AND_LIMIT


def compound_terms(clauses: list[Clause], exact: bool) -> list[tuple[str, str, str]]:
    """(field, its compound stream, pyvi word) spelled by adjacent syllables ("bí_thư", or "bi_thu").

    They are optional: a document that has the syllables as one word ranks higher."""
    words = [normalize_token(w) for c in clauses if not c.negated and not c.field for w in c.words]
    if not exact:
        words = [fold(w) for w in words]
    terms = []
    for n in (2, 3, 4):
        for i in range(len(words) - n + 1):
            compound = "_".join(words[i:i + n])
            terms.extend((name, stream(name, "compound"), compound) for name in TEXT_FIELDS)
    return terms


def highlight_terms(parsed: ParsedQuery) -> tuple:
    """What to mark: (accented words, folded words, phrases with whether to match them
    exactly, the query's runs of plain words in order, whether the query is accented, whether
    other tones may be marked when the words as written are not in a text: not when the
    query matched them as written only).

    The runs let the highlighter mark what matched as a unit ("Bí thư Tỉnh ủy"), not every
    lone "tỉnh" or the "uỷ" of "Uỷ viên"."""
    exact: set[str] = set()
    loose: set[str] = set()
    phrases: list[tuple[list[str], bool]] = []
    runs: list[tuple[str, ...]] = []
    for group in parsed.groups:
        run: list[str] = []
        for clause in group:
            if clause.negated or clause.field:  # a run of plain words ends here
                runs.append(tuple(run))
                run = []
                if clause.negated:
                    continue
            run.extend(normalize_token(w) for w in clause.words)
            for form in [clause.words] + clause.alternatives:
                if len(form) > 1:
                    phrases.append((form, parsed.accented))
                elif parsed.accented:
                    exact.add(normalize_token(form[0]))
                else:
                    loose.add(fold(normalize_token(form[0])))
        runs.append(tuple(run))
    return exact, loose, phrases, tuple(r for r in runs if r), parsed.accented, parsed.reading != "exact"
