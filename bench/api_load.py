"""HTTP load test of the API on PostgreSQL, loopback only (issue 6).

    python -m bench.api_load                   # or: make bench-api
    python -m bench.api_load --users 20 --duration 60 --repeat 3 --json var/bench-api.json

What runs, all real and all on this machine:

1. a dedicated PostgreSQL database, dropped and created again (default ``qianfan_load`` on 127.0.0.1; never the
   test suite's database), migrated (``qianfan db upgrade``) and loaded with the demo seed (``qianfan seed``);
2. the load's own data, through the use cases only: a user per SME, large firm and bank taking part
   (:func:`accounts.organisations.add_user`), higher exposure limits (``set_exposure_limit``) and credit
   lines (``set_credit_line``), ``--parts`` stand-alone receivables of 100,000.00 registered by the SMEs and
   confirmed in batches by the core enterprises (each one confirmed part, fresh for one application), and a review
   queue per bank (``--queue-per-bank`` applications, risk-checked);
3. the API under uvicorn on 127.0.0.1 at a free port with ``--workers`` processes (2 by default: one per core);
4. locust, headless, in a subprocess (``bench/locustfile.py``) for each scenario — ``matches`` (order matches for
   the large firms' open orders, offer matches for the SMEs' active offers; read-only), ``finance`` (quote, apply
   with an ``Idempotency-Key``, read back, list) and ``review`` (a bank's review queue and one application of it) —
   after a warm-up run that is not counted, ``--repeat`` times; each account logs in once per run over HTTP (the
   login rate limit is raised for the benchmark server only).

Printed per scenario: per endpoint the medians over the runs of requests, failures, requests/s, p50, p95 and p99
(ms; locust rounds times above 100 ms to 10 ms), the errors seen, what PostgreSQL was doing (lock waits and
statements running longer than ``--slow-ms`` in ``pg_stat_activity``, sampled every 0.2 s; deadlocks and rollbacks)
and where the CPU went (the server, locust, PostgreSQL, the rest).  Server and load generator share the machine's
cores: the figures are for the pair, not for the server alone.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, func, select

from accounts import organisations as orgs
from finance import service as fs
from qianfan.actors import Actor
from qianfan.clock import SystemClock, to_local
from qianfan.db import make_engine
from qianfan.migrate import upgrade
from qianfan.models import (
    ApplicationStatus,
    CreditLine,
    FinanceApplication,
    Offer,
    OfferStatus,
    Order,
    OrderStatus,
    Organisation,
    OrgKind,
    PartState,
    Receivable,
    ReceivablePart,
    User,
    UserRole,
)
from qianfan.uow import UnitOfWork
from seeds.catalogue import DEMO_PASSWORD
from seeds.load import run_seed

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/qianfan_load"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: Databases this benchmark never drops: the server's own, and the test suite's.
PROTECTED = {"postgres", "template0", "template1", "test"}
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
ROOT = Path(__file__).resolve().parent.parent

FACE = "100000.00"  # every load receivable; applications ask for 50,000.00 (advance rates are 0.80–0.90)
LOAD_LIMIT = "2000000000.00"  # exposure limits and credit lines raised to this (yuan), so no limit binds

SCENARIOS: dict[str, tuple[str, ...]] = {
    "matches": ("FirmMatchUser", "SmeMatchUser"),
    "finance": ("FinanceUser",),
    "review": ("BankReviewUser",),
}
#: The routes each scenario needs (method, OpenAPI path).
NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "matches": (("get", "/api/v1/orders/{order_id}/matches"), ("get", "/api/v1/offers/{offer_id}/matches")),
    "finance": (
        ("get", "/api/v1/finance/applications/quote"),
        ("post", "/api/v1/finance/applications"),
        ("get", "/api/v1/finance/applications"),
    ),
    "review": (("get", "/api/v1/finance/applications/review-queue"),),
}


# ------------------------------------------------------------------------------------------ the database


def check_url(url: str) -> sa.URL:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit(f"--database must be a PostgreSQL URL, not {parsed.get_backend_name()}")
    if (parsed.host or "127.0.0.1") not in LOOPBACK:
        raise SystemExit(f"loopback only: {parsed.host} is not this machine")
    test_db = make_url(os.environ.get("QIANFAN_TEST_POSTGRES_URL", "postgresql+psycopg://x@h/test")).database
    name = parsed.database or ""
    if not name or name in PROTECTED | {test_db} or name.startswith("qianfan_test"):
        raise SystemExit(f"refusing to recreate the database {name!r}: pick a dedicated one (default qianfan_load)")
    return parsed


def recreate_database(url: sa.URL) -> None:
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


# ------------------------------------------------------------------------------------------ the load's data


@dataclass
class Account:
    username: str
    organisation_id: int
    ids: list[int] = field(default_factory=list)  # orders (firms), offers (SMEs), nothing (banks)


@dataclass
class LoadData:
    smes: list[Account]
    firms: list[Account]
    banks: list[Account]
    bank_ids: list[int]
    parts: dict[str, list[int]]  # username → fresh confirmed parts, for the finance scenario
    queue: dict[str, int]  # bank username → applications in its review queue
    timings_s: dict[str, float]


def _user(session: Session, username: str) -> tuple[User, Organisation]:
    row = session.exec(
        select(User, Organisation)
        .join(Organisation, col(Organisation.id) == col(User.organisation_id))
        .where(User.username == username)
    ).one()
    return row[0], row[1]


def _actor(engine: Engine, username: str) -> Actor:
    with Session(engine) as s:
        user, org = _user(s, username)
        return Actor.for_user(user, org)


def _add_users(engine: Engine, prefix: str, org_ids: Sequence[int], role: UserRole) -> list[str]:
    clock = SystemClock()
    names = []
    for n, org_id in enumerate(org_ids, 1):
        username = f"{prefix}-{n:02d}"
        orgs.add_user(
            UnitOfWork(engine, clock),
            org_id,
            {"username": username, "display_name": f"压测用户 {username}", "role": role, "password": DEMO_PASSWORD},
        )
        names.append(username)
    return names


def prepare(engine: Engine, *, smes: int, parts: int, queue_per_bank: int) -> LoadData:
    """Users, limits, receivables and review queues for the load, through the use cases."""
    clock = SystemClock()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with Session(engine) as s:
        banks = s.exec(select(Organisation).where(Organisation.kind == OrgKind.BANK).order_by(col(Organisation.id)))
        bank_ids = [b.id for b in banks.all() if b.id is not None]
        lines = s.exec(select(CreditLine)).all()
        # Debtors: the core enterprises every bank has a line for (the receivables' debtors).
        per_debtor = Counter(line.core_enterprise_id for line in lines)
        debtors = sorted(d for d, n in per_debtor.items() if n == len(bank_ids))
        order_rows = s.exec(
            select(Order.organisation_id, Order.id).where(Order.status == OrderStatus.OPEN).order_by(col(Order.id))
        ).all()
        orders: dict[int, list[int]] = {}
        for org_id, order_id in order_rows:
            if order_id is not None:
                orders.setdefault(org_id, []).append(order_id)
        firm_ids = sorted(set(orders) | set(debtors))
        offer_rows = s.exec(
            select(Offer.organisation_id, Offer.id)
            .join(Organisation, col(Organisation.id) == col(Offer.organisation_id))
            .where(Offer.status == OfferStatus.ACTIVE, Organisation.kind == OrgKind.SME)
            .order_by(col(Offer.organisation_id), col(Offer.id))
        ).all()
        offers: dict[int, list[int]] = {}
        for org_id, offer_id in offer_rows:
            if offer_id is not None:
                offers.setdefault(org_id, []).append(offer_id)
        sme_ids = sorted(offers)[:smes]
        office = s.exec(select(Organisation).where(Organisation.kind == OrgKind.PROGRAMME_OFFICE)).first()
        assert office is not None
        office_actor = Actor.system(office)

    sme_names = _add_users(engine, "load-sme", sme_ids, UserRole.ADMIN)
    firm_names = _add_users(engine, "load-firm", firm_ids, UserRole.ADMIN)
    bank_names = _add_users(engine, "load-bank", bank_ids, UserRole.ADMIN)
    timings["users_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for sme_id in sme_ids:
        fs.set_exposure_limit(UnitOfWork(engine, clock), office_actor, sme_id, LOAD_LIMIT)
    for name in bank_names:
        bank = _actor(engine, name)
        for debtor in debtors:
            fs.set_credit_line(UnitOfWork(engine, clock), bank, debtor, LOAD_LIMIT)
    timings["limits_s"] = time.perf_counter() - t0

    # Receivables: the i-th is owed to SME i % n by debtor i % d; the debtors confirm them in batches of 500.
    t0 = time.perf_counter()
    today = to_local(clock.now()).date()
    sme_actors = [_actor(engine, name) for name in sme_names]
    firm_by_org = dict(zip(firm_ids, firm_names, strict=True))
    created: dict[int, list[int]] = {d: [] for d in debtors}
    for i in range(parts):
        debtor = debtors[i % len(debtors)]
        receivable = fs.register_receivable(
            UnitOfWork(engine, clock),
            sme_actors[i % len(sme_actors)],
            {
                "title": f"压测应收账款 第{i + 1}号",
                "debtor_id": debtor,
                "face": FACE,
                "issue_date": today - timedelta(days=5),
                "due_date": today + timedelta(days=120),
                "invoice_numbers": [f"26990000{i:012d}"],
            },
        )
        assert receivable.id is not None
        created[debtor].append(receivable.id)
    timings["register_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for debtor, ids in created.items():
        confirmer = _actor(engine, firm_by_org[debtor])
        for start in range(0, len(ids), 500):
            batch = [{"receivable_id": rid, "irrevocable_undertaking": True} for rid in ids[start : start + 500]]
            fs.confirm_receivables(UnitOfWork(engine, clock), confirmer, batch)
    timings["confirm_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    by_org = dict(zip(sme_ids, sme_names, strict=True))
    fresh: dict[str, list[int]] = {name: [] for name in sme_names}
    with Session(engine) as s:
        rows = s.exec(
            select(ReceivablePart.holder_id, ReceivablePart.id)
            .join(Receivable, col(Receivable.id) == col(ReceivablePart.receivable_id))
            .where(col(Receivable.title).startswith("压测应收账款"), ReceivablePart.status == PartState.HELD)
            .order_by(col(ReceivablePart.id))
        ).all()
    for holder, part_id in rows:
        if part_id is not None:
            fresh[by_org[holder]].append(part_id)
    # The review queues: the first parts of each SME go to the banks in turn, applied for and risk-checked.
    queue: Counter[str] = Counter()
    n = 0
    for k in range(queue_per_bank):
        for bank_id, bank_name in zip(bank_ids, bank_names, strict=True):
            name = sme_names[n % len(sme_names)]
            n += 1
            part_id = fresh[name].pop(0)
            app = fs.apply_for_finance(
                UnitOfWork(engine, clock),
                sme_actors[sme_names.index(name)],
                {"part_id": part_id, "bank_id": bank_id, "amount": "50000.00", "idempotency_key": f"queue-{k}-{n}"},
            )
            assert app.id is not None
            checked = fs.run_risk_check(UnitOfWork(engine, clock), app.id)
            queue[bank_name] += checked.status == ApplicationStatus.RISK_CHECKED
    timings["queue_s"] = time.perf_counter() - t0
    return LoadData(
        smes=[Account(name, org, offers[org]) for org, name in zip(sme_ids, sme_names, strict=True)],
        firms=[Account(name, org, orders.get(org, [])) for org, name in zip(firm_ids, firm_names, strict=True)],
        banks=[Account(name, org) for org, name in zip(bank_ids, bank_names, strict=True)],
        bank_ids=bank_ids,
        parts=fresh,
        queue={name: queue[name] for name in bank_names},
        timings_s={k: round(v, 2) for k, v in timings.items()},
    )


def existing(engine: Engine) -> LoadData:
    """The load data a previous run of this driver left in the database (``--reuse``)."""
    with Session(engine) as s:
        users = s.exec(
            select(User.username, User.organisation_id)
            .where(col(User.username).startswith("load-"))
            .order_by(col(User.username))
        ).all()
        by_org = {org: name for name, org in users}
        orders: dict[int, list[int]] = {}
        for org_id, order_id in s.exec(
            select(Order.organisation_id, Order.id).where(Order.status == OrderStatus.OPEN).order_by(col(Order.id))
        ).all():
            orders.setdefault(org_id, []).append(order_id or 0)
        offers: dict[int, list[int]] = {}
        for org_id, offer_id in s.exec(
            select(Offer.organisation_id, Offer.id).where(Offer.status == OfferStatus.ACTIVE).order_by(col(Offer.id))
        ).all():
            offers.setdefault(org_id, []).append(offer_id or 0)
        parts: dict[str, list[int]] = {name: [] for name, _ in users if name.startswith("load-sme-")}
        for holder, part_id in s.exec(
            select(ReceivablePart.holder_id, ReceivablePart.id)
            .join(Receivable, col(Receivable.id) == col(ReceivablePart.receivable_id))
            .where(col(Receivable.title).startswith("压测应收账款"), ReceivablePart.status == PartState.HELD)
            .order_by(col(ReceivablePart.id))
        ).all():
            if holder in by_org and part_id is not None:
                parts[by_org[holder]].append(part_id)
    if not parts:
        raise SystemExit("--reuse: no load data in this database; run once without --reuse")
    banks = [Account(name, org) for name, org in users if name.startswith("load-bank-")]
    return LoadData(
        smes=[Account(name, org, offers.get(org, [])) for name, org in users if name.startswith("load-sme-")],
        firms=[Account(name, org, orders.get(org, [])) for name, org in users if name.startswith("load-firm-")],
        banks=banks,
        bank_ids=[a.organisation_id for a in banks],
        parts=parts,
        queue={},
        timings_s={},
    )


def held_parts(engine: Engine, parts: dict[str, list[int]]) -> dict[str, list[int]]:
    """The load's parts not applied for yet (each run gets only fresh ones)."""
    every = [p for ids in parts.values() for p in ids]
    with Session(engine) as s:
        held = set(
            s.exec(
                select(ReceivablePart.id).where(
                    col(ReceivablePart.id).in_(every), ReceivablePart.status == PartState.HELD
                )
            ).all()
        )
    return {name: [p for p in ids if p in held] for name, ids in parts.items()}


