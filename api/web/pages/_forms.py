"""What every page handler works with, in one place: the request, the user, the request's database session, the
engine and the clock (``Page``), plus the posted form for a POST (``Post``); and the one shape of a button — run the
use case, then go back with its message (``Post.act``).

The per-kind dependencies (``SmePost``, ``FirmGet`` …) check, in this order, the user's kind of organisation
(403 page), then the form's CSRF token (403 page), exactly as ``SmePage``/``FormDep`` did in the handlers' own
signatures.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.datastructures import FormData

from api.deps import ClockDep, EngineDep, SessionDep
from api.web.render import act, form_values
from api.web.session import FormDep, WebUser, page_for
from qianfan.clock import Clock
from qianfan.models import OrgKind
from qianfan.uow import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page:
    """A page request: who asks, and what it reads with."""

    request: Request
    user: WebUser
    session: Session
    engine: Engine
    clock: Clock

    def uow(self) -> UnitOfWork:
        """A unit of work for one use case (its own transaction, committed once)."""
        return UnitOfWork(self.engine, self.clock)


@dataclass(frozen=True, slots=True)
class Post(Page):
    """A form posted to a page, its CSRF token already checked."""

    form: FormData

    def values(self, *names: str) -> dict[str, str]:
        return form_values(self.form, *names)

    def act(
        self,
        use_case: Callable[..., T],
        *args: Any,
        back: str,
        ok: tuple[str, str],
        ok_url: str | Callable[[T], str] | None = None,
    ) -> Response:
        """Run ``use_case(uow, actor, *args)``; on success go to *ok_url* (default *back*) with *ok*, on a refusal
        back to *back* with the rule's own message."""
        return act(
            lambda: use_case(self.uow(), self.user.actor, *args),
            ok_url=back if ok_url is None else ok_url,
            ok=ok,
            back_url=back,
        )


def _get_for(kind: OrgKind) -> Any:
    def page(
        request: Request,
        user: Annotated[WebUser, page_for(kind)],
        session: SessionDep,
        engine: EngineDep,
        clock: ClockDep,
    ) -> Page:
        return Page(request, user, session, engine, clock)

    return Depends(page)


def _post_for(get: Any) -> Any:
    def post(page: Annotated[Page, get], form: FormDep) -> Post:
        return Post(page.request, page.user, page.session, page.engine, page.clock, form)

    return Depends(post)


_SME, _FIRM, _BANK = _get_for(OrgKind.SME), _get_for(OrgKind.LARGE_FIRM), _get_for(OrgKind.BANK)

SmeGet = Annotated[Page, _SME]
SmePost = Annotated[Post, _post_for(_SME)]
FirmGet = Annotated[Page, _FIRM]
FirmPost = Annotated[Post, _post_for(_FIRM)]
BankGet = Annotated[Page, _BANK]
BankPost = Annotated[Post, _post_for(_BANK)]
