"""The large firm's portal (大企业 / core enterprise), one module per section: home figures, orders (post, edit,
close), the ranked suppliers of an order with their explanations, side-by-side comparison, shortlist / rule out and
proposing intent orders, deals (sign, cancel), confirmation (确权) of the receivables it owes, repayment of the loans
on them, and its contracts' settlement with bank statement imports.

Routes are thin: each write calls one use case (``market.service``, ``finance.service``); reads are
small queries scoped to the firm's own organisation, or the matcher's live ranking (``rank_offers_for_order``).
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web.pages.firm import contracts, deals, home, matches, orders, receivables, repayments, statements
from api.web.pages.firm._shared import SETTLEMENT_LABELS, settlement_rows

__all__ = ["SETTLEMENT_LABELS", "router", "settlement_rows"]

router = APIRouter(prefix="/firm", include_in_schema=False)
# The home page is the prefix itself (``/firm``): FastAPI includes no router route with an empty path, so it is
# added here. The sections follow in the order of the old single module, static paths before parametrised ones.
router.add_api_route("", home.home, methods=["GET"])
for section in (orders, matches, deals, receivables, repayments, contracts, statements):
    router.include_router(section.router)
