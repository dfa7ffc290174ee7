"""Register organisations, their qualifications and their users."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from sqlmodel import Session, select

from qianfan import events
from qianfan.errors import Conflict, NotFound
from qianfan.models import Organisation, OrgKind, Qualification, User, UserRole
from qianfan.security import hash_password
from qianfan.uow import UnitOfWork
from qianfan.validation import (
    ClusterCode,
    CreditCode,
    Description,
    District,
    Input,
    Name,
    QualificationCode,
    bilingual,
    parse_input,
)

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def _check_username(value: str) -> str:
    if not _USERNAME.match(value):
        raise bilingual(
            "username",
            "用户名须为3–64位小写字母、数字或 . _ -，且以字母或数字开头",
            "A username has 3–64 lower-case letters, digits or . _ -, starting with a letter or digit",
        )
    return value


def _check_password(value: str) -> str:
    if len(value) < 10:
        raise bilingual("weak_password", "密码至少需要10个字符", "A password needs at least 10 characters")
    if len(value) > 256:
        raise bilingual("long_password", "密码过长（最多256个字符）", "Password too long (at most 256 characters)")
    return value


Username = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    AfterValidator(_check_username),
]
Password = Annotated[str, AfterValidator(_check_password)]


class QualificationInput(Input):
    code: QualificationCode
    certificate_no: str | None = Field(default=None, max_length=64)
    valid_until: date | None = None


class OrganisationInput(Input):
    kind: OrgKind
    name: Name
    name_en: str | None = Field(default=None, max_length=200)
    credit_code: CreditCode
    district: District
    cluster: ClusterCode | None = None
    description: Description = ""
    qualifications: list[QualificationInput] = Field(default_factory=list, max_length=50)


class UserInput(Input):
    username: Username
    display_name: Name
    role: UserRole = UserRole.MEMBER
    password: Password
    email: str | None = Field(default=None, max_length=200)


def find_organisation_by_credit_code(session: Session, code: str) -> Organisation | None:
    return session.exec(select(Organisation).where(Organisation.credit_code == code.strip().upper())).first()


def register_organisation(
    uow: UnitOfWork,
    data: OrganisationInput | Mapping[str, Any],
    users: Sequence[UserInput | Mapping[str, Any]] = (),
) -> Organisation:
    """Register an organisation with its qualifications (and optionally its first users) in one transaction."""
    org_in = parse_input(OrganisationInput, data)
    users_in = [parse_input(UserInput, u) for u in users]
    codes = [q.code for q in org_in.qualifications]
    if len(codes) != len(set(codes)):
        raise Conflict("资质重复", "A qualification is listed twice")
    with uow:
        s = uow.session
        if find_organisation_by_credit_code(s, org_in.credit_code) is not None:
            raise Conflict(
                f"统一社会信用代码已注册：{org_in.credit_code}",
                f"This credit code is already registered: {org_in.credit_code}",
            )
        if s.exec(select(Organisation).where(Organisation.name == org_in.name)).first() is not None:
            raise Conflict(f"机构名称已存在：{org_in.name}", f"An organisation with this name exists: {org_in.name}")
        org = Organisation(
            kind=org_in.kind,
            name=org_in.name,
            name_en=org_in.name_en,
            credit_code=org_in.credit_code,
            district=org_in.district,
            cluster=org_in.cluster,
            description=org_in.description,
            created_at=uow.clock.now(),
        )
        s.add(org)
        s.flush()
        assert org.id is not None
        for q in org_in.qualifications:
            s.add(Qualification(organisation_id=org.id, **q.model_dump()))
        for u in users_in:
            _create_user(uow, org.id, u)
        uow.publish(events.ORGANISATION_REGISTERED, organisation_id=org.id, kind=org.kind.value)
        uow.commit()
        return org


def _create_user(uow: UnitOfWork, organisation_id: int, data: UserInput) -> User:
    s = uow.session
    if s.exec(select(User).where(User.username == data.username)).first() is not None:
        raise Conflict(f"用户名已被使用：{data.username}", f"Username already taken: {data.username}")
    user = User(
        organisation_id=organisation_id,
        username=data.username,
        display_name=data.display_name,
        email=data.email,
        role=data.role,
        password_hash=hash_password(data.password),
        created_at=uow.clock.now(),
    )
    s.add(user)
    s.flush()
    return user


def add_user(uow: UnitOfWork, organisation_id: int, data: UserInput | Mapping[str, Any]) -> User:
    user_in = parse_input(UserInput, data)
    with uow:
        if uow.session.get(Organisation, organisation_id) is None:
            raise NotFound.of("机构", "Organisation", organisation_id)
        user = _create_user(uow, organisation_id, user_in)
        uow.commit()
        return user
