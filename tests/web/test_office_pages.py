"""The programme office's pages: the funnel and its filters, the 48-hour promise, the CSV and OCDS downloads, the
background jobs with a refit, and the audit chain — and what they refuse."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from qianfan import events, notifications
from qianfan import jobs as job_service
from qianfan.clock import FrozenClock
from qianfan.events import Event
from qianfan.models import AuditEvent, DeadLetter, Job, JobStatus, Order, OrgKind, OutboxEvent
from qianfan.uow import UnitOfWork
from tests.api.conftest import add_organisation, add_user
from tests.services.test_stats import build_world
from tests.web.conftest import Pages
from workers.relay import plan


def _office(session: Session, username: str = "office") -> Any:
    org = add_organisation(session, "中关村科学城管委会", kind=OrgKind.PROGRAMME_OFFICE)
    return add_user(session, org, username, display_name="李主任")


def _login(session: Session, pages: Pages, *, world: bool = True) -> None:
    if world:
        build_world(session)
    _office(session)
    session.commit()
    pages.login("office")


def test_the_funnel_counts_each_step_with_its_conversion(session: Session, pages: Pages) -> None:
    _login(session, pages)
    html = pages.get("/office").text
    assert "<h1>千帆计划对接漏斗</h1>" in html
    # orders 4 (3,600.50) → matched 2 (50.0 %) → signed 1 (50.0 %) → contracts 1 → confirmed 2 → financed 5
    assert "¥3,600.50" in html and "50.0%" in html and "200.0%" in html and "250.0%" in html
    assert "¥1,500.00" in html  # financed principal 10,000 + 20,000 + 40,000 + 50,000 + 30,000 fen
    assert "48小时内放款：</p>" not in html and "4 / 5（80.0%）" in html
    for heading in ("按产业集群", "按分园", "按月份", "2026年10月", "2026年11月", "海淀园"):
        assert heading in html
    assert html.count('<svg viewBox="0 0 600') == 4  # the steps and three breakdowns
    assert "style=" not in html and "<script>" not in html


def test_filters_narrow_every_figure_and_keep_what_was_chosen(session: Session, pages: Pages) -> None:
    _login(session, pages)
    html = pages.get("/office?cluster=green&from=2026-11-01&to=2026-11-30&metric=financed_amount_fen").text
    assert "已筛选" in html
    assert '<option value="green" selected>' in html and 'value="2026-11-01"' in html
    assert "¥500.00" in html  # firm B's November order only
    assert '<option value="financed_amount_fen" selected>' in html and "分布：融资金额" in html
    pages.client.cookies.set("qf_lang", "en")
    english = pages.get("/office?cluster=green").text
    assert "The Qianfan plan&#39;s funnel" in english or "The Qianfan plan's funnel" in english
    assert "Green" in english or "green" in english


def test_a_refused_filter_keeps_the_dates_and_says_why(session: Session, pages: Pages) -> None:
    _login(session, pages)
    response = pages.get("/office?from=2026-11-30&to=2026-11-01", expect=422)
    assert "不能早于起始日期" in response.text
    assert 'value="2026-11-30"' in response.text and 'value="2026-11-01"' in response.text
    assert "不允许" not in response.text
    bad_cluster = pages.get("/office?cluster=nope", expect=422).text
    assert 'aria-invalid="true"' in bad_cluster


def test_an_empty_programme_says_what_to_do(session: Session, pages: Pages) -> None:
    _login(session, pages, world=False)
    assert "所选范围内还没有需求订单" in pages.get("/office").text
    turnaround = pages.get("/office/turnaround").text
    assert "所选范围内还没有放款" in turnaround and "没有超时放款" in turnaround


def test_turnaround_shows_the_histogram_percentiles_and_breaches(session: Session, pages: Pages) -> None:
    _login(session, pages)
    html = pages.get("/office/turnaround").text
    assert "<h1>申请到放款：48小时承诺</h1>" in html
    assert "80.0%" in html and "30.0" in html and "49.6" in html and "4 / 5" in html
    assert 'class="bar bad"' in html and "48h 承诺" in html and "&gt; 72h" in html
    assert html.count('class="row-breached"') == 1 and "50.00" in html and "¥500.00" in html
    october = pages.get("/office/turnaround?from=2026-10-01&to=2026-10-31").text
    assert "没有超时放款" in october and "30.0" in october


def test_the_stats_csv_is_the_apis(session: Session, pages: Pages) -> None:
    _login(session, pages)
    assert "下载 CSV" in pages.get("/office/exports").text
    response = pages.get("/office/exports/stats.csv?group_by=cluster&from=&cluster=")
    assert response.headers["content-type"].startswith("text/csv")
    assert "qianfan-stats-by-cluster.csv" in response.headers["content-disposition"]
    assert response.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["分组 / Group", "名称 / Name", "Name (English)"]
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert total["分组 / Group"] == "total" and total["需求金额（元）/ Order amount (yuan)"] == "3600.50"
    assert total["融资金额（元）/ Amount financed (yuan)"] == "1500.00"
    refused = pages.get("/office/exports/stats.csv?group_by=bank", expect=422)
    assert "分组方式无效" in refused.text


def test_the_ocds_download_is_an_exact_release_package(session: Session, pages: Pages) -> None:
    _login(session, pages)
    response = pages.get("/office/exports/ocds.json?from=2026-11-01&to=2026-11-30")
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    data = json.loads(response.text, parse_float=Decimal)
    assert data["version"] == "1.1" and data["publisher"] == {"name": "中关村科学城管委会"}
    budgets = {o.id: o.budget_fen for o in session.exec(select(Order)).all()}
    assert len(data["releases"]) == 4
    for release in data["releases"]:
        order_id = int(release["ocid"].removeprefix("ocds-qianfan-"))
        assert release["tender"]["value"]["amount"] == Decimal(budgets[order_id]) / 100
    assert pages.get("/office/exports/ocds.json?from=2027-01-01").json()["releases"] == []
    refused = pages.get("/office/exports/ocds.json?from=2026-12-01&to=2026-11-01", expect=422)
    assert "不能早于起始日期" in refused.text and 'value="2026-12-01"' in refused.text


def test_a_refit_creates_the_job_and_its_event_and_shows_its_progress(
    session: Session, pages: Pages, engine: Engine
) -> None:
    _login(session, pages, world=False)
    assert "还没有后台任务" in pages.get("/office/operations").text
    response = pages.post("/office/operations/refit")
    assert response.headers["location"].startswith("/office/operations?job=")
    html = pages.follow(response).text
    session.rollback()
    job = session.exec(select(Job)).one()
    assert (job.kind, job.status, job.total) == (job_service.REFIT, JobStatus.QUEUED, 2)
    assert job.task_id.startswith("refit-")
    event = session.exec(select(OutboxEvent).where(OutboxEvent.topic == "matcher.refit_requested")).one()
    assert event.payload == {"task_id": job.task_id, "user_id": job.started_by_user_id}
    assert "已提交匹配模型重建任务" in html and f'data-job="/jobs/{job.id}"' in html
    assert "李主任" in html and "已有重建任务在进行" in html
    again = pages.follow(pages.post("/office/operations/refit"))
    assert "匹配模型正在重建" in again.text  # one at a time, said on the page
    session.rollback()
    assert len(session.exec(select(Job)).all()) == 1


def test_dead_letters_are_listed(session: Session, pages: Pages, engine: Engine, clock: FrozenClock) -> None:
    _login(session, pages, world=False)
    assert "没有失败任务" in pages.get("/office/operations").text
    notifications.record_dead_letter(
        UnitOfWork(engine, clock),
        task_id="t-dead-1",
        task_name="workers.tasks.finance.risk_check",
        args=[],
        kwargs={"application_id": 42},
        error="RuntimeError: credit bureau unreachable\nTraceback…",
        attempts=5,
    )
    html = pages.get("/office/operations").text
    assert "workers.tasks.finance.risk_check" in html and "credit bureau unreachable" in html
    assert "Traceback" not in html and "待处理" in html and "application_id" in html

    # queued again from the page: the row is marked and the task goes to the relay with a new id, in one commit
    session.rollback()
    dead = session.exec(select(DeadLetter)).one()
    done = pages.follow(pages.post(f"/office/operations/dead-letters/{dead.id}/replay"))
    assert f"失败任务 #{dead.id} 已重新入队" in done.text and "已重放 1" in done.text
    session.rollback()
    event = session.exec(select(OutboxEvent).where(OutboxEvent.topic == events.DEAD_LETTER_REPLAY_REQUESTED)).one()
    assert event.payload["task_id"] == "t-dead-1.r1"
    (job,) = plan(Event(event.topic, event.payload, event.id))
    assert (job.task, job.kwargs, job.task_id(event.id)) == (
        "workers.tasks.finance.risk_check",
        {"application_id": 42},
        "t-dead-1.r1",
    )
    refused = pages.follow(pages.post("/office/operations/dead-letters/999999/replay"))
    assert "失败任务" in refused.text and "flash-error" in refused.text


def test_the_audit_chain_is_listed_and_verified(
    session: Session, pages: Pages, engine: Engine, clock: FrozenClock
) -> None:
    _login(session, pages, world=False)
    assert "审计链还是空的" in pages.get("/office/audit").text
    for i in range(30):
        with UnitOfWork(engine, clock) as uow:
            uow.audit("receivable", i + 1, "confirmed", amount_fen=100 + i)
            uow.commit()
    html = pages.get("/office/audit").text
    assert "<strong>30</strong>" in html and "receivable #30" in html and "receivable #5" not in html
    assert 'rel="next"' in html
    assert "receivable #5" in pages.get("/office/audit?page=1").text
    ok = pages.post("/office/audit/verify", expect=200).text
    assert "审计链完整：已校验 30 条记录" in ok
    with engine.begin() as conn:  # someone edits a record behind the application's back
        conn.execute(sa.update(AuditEvent).where(col(AuditEvent.seq) == 7).values(entity_id=999))
    broken = pages.post("/office/audit/verify", expect=200).text
    assert "审计链在第 7 条记录处断开（此前 6 条完好）" in broken and "记录内容被修改" in broken


def test_other_kinds_of_users_are_refused_and_forms_need_their_token(
    session: Session, pages: Pages, client: Any
) -> None:
    assert client.get("/office", follow_redirects=False).headers["location"] == "/login?next=/office"
    sme = add_organisation(session, "网页测试科技有限公司", kind=OrgKind.SME)
    add_user(session, sme, "sme-user")
    pages.login("sme-user")
    for url in ("/office", "/office/turnaround", "/office/exports", "/office/exports/ocds.json", "/office/audit"):
        assert "此页面不属于您的机构类型" in pages.get(url, expect=403).text
    pages.post("/office/operations/refit", expect=403)
    client.cookies.clear()
    session.rollback()  # end the read snapshot: the app wrote since
    _office(session)
    pages.login("office")
    response = client.post("/office/operations/refit", data={"csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403 and "表单已过期" in response.text
    session.rollback()
    assert session.exec(select(Job)).all() == []
    assert "后台任务" in pages.get("/office/operations?job=999999", expect=404).text