def finance_invariants(engine: Engine) -> dict[str, int]:
    """After the finance runs: no part with two live applications, no line or exposure over its limit."""
    with Session(engine) as s:
        live = s.exec(
            select(FinanceApplication.part_id, func.count())
            .where(col(FinanceApplication.active_part_id).is_not(None))
            .group_by(col(FinanceApplication.part_id))
            .having(func.count() > 1)
        ).all()
        over_line = s.exec(
            select(func.count()).select_from(CreditLine).where(col(CreditLine.used_fen) > col(CreditLine.limit_fen))
        ).one()
        applications = s.exec(select(func.count()).select_from(FinanceApplication)).one()
    return {
        "applications": int(applications),
        "parts_with_two_live_applications": len(live),
        "credit_lines_over_limit": int(over_line),
    }


# ------------------------------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def api_server(database_url: str, workdir: Path, *, workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {
        **os.environ,
        "QIANFAN_ENV": "development",
        "QIANFAN_DATABASE_URL": database_url,
        "QIANFAN_VAR_DIR": str(workdir / "var"),
        # Every account logs in once per run from 127.0.0.1: more than the default 30 a minute.
        "QIANFAN_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
    }
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "api.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    host = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited ({proc.returncode}); see {workdir / 'server.log'}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{host}/health", timeout=2) as r:
                if r.status == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not answer /health within 60 s")
            time.sleep(0.3)
        yield host, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def routes(host: str) -> set[tuple[str, str]]:
    with urllib.request.urlopen(f"{host}/openapi.json", timeout=10) as r:
        schema = json.load(r)
    return {(method, path) for path, ops in schema.get("paths", {}).items() for method in ops}


