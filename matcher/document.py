"""What the matcher ranks: a :class:`Document` (an offer, order, service package or mentor) with a JSON id.

The lowest module of the engine: the index (:mod:`matcher.corpus`), the dense view (:mod:`matcher.dense`) and the
ranker (:mod:`matcher.rank`) all speak in these values; it imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DocId", "Document"]

DocId = int | str


@dataclass(frozen=True, slots=True)
class Document:
    """An offer (or service package, mentor, order — whatever is being ranked) as the index sees it."""

    id: DocId
    title: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    category: str | None = None
    district: str | None = None
    qualifications: tuple[str, ...] = ()
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    capacity: int | None = None
    #: The SME (organisation) behind the offer: near-duplicate offers of one owner are folded into one match.
    owner: int | str | None = None
    #: The owner's record on the platform, 0–1 (signed intent orders, delivered contracts): a rerank feature.
    record: float = 0.0

    def text(self) -> str:
        return " ".join(p for p in (self.title, " ".join(self.keywords), self.description) if p)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "keywords": list(self.keywords),
            "category": self.category,
            "district": self.district,
            "qualifications": list(self.qualifications),
            "price_min_fen": self.price_min_fen,
            "price_max_fen": self.price_max_fen,
            "capacity": self.capacity,
            "owner": self.owner,
            "record": self.record,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Document:
        return cls(
            id=d["id"],
            title=d.get("title") or "",
            description=d.get("description") or "",
            keywords=tuple(d.get("keywords") or ()),
            category=d.get("category"),
            district=d.get("district"),
            qualifications=tuple(d.get("qualifications") or ()),
            price_min_fen=d.get("price_min_fen"),
            price_max_fen=d.get("price_max_fen"),
            capacity=d.get("capacity"),
            owner=d.get("owner"),
            record=float(d.get("record") or 0.0),
        )
