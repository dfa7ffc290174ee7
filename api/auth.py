"""Who is calling: the bearer token → the user, the organisation and the ``Actor`` the use cases check.

Every ``/api/v1`` route except ``/health``, the taxonomy and ``/auth/token`` depends on :func:`get_principal`;
routes that only some kinds of organisation may use depend on :func:`require_kind`.  Records of another
organisation are answered with 404 by the queries and use cases themselves (``Actor.require_owner``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from accounts import auth
from api.deps import ClockDep, EngineDep
from qianfan.actors import Actor
from qianfan.errors import AuthenticationFailed
from qianfan.models import Organisation, OrgKind, User, UserRole

TOKEN_URL = "/api/v1/auth/token"

#: Declares the OAuth2 password flow in OpenAPI (the docs page's "Authorize" button); parsing is ours.
bearer_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    organisation: Organisation
    token: str

    @property
    def user_id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    @property
    def organisation_id(self) -> int:
        assert self.organisation.id is not None
        return self.organisation.id

    @property
    def kind(self) -> OrgKind:
        return self.organisation.kind

    @property
    def role(self) -> UserRole:
        return self.user.role

    @property
    def actor(self) -> Actor:
        return Actor.for_user(self.user, self.organisation)

    def is_(self, *kinds: OrgKind) -> bool:
        return self.organisation.kind in kinds


def get_principal(
    token: Annotated[str | None, Depends(bearer_scheme)], engine: EngineDep, clock: ClockDep
) -> Principal:
    if not token:
        raise AuthenticationFailed(
            "请先登录：请求需要携带 Authorization: Bearer 令牌",
            "Log in first: send an Authorization: Bearer token",
        )
    # A session of its own, closed at once: holding the request's session open here kept one pooled connection
    # per request for its whole length, beside the one its use case takes (pool starvation under load).
    with Session(engine) as session:
        user, organisation = auth.authenticate(session, token, clock.now())
    return Principal(user, organisation, token)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_kind(*kinds: OrgKind) -> Callable[[Principal], Principal]:
    """A dependency admitting only users of organisations of *kinds* (403 otherwise)."""

    def check(principal: PrincipalDep) -> Principal:
        principal.actor.require_kind(*kinds)
        return principal

    check.__name__ = "require_" + "_or_".join(k.value for k in kinds)
    return check


SmeDep = Annotated[Principal, Depends(require_kind(OrgKind.SME))]
LargeFirmDep = Annotated[Principal, Depends(require_kind(OrgKind.LARGE_FIRM))]
BankDep = Annotated[Principal, Depends(require_kind(OrgKind.BANK))]
OfficeDep = Annotated[Principal, Depends(require_kind(OrgKind.PROGRAMME_OFFICE))]
ProviderDep = Annotated[Principal, Depends(require_kind(OrgKind.SERVICE_PROVIDER))]
