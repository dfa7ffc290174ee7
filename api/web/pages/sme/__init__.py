"""The SME's portal (中小企业): offers (one by one or imported from a spreadsheet), the open orders matched to them
with the reasons, interest and intent orders, receivables, and the finance wizard with its 48-hour timeline.

Routes are thin: they read (scoped to the SME's own organisation), call one use case, and render.  Another
organisation's record answers with the 404 page, as the use cases report it.

One module per section; :data:`router` includes them in the order the paths must be tried (a static path such as
``/offers/import`` or ``/finance/quote`` before a parametrised one beside it).
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web.pages.sme import (
    applications,
    bulk_import,
    contracts,
    credit_lines,
    deals,
    finance,
    home,
    matches,
    offers,
    receivables,
    record_access,
)

router = APIRouter(prefix="/sme", include_in_schema=False)
# The portal's own page is ``/sme`` itself: a section router may not hold an empty path, so it is registered here.
router.get("")(home.home)
for _section in (
    offers,
    bulk_import,
    matches,
    deals,
    receivables,
    finance,
    applications,
    contracts,
    credit_lines,
    record_access,
):
    router.include_router(_section.router)