def login(host: str, username: str) -> str:
    body = urllib.parse.urlencode({"username": username, "password": DEMO_PASSWORD}).encode()
    request = urllib.request.Request(f"{host}/api/v1/auth/token", data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=30) as r:
        token: str = json.load(r)["access_token"]
        return token


# ------------------------------------------------------------------------------------------ observers


class DbSampler:
    """``pg_stat_activity`` of the load database every *interval* s: backends active, waiting on a lock, and
    statements running longer than *slow_ms*; ``pg_stat_database`` counters before and after."""

    #: ``sessions`` (PostgreSQL 14+): connections opened, i.e. backends forked — churn when a pool overflows.
    COUNTERS = ("sessions", "xact_commit", "xact_rollback", "deadlocks", "temp_files", "blks_read", "blks_hit")

    def __init__(self, url: str, database: str, *, slow_ms: int, interval: float = 0.2) -> None:
        self.engine = make_engine(url)
        self.database = database
        self.slow_ms = slow_ms
        self.interval = interval
        self.samples = 0
        self.max_active = 0
        self.max_lock_waiters = 0
        self.samples_with_lock_wait = 0
        self.lock_waits: Counter[str] = Counter()
        self.slow: Counter[str] = Counter()
        self.slowest_ms = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._before: dict[str, int] = {}

    def _counters(self, conn: sa.Connection) -> dict[str, int]:
        cols = ", ".join(self.COUNTERS)
        row = conn.execute(sa.text(f"SELECT {cols} FROM pg_stat_database WHERE datname = :d"), {"d": self.database})
        return {k: int(v or 0) for k, v in row.one()._mapping.items()}

    def _run(self) -> None:
        query = sa.text(
            "SELECT state, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS q, "
            "extract(epoch FROM clock_timestamp() - query_start) * 1000 AS ms "
            "FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"
        )
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while not self._stop.wait(self.interval):
                rows = conn.execute(query, {"d": self.database}).all()
                active = [r for r in rows if r.state == "active"]
                waiting = [r for r in active if r.wait_event_type == "Lock"]
                self.samples += 1
                self.max_active = max(self.max_active, len(active))
                self.max_lock_waiters = max(self.max_lock_waiters, len(waiting))
                self.samples_with_lock_wait += bool(waiting)
                for r in waiting:
                    self.lock_waits[f"{r.wait_event}: {r.q}"] += 1
                for r in active:
                    if r.ms is not None and float(r.ms) > self.slow_ms:
                        self.slow[r.q] += 1
                        self.slowest_ms = max(self.slowest_ms, float(r.ms))

    def __enter__(self) -> DbSampler:
        with self.engine.connect() as conn:
            self._before = self._counters(conn)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        with self.engine.connect() as conn:
            after = self._counters(conn)
        self.delta = {k: after[k] - self._before.get(k, 0) for k in after}
        self.engine.dispose()

    def report(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "max_active_backends": self.max_active,
            "max_lock_waiters": self.max_lock_waiters,
            "share_of_samples_with_a_lock_wait": round(self.samples_with_lock_wait / max(1, self.samples), 3),
            "lock_waits": dict(self.lock_waits.most_common(5)),
            f"statements_over_{self.slow_ms}_ms": dict(self.slow.most_common(5)),
            "slowest_statement_seen_ms": round(self.slowest_ms, 1),
            "pg_stat_database": getattr(self, "delta", {}),
        }


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children, 0 when gone."""
    total = 0.0
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                total += t.user + t.system
    return total


def _postgres_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving *database* (its process title names the database)."""
    out: dict[int, float] = {}
    for proc in psutil.process_iter(["name", "cmdline"]):
        title = " ".join(proc.info.get("cmdline") or [])
        if (proc.info.get("name") or "").startswith("postgres") and f" {database} " in f"{title} ":
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                out[proc.pid] = t.user + t.system
    return out


