"""Builders for the worker tests: a small market (a large firm and SMEs with users, offers listed through the real
use cases) and a dispatcher that runs relayed jobs in-process instead of publishing them."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from accounts import organisations as orgs
from market import service as mkt
from qianfan.actors import Actor
from qianfan.clock import Clock
from qianfan.models import OrgKind
from qianfan.outbox import RelayResult, relay_all
from qianfan.uow import UnitOfWork
from tests.conftest import IN_CI
from tests.services.conftest import credit_code
from workers import jobs
from workers.context import Context
from workers.relay import Job, make_send

_n = itertools.count(9000)

REDIS_URL = os.environ.get("QIANFAN_TEST_REDIS_URL", "redis://127.0.0.1:6379")

OFFERS = [
    ("政务大数据治理平台", "数据汇聚、清洗、质量评估与共享交换，服务数字政府", "ict.bigdata", ["大数据", "数据治理"]),
    ("城市数据共享交换平台", "政务数据目录、共享交换与开放平台", "ict.egov", ["政务数据", "共享交换"]),
    ("智慧园区安防系统", "视频监控与门禁一体化解决方案", "ict.iot", ["安防", "物联网"]),
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "redis: needs Redis (127.0.0.1:6379); never skipped when CI=true")


@dataclass
class Market:
    engine: Engine
    clock: Clock
    firm: Actor
    smes: list[Actor] = field(default_factory=list)
    offer_ids: list[int] = field(default_factory=list)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock)

    def post_order(self, **over: Any) -> int:
        deadline = (self.clock.now() + timedelta(days=30)).date()
        data = {
            "kind": "procurement",
            "title": "数字政府大数据平台项目",
            "description": "建设全市统一的政务数据共享交换与治理平台",
            "category": "ict.egov",
            "budget": "12500000.00",
            "district": "海淀园",
            "deadline": deadline,
            "required_qualifications": [],
            **over,
        }
        order = mkt.post_order(self.uow(), self.firm, data)
        assert order.id is not None
        return order.id

    def list_offer(self, sme: Actor, title: str, description: str, category: str, keywords: list[str]) -> int:
        offer = mkt.list_offer(
            self.uow(),
            sme,
            {
                "kind": "product",
                "title": title,
                "description": description,
                "category": category,
                "price_min": "800000",
                "price_max": "3000000",
                "capacity": 5,
                "qualifications": [],
                "keywords": keywords,
            },
        )
        assert offer.id is not None
        return offer.id


def _org(engine: Engine, clock: Clock, kind: OrgKind, users: int = 1) -> Actor:
    n = next(_n)
    org = orgs.register_organisation(
        UnitOfWork(engine, clock),
        {"kind": kind, "name": f"工作者测试机构{n}有限公司", "credit_code": credit_code(n), "district": "海淀园"},
    )
    assert org.id is not None
    for i in range(users):
        orgs.add_user(
            UnitOfWork(engine, clock),
            org.id,
            {"username": f"w{n}u{i}", "display_name": f"用户{i}", "password": "Correct-horse-9"},
        )
    return Actor.system(org)


def build_market(engine: Engine, clock: Clock, *, offers: bool = True) -> Market:
    market = Market(engine, clock, _org(engine, clock, OrgKind.LARGE_FIRM))
    for title, description, category, keywords in OFFERS:
        sme = _org(engine, clock, OrgKind.SME)
        market.smes.append(sme)
        if offers:
            market.offer_ids.append(market.list_offer(sme, title, description, category, keywords))
    return market


@pytest.fixture
def market(engine: Engine, clock: Clock) -> Market:
    return build_market(engine, clock)


JOB_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "workers.tasks.matching.match_order": jobs.match_order,
    "workers.tasks.matching.match_offer": jobs.match_offer,
    "workers.tasks.matching.remove_offer": jobs.remove_offer,
    "workers.tasks.finance.risk_check": jobs.risk_check,
    "workers.tasks.notifications.notify_event": jobs.notify_event,
    "workers.tasks.matching.import_offers": jobs.import_offers,
    # the office's refit (REFIT_REQUESTED): its job row, with who started it, exists before the worker runs
    "workers.tasks.matching.refit": lambda ctx, task_id, user_id=None: jobs.refit(ctx, task_id, started_by=None),
}


@dataclass
class InlineWorker:
    """Runs relayed jobs in this process once the relay has committed (as a broker would deliver them), recording
    what was sent (task ids included)."""

    ctx: Context
    sent: list[tuple[Job, str | None]] = field(default_factory=list)

    def relay(self) -> RelayResult:
        """Relay and run the jobs, until the jobs publish no further events."""
        total = 0
        while True:
            queued: list[tuple[Job, str | None]] = []
            result = relay_all(self.ctx.engine, make_send(lambda job, tid, q=queued: q.append((job, tid))))
            assert not result.failed, result.error
            total += result.dispatched
            for job, task_id in queued:
                self.sent.append((job, task_id))
                JOB_FUNCTIONS[job.task](self.ctx, **job.kwargs)
            if result.dispatched == 0:
                return RelayResult(total, False)


@pytest.fixture
def ctx(engine: Engine, clock: Clock, tmp_path: Path) -> Context:
    return Context(engine, clock, index_dir=tmp_path / "index")


@pytest.fixture
def inline(ctx: Context) -> InlineWorker:
    return InlineWorker(ctx)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database number nobody uses (claimed with a key), flushed afterwards."""
    try:
        import redis

        for db in range(15, 0, -1):
            client = redis.Redis.from_url(f"{REDIS_URL}/{db}", socket_connect_timeout=2)
            if client.dbsize() == 0 and client.set("qianfan:test:claim", uuid.uuid4().hex, nx=True, ex=600):
                break
        else:
            pytest.skip("no free Redis database number")
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"Redis is required under CI=true but unavailable: {exc}")
        pytest.skip(f"Redis not available ({exc}); set QIANFAN_TEST_REDIS_URL to run these tests")
    try:
        yield f"{REDIS_URL}/{db}"
    finally:
        client.flushdb()
