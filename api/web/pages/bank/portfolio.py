"""The bank's exposure per core enterprise against the credit lines it granted them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.web.render import render
from api.web.session import BankPage
from finance.queries.loans import open_loans_by_core_enterprise
from finance.queries.products import credit_lines_with_core_names

router = APIRouter()

#: Utilisation of a credit line above which the portfolio page highlights it.
HIGH_UTILISATION = Decimal("0.8")


@dataclass(frozen=True, slots=True)
class LineRow:
    """One core enterprise's line at this bank: what is used, by loans and by applications still open."""

    core_enterprise_id: int
    name: str
    limit_fen: int
    used_fen: int
    utilisation: Decimal
    loans: int
    loans_fen: int
    updated_at: datetime

    @property
    def remaining_fen(self) -> int:
        return self.limit_fen - self.used_fen

    @property
    def reserved_fen(self) -> int:
        """Reserved by applications not yet disbursed (the line also carries the loans' unpaid principal)."""
        return max(0, self.used_fen - self.loans_fen)

    @property
    def high(self) -> bool:
        return self.utilisation > HIGH_UTILISATION

    @property
    def meter(self) -> str:
        return f"{self.utilisation * 100:.1f}"


@router.get("/portfolio")
def portfolio(request: Request, user: BankPage, session: SessionDep) -> Response:
    lines = credit_lines_with_core_names(session, user.actor)
    outstanding = open_loans_by_core_enterprise(session, user.actor)
    rows = []
    for line, name in lines:
        utilisation = Decimal(line.used_fen) / Decimal(line.limit_fen) if line.limit_fen else Decimal(0)
        loans_n, loans_fen = outstanding.get(line.core_enterprise_id, (0, 0))
        rows.append(
            LineRow(
                core_enterprise_id=line.core_enterprise_id,
                name=name,
                limit_fen=line.limit_fen,
                used_fen=line.used_fen,
                utilisation=utilisation,
                loans=loans_n,
                loans_fen=loans_fen,
                updated_at=line.updated_at,
            )
        )
    rows.sort(key=lambda r: (-r.utilisation, r.name))
    limit_total = sum(r.limit_fen for r in rows)
    used_total = sum(r.used_fen for r in rows)
    context = {
        "rows": rows,
        "limit_total": limit_total,
        "used_total": used_total,
        "utilisation_total": Decimal(used_total) / Decimal(limit_total) if limit_total else Decimal(0),
        "high_count": sum(1 for r in rows if r.high),
        "threshold": HIGH_UTILISATION,
    }
    return render(request, "bank/portfolio.html", context, user=user)