def _pg_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """What the backends alive at the end used since the start (a backend that exited meanwhile is not counted)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


class CpuMeter:
    """Where the CPU went during a run: the server's process tree, locust's, the PostgreSQL backends of the load
    database still alive at the end (a backend closed during the run is not counted: with pool overflow
    connections opened and closed per request that can be most of them; see ``sessions`` in the database
    counters), and everything else on the machine (other databases of the server included)."""

    def __init__(self, server_pid: int, database: str) -> None:
        self.server_pid = server_pid
        self.database = database

    def start(self, locust_pid: int) -> None:
        self.locust_pid = locust_pid
        self.t0 = time.monotonic()
        self.cpu0 = psutil.cpu_times()
        self.server0, self.locust0, self.pg0 = (
            _tree_cpu(self.server_pid),
            _tree_cpu(locust_pid),
            _postgres_cpu(self.database),
        )
        self.load0 = os.getloadavg()
        self.locust_last = self.locust0

    def poll(self) -> None:
        """Locust's tree is gone once it exits: remember its last reading."""
        self.locust_last = max(self.locust_last, _tree_cpu(self.locust_pid))

    def stop(self) -> dict[str, Any]:
        wall = time.monotonic() - self.t0
        cpu1 = psutil.cpu_times()
        busy = (sum(cpu1) - cpu1.idle - getattr(cpu1, "iowait", 0)) - (
            sum(self.cpu0) - self.cpu0.idle - getattr(self.cpu0, "iowait", 0)
        )
        cores = psutil.cpu_count() or 1
        server = _tree_cpu(self.server_pid) - self.server0
        locust = self.locust_last - self.locust0
        pg = _pg_delta(self.pg0, _postgres_cpu(self.database))
        return {
            "wall_s": round(wall, 1),
            "machine_busy_pct": round(100 * busy / (wall * cores), 1),
            "cores": cores,
            "cpu_s": {
                "server": round(server, 1),
                "locust": round(locust, 1),
                "postgres_load_db_backends_alive": round(pg, 1),
                "other": round(max(0.0, busy - server - locust - pg), 1),
            },
            "loadavg_1m_before_after": [round(self.load0[0], 2), round(os.getloadavg()[0], 2)],
        }


