"""Read models of accounts: the organisation directory, one organisation with its qualifications, and the names of
organisations and people that pages show beside the records they read elsewhere.

The directory is open to every logged-in user of every kind (names, parks and qualifications are public on the
platform), so these reads take no actor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from qianfan.errors import NotFound
from qianfan.models import Organisation, OrgKind, Qualification, User
from qianfan.paging import fetch_page

__all__ = [
    "OrganisationFilters",
    "organisation_by_id",
    "organisation_name",
    "organisation_names",
    "organisation_with_qualifications",
    "organisations_page",
    "user_display_names",
]


@dataclass(frozen=True, slots=True)
class OrganisationFilters:
    """Optional filters of the directory; ``name_contains`` matches the Chinese or the English name."""

    kind: OrgKind | None = None
    district: str | None = None
    cluster: str | None = None
    name_contains: str | None = None

    def conditions(self) -> list[Any]:
        conditions: list[Any] = []
        if self.kind is not None:
            conditions.append(col(Organisation.kind) == self.kind)
        if self.district is not None:
            conditions.append(col(Organisation.district) == self.district)
        if self.cluster is not None:
            conditions.append(col(Organisation.cluster) == self.cluster)
        if self.name_contains is not None:
            conditions.append(
                or_(
                    col(Organisation.name).icontains(self.name_contains, autoescape=True),
                    col(Organisation.name_en).icontains(self.name_contains, autoescape=True),
                )
            )
        return conditions


def organisations_page(
    session: Session, filters: OrganisationFilters, *, limit: int, offset: int
) -> tuple[list[Organisation], int]:
    """One page of the directory (by id) and the total matching *filters*."""
    rows, total = fetch_page(
        session,
        Organisation,
        limit=limit,
        offset=offset,
        conditions=filters.conditions(),
        order_by=[col(Organisation.id)],
    )
    return list(rows), total


def organisation_with_qualifications(
    session: Session, organisation_id: int
) -> tuple[Organisation, list[Qualification]]:
    """An organisation and its qualifications (by code), or a bilingual NotFound."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound.of("机构", "Organisation", organisation_id)
    qualifications = session.exec(
        select(Qualification)
        .where(col(Qualification.organisation_id) == organisation_id)
        .order_by(col(Qualification.code))
    ).all()
    return organisation, list(qualifications)


def organisation_by_id(session: Session, organisation_id: int) -> Organisation | None:
    """The organisation *organisation_id*, or ``None``."""
    return session.get(Organisation, organisation_id)


def organisation_name(session: Session, organisation_id: int) -> str:
    """The name of an organisation that exists (e.g. the owner of a record just written)."""
    organisation = session.get(Organisation, organisation_id)
    assert organisation is not None, organisation_id
    return organisation.name


def organisation_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The names of the organisations among *ids*, by id."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.exec(select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(wanted))).all()
    return {i: n for i, n in rows if i is not None}


def user_display_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """How the users among *ids* are shown (display name, else username), by id."""
    wanted = set(ids)
    if not wanted:
        return {}
    users = session.exec(select(User).where(col(User.id).in_(wanted))).all()
    return {u.id: u.display_name or u.username for u in users if u.id is not None}
