"""授权查询: which banks may read the SME's platform record and suggested credit line — the banks its administrator
granted (and the history of those grants), the banks that read it because the SME applied to them (not revocable),
and the form that grants one more.  Granting and revoking are the use cases of
:mod:`finance.service.record_access` (administrator only, each audited); a refusal comes back as the page's error
message in both languages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from api.deps import SessionDep
from api.routes.lists import PathId
from api.web.pages._forms import SmePost
from api.web.pages.sme._shared import org_names
from api.web.render import redirect, render
from api.web.session import SmePage
from finance import service as fs
from finance.service.record_access import GRANTERS

router = APIRouter()

PAGE = "/sme/record-access"


@router.get("/record-access")
def record_access_page(request: Request, user: SmePage, session: SessionDep) -> Response:
    """The SME's grants (live ones with a revoke button), the banks it applied to, and the form to grant a bank."""
    readers = fs.record_readers(session, user.actor)
    context = {
        "grants": readers.grants,
        "applied": readers.applied,
        "bank_options": [(str(i), name) for i, name in readers.grantable],
        "may_grant": user.user.role in GRANTERS,
    }
    return render(request, "sme/record_access.html", context, user=user)


def _bank_name(session: Session, bank_id: int) -> str:
    return org_names(session, [bank_id]).get(bank_id, "") or f"#{bank_id}"


@router.post("/record-access")
def grant(post: SmePost) -> Response:
    """Grant the chosen bank access → :func:`fs.grant_record_access` (idempotent for a bank already granted)."""
    raw = post.values("bank_id")["bank_id"]
    if not raw.isdigit() or len(raw) > 12:
        return redirect(PAGE, ("error", "请选择要授权的银行", "Choose the bank to grant access"))
    bank_id = int(raw)
    name = _bank_name(post.session, bank_id)
    ok = (f"已授权{name}查询本企业平台记录", f"{name} may now read your platform record")
    return post.act(fs.grant_record_access, bank_id, back=PAGE, ok=ok)


@router.post("/record-access/{bank_id}/revoke")
def revoke(bank_id: PathId, post: SmePost) -> Response:
    """Take a bank's access back → :func:`fs.revoke_record_access`; a bank without a live grant is an error message."""
    name = _bank_name(post.session, bank_id)
    ok = (f"已撤销{name}的查询授权", f"{name}'s access is revoked")
    return post.act(fs.revoke_record_access, bank_id, back=PAGE, ok=ok)