# ------------------------------------------------------------------------------------------ locust runs


@dataclass
class Row:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float


def read_stats(prefix: Path) -> tuple[list[Row], dict[str, int]]:
    rows: list[Row] = []
    stats = prefix.with_name(prefix.name + "_stats.csv")
    with stats.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            name = r["Name"] if r["Name"] == "Aggregated" else f"{r['Name']}"
            rows.append(
                Row(
                    name=name,
                    requests=int(r["Request Count"]),
                    failures=int(r["Failure Count"]),
                    rps=float(r["Requests/s"]),
                    p50=float(r["50%"] if r["50%"] != "N/A" else 0),
                    p95=float(r["95%"] if r["95%"] != "N/A" else 0),
                    p99=float(r["99%"] if r["99%"] != "N/A" else 0),
                    max=float(r["Max Response Time"] or 0),
                )
            )
    errors: dict[str, int] = {}
    failures = prefix.with_name(prefix.name + "_failures.csv")
    if failures.exists():
        with failures.open(encoding="utf-8") as f:
            for r in csv.DictReader(f):
                errors[f"{r['Name']}: {r['Error']}"[:300]] = int(r["Occurrences"])
    return rows, errors


def run_locust(
    host: str,
    plan: Path,
    classes: Sequence[str],
    prefix: Path,
    *,
    users: int,
    duration: int,
    wait: str,
    meter: CpuMeter | None,
) -> tuple[list[Row], dict[str, int], str]:
    args = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{duration}s",
        "--host",
        host,
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
        *classes,
    ]
    env = {**os.environ, "QIANFAN_LOAD_PLAN": str(plan), "QIANFAN_LOAD_WAIT": wait}
    log_path = prefix.with_name(prefix.name + ".log")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        if meter is not None:
            meter.start(proc.pid)
        while proc.poll() is None:
            if meter is not None:
                meter.poll()
            time.sleep(0.5)
    text = log_path.read_text(errors="replace")
    if not prefix.with_name(prefix.name + "_stats.csv").exists():
        raise RuntimeError(f"locust wrote no statistics (exit {proc.returncode}):\n{text[-3000:]}")
    rows, errors = read_stats(prefix)
    notes = [line for line in text.splitlines() if "CPU usage" in line or "[locustfile]" in line or "Traceback" in line]
    return rows, errors, "\n".join(dict.fromkeys(notes))


