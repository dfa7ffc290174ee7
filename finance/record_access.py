"""授权查询: on what grounds a bank may read an SME's platform record and suggested credit line (issue 16, item 4).

A pure rule (no database): the two grounds there are, how each is told to the bank, and which one is shown when
both hold.  The query that finds them is :func:`finance.service.record_access.may_read_record`; everything else —
a bank with no grounds — is answered as if the SME did not exist (404, its existence not disclosed).

- **applied**: the SME applied to the bank (a finance application to one of its products, any kind, in any
  state).  Dated by the first such application; it cannot be withdrawn: the bank holds the application.
- **granted**: the SME's administrator granted the bank access in its portal and has not revoked it.  Dated by
  the grant.

When both hold, the application is shown: it is the ground the SME cannot take back, so what the bank is told
stays true after a revocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from qianfan.clock import SHANGHAI, to_local


class GroundsKind(StrEnum):
    APPLIED = "applied"
    GRANTED = "granted"


@dataclass(frozen=True, slots=True)
class Grounds:
    """Why a bank may read an SME's record, and since when."""

    kind: GroundsKind
    since: datetime  # aware UTC: the first application to the bank, or the live grant

    def text(self, tz: ZoneInfo = SHANGHAI) -> tuple[str, str]:
        """The grounds as the bank reads them (Chinese, English), dated in ``tz``."""
        day = to_local(self.since, tz).date().isoformat()
        if self.kind == GroundsKind.APPLIED:
            return f"该企业于{day}向本行申请融资", f"The SME applied to this bank on {day}"
        return f"该企业于{day}授权本行查询其平台记录", f"The SME granted this bank access to its record on {day}"


def choose(applied_at: datetime | None, granted_at: datetime | None) -> Grounds | None:
    """The grounds to show: the application when there is one (it cannot be taken back), else the live grant."""
    if applied_at is not None:
        return Grounds(GroundsKind.APPLIED, applied_at)
    if granted_at is not None:
        return Grounds(GroundsKind.GRANTED, granted_at)
    return None
