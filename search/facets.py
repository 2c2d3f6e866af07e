"""The facet registry: every facet of the product is declared here, once.

A :class:`Facet` says what a reader of the page, the API and the CLI sees of it (its name,
the Vietnamese label and filter placeholder), how a value typed in any spelling becomes the
indexed one, how its values are ordered, and how an article's value is read from its
extracted metadata. The index schema, the indexer, ``SearchRequest.filters``, the API
parameters, the CLI options and the page's facet boxes all come from :data:`FACETS`; nothing
else lists the facets.

Adding a facet is one class (or one instance of :class:`Facet`) and one :func:`register`
call; an index built before it has no column for it, so it is refused as stale until
``vnsearch reindex --full`` (the index records the facets it was built with).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator, Mapping

from .errors import BadQuery
from .gazetteer import gazetteer, key, name_key
from .text import fold, nfc

__all__ = ["Facet", "FACETS", "UNKNOWN", "UNKNOWN_LABEL", "register", "registered", "is_unknown",
           "MAX_VALUE_CHARS", "MAX_VALUES"]

UNKNOWN = "_"  # the indexed value of a facet the article does not tell
UNKNOWN_LABEL = "Không rõ"  # how it is shown, and may be typed
MAX_VALUE_CHARS = 200  # a filter value longer than this names nothing
MAX_VALUES = 20  # values of one facet a request may filter by (each makes links on the page)


def is_unknown(value: str) -> bool:
    """Whether a typed filter value asks for articles that do not tell ("Không rõ")."""
    return fold(value.strip().lower()) in ("khong ro", UNKNOWN, "unknown")


@dataclass(frozen=True)
class Facet:
    """One facet. Subclasses refine spelling, order and type-ahead names.

    `read` takes the article's metadata values (``Metadata.values()``: field name → value)
    and returns the facet's value, or None when the article does not tell."""

    name: str  # the API/URL parameter and the index column ("province_2025")
    label: str  # the page's heading for it ("Tỉnh sau sáp nhập 2025")
    read: Callable[[Mapping[str, object]], object]
    placeholder: str | None = None  # the filter box's hint; None: no filter box
    help: str = ""  # the CLI option's help text
    on_document: bool = True  # shown among an article's facts
    of_date: bool = False  # read from the date: its "Không rõ" are the undated articles

    @property
    def option(self) -> str:
        """The CLI option: ``--province-2025``."""
        return "--" + self.name.replace("_", "-")

    def value_of(self, metadata: Mapping[str, object]) -> str:
        """The indexed value of an article (UNKNOWN when it does not tell)."""
        value = self.read(metadata)
        return str(value) if value not in (None, "") else UNKNOWN

    def check(self, raw: str) -> None:
        """Raise BadQuery when `raw` cannot be a value of this facet."""
        if len(raw) > MAX_VALUE_CHARS:
            raise BadQuery(f"a '{self.name}' value is too long ({len(raw)} characters; "
                           f"at most {MAX_VALUE_CHARS})", parameter=self.name, reason="too_long")

    def canonical(self, raw: str) -> str:
        """The indexed value meant by a filter typed in any spelling."""
        value = nfc(raw).strip()
        return UNKNOWN if is_unknown(value) else self.spelled(value)

    def spelled(self, value: str) -> str:
        """The canonical spelling of a known value (the facet's own rule; default: as typed)."""
        return value

    def same(self, raw: str, value: str) -> bool:
        """Whether a filter as typed ("dien bien", "Tỉnh Điện Biên") names a shown value."""
        if value == UNKNOWN_LABEL:
            return is_unknown(raw)
        return key(raw) == key(value) or self.canonical(raw) == value

    def matching(self, value: str, indexed: list[str]) -> list[str]:
        """The indexed values a canonical filter value stands for (default: itself)."""
        return [value]

    def names(self) -> tuple[str, ...]:
        """Known values to suggest while typing in the filter box (besides the counted ones)."""
        return ()

    def merge_key(self, value: str) -> str:
        """Values with the same key are one value, counted together (default: themselves)."""
        return value

    def order(self, value: str, count: int) -> tuple:
        """Sort key of a value in the facet's list: most results first, "Không rõ" last."""
        return (-count, value == UNKNOWN_LABEL, value)