def median_rows(runs: list[list[Row]]) -> list[Row]:
    names: list[str] = []
    for rows in runs:
        names += [r.name for r in rows if r.name not in names]
    out = []
    for name in names:
        got = [r for rows in runs for r in rows if r.name == name]

        def med(attr: str, got: list[Row] = got) -> float:
            return float(statistics.median(getattr(r, attr) for r in got))

        out.append(
            Row(
                name,
                int(med("requests")),
                int(med("failures")),
                round(med("rps"), 1),
                med("p50"),
                med("p95"),
                med("p99"),
                med("max"),
            )
        )
    # The aggregate last.
    return sorted(out, key=lambda r: r.name == "Aggregated")


def table(rows: Sequence[Row]) -> str:
    head = f"{'endpoint':<44} {'requests':>9} {'failures':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.name:<44} {r.requests:>9,} {r.failures:>8,} {r.rps:>7.1f} {r.p50:>7.0f} {r.p95:>7.0f} {r.p99:>7.0f}"
        )
    return "\n".join(lines)


def write_plan(path: Path, host: str, data: LoadData, parts: dict[str, list[int]]) -> dict[str, int]:
    """Log every account in once (over HTTP) and write the plan locust reads; the login times in ms."""
    timings: dict[str, int] = {}

    def token(name: str) -> str:
        t0 = time.perf_counter()
        value = login(host, name)
        timings[name] = round((time.perf_counter() - t0) * 1000)
        return value

    tokens = {a.username: token(a.username) for a in [*data.smes, *data.firms, *data.banks]}
    plan = {
        "bank_ids": data.bank_ids,
        "smes": [
            {"username": a.username, "token": tokens[a.username], "parts": parts.get(a.username, [])} for a in data.smes
        ],
        "sme_matchers": [
            {"username": a.username, "token": tokens[a.username], "offers": a.ids} for a in data.smes if a.ids
        ],
        "firms": [{"username": a.username, "token": tokens[a.username], "orders": a.ids} for a in data.firms if a.ids],
        "banks": [{"username": a.username, "token": tokens[a.username]} for a in data.banks],
    }
    path.write_text(json.dumps(plan), encoding="utf-8")
    return timings


