"""The programme office's finance figures by product (issue 8): receivables finance, contract (order) finance and
drawdowns on revolving lines, side by side — applications, disbursements, what is outstanding and repaid, and the
application → disbursement turnaround against the 48-hour promise.

Read-only, exact: money in integer fen, hours as ``Decimal`` to one decimal (half-even).  How each figure counts,
for a period ``[start, end)`` (both optional, timezone-aware):

- ``applications``: applications of the kind submitted in the period (``FinanceApplication.submitted_at``), in
  any state since;
- ``disbursed_count`` / ``disbursed_fen``: loans of the kind disbursed in the period (``Loan.disbursed_at``) and
  their principal;
- ``outstanding_fen``: principal outstanding *now* over every loan of the kind not repaid, whatever the period;
- ``repaid_fen``: principal repaid so far on the loans disbursed in the period;
- ``median_hours`` / ``p95_hours``: percentiles of application → disbursement over those loans (linear
  interpolation between closest ranks, as the office's turnaround figures: :func:`reports.stats.percentile`);
  ``None`` when nothing was disbursed;
- ``within_48h``: of those loans, how many were disbursed at most 48 hours after the application.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from qianfan.clock import ensure_utc
from qianfan.models import FinanceApplication, FinanceKind, Loan, LoanStatus
from reports.stats import DISBURSAL_PROMISE, percentile

#: Each product's name in the office's reports (Chinese, English), in the order the rows are given.
PRODUCT_LABELS: dict[FinanceKind, tuple[str, str]] = {
    FinanceKind.RECEIVABLE: ("应收账款融资", "receivables finance"),
    FinanceKind.CONTRACT: ("订单融资", "contract (order) finance"),
    FinanceKind.CREDIT_LINE: ("循环额度（流水贷）", "revolving line drawdowns"),
}

_MICRO = timedelta(microseconds=1)
_MICROS_PER_HOUR = 3_600_000_000
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class ProductFigures:
    kind: str  # FinanceKind value
    label_zh: str
    label_en: str
    applications: int  # submitted in the period
    disbursed_count: int
    disbursed_fen: int  # principal disbursed in the period
    outstanding_fen: int  # principal outstanding now (all loans of the kind not repaid)
    repaid_fen: int  # principal repaid on the loans disbursed in the period
    median_hours: Decimal | None  # application → disbursement, median, one decimal
    p95_hours: Decimal | None
    within_48h: int  # disbursed within 48 h of submission


def _hours(micros: Fraction | None) -> Decimal | None:
    if micros is None:
        return None
    hours = Decimal(micros.numerator) / Decimal(micros.denominator * _MICROS_PER_HOUR)
    return hours.quantize(_TENTH, rounding=ROUND_HALF_EVEN)


def _period(column: Any, start: datetime | None, end: datetime | None) -> list[Any]:
    conditions = []
    if start is not None:
        conditions.append(column >= ensure_utc(start))
    if end is not None:
        conditions.append(column < ensure_utc(end))
    return conditions


def finance_by_product(
    session: Session, start: datetime | None = None, end: datetime | None = None
) -> list[ProductFigures]:
    """One row per :class:`FinanceKind` (zeros when it has nothing), in the order of :data:`PRODUCT_LABELS`."""
    applications: dict[str, int] = {
        str(kind): int(n)
        for kind, n in session.exec(
            select(FinanceApplication.kind, sa.func.count(col(FinanceApplication.id)))
            .where(*_period(col(FinanceApplication.submitted_at), start, end))
            .group_by(col(FinanceApplication.kind))
        ).all()
    }
    outstanding: dict[str, int] = {
        str(kind): int(total)
        for kind, total in session.exec(
            select(Loan.kind, sa.func.coalesce(sa.func.sum(Loan.principal_outstanding_fen), 0))
            .where(col(Loan.status) != LoanStatus.REPAID)
            .group_by(col(Loan.kind))
        ).all()
    }
    # One row per loan disbursed in the period: the waits feed the percentiles (computed here, exactly, rather than
    # with the two databases' different percentile functions).
    disbursed = session.exec(
        select(Loan, FinanceApplication.submitted_at)
        .join(FinanceApplication, col(FinanceApplication.id) == col(Loan.application_id))
        .where(*_period(col(Loan.disbursed_at), start, end))
    ).all()
    waits: dict[str, list[int]] = {}
    principal: dict[str, int] = {}
    repaid: dict[str, int] = {}
    for loan, submitted_at in disbursed:
        key = str(loan.kind)
        wait = ensure_utc(loan.disbursed_at) - ensure_utc(submitted_at)
        waits.setdefault(key, []).append(wait // _MICRO)
        principal[key] = principal.get(key, 0) + loan.principal_fen
        repaid[key] = repaid.get(key, 0) + loan.principal_fen - loan.principal_outstanding_fen
    promise = DISBURSAL_PROMISE // _MICRO
    rows = []
    for kind, (zh, en) in PRODUCT_LABELS.items():
        key = kind.value
        micros = waits.get(key, [])
        rows.append(
            ProductFigures(
                kind=key,
                label_zh=zh,
                label_en=en,
                applications=applications.get(key, 0),
                disbursed_count=len(micros),
                disbursed_fen=principal.get(key, 0),
                outstanding_fen=outstanding.get(key, 0),
                repaid_fen=repaid.get(key, 0),
                median_hours=_hours(percentile(micros, Fraction(1, 2))),
                p95_hours=_hours(percentile(micros, Fraction(95, 100))),
                within_48h=sum(1 for m in micros if m <= promise),
            )
        )
    return rows