class ProvinceFacet(Facet):
    """A province before the 2025 merger, by its short name ("Điện Biên", "TP. Hồ Chí Minh")."""

    def spelled(self, value: str) -> str:
        p = gazetteer().province(value)
        return p.short_name if p else value

    def names(self) -> tuple[str, ...]:
        return tuple(p.short_name for p in gazetteer().provinces)


class Province2025Facet(Facet):
    """One of the 34 units after 1 July 2025."""

    def spelled(self, value: str) -> str:
        u = gazetteer().unit_2025(value)
        return u.short_name if u else value

    def names(self) -> tuple[str, ...]:
        return tuple(u.short_name for u in gazetteer().units_2025)


@lru_cache(maxsize=8192)
def _person(name: str) -> str:
    """A name without marks, case or extra spaces (the index's few hundred names, asked by
    every search that counts them: cached)."""
    return fold(name_key(name))


class SecretaryFacet(Facet):
    """A provincial Party secretary, in the reference table's spelling when it has them."""

    def spelled(self, value: str) -> str:
        terms = gazetteer().terms_of(value)
        return terms[0].name if terms else " ".join(w.capitalize() for w in value.split())

    def merge_key(self, value: str) -> str:
        """One person whatever the marks: "Phạm Quang Nghi" is "Phạm Quang Nghị" misspelt (a
        filter on either finds both, see :meth:`matching`, so they are counted as one)."""
        return _person(value)

    def matching(self, value: str, indexed: list[str]) -> list[str]:
        """Indexed names equal to `value` in any tone style or without diacritics."""
        wanted = _person(value)
        return [v for v in indexed if _person(v) == wanted] or [value]

    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.name for s in gazetteer().secretaries))


class YearFacet(Facet):
    """The year of publication; newest first, "Không rõ" last."""

    def check(self, raw: str) -> None:
        super().check(raw)
        if not (re.fullmatch(r"\d{4}", raw.strip()) or is_unknown(raw)):
            raise BadQuery(f"'year' must be a year like 2023 (got {raw!r})", parameter="year")

    def order(self, value: str, count: int) -> tuple:
        return (value == UNKNOWN_LABEL, -int(value) if value.isdigit() else 0)


FACETS: dict[str, Facet] = {}


def register(facet: Facet) -> Facet:
    """Add `facet` to the registry (after the ones already there)."""
    if facet.name in FACETS:
        raise ValueError(f"a facet named {facet.name!r} is already registered")
    FACETS[facet.name] = facet
    return facet


@contextmanager
def registered(facet: Facet) -> Iterator[Facet]:
    """`facet` registered for the duration of a ``with`` block (tests, experiments)."""
    register(facet)
    try:
        yield facet
    finally:
        FACETS.pop(facet.name, None)


register(ProvinceFacet("province", "Tỉnh, thành", lambda m: m.get("province"),
                       placeholder="Gõ tên tỉnh…", help="Only this province (any spelling; repeatable)."))
register(Province2025Facet("province_2025", "Tỉnh sau sáp nhập 2025", lambda m: m.get("province_2025"),
                           placeholder="Gõ tên tỉnh…", help="Only this post-2025 province (repeatable)."))
register(SecretaryFacet("secretary", "Bí thư Tỉnh ủy", lambda m: m.get("secretary"),
                        placeholder="Gõ tên bí thư…",
                        help="Only articles with this provincial secretary (repeatable)."))
register(YearFacet("year", "Năm", lambda m: (m.get("date") or "")[:4] or None,
                   help="Only this year (repeatable; \"Không rõ\": undated, also with --from/--to).",
                   on_document=False, of_date=True))
