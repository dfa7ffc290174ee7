"""Bulk offer import: reading CSV and .xlsx, checking rows like a single listing, the job that lists them (idempotent
per task id) and the downloadable templates."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts import organisations as orgs
from market import offer_import
from qianfan import events
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from qianfan.errors import InvalidInput
from qianfan.models import Job, JobStatus, Offer, OrgKind, OutboxEvent
from qianfan.uow import UnitOfWork
from workers import jobs
from workers.context import Context

HEADER = "类型,名称,描述,类别代码,最低价（元）,最高价（元）,年交付能力,资质代码,关键词"
GOOD = "产品,政务数据治理平台,数据清洗与共享,ict.bigdata,800000.00,5000000.00,10,hnte,数据治理;政务"
GOOD2 = "service,工业互联网平台运维,7×24 运维,ict.iiot,120000,900000,20,,运维、工业互联网"
BAD = "服务,,缺名称,ict.nope,100,50,0,nobel,"


def _csv(*lines: str) -> bytes:
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.fixture
def sme(engine: Engine, clock: FrozenClock, make_org: Callable[..., tuple]) -> Actor:
    org, _ = make_org(OrgKind.SME, qualifications=[{"code": "hnte"}])
    user = orgs.add_user(
        UnitOfWork(engine, clock), org.id, {"username": "importer", "display_name": "导入员", "password": "Correct-9x"}
    )
    return Actor.for_user(user, org)


def test_csv_rows_are_checked_one_by_one_with_line_numbers() -> None:
    rows = offer_import.read_rows("offers.csv", _csv(HEADER, GOOD, BAD, GOOD2))
    check = offer_import.check_rows(rows, held={"hnte"})
    assert check.total == 3 and [r["row"] for r in check.valid] == [2, 4]
    assert check.valid[0]["data"]["kind"] == "product" and check.valid[0]["data"]["keywords"] == ["数据治理", "政务"]
    assert check.valid[1]["data"]["keywords"] == ["运维", "工业互联网"]
    fields = {e.field for e in check.errors}
    assert {e.row for e in check.errors} == {3} and check.bad_rows == 1
    assert {"title", "category", "capacity", "qualifications"} <= fields
    assert all(e.message_zh and e.message_en for e in check.errors)


def test_qualifications_not_held_and_titles_repeated_in_the_file_are_refused() -> None:
    rows = offer_import.read_rows("o.csv", _csv(HEADER, GOOD, GOOD))
    check = offer_import.check_rows(rows, held=set())
    messages = [e.message_zh for e in check.errors]
    assert any("未持有" in m for m in messages) and any("与第2行名称重复" in m for m in messages)


def test_english_headers_in_any_order_and_gb18030_files_are_read() -> None:
    text = (
        "Title,Category code,Minimum price (yuan),Maximum price (yuan),Capacity per year\r\n云运维,ict.cloud,1,2,3\r\n"
    )
    rows = offer_import.read_rows("o.csv", text.encode("gb18030"))
    assert rows == [
        {"title": "云运维", "category": "ict.cloud", "price_min": "1", "price_max": "2", "capacity": "3", "_row": "2"}
    ]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("o.csv", b"", "请选择要上传的文件"),
        ("o.pdf", b"%PDF", "仅支持"),
        ("o.csv", _csv("名称,价格"), "无法识别的列"),
        ("o.csv", _csv("名称,类别代码"), "缺少必需的列"),
        ("o.csv", _csv(HEADER), "没有数据行"),
        ("o.csv", b"x" * (offer_import.MAX_BYTES + 1), "文件过大"),
        ("o.csv", _csv(HEADER, *[GOOD] * (offer_import.MAX_ROWS + 1)), "数据行过多"),
        ("o.xlsx", b"not a zip", "无法读取该 Excel 文件"),
    ],
)
def test_files_that_cannot_be_imported_say_why(name: str, data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        offer_import.read_rows(name, data)
    assert message in caught.value.message_zh and caught.value.message_en
    assert caught.value.detail[0]["field"] == "file"


def test_xlsx_is_read_and_numbers_stay_exact() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([c[1] for c in offer_import.COLUMNS])
    sheet.append(["技术", "边缘计算网关", "", "ict.iot", 1234.56, 99999.9, 3, None, "网关"])
    out = io.BytesIO()
    book.save(out)
    rows = offer_import.read_rows("o.xlsx", out.getvalue())
    assert rows[0]["price_min"] == "1234.56" and rows[0]["price_max"] == "99999.9" and rows[0]["capacity"] == "3"
    check = offer_import.check_rows(rows, held=set())
    assert not check.errors and check.valid[0]["data"]["kind"] == "technology"


def test_templates_have_the_chinese_header_and_read_back_cleanly() -> None:
    csv_bytes = offer_import.template_csv()
    assert csv_bytes.startswith("\ufeff".encode()) and "名称".encode() in csv_bytes
    for name, data in (("t.csv", csv_bytes), ("t.xlsx", offer_import.template_xlsx())):
        check = offer_import.check_rows(offer_import.read_rows(name, data), held={"hnte"})
        assert not check.errors and len(check.valid) == 1, name
    sheet = load_workbook(io.BytesIO(offer_import.template_xlsx())).active
    assert sheet is not None and sheet["B1"].value == "名称"


def test_the_job_lists_the_rows_once_even_when_run_twice(
    engine: Engine, clock: FrozenClock, sme: Actor, tmp_path: object
) -> None:
    rows = offer_import.read_rows("o.csv", _csv(HEADER, GOOD, GOOD2))
    check = offer_import.check_rows(rows, held={"hnte"})
    job = offer_import.request_import(UnitOfWork(engine, clock), sme, check.valid, task_id="import-test-1")
    with Session(engine) as s:
        event = s.exec(select(OutboxEvent).where(OutboxEvent.topic == events.OFFERS_IMPORT_REQUESTED)).one()
        assert event.payload["task_id"] == "import-test-1" and len(event.payload["rows"]) == 2
        assert s.get(Job, job.id).status == JobStatus.QUEUED  # type: ignore[union-attr]
    ctx = Context(engine, clock, index_dir=tmp_path / "index")  # type: ignore[operator]
    first = jobs.import_offers(ctx, **event.payload)
    again = jobs.import_offers(ctx, **event.payload)
    assert first == {"created": 2, "skipped": 0, "failed": 0}
    assert again == {"created": 0, "skipped": 2, "failed": 0}
    with Session(engine) as s:
        titles = s.exec(select(Offer.title).where(col(Offer.organisation_id) == sme.organisation_id)).all()
        done = s.get(Job, job.id)
    assert sorted(titles) == sorted(["政务数据治理平台", "工业互联网平台运维"])
    assert done is not None and done.status == JobStatus.SUCCEEDED and done.done == 2
    assert "新建 2 个产品" in done.message


def test_a_row_the_use_case_refuses_is_reported_and_the_others_listed(
    engine: Engine, clock: FrozenClock, sme: Actor, tmp_path: object
) -> None:
    rows = [
        {
            "row": 2,
            "data": {"title": "甲", "category": "ict.cloud", "price_min": "1", "price_max": "2", "capacity": "1"},
        },
        {
            "row": 3,
            "data": {
                "title": "乙",
                "category": "ict.cloud",
                "price_min": "1",
                "price_max": "2",
                "capacity": "1",
                "qualifications": ["cmmi5"],
            },
        },
    ]
    job = offer_import.request_import(UnitOfWork(engine, clock), sme, rows)
    ctx = Context(engine, clock, index_dir=tmp_path / "index")  # type: ignore[operator]
    result = jobs.import_offers(ctx, job.task_id, sme.organisation_id, sme.user_id, rows)  # type: ignore[arg-type]
    assert result == {"created": 1, "skipped": 0, "failed": 1}
    with Session(engine) as s:
        message = s.get(Job, job.id).message  # type: ignore[union-attr]
    assert "第3行" in message and "cmmi5" in message


def test_only_an_sme_may_ask_for_an_import(engine: Engine, clock: FrozenClock, make_org: Callable[..., tuple]) -> None:
    _, firm = make_org(OrgKind.LARGE_FIRM)
    with pytest.raises(Exception, match="仅限"):
        offer_import.request_import(UnitOfWork(engine, clock), firm, [{"row": 2, "data": {}}])
    with Session(engine) as s:
        assert s.exec(select(Job)).first() is None
