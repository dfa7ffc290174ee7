"""The ``qianfan`` command.  The one module allowed to import every package; nothing imports it."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from qianfan.clock import SystemClock
from qianfan.config import get_settings
from qianfan.errors import DomainError

# The subsystems are imported inside the commands that use them, so `qianfan --help` and each command start in
# ~0.45 s (cli.main alone) instead of ~5 s.  The figure beside each such import is its cost on top of cli.main:
# `python -X importtime -c "import cli.main, <module>"`, the least of three runs on the shared 2-core machine.

app = typer.Typer(
    help="千帆 Qianfan — 订单撮合与应收账款融资 / order matching and receivables finance",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="数据库迁移 / database migrations", no_args_is_help=True)
audit_app = typer.Typer(help="审计链 / audit chain", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
deadletters_app = typer.Typer(help="失败任务 / background tasks that kept failing", no_args_is_help=True)
app.add_typer(deadletters_app, name="deadletters")
jobs_app = typer.Typer(help="后台长任务与进度 / long background jobs and their progress", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")

err = Console(stderr=True)
out = Console()


def _fail(message: str) -> None:
    err.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """升级数据库结构 / Apply migrations up to REVISION (default: head)."""
    from qianfan.migrate import upgrade  # noqa: PLC0415 — alembic and the tables: +1.0 s

    settings = get_settings()
    upgrade(settings.database_url, revision)
    out.print(f"数据库已迁移至 {revision} / database migrated to {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="target revision, e.g. base or -1")]) -> None:
    """回退数据库结构 / Revert migrations down to REVISION."""
    from qianfan.migrate import downgrade  # noqa: PLC0415 — alembic and the tables: +1.0 s

    downgrade(get_settings().database_url, revision)
    out.print(f"数据库已回退至 {revision} / database downgraded to {revision}")


@db_app.command("current")
def db_current() -> None:
    """显示当前版本 / Show the current and head revisions."""
    from qianfan.db import get_engine  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from qianfan.migrate import current_revision, head_revision  # noqa: PLC0415 — alembic and the tables: +1.0 s

    out.print(f"current={current_revision(get_engine())} head={head_revision()}")


@app.command()
def seed(
    demo: Annotated[bool, typer.Option(help="load the demo data (idempotent)")] = True,
    scale: Annotated[int, typer.Option(help="also generate N realistic offers for benchmarks")] = 0,
    out_dir: Annotated[Path | None, typer.Option("--out", help="write the scale data as JSONL here")] = None,
) -> None:
    """载入演示数据 / Load the demo data (and optionally a scale data set)."""
    from qianfan.db import get_engine  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from qianfan.migrate import is_up_to_date  # noqa: PLC0415 — alembic and the tables: +1.0 s
    from seeds.load import run_seed  # noqa: PLC0415 — the demo load imports every domain: +5.1 s

    settings = get_settings()
    if settings.env == "production" and demo:
        _fail("生产环境不载入演示数据及演示账号 / demo data and accounts are never loaded in production")
    engine = get_engine()
    if not is_up_to_date(engine):
        _fail("数据库结构不是最新，请先运行 qianfan db upgrade / schema is behind: run `qianfan db upgrade` first")
    started = time.perf_counter()
    summary = run_seed(engine, SystemClock(), demo=demo, scale=scale, out_dir=out_dir)
    out.print(summary)
    out.print(f"用时 / took {time.perf_counter() - started:.1f} s")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    reload: Annotated[bool, typer.Option(help="reload on code changes (development)")] = False,
) -> None:
    """启动网页与接口服务 / Serve the web app and API."""

    out.print(f"千帆 Qianfan: http://{host}:{port}/login  (API docs: /docs, health: /health)")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, reload=reload)


@audit_app.command("verify")
def audit_verify() -> None:
    """校验审计哈希链 / Recompute the audit hash chain and report the first broken link."""
    from qianfan.audit import verify_chain  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from qianfan.db import session_scope  # noqa: PLC0415 — SQLModel and the tables: +1.3 s

    with session_scope() as session:
        report = verify_chain(session)
    if report.ok:
        out.print(f"审计链完整：{report.checked} 条记录 / audit chain intact: {report.checked} records")
        return
    _fail(
        f"审计链在第 {report.broken_seq} 条断开：{report.reason} / "
        f"audit chain broken at seq {report.broken_seq}: {report.reason} (checked {report.checked} before it)"
    )


@app.command("match")
def match(
    orders: Annotated[Path, typer.Option("--orders", help="订单 JSONL / orders, one JSON object per line")],
    offers: Annotated[
        Path | None, typer.Option("--offers", help="产品/服务 JSONL / offers, one JSON object per line")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="每个订单的匹配数 / matches per order")] = 10,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="输出 JSONL，- 为标准输出 / output file, - for stdout")
    ] = None,
    index_dir: Annotated[Path | None, typer.Option("--index", help="保存索引 / save the fitted index in DIR")] = None,
    load_index: Annotated[
        Path | None,
        typer.Option("--load-index", help="复用 --index 保存的索引 / reuse a saved index instead of --offers"),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="不显示进度与汇总 / no progress bar, no summary")
    ] = False,
) -> None:
    """批量撮合，无需数据库 / Match orders against offers from JSONL files (no database); one JSON line per order."""
    from matcher import batch  # noqa: PLC0415 — SQLModel and the tables: +1.3 s

    if (offers is None) == (load_index is None):
        raise typer.BadParameter("请给出 --offers 或 --load-index 之一 / give exactly one of --offers and --load-index")
    if load_index is not None and index_dir is not None:
        raise typer.BadParameter("--index 不能与 --load-index 同用 / --index cannot be combined with --load-index")
    reporter = batch.RichReporter(err) if err.is_terminal and not quiet else batch.NullReporter()
    try:
        with reporter:
            summary = batch.match_files(
                orders,
                offers=offers,
                load_index=load_index,
                save_index=index_dir,
                out=out_file,
                k=top,
                reporter=reporter,
            )
    except batch.BatchError as exc:
        err.print(exc.message, style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if not quiet:
        err.print(summary.line(), markup=False, highlight=False, soft_wrap=True)


# ------------------------------------------------------------------------------------------ background workers


@app.command()
def worker(
    queues: Annotated[
        str, typer.Option(help="逗号分隔的队列 / comma-separated queues")
    ] = "matching,finance,notifications,default",
    concurrency: Annotated[int, typer.Option(min=1, help="并发进程数 / worker processes (or threads)")] = 2,
    pool: Annotated[str, typer.Option(help="prefork | threads | solo")] = "prefork",
    name: Annotated[str | None, typer.Option(help="节点名 / node name (unique per machine)")] = None,
    loglevel: Annotated[str, typer.Option(help="DEBUG | INFO | WARNING")] = "INFO",
) -> None:
    """启动后台任务进程 / Run a Celery worker on the given queues (broker: QIANFAN_BROKER_URL)."""

    from workers.celery_app import QUEUES  # noqa: PLC0415 — celery: +0.3 s
    from workers.celery_app import app as celery  # noqa: PLC0415 — celery: +0.3 s

    chosen = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(chosen) - set(QUEUES))
    if not chosen or unknown:
        raise typer.BadParameter(f"未知队列 / unknown queues: {', '.join(unknown) or '-'}; known: {', '.join(QUEUES)}")
    node = name or f"{'-'.join(chosen)}.{os.getpid()}@%h"
    celery.worker_main(
        ["worker", "-Q", ",".join(chosen), "-c", str(concurrency), "-P", pool, "-n", node, "-l", loglevel]
    )


@app.command()
def beat(loglevel: Annotated[str, typer.Option(help="DEBUG | INFO | WARNING")] = "INFO") -> None:
    """启动定时调度 / Run celery beat: outbox relay, SLA sweep, maturity sweep, nightly refit (run exactly one)."""
    from workers.celery_app import app as celery  # noqa: PLC0415 — celery: +0.3 s

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    celery.start(["beat", "-l", loglevel, "-s", str(settings.var_dir / "celerybeat-schedule")])


@app.command()
def relay(
    once: Annotated[bool, typer.Option("--once", help="转发一次后退出 / relay the pending events and exit")] = False,
    interval: Annotated[float, typer.Option(min=0.1, help="轮询间隔秒 / seconds between runs")] = 1.0,
) -> None:
    """把发件箱事件转发到消息队列 / Relay committed outbox events to the broker."""

    from qianfan.db import get_engine  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from workers.celery_app import app as celery  # noqa: PLC0415 — celery: +0.3 s
    from workers.relay import relay_forever, relay_once  # noqa: PLC0415 — celery and the tables: +2.0 s

    if once:
        result = relay_once(get_engine(), celery)
        out.print(f"已转发 {result.dispatched} 个事件 / relayed {result.dispatched} events")
        if result.failed:
            _fail(f"消息队列不可用，事件保留待下次转发 / broker unavailable, events kept: {result.error}")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    out.print("发件箱转发中，Ctrl-C 退出 / relaying the outbox, Ctrl-C to stop")
    with contextlib.suppress(KeyboardInterrupt):
        relay_forever(get_engine(), celery, interval=interval)


@deadletters_app.command("list")
def deadletters_list(
    all_: Annotated[bool, typer.Option("--all", help="包括已重放的 / include replayed ones")] = False,
) -> None:
    """列出失败任务 / List the dead letters (tasks that failed after their retries)."""
    from qianfan.db import session_scope  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from qianfan.notifications import dead_letters  # noqa: PLC0415 — SQLModel and the tables: +1.3 s

    with session_scope() as session:
        rows = dead_letters(session, include_replayed=all_)
    if not rows:
        out.print("没有失败任务 / no dead letters")
        return
    for row in rows:
        first = (row.error or "").splitlines()[0][:120] if row.error else ""
        replayed = f" replayed×{row.replay_count}" if row.replay_count else ""
        out.print(
            f"#{row.id} {row.failed_at:%Y-%m-%d %H:%M} {row.task_name} {row.task_kwargs or row.task_args} "
            f"attempts={row.attempts}{replayed}: {first}",
            markup=False,
            highlight=False,
        )


@deadletters_app.command("replay")
def deadletters_replay(dead_letter_id: Annotated[int, typer.Argument(help="失败任务编号 / dead letter id")]) -> None:
    """由管委会重放失败任务 / Enqueue a dead letter's task again (as the programme office)."""
    from workers import context  # noqa: PLC0415 — celery and the tables: +2.0 s
    from workers.celery_app import app as celery  # noqa: PLC0415 — celery: +0.3 s
    from workers.deadletters import replay  # noqa: PLC0415 — celery and the tables: +2.0 s

    row, task_id = replay(context.current(), celery, dead_letter_id)
    out.print(f"已重新入队 / re-enqueued {row.task_name} as {task_id}", markup=False)


