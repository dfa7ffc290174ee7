"""Two workers on one queue draining 1,000 jobs (issue 5): no job processed twice, every offer indexed.

    python -m bench.workers_drain --offers 1000 --workers 2        # or: make bench-workers

What runs, all real: a PostgreSQL database (a scratch database created and dropped on ``--admin-url``, or
``--database``, an empty migrated-or-not database of yours), a Redis broker (a free database number claimed on
``127.0.0.1:6379`` and flushed afterwards, or ``--broker``), ``--offers`` offers listed through
:func:`market.service.list_offer` (each commits an ``offer.listed`` outbox event), ``--workers``
``qianfan worker --queues matching`` subprocesses, and the outbox relay (:func:`workers.relay.relay_once`), run once
the workers are ready.  Each event becomes one ``match_offer`` task (index the offer, match it against the open
orders) whose id derives from the outbox id, so the workers' logs say which task ran where and how often.

Figures: events relayed, tasks executed per worker, duplicates (a task id executed more than once, over all
workers: 0 expected), the time from the start of the relay until the last task finished (s) and jobs/s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, func, select

from accounts import organisations as orgs
from market import service as mkt
from qianfan import events
from qianfan.actors import Actor
from qianfan.clock import SystemClock
from qianfan.config import Settings
from qianfan.creditcode import make_credit_code
from qianfan.db import make_engine
from qianfan.migrate import upgrade
from qianfan.models import OrgKind, OutboxEvent
from qianfan.uow import UnitOfWork
from seeds.textgen import ALPHABET
from workers.celery_app import make_celery
from workers.relay import MATCH_OFFER, relay_once

ADMIN_URL = os.environ.get("QIANFAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("QIANFAN_TEST_REDIS_URL", "redis://127.0.0.1:6379")
#: ``Task <name>[<id>] received|succeeded …`` lines of a worker log at INFO.
TASK_LINE = re.compile(r"Task (?P<name>[\w.]+)\[(?P<id>[^\]]+)\] (?P<what>received|succeeded|raised)")

TOPICS = [
    ("政务大数据治理平台", "数据汇聚、清洗、质量评估与共享交换，服务数字政府", "ict.bigdata", ["大数据", "数据治理"]),
    ("城市数据共享交换平台", "政务数据目录、共享交换与开放平台", "ict.egov", ["政务数据", "共享交换"]),
    ("智慧园区安防系统", "视频监控与门禁一体化解决方案", "ict.iot", ["安防", "物联网"]),
    ("工业互联网平台", "设备接入、边缘计算与生产数据分析", "ict.iot", ["工业互联网", "边缘计算"]),
    ("云原生应用开发服务", "微服务架构设计、容器化部署与运维", "ict.software", ["云原生", "微服务"]),
]


@dataclass
class DrainResult:
    offers: int
    workers: int
    concurrency: int
    events_relayed: int
    relay_s: float
    drain_s: float
    jobs_per_s: float
    tasks_per_worker: dict[str, int]
    offer_events: int
    duplicates: int
    redeliveries: int
    failed: int
    task_ids: int
    setup_s: float = 0.0
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ worker processes


def start_worker(
    workdir: Path, name: str, database_url: str, broker_url: str, *, concurrency: int
) -> subprocess.Popen[bytes]:
    """``qianfan worker --queues matching`` in its own session (stopped with its pool children), logging to
    ``<workdir>/<name>.log``."""
    env = {
        **os.environ,
        "QIANFAN_DATABASE_URL": database_url,
        "QIANFAN_BROKER_URL": broker_url,
        "QIANFAN_VAR_DIR": str(workdir / name),
    }
    args = [sys.executable, "-m", "cli.main", "worker", "--queues", "matching", "--concurrency", str(concurrency)]
    args += ["--name", f"{name}.{os.getpid()}@%h", "--loglevel", "INFO"]
    with (workdir / f"{name}.log").open("wb") as log:
        return subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    """Warm shutdown (SIGTERM), then SIGKILL to whatever is left of the worker's process group."""
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def task_lines(log: Path, what: str = "succeeded", task: str = MATCH_OFFER) -> Counter[str]:
    """How many times each id of *task* was *what* in a worker log."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return Counter(m["id"] for m in TASK_LINE.finditer(text) if m["what"] == what and m["name"] == task)


# ------------------------------------------------------------------------------------------ the run


def list_offers(engine: Engine, count: int, *, smes: int = 20) -> list[int]:
    """*count* offers listed through the marketplace use case by *smes* SMEs (registered here)."""
    clock = SystemClock()
    actors: list[Actor] = []
    salt = uuid.uuid4().int % 31**4
    for i in range(min(smes, count)):
        body = "".join(ALPHABET[((salt * 1000 + i) // 31**k) % 31] for k in range(9))
        org = orgs.register_organisation(
            UnitOfWork(engine, clock),
            {
                "kind": OrgKind.SME,
                "name": f"排队测试科技{i}有限公司",
                "credit_code": make_credit_code("91110108" + body),
                "district": "海淀园",
            },
        )
        actors.append(Actor.system(org))
    ids = []
    for n in range(count):
        title, description, category, keywords = TOPICS[n % len(TOPICS)]
        offer = mkt.list_offer(
            UnitOfWork(engine, clock),
            actors[n % len(actors)],
            {
                "kind": "product",
                "title": f"{title}（{n + 1}号）",
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
        ids.append(offer.id)
    return ids


def drain(
    engine: Engine,
    database_url: str,
    broker_url: str,
    workdir: Path,
    *,
    offers: int = 1000,
    workers: int = 2,
    concurrency: int = 2,
    timeout: float = 600.0,
) -> DrainResult:
    """List *offers* offers, start *workers* matching workers, relay, and wait until every task ran."""
    started = time.monotonic()
    list_offers(engine, offers)
    setup_s = time.monotonic() - started
    celery = make_celery(Settings(var_dir=workdir, database_url=database_url, broker_url=broker_url))
    names = [f"w{i + 1}" for i in range(workers)]
    procs = [start_worker(workdir, name, database_url, broker_url, concurrency=concurrency) for name in names]
    logs = [workdir / f"{name}.log" for name in names]
    try:
        _wait(lambda: all(" ready." in log.read_text(errors="replace") for log in logs), 60, procs, "workers ready")
        t0 = time.monotonic()
        relayed = relay_once(engine, celery)
        relay_s = time.monotonic() - t0
        if relayed.failed:
            raise RuntimeError(f"the relay failed: {relayed.error}")

        def done() -> bool:
            finished: set[str] = set()
            for log in logs:
                finished |= set(task_lines(log)) | set(task_lines(log, "raised"))
            return len(finished) >= offers

        _wait(done, timeout, procs, f"{offers} tasks finished")
        drain_s = time.monotonic() - t0
    finally:
        for proc in procs:
            stop_worker(proc)
    ran = {name: task_lines(log) for name, log in zip(names, logs, strict=True)}
    total: Counter[str] = Counter()
    for counts in ran.values():
        total.update(counts)
    received: Counter[str] = Counter()
    for log in logs:
        received.update(task_lines(log, "received"))
    failed = sum(sum(task_lines(log, "raised").values()) for log in logs)
    return DrainResult(
        offers=offers,
        workers=workers,
        concurrency=concurrency,
        events_relayed=relayed.dispatched,
        relay_s=round(relay_s, 3),
        drain_s=round(drain_s, 3),
        jobs_per_s=round(offers / drain_s, 1),
        tasks_per_worker={name: sum(c.values()) for name, c in ran.items()},
        offer_events=_count_topic(engine, events.OFFER_LISTED),
        duplicates=sum(n - 1 for n in total.values() if n > 1),
        redeliveries=sum(n - 1 for n in received.values() if n > 1),
        failed=failed,
        task_ids=len(total),
        setup_s=round(setup_s, 3),
    )


def _count_topic(engine: Engine, topic: str) -> int:
    with Session(engine) as s:
        stmt = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == topic)
        return int(s.exec(stmt).one())


def _wait(condition: object, timeout: float, procs: list[subprocess.Popen[bytes]], what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a worker exited with {proc.returncode} while waiting for: {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done after {timeout} s: {what}")
        time.sleep(0.1)


# ------------------------------------------------------------------------------------------ scratch servers


@contextlib.contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database (dropped afterwards)."""
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"qianfan_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def scratch_redis(base_url: str) -> Iterator[str]:
    """A Redis database number nobody uses (claimed with a key), flushed afterwards."""
    import redis

    for db in range(15, 0, -1):
        client = redis.Redis.from_url(f"{base_url}/{db}", socket_connect_timeout=2)
        if client.dbsize() == 0 and client.set("qianfan:bench:claim", uuid.uuid4().hex, nx=True, ex=3600):
            break
    else:
        raise RuntimeError(f"no free Redis database number on {base_url}")
    try:
        yield f"{base_url}/{db}"
    finally:
        client.flushdb()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--offers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker")
    parser.add_argument("--database", help="PostgreSQL URL of an empty database (default: a scratch database)")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="where the scratch database is created")
    parser.add_argument("--broker", help="Redis URL with a free database number (default: claim one on 127.0.0.1)")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    with contextlib.ExitStack() as stack:
        database_url = args.database or stack.enter_context(scratch_database(args.admin_url))
        broker_url = args.broker or stack.enter_context(scratch_redis(REDIS_URL))
        workdir = Path(tempfile.mkdtemp(prefix="qianfan-drain-"))
        stack.callback(shutil.rmtree, workdir, True)
        upgrade(database_url)
        engine = make_engine(database_url)
        stack.callback(engine.dispose)
        print(f"database {make_url(database_url).render_as_string()}, broker {broker_url}", flush=True)
        result = drain(
            engine,
            database_url,
            broker_url,
            workdir,
            offers=args.offers,
            workers=args.workers,
            concurrency=args.concurrency,
            timeout=args.timeout,
        )
    per_worker = ", ".join(f"{name} {n}" for name, n in result.tasks_per_worker.items())
    print(f"offers listed through the service layer: {result.offers} in {result.setup_s:.1f} s")
    print(
        f"events relayed:        {result.events_relayed} in {result.relay_s:.2f} s "
        f"({result.offer_events} offer.listed, one match_offer task each; the rest: organisations registered)"
    )
    print(f"tasks executed:        {sum(result.tasks_per_worker.values())} ({per_worker}); {result.task_ids} task ids")
    print(f"duplicates seen:       {result.duplicates} (a task id executed twice), {result.redeliveries} redeliveries")
    print(f"failed tasks:          {result.failed}")
    print(
        f"time to drain {result.offers} jobs: {result.drain_s:.2f} s ({result.jobs_per_s} jobs/s, "
        f"{result.workers} workers × {result.concurrency} processes, queue matching)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(result), indent=2), encoding="utf-8")
    ok = result.duplicates == 0 and result.failed == 0 and result.task_ids == result.offers == result.offer_events
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
