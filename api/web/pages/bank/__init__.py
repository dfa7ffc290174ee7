"""The bank's pages (银行), one module per section: the review queue by 48-hour deadline, one application with
everything a reviewer needs (receivable and its confirmation, the automatic risk report, both parties' platform
history, the stage timeline) and its decisions — start review, approve, reject, ask for information, disburse
exactly once — then the bank's loans, its exposure per core enterprise against the credit lines, the suggested
revolving lines of SMEs and the lines it set.

Every decision is one use case of :mod:`finance.service`; the use cases check the user's role (reviewer, approver)
and the application's state, and a refusal is shown in both languages.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web.pages.bank import application, credit_lines, decisions, loans, portfolio, queue, suggestions

__all__ = ["router"]

router = APIRouter(prefix="/bank", include_in_schema=False)
# The review queue is the prefix itself (``/bank``): FastAPI includes no router route with an empty path, so it is
# added here. The sections follow in the order of the old single module, static paths before parametrised ones.
router.add_api_route("", queue.queue, methods=["GET"])
for section in (application, decisions, loans, portfolio, suggestions, credit_lines):
    router.include_router(section.router)