# ------------------------------------------------------------------------------------------ long jobs

_STATUS_ZH = {"queued": "排队中", "running": "运行中", "succeeded": "已完成", "failed": "失败"}
_USER_OPTION = typer.Option("--user", help="以该用户身份（默认管委会）/ act as this user (default: programme office)")


def _cli_actor(username: str | None) -> Any:
    """The user named *username* (with their organisation), else the programme office acting without a person."""
    from sqlmodel import select  # noqa: PLC0415 — SQLModel and the tables: +1.3 s

    from qianfan.actors import Actor  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from qianfan.db import session_scope  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from qianfan.models import Organisation, User  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from workers import context  # noqa: PLC0415 — celery and the tables: +2.0 s
    from workers.deadletters import office_actor  # noqa: PLC0415 — celery and the tables: +2.0 s

    if username is None:
        return office_actor(context.current())
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        org = session.get(Organisation, user.organisation_id) if user is not None else None
    if user is None or org is None:
        _fail(f"用户不存在 / no such user: {username}")
    assert user is not None and org is not None
    return Actor.for_user(user, org)


def _elapsed(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _job_line(job: Any, now: Any) -> str:
    from qianfan.jobs import elapsed_seconds, percent  # noqa: PLC0415 — SQLModel and the tables: +1.3 s

    pct = percent(job)
    total = "?" if job.total is None else str(job.total)
    share = "-" if pct is None else f"{pct:.0f}%"
    return (
        f"#{job.id} {job.kind} {_STATUS_ZH.get(job.status.value, job.status.value)} / {job.status.value} "
        f"{job.done}/{total} {share} 用时 / elapsed {_elapsed(elapsed_seconds(job, now))}"
    )


@jobs_app.command("list")
def jobs_list(
    user: Annotated[str | None, _USER_OPTION] = None,
    active: Annotated[bool, typer.Option("--active", help="仅未完成的 / only queued or running")] = False,
    limit: Annotated[int, typer.Option(min=1, help="最多显示 / at most this many")] = 50,
) -> None:
    """列出后台长任务 / List the long jobs you may see (newest first)."""
    from qianfan.db import session_scope  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from qianfan.jobs import jobs_of  # noqa: PLC0415 — SQLModel and the tables: +1.3 s

    actor = _cli_actor(user)
    with session_scope() as session:
        rows = jobs_of(session, actor, active_only=active, limit=limit)
    if not rows:
        out.print("没有后台任务 / no jobs")
        return
    now = SystemClock().now()
    for job in rows:
        out.print(_job_line(job, now), markup=False, highlight=False)


@jobs_app.command("show")
def jobs_show(
    job_id: Annotated[int, typer.Argument(help="任务编号 / job id")],
    user: Annotated[str | None, _USER_OPTION] = None,
) -> None:
    """显示一个后台任务 / Show one job: status, done/total, percent, elapsed, last message."""
    from qianfan.db import session_scope  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from qianfan.jobs import job_for  # noqa: PLC0415 — SQLModel and the tables: +1.3 s

    actor = _cli_actor(user)
    with session_scope() as session:
        job = job_for(session, actor, job_id)
    now = SystemClock().now()
    out.print(_job_line(job, now), markup=False, highlight=False)
    out.print(f"任务 / task: {job.task_id}", markup=False, highlight=False)
    out.print(f"创建 / created: {job.created_at:%Y-%m-%d %H:%M:%S} UTC", markup=False, highlight=False)
    if job.finished_at is not None:
        out.print(f"结束 / finished: {job.finished_at:%Y-%m-%d %H:%M:%S} UTC", markup=False, highlight=False)
    if job.message:
        out.print(f"信息 / message: {job.message}", markup=False, highlight=False)


def _enqueue_job(kind: str, task: str, user: str | None, kwargs: dict[str, Any]) -> int:
    """Record the job as started by the caller, then enqueue its task under the same id; returns the job id."""

    from qianfan.jobs import start_job  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from workers import context  # noqa: PLC0415 — celery and the tables: +2.0 s
    from workers.celery_app import app as celery  # noqa: PLC0415 — celery: +0.3 s

    actor = _cli_actor(user)
    task_id = f"{kind.rsplit('.', 1)[-1]}-{uuid.uuid4().hex[:20]}"
    job = start_job(context.current().uow(), kind, task_id, actor)
    try:
        celery.send_task(task, kwargs=kwargs, task_id=task_id)
    except Exception as exc:
        from qianfan.jobs import finish  # noqa: PLC0415 — SQLModel and the tables: +1.3 s

        finish(context.current().uow(), task_id, False, f"入队失败 / could not enqueue: {exc}")
        _fail(f"消息队列不可用 / broker unavailable: {exc}")
    assert job.id is not None
    return job.id


def _wait_for(job_id: int, user: str | None, timeout: float) -> None:
    """Poll the job and draw a progress bar until it finishes (exit 1 if it failed or *timeout* passed)."""

    from qianfan.db import session_scope  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from qianfan.jobs import job_for  # noqa: PLC0415 — SQLModel and the tables: +1.3 s

    actor = _cli_actor(user)
    deadline = time.monotonic() + timeout
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as bar:
        shown = bar.add_task(f"#{job_id}", total=None)
        while True:
            with session_scope() as session:
                job = job_for(session, actor, job_id)
            label = f"#{job_id} {_STATUS_ZH.get(job.status.value, '')} / {job.status.value}"
            bar.update(shown, description=label, completed=job.done, total=job.total)
            if job.status.finished:
                break
            if time.monotonic() > deadline:
                _fail(f"等待超时，任务仍在进行 / timed out waiting; job #{job_id} is still {job.status.value}")
            time.sleep(0.5)
    out.print(_job_line(job, SystemClock().now()), markup=False, highlight=False)
    if job.message:
        out.print(job.message, markup=False, highlight=False)
    if job.status.value == "failed":
        raise typer.Exit(1)


_WAIT_OPTION = typer.Option("--wait", help="等待并显示进度条（需后台进程）/ wait with a progress bar (needs a worker)")
_TIMEOUT_OPTION = typer.Option(min=1.0, help="--wait 的最长秒数 / give up waiting after this many seconds")


@app.command()
def refit(
    user: Annotated[str | None, _USER_OPTION] = None,
    wait: Annotated[bool, _WAIT_OPTION] = False,
    timeout: Annotated[float, _TIMEOUT_OPTION] = 3600.0,
) -> None:
    """重建撮合索引 / Enqueue a matcher refit (index rebuild + feedback weights) and print its job id."""
    from qianfan.jobs import REFIT  # noqa: PLC0415 — SQLModel and the tables: +1.3 s

    job_id = _enqueue_job(REFIT, "workers.tasks.matching.refit", user, {})
    out.print(f"已入队，任务编号 / enqueued, job id: {job_id}")
    if wait:
        _wait_for(job_id, user, timeout)


@app.command()
def rematch(
    user: Annotated[str | None, _USER_OPTION] = None,
    every: Annotated[int, typer.Option(min=1, help="每N个订单报告进度 / report progress every N orders")] = 25,
    wait: Annotated[bool, _WAIT_OPTION] = False,
    timeout: Annotated[float, _TIMEOUT_OPTION] = 3600.0,
) -> None:
    """重新匹配所有开放订单 / Enqueue re-matching every open order and print its job id."""
    from qianfan.jobs import REMATCH_ORDERS  # noqa: PLC0415 — SQLModel and the tables: +1.3 s

    job_id = _enqueue_job(REMATCH_ORDERS, "workers.tasks.matching.rematch_orders", user, {"every": every})
    out.print(f"已入队，任务编号 / enqueued, job id: {job_id}")
    if wait:
        _wait_for(job_id, user, timeout)


@app.command("run")
def run_all(
    host: str = "127.0.0.1",
    port: int = 8000,
    concurrency: Annotated[int, typer.Option(min=1, help="后台进程数 / worker processes")] = 2,
) -> None:
    """启动网页、后台任务与定时调度 / Serve the web app with a worker and beat beside it (stopped together)."""

    from qianfan.db import get_engine  # noqa: PLC0415 — SQLModel and the tables: +1.3 s
    from workers.celery_app import app as celery  # noqa: PLC0415 — celery: +0.3 s
    from workers.relay import install_commit_kick  # noqa: PLC0415 — celery and the tables: +2.0 s

    me = [sys.executable, "-m", "cli.main"]
    children = [
        subprocess.Popen([*me, "worker", "--concurrency", str(concurrency), "--loglevel", "WARNING"]),
        subprocess.Popen([*me, "beat", "--loglevel", "WARNING"]),
    ]
    install_commit_kick(get_engine, celery)  # events of web requests reach the broker at once, not at the next tick
    out.print(
        f"千帆 Qianfan: http://{host}:{port}/login  (演示账户 / demo accounts: demo-sme, demo-firm, demo-bank, "
        f"demo-office … password qianfan-demo; API docs: /docs; "
        f"worker pid {children[0].pid}, beat pid {children[1].pid})"
    )

    def _stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    # uvicorn shuts down on SIGTERM, then raises the signal again under the handler it found: with Python's
    # default the process would die there, before the children are stopped below, leaving them orphaned.
    signal.signal(signal.SIGTERM, _stop)
    try:
        uvicorn.run("api.app:create_app", factory=True, host=host, port=port)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def main() -> None:
    try:
        app()
    except Exception as exc:  # a person reads this: no stack trace, a message to act on
        if isinstance(exc, DomainError):
            err.print(f"[red]{exc.message}[/red]")
            sys.exit(2)
        raise


if __name__ == "__main__":
    main()
