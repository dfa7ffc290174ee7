"""The revolving lines this bank set for SMEs (or declined), from the platform's suggestions."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from accounts.queries import user_display_names
from api.deps import ClockDep, SessionDep
from api.web.pages.bank._shared import LINE_STATES, org_names
from api.web.render import render
from api.web.session import BankPage
from finance.queries.credit_lines import sme_credit_line_list
from finance.queries.loans import open_loans_by_sme_line
from qianfan.clock import to_local
from qianfan.models import SmeCreditLine, SmeLineStatus

router = APIRouter()


@dataclass(frozen=True, slots=True)
class SmeLineRow:
    line: SmeCreditLine
    sme_name: str
    decided_by: str
    drawdowns_open: int

    @property
    def available_fen(self) -> int:
        return max(0, self.line.limit_fen - self.line.used_fen) if self.line.status == SmeLineStatus.ACTIVE else 0


@router.get("/credit-lines")
def credit_lines(request: Request, user: BankPage, session: SessionDep, clock: ClockDep) -> Response:
    """The revolving lines this bank set for SMEs (or declined), from the platform's suggestions."""
    lines = sme_credit_line_list(session, user.actor)
    names = org_names(session, [x.sme_id for x in lines])
    people = user_display_names(session, [x.decided_by_user_id for x in lines if x.decided_by_user_id is not None])
    open_counts = open_loans_by_sme_line(session, user.actor, [x.id for x in lines if x.id is not None])
    rows = [
        SmeLineRow(
            x,
            names.get(x.sme_id, "—"),
            people.get(x.decided_by_user_id, "—") if x.decided_by_user_id else "—",
            open_counts.get(x.id or 0, 0),
        )
        for x in lines
    ]
    rows.sort(key=lambda r: (r.line.status != SmeLineStatus.ACTIVE, r.sme_name))
    active = [r for r in rows if r.line.status == SmeLineStatus.ACTIVE]
    context = {
        "rows": rows,
        "line_states": LINE_STATES,
        "today": to_local(clock.now()).date(),
        "totals": {
            "active": len(active),
            "limit": sum(r.line.limit_fen for r in active),
            "used": sum(r.line.used_fen for r in active),
            "available": sum(r.available_fen for r in active),
        },
    }
    return render(request, "bank/credit_lines.html", context, user=user)
