"""授权查询: which banks may read an SME's platform record and suggested credit line — decided here, once (issue 16,
item 4).

A bank reads an SME's record only on grounds (:mod:`finance.record_access`): the SME applied to it, or the SME's
administrator granted it access and has not revoked it.  Without grounds the SME is reported as not found, exactly
as an id that does not exist.  The programme office reads every SME's record; an SME its own.

- :func:`bank_may_read` — the rule as a query condition on an SME id column (lists, searches, exports);
- :func:`may_read_record` — the grounds for one SME, or ``None``;
- :func:`require_record_access` — the check every reader of a record goes through (use cases, routes, pages);
- :func:`readable_smes` — the SMEs a bank may pick, with their grounds;
- :func:`grant_record_access` / :func:`revoke_record_access` — the SME's use cases, each an audit event;
- :func:`record_readers` — the SME's own view: its grants (with their history), the banks it applied to, and the
  banks it may still grant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from finance.record_access import Grounds, choose
from finance.service import common
from qianfan.actors import Actor
from qianfan.errors import Conflict, NotFound
from qianfan.models import FinanceApplication, Organisation, OrgKind, RecordAccessGrant, User, UserRole
from qianfan.uow import UnitOfWork

RECORD_ACCESS_ENTITY = "record_access_grant"
#: Who may grant or revoke a bank's access to the SME's record: its administrator.
GRANTERS = frozenset({UserRole.ADMIN})


def _applied(bank_id: int, now: datetime, sme_id: Any) -> ColumnElement[bool]:
    return sa.exists().where(
        col(FinanceApplication.applicant_id) == sme_id,
        col(FinanceApplication.bank_id) == bank_id,
        col(FinanceApplication.submitted_at) <= now,
    )


def _live(now: datetime) -> ColumnElement[bool]:
    return sa.and_(
        col(RecordAccessGrant.granted_at) <= now,
        sa.or_(col(RecordAccessGrant.revoked_at).is_(None), col(RecordAccessGrant.revoked_at) > now),
    )


def bank_may_read(bank_id: int, now: datetime, sme_id: Any = None) -> ColumnElement[bool]:
    """The rule as a query condition: ``sme_id`` (default ``Organisation.id``) is an SME whose record the bank
    ``bank_id`` may read at ``now`` — it applied to the bank, or it granted the bank access and has not revoked it."""
    sme = col(Organisation.id) if sme_id is None else sme_id
    granted = sa.exists().where(
        col(RecordAccessGrant.sme_id) == sme, col(RecordAccessGrant.bank_id) == bank_id, _live(now)
    )
    return sa.or_(_applied(bank_id, now, sme), granted)


def may_read_record(session: Session, bank_id: int, sme_id: int, now: datetime) -> Grounds | None:
    """The grounds on which the bank may read the SME's record at ``now`` ("applied on …" / "granted on …"), or
    ``None`` when it may not."""
    applied_at = session.exec(
        select(sa.func.min(FinanceApplication.submitted_at)).where(
            col(FinanceApplication.applicant_id) == sme_id,
            col(FinanceApplication.bank_id) == bank_id,
            col(FinanceApplication.submitted_at) <= now,
        )
    ).one()
    granted_at = session.exec(
        select(RecordAccessGrant.granted_at).where(
            col(RecordAccessGrant.sme_id) == sme_id, col(RecordAccessGrant.bank_id) == bank_id, _live(now)
        )
    ).first()
    return choose(_aware(applied_at), granted_at)


def _aware(moment: datetime | None) -> datetime | None:
    """``min()`` over a timestamp column bypasses its type on SQLite: the value comes back naive (it is UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def require_record_access(session: Session, actor: Actor, sme_id: int, now: datetime) -> Grounds | None:
    """The check before anyone reads an SME's record or suggested line: a bank needs grounds (returned, to be shown
    with their date), the programme office reads any SME's (``None``), an SME its own (``None``).  Another SME, or
    an SME a bank has no grounds for, is reported as not found; large firms and service providers are refused."""
    if actor.kind == OrgKind.SME:
        actor.require_owner(sme_id, "中小企业", "SME", sme_id)
        return None
    actor.require_kind(OrgKind.BANK, OrgKind.PROGRAMME_OFFICE)
    if actor.kind == OrgKind.PROGRAMME_OFFICE:
        return None
    grounds = may_read_record(session, actor.organisation_id, sme_id, now)
    if grounds is None:
        raise NotFound.of("中小企业", "SME", sme_id)
    return grounds


@dataclass(frozen=True, slots=True)
class ReadableSme:
    sme_id: int
    name: str
    grounds: Grounds


def readable_smes(
    session: Session, bank_id: int, now: datetime, *, name_contains: str = "", limit: int | None = None
) -> list[ReadableSme]:
    """The SMEs whose record the bank may read (optionally those whose name contains a text), by name, with their
    grounds: what the bank's list of suggested lines offers to pick from."""
    query = (
        select(Organisation.id, Organisation.name)
        .where(col(Organisation.kind) == OrgKind.SME, bank_may_read(bank_id, now))
        .order_by(col(Organisation.name), col(Organisation.id))
    )
    if name_contains:
        query = query.where(col(Organisation.name).contains(name_contains, autoescape=True))
    if limit is not None:
        query = query.limit(limit)
    rows = [(i, n) for i, n in session.exec(query).all() if i is not None]
    ids = [i for i, _ in rows]
    if not ids:
        return []
    applied = {
        sme: _aware(at)
        for sme, at in session.exec(
            select(FinanceApplication.applicant_id, sa.func.min(FinanceApplication.submitted_at))
            .where(
                col(FinanceApplication.bank_id) == bank_id,
                col(FinanceApplication.applicant_id).in_(ids),
                col(FinanceApplication.submitted_at) <= now,
            )
            .group_by(col(FinanceApplication.applicant_id))
        ).all()
    }
    granted = dict(
        session.exec(
            select(RecordAccessGrant.sme_id, RecordAccessGrant.granted_at).where(
                col(RecordAccessGrant.bank_id) == bank_id, col(RecordAccessGrant.sme_id).in_(ids), _live(now)
            )
        ).all()
    )
    out = []
    for sme_id, name in rows:
        grounds = choose(applied.get(sme_id), granted.get(sme_id))
        assert grounds is not None  # the query's condition is the same rule
        out.append(ReadableSme(sme_id, name, grounds))
    return out


# --------------------------------------------------------------------------------------------- the SME's side


def _live_grant(session: Session, sme_id: int, bank_id: int) -> RecordAccessGrant | None:
    return session.exec(
        select(RecordAccessGrant)
        .where(
            col(RecordAccessGrant.sme_id) == sme_id,
            col(RecordAccessGrant.bank_id) == bank_id,
            col(RecordAccessGrant.revoked_at).is_(None),
        )
        .with_for_update()
    ).first()


def grant_record_access(uow: UnitOfWork, actor: Actor, bank_id: int) -> RecordAccessGrant:
    """The SME's administrator lets ``bank_id`` read the SME's platform record and suggested line, until revoked.

    Idempotent: granting a bank that already holds a live grant returns that grant (no second audit event).
    """
    actor.require_kind(OrgKind.SME)
    user_id = common.require_user(actor, GRANTERS)
    with uow:
        s = uow.session
        common.organisation(s, bank_id, OrgKind.BANK, "银行", "Bank")
        live = _live_grant(s, actor.organisation_id, bank_id)
        if live is not None:
            return live
        row = RecordAccessGrant(
            sme_id=actor.organisation_id, bank_id=bank_id, granted_at=uow.clock.now(), granted_by_user_id=user_id
        )
        s.add(row)
        try:
            s.flush()
        except IntegrityError:  # a concurrent grant of the same bank won: one live grant per SME and bank
            s.rollback()
            raise Conflict("该银行已获授权，请刷新", "This bank was granted access meanwhile; reload") from None
        assert row.id is not None
        uow.audit(RECORD_ACCESS_ENTITY, row.id, "granted", actor_id=user_id, sme_id=row.sme_id, bank_id=bank_id)
        uow.commit()
        return row


def revoke_record_access(uow: UnitOfWork, actor: Actor, bank_id: int) -> RecordAccessGrant:
    """The SME's administrator takes back the bank's access; from now on the bank reads the record only if the SME
    applied to it.  A bank without a live grant is reported as not found."""
    actor.require_kind(OrgKind.SME)
    user_id = common.require_user(actor, GRANTERS)
    with uow:
        s = uow.session
        row = _live_grant(s, actor.organisation_id, bank_id)
        if row is None:
            raise NotFound.of("查询授权", "Record access grant for bank", bank_id)
        row.revoked_at = uow.clock.now()
        row.revoked_by_user_id = user_id
        s.add(row)
        s.flush()
        assert row.id is not None
        uow.audit(RECORD_ACCESS_ENTITY, row.id, "revoked", actor_id=user_id, sme_id=row.sme_id, bank_id=bank_id)
        uow.commit()
        return row


@dataclass(frozen=True, slots=True)
class GrantView:
    grant: RecordAccessGrant
    bank_name: str
    granted_by: str  # display names of the users
    revoked_by: str | None


@dataclass(frozen=True, slots=True)
class AppliedBank:
    bank_id: int
    bank_name: str
    since: datetime  # the SME's first application to the bank


@dataclass(frozen=True, slots=True)
class RecordReaders:
    """The SME's page of who reads its record: its grants (live and revoked, newest first), the banks that read it
    because it applied to them (not revocable), and the banks it may still grant (id, name)."""

    grants: list[GrantView]
    applied: list[AppliedBank]
    grantable: list[tuple[int, str]]


def _user_names(session: Session, rows: list[RecordAccessGrant]) -> dict[int, str]:
    ids = {r.granted_by_user_id for r in rows} | {r.revoked_by_user_id for r in rows if r.revoked_by_user_id}
    if not ids:
        return {}
    return {i: n for i, n in session.exec(select(User.id, User.display_name).where(col(User.id).in_(ids))).all() if i}


def _view(row: RecordAccessGrant, banks: dict[int, str], users: dict[int, str]) -> GrantView:
    revoked_by = users.get(row.revoked_by_user_id, "") if row.revoked_by_user_id else None
    return GrantView(row, banks.get(row.bank_id, ""), users.get(row.granted_by_user_id, ""), revoked_by)


def grant_view(session: Session, row: RecordAccessGrant) -> GrantView:
    """One grant with the names a person reads (the bank, who granted, who revoked)."""
    bank = session.get(Organisation, row.bank_id)
    return _view(row, {row.bank_id: bank.name if bank else ""}, _user_names(session, [row]))


def record_readers(session: Session, actor: Actor) -> RecordReaders:
    actor.require_kind(OrgKind.SME)
    sme_id = actor.organisation_id
    banks = {
        i: n
        for i, n in session.exec(
            select(Organisation.id, Organisation.name).where(col(Organisation.kind) == OrgKind.BANK)
        ).all()
        if i is not None
    }
    rows = session.exec(
        select(RecordAccessGrant)
        .where(col(RecordAccessGrant.sme_id) == sme_id)
        .order_by(col(RecordAccessGrant.granted_at).desc(), col(RecordAccessGrant.id).desc())
    ).all()
    users = _user_names(session, list(rows))
    grants = [_view(r, banks, users) for r in rows]
    applied = [
        AppliedBank(bank, banks.get(bank, ""), _aware(at) or at)
        for bank, at in session.exec(
            select(FinanceApplication.bank_id, sa.func.min(FinanceApplication.submitted_at))
            .where(col(FinanceApplication.applicant_id) == sme_id)
            .group_by(col(FinanceApplication.bank_id))
        ).all()
    ]
    applied.sort(key=lambda a: (a.bank_name, a.bank_id))
    live = {r.bank_id for r in rows if r.revoked_at is None}
    grantable = sorted(((i, n) for i, n in banks.items() if i not in live), key=lambda b: (b[1], b[0]))
    return RecordReaders(grants, applied, grantable)
