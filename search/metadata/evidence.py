"""The values metadata extraction hands out: one :class:`Evidence` a field, a :class:`Metadata` an article."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

__all__ = ["Evidence", "Metadata"]


@dataclass
class Evidence:
    """One field's value with the reasons it was chosen."""

    value: object
    evidence: list[str] = field(default_factory=list)


@dataclass
class Metadata:
    """What :func:`search.metadata.extract` found; ``None`` where the text does not tell."""

    title: Evidence
    date: Evidence  # value: datetime.date
    province: Evidence  # value: short name, "Điện Biên"
    province_2025: Evidence
    secretary: Evidence
    outlet: Evidence
    url: Evidence
    conference: Evidence  # value: int, the "Hội nghị lần thứ N"
    term: Evidence  # value: Roman numeral, "XIV" from "khóa XIV"
    author: Evidence

    def values(self) -> dict[str, object]:
        """Field name → value (dates as ISO strings)."""
        out = {}
        for name, ev in asdict(self).items():
            value = ev["value"]
            out[name] = value.isoformat() if isinstance(value, date) else value
        return out

    def as_json(self) -> dict[str, dict[str, object]]:
        """Field name → {"value", "evidence"}, JSON-ready."""
        values = self.values()
        return {name: {"value": values[name], "evidence": getattr(self, name).evidence}
                for name in values}
