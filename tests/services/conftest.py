"""Builders for marketplace tests: organisations registered through the real use cases."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from accounts import organisations as orgs
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from qianfan.creditcode import ALPHABET, make_credit_code
from qianfan.models import Organisation, OrgKind
from qianfan.uow import UnitOfWork

_counter = itertools.count(1)


def credit_code(n: int) -> str:
    body = "".join(ALPHABET[(n // 31**i) % 31] for i in range(9))
    return make_credit_code("91110108" + body)


@pytest.fixture
def uow(engine: Engine, clock: FrozenClock) -> Callable[[], UnitOfWork]:
    return lambda: UnitOfWork(engine, clock)


@pytest.fixture
def make_org(uow: Callable[[], UnitOfWork], clock: FrozenClock) -> Callable[..., tuple[Organisation, Actor]]:
    def make(kind: OrgKind, qualifications: list[dict[str, Any]] | None = None, **extra: Any):
        n = next(_counter)
        org = orgs.register_organisation(
            uow(),
            {
                "kind": kind,
                "name": f"测试机构{n}有限公司",
                "credit_code": credit_code(n),
                "district": "海淀园",
                "cluster": "ict",
                "qualifications": qualifications or [],
                **extra,
            },
        )
        return org, Actor.system(org)

    return make


@pytest.fixture
def in_30_days(clock: FrozenClock) -> date:
    return (clock.now() + timedelta(days=30)).date()


def order_data(deadline: date, **over: Any) -> dict[str, Any]:
    data = {
        "kind": "procurement",
        "title": "数字政府大数据平台项目",
        "description": "建设全市统一的政务数据共享交换与治理平台",
        "category": "ict.egov",
        "budget": "12500000.00",
        "district": "海淀园",
        "deadline": deadline,
        "required_qualifications": ["hnte"],
    }
    data.update(over)
    return data


def offer_data(**over: Any) -> dict[str, Any]:
    data = {
        "kind": "product",
        "title": "政务大数据治理平台 V5",
        "description": "数据汇聚、清洗、质量评估与共享交换",
        "category": "ict.bigdata",
        "price_min": "800000",
        "price_max": "3000000.50",
        "capacity": 12,
        "qualifications": ["hnte"],
        "keywords": ["大数据", "数据治理"],
    }
    data.update(over)
    return data
