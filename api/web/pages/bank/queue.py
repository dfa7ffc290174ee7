"""The review queue: the applications awaiting this bank, by 48-hour deadline, filtered by state and product."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.deps import ClockDep, SessionDep
from api.web.pages.bank._shared import APP_STATES, KIND_LABELS, org_names
from api.web.render import render
from api.web.session import BankPage
from finance import service as fs
from finance.states import REVIEW_QUEUE_STATES


def queue(
    request: Request, user: BankPage, session: SessionDep, clock: ClockDep, state: str = "", kind: str = ""
) -> Response:
    """``GET /bank``: added to the package's router by hand (an empty path cannot come through an included one)."""
    now = clock.now()
    items = fs.review_queue(session, user.actor, now)
    counts = {flag: sum(1 for i in items if i.sla_status == flag) for flag in ("breached", "at_risk")}
    state = state if state in {s.value for s in REVIEW_QUEUE_STATES} else ""
    kind = kind if kind in KIND_LABELS else ""
    shown = [
        i
        for i in items
        if (not state or i.application.status.value == state) and (not kind or i.application.kind.value == kind)
    ]
    ids = [i.application.applicant_id for i in shown] + [i.application.core_enterprise_id for i in shown]
    context = {
        "items": shown,
        "total": len(items),
        "counts": counts,
        "state": state,
        "state_options": [(s.value, APP_STATES[s.value]) for s in REVIEW_QUEUE_STATES],
        "kind": kind,
        "kind_options": list(KIND_LABELS.items()),
        "kind_counts": {k: sum(1 for i in items if i.application.kind.value == k) for k in KIND_LABELS},
        "kind_labels": KIND_LABELS,
        "names": org_names(session, ids),
        "app_states": APP_STATES,
    }
    return render(request, "bank/queue.html", context, user=user)
