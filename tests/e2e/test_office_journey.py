"""The programme office in a real browser on the demo data: the funnel and a cluster filter, the 48-hour promise,
both downloads, a matcher refit followed to 100 %, the audit chain verified; one page on a phone, one in English."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def run_refit_as_the_worker_would(live: Any) -> None:
    """Relay the page's REFIT_REQUESTED event through the real plan and run its job in this thread.

    The live server's inline worker is still busy with the demo seed's backlog (thousands of matching jobs relayed
    in its first batch), so ``live.settle()`` returns long before it would reach the refit.  This runs exactly
    the job it would run (``workers.relay.plan`` → ``JOB_FUNCTIONS``); when the worker reaches the event later,
    the job is already finished and the second run changes nothing.
    """
    from sqlmodel import Session, col, select

    from qianfan import events
    from qianfan.events import Event
    from qianfan.models import OutboxEvent
    from tests.workers.conftest import JOB_FUNCTIONS
    from workers.context import Context
    from workers.relay import plan

    with Session(live.engine) as s:
        row = s.exec(
            select(OutboxEvent).where(OutboxEvent.topic == events.REFIT_REQUESTED).order_by(col(OutboxEvent.id).desc())
        ).first()
    assert row is not None
    ctx = Context(live.engine, live.clock, index_dir=live.index_dir)
    (job,) = plan(Event(row.topic, dict(row.payload), row.id))
    JOB_FUNCTIONS[job.task](ctx, **job.kwargs)


def test_office_journey(portal: Any, live: Any) -> None:
    window = portal("demo-office")
    page = window.page
    nav = page.locator("#mainnav")
    assert page.url.endswith("/office")
    assert "千帆计划对接漏斗" in window.text() and "需求订单" in window.text()
    assert page.locator("figure.chart svg").count() == 4
    window.shot("funnel")

    page.locator("#f-cluster").select_option("ict")
    page.locator("#f-metric").select_option("orders")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    assert "cluster=ict" in page.url and "已筛选" in window.text()
    window.shot("funnel-ict")

    page.get_by_role("link", name="查看48小时时效").click()  # keeps the cluster
    page.wait_for_load_state()
    assert "申请到放款：48小时承诺" in window.text() and "cluster=ict" in page.url
    window.shot("turnaround")

    nav.get_by_role("link", name="数据导出").click()
    page.wait_for_load_state()
    page.locator("#f-group_by").select_option("cluster")
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="下载 CSV").click()
    text = open(csv_download.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "分组 / Group" and rows[-1][0] == "total" and len(rows) > 3
    with page.expect_download() as json_download:
        page.get_by_role("button", name="下载 OCDS JSON").click()
    data = json.loads(open(json_download.value.path(), encoding="utf-8").read(), parse_float=Decimal)  # noqa: SIM115
    assert data["version"] == "1.1" and data["releases"]
    assert all(r["ocid"].startswith("ocds-qianfan-") for r in data["releases"])
    assert all(isinstance(r["tender"]["value"]["amount"], Decimal | int) for r in data["releases"])
    window.shot("exports")

    nav.get_by_role("link", name="后台任务").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="开始重建").click()
    page.wait_for_load_state()
    assert "已提交匹配模型重建任务" in window.flash()
    run_refit_as_the_worker_would(live)
    job = page.locator("[data-job]")
    job.and_(page.locator("[data-status=succeeded]")).wait_for(timeout=20_000)
    assert page.locator("[data-job] progress").evaluate("p => p.value") == 100
    page.reload()
    page.locator("[data-job][data-status=succeeded]").wait_for()
    assert "已完成" in page.locator("section[aria-labelledby=jobs]").inner_text() and "开始重建" in window.text()
    window.shot("operations-refit-done")

    nav.get_by_role("link", name="审计链").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="校验整条审计链").click()
    page.wait_for_load_state()
    assert "审计链完整" in page.locator("#verify-result").inner_text()
    window.shot("audit-verified")


def test_office_on_a_phone_and_in_english(portal: Any) -> None:
    phone = portal("demo-office", mobile=True)
    phone.goto("/office/turnaround")
    assert "48-hour" not in phone.text() and "用时分布" in phone.text()
    phone.shot("turnaround-phone")

    english = portal("demo-office", lang="en")
    english.goto("/office")
    assert "The Qianfan plan's funnel" in english.text() and "Conversion from the step before" in english.text()
    english.shot("funnel-en")
