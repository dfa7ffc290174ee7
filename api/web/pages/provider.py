"""The service provider's page: its service packages (服务包) and mentors (创业导师), and publishing a package."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import ClockDep, EngineDep, SessionDep
from api.web.render import field_errors, form_values, redirect, render
from api.web.session import FormDep, ProviderPage
from market import service as marketplace
from market.queries import mentors_of, service_packages_of
from qianfan.errors import InvalidInput
from qianfan.uow import UnitOfWork

router = APIRouter(prefix="/provider", include_in_schema=False)

PACKAGE_FIELDS = ("title", "category", "value", "description")


def _page(request: Request, user: ProviderPage, session: SessionDep, **context: object) -> Response:
    packages = service_packages_of(session, user.organisation_id)
    mentors = mentors_of(session, user.organisation_id)
    status = int(context.pop("status_code", 200))  # type: ignore[call-overload]
    page = {"packages": packages, "mentors": mentors, "values": {}, "errors": {}, **context}
    return render(request, "provider/home.html", page, user=user, status_code=status)


@router.get("")
def home(request: Request, user: ProviderPage, session: SessionDep) -> Response:
    return _page(request, user, session)


@router.post("/packages")
def publish_package(
    request: Request, user: ProviderPage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    values = form_values(form, *PACKAGE_FIELDS)
    try:
        package = marketplace.publish_service_package(UnitOfWork(engine, clock), user.actor, values)
    except InvalidInput as exc:
        return _page(request, user, session, values=values, errors=field_errors(exc), status_code=422)
    return redirect(
        "/provider", ("ok", f"服务包“{package.title}”已发布", f"Service package “{package.title}” published")
    )