# ------------------------------------------------------------------------------------------ main


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": psutil.cpu_count(),
        "cpu": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "platform": sys.platform,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database", default=DEFAULT_URL, help="PostgreSQL URL of the dedicated database (recreated)")
    parser.add_argument("--scenarios", default="matches,finance,review", help="comma-separated, in this order")
    parser.add_argument("--users", type=int, default=20, help="simulated users per scenario (all started at once)")
    parser.add_argument("--duration", type=int, default=60, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=10, help="seconds of an uncounted run before each scenario")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per scenario (medians reported)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--wait", default="0", help="think time in s: 0 (closed loop) or 'a,b' (uniform)")
    parser.add_argument("--smes", type=int, default=20, help="SMEs taking part (one user each)")
    parser.add_argument("--parts", type=int, default=6000, help="confirmed receivable parts created for applying")
    parser.add_argument("--queue-per-bank", type=int, default=60, help="risk-checked applications per bank's queue")
    parser.add_argument("--slow-ms", type=int, default=200, help="report statements running longer than this")
    parser.add_argument("--reuse", action="store_true", help="keep the database and the load data of a previous run")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--out", type=Path, help="keep the locust CSVs and logs here (default: a temporary dir)")
    args = parser.parse_args(argv)

    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)} (known: {', '.join(SCENARIOS)})")
    url = check_url(args.database)
    database_url = url.render_as_string(hide_password=False)
    os.environ["QIANFAN_DATABASE_URL"] = database_url  # settings read by the use cases in this process
    workdir = args.out or Path(tempfile.mkdtemp(prefix="qianfan-api-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "command": shlex.join([Path(sys.executable).name, "-m", "bench.api_load", *(argv or sys.argv[1:])]),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": url.render_as_string(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": machine(),
        "scenarios": {},
    }
    what = "reused" if args.reuse else "recreated"
    print(f"database {url.render_as_string()} ({what}); workdir {workdir}", flush=True)

    engine = make_engine(database_url)
    if args.reuse:
        data = existing(engine)
        setup: dict[str, Any] = {"reused": True}
    else:
        t0 = time.perf_counter()
        engine.dispose()
        recreate_database(url)
        upgrade(database_url)
        t1 = time.perf_counter()
        run_seed(engine, SystemClock(), demo=True)
        t2 = time.perf_counter()
        data = prepare(engine, smes=args.smes, parts=args.parts, queue_per_bank=args.queue_per_bank)
        setup = {"migrate_s": round(t1 - t0, 1), "seed_s": round(t2 - t1, 1), **data.timings_s}
    setup |= {
        "smes": len(data.smes),
        "firms_with_open_orders": sum(1 for a in data.firms if a.ids),
        "open_orders": sum(len(a.ids) for a in data.firms),
        "sme_offers": sum(len(a.ids) for a in data.smes),
        "banks": len(data.banks),
        "fresh_parts": sum(len(p) for p in data.parts.values()),
        "review_queue_per_bank": data.queue,
    }
    result["setup"] = setup
    print(f"setup: {json.dumps(setup, ensure_ascii=False)}", flush=True)

    status = 0
    with api_server(database_url, workdir, workers=args.workers) as (host, server):
        print(f"server {host} (uvicorn, {args.workers} workers); locust in one process beside it", flush=True)
        available = routes(host)
        for scenario in scenarios:
            missing = [f"{m.upper()} {p}" for m, p in NEEDS[scenario] if (m, p) not in available]
            if missing:
                print(f"\n== {scenario}: skipped, the API has no {', '.join(missing)}", flush=True)
                result["scenarios"][scenario] = {"skipped": f"routes missing: {', '.join(missing)}"}
                status = 1
                continue
            status |= run_scenario(scenario, args, engine, data, host, server.pid, workdir, url, result)
        server_log = (workdir / "server.log").read_text(errors="replace")
        result["server_log_tail"] = server_log[-4000:]
        if "Traceback" in server_log:
            print(f"\nthe server logged errors; see {workdir / 'server.log'}", flush=True)
    if "finance" in scenarios and "skipped" not in result["scenarios"].get("finance", {"skipped": 1}):
        result["finance_invariants"] = finance_invariants(engine)
        print(f"\nfinance invariants after the runs: {result['finance_invariants']}")
    engine.dispose()
    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"figures written to {args.json}")
    if args.out is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return status


def run_scenario(
    scenario: str,
    args: argparse.Namespace,
    engine: Engine,
    data: LoadData,
    host: str,
    server_pid: int,
    workdir: Path,
    url: sa.URL,
    result: dict[str, Any],
) -> int:
    classes = SCENARIOS[scenario]
    print(f"\n== {scenario}: {' + '.join(classes)}, {args.users} users, {args.duration} s × {args.repeat}", flush=True)
    plan = workdir / f"plan-{scenario}.json"
    write_plan(plan, host, data, held_parts(engine, data.parts))
    run_locust(
        host,
        plan,
        classes,
        workdir / f"{scenario}-warmup",
        users=args.users,
        duration=args.warmup,
        wait=args.wait,
        meter=None,
    )
    runs: list[list[Row]] = []
    record: dict[str, Any] = {"users": args.users, "duration_s": args.duration, "runs": []}
    errors: Counter[str] = Counter()
    for n in range(1, args.repeat + 1):
        fresh = held_parts(engine, data.parts)
        logins = write_plan(plan, host, data, fresh)
        meter = CpuMeter(server_pid, url.database or "")
        with DbSampler(url.render_as_string(hide_password=False), url.database or "", slow_ms=args.slow_ms) as db:
            rows, errs, notes = run_locust(
                host,
                plan,
                classes,
                workdir / f"{scenario}-{n}",
                users=args.users,
                duration=args.duration,
                wait=args.wait,
                meter=meter,
            )
        cpu = meter.stop()
        runs.append(rows)
        errors.update(errs)
        record["runs"].append(
            {
                "endpoints": [asdict(r) for r in rows],
                "errors": errs,
                "db": db.report(),
                "cpu": cpu,
                "fresh_parts_at_start": sum(len(p) for p in fresh.values()),
                "login_ms_median": statistics.median(logins.values()) if logins else None,
                "locust_notes": notes,
            }
        )
        agg = next((r for r in rows if r.name == "Aggregated"), None)
        print(
            f"  run {n}: {agg.requests if agg else 0:,} requests, {agg.failures if agg else 0} failures, "
            f"{agg.rps if agg else 0:.1f} req/s, p99 {agg.p99 if agg else 0:.0f} ms; machine busy "
            f"{cpu['machine_busy_pct']} %, cpu s {cpu['cpu_s']}; lock waits in "
            f"{db.report()['share_of_samples_with_a_lock_wait']:.0%} of samples",
            flush=True,
        )
        if notes:
            print("  " + notes.replace("\n", "\n  "), flush=True)
    ran_out = [i + 1 for i, run in enumerate(record["runs"]) if "no fresh receivable part" in run["locust_notes"]]
    record["parts_ran_out_in_runs"] = ran_out
    medians = median_rows(runs)
    record["median"] = [asdict(r) for r in medians]
    record["errors"] = dict(errors.most_common(20))
    result["scenarios"][scenario] = record
    print(f"\n{scenario} — medians of {args.repeat} runs ({args.users} users, {args.duration} s each)")
    print(table(medians))
    if ran_out:
        print(
            f"WARNING: fresh parts ran out in run(s) {ran_out}: those users only listed from then on, so the mix "
            f"changed; raise --parts (the parts belong to the SMEs of the first min(--users, --smes) accounts)"
        )
    if errors:
        print("errors (all runs):")
        for text, count in errors.most_common(10):
            print(f"  {count:>6} × {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
