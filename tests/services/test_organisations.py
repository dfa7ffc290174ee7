from __future__ import annotations

import pytest
from sqlmodel import Session, select

from accounts import organisations as orgs
from qianfan.errors import Conflict, InvalidInput
from qianfan.models import Organisation, OrgKind, OutboxEvent, Qualification, User, UserRole
from qianfan.security import verify_password
from qianfan.uow import UnitOfWork
from tests.services.conftest import credit_code


def base(**over):  # type: ignore[no-untyped-def]
    data = {
        "kind": "sme",
        "name": "北京星河智算科技有限公司",
        "credit_code": credit_code(900),
        "district": "海淀园",
        "cluster": "ai",
        "qualifications": [{"code": "hnte", "valid_until": "2027-12-31"}, {"code": "zjtx"}],
    }
    data.update(over)
    return data


def test_register_with_users_and_qualifications(engine, clock) -> None:  # type: ignore[no-untyped-def]
    org = orgs.register_organisation(
        UnitOfWork(engine, clock),
        base(),
        users=[{"username": "Alice", "display_name": "张三", "role": "admin", "password": "correct horse 1"}],
    )
    with Session(engine) as s:
        assert s.get(Organisation, org.id).kind is OrgKind.SME  # type: ignore[union-attr]
        quals = s.exec(select(Qualification).where(Qualification.organisation_id == org.id)).all()
        assert {q.code for q in quals} == {"hnte", "zjtx"}
        user = s.exec(select(User)).one()
        assert user.username == "alice" and user.role is UserRole.ADMIN
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, "correct horse 1")
        assert not verify_password(user.password_hash, "wrong")
        assert [e.topic for e in s.exec(select(OutboxEvent)).all()] == ["organisation.registered"]


@pytest.mark.parametrize(
    ("override", "field", "zh_fragment"),
    [
        ({"credit_code": "91350100M000100Y44"}, "credit_code", "校验位错误"),
        ({"credit_code": "91350100M000100"}, "credit_code", "18位"),
        ({"credit_code": "91350100M0001O0Y43"}, "credit_code", "无效字符"),
        ({"name": "   "}, "name", "不能为空"),
        ({"name": "长" * 101}, "name", "过长"),
        ({"district": "火星园"}, "district", "未知的分园"),
        ({"cluster": "crypto"}, "cluster", "未知的产业集群"),
        ({"kind": "alien"}, "kind", "取值不在允许范围内"),
        ({"qualifications": [{"code": "iso9999"}]}, "qualifications.0.code", "未知的资质"),
        ({"surprise": 1}, "surprise", "不允许的字段"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(engine, clock, override, field, zh_fragment) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as err:
        orgs.register_organisation(UnitOfWork(engine, clock), base(**override))
    fields = {d["field"]: d for d in err.value.detail}
    assert field in fields
    assert zh_fragment in fields[field]["message"]
    assert fields[field]["message_en"]
    with Session(engine) as s:
        assert s.exec(select(Organisation)).all() == []


def test_duplicate_credit_code_and_username_conflict(engine, clock) -> None:  # type: ignore[no-untyped-def]
    orgs.register_organisation(
        UnitOfWork(engine, clock),
        base(),
        users=[{"username": "bob", "display_name": "李四", "password": "0123456789ab"}],
    )
    with pytest.raises(Conflict, match="已注册"):
        orgs.register_organisation(UnitOfWork(engine, clock), base(name="另一家公司"))
    with pytest.raises(Conflict, match="已被使用"):
        orgs.register_organisation(
            UnitOfWork(engine, clock),
            base(name="第三家公司", credit_code=credit_code(901)),
            users=[{"username": "bob", "display_name": "王五", "password": "0123456789ab"}],
        )
    with Session(engine) as s:  # the failed registration left nothing behind
        assert len(s.exec(select(Organisation)).all()) == 1


def test_weak_password_refused(engine, clock) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="至少需要10个字符"):
        orgs.register_organisation(
            UnitOfWork(engine, clock),
            base(),
            users=[{"username": "carol", "display_name": "C", "password": "short"}],
        )
