"""The programme office's statistics and audit endpoints: who may call them, the JSON and CSV they answer, and
bilingual 422s for bad filters; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from qianfan import audit, taxonomy
from qianfan.models import OrgKind, UserRole
from tests.api.conftest import T0, add_organisation, add_user, assert_error_shape, assert_no_floats, login
from tests.services import test_stats as world

STATS = "/api/v1/stats"
CSV = "/api/v1/stats.csv"
VERIFY = "/api/v1/audit/verify"
EVENTS = "/api/v1/audit/events"


@pytest.fixture
def office(client: TestClient, session: Session) -> dict[str, str]:
    org = add_organisation(session, "中关村科技园区管理委员会", kind=OrgKind.PROGRAMME_OFFICE)
    add_user(session, org, "office")
    session.commit()  # end the session's read snapshot: on SQLite (WAL) it could not write after the login's write
    return login(client, "office")


def test_only_the_programme_office_may_read_figures_and_audit(client: TestClient, session: Session) -> None:
    office_org = add_organisation(session, "中关村科技园区管理委员会", kind=OrgKind.PROGRAMME_OFFICE)
    add_user(session, office_org, "office")
    kinds = [
        (OrgKind.SME, UserRole.ADMIN),
        (OrgKind.LARGE_FIRM, UserRole.ADMIN),
        (OrgKind.BANK, UserRole.REVIEWER),
        (OrgKind.SERVICE_PROVIDER, UserRole.MEMBER),
    ]
    for kind, role in kinds:
        add_user(session, add_organisation(session, f"机构-{kind.value}", kind=kind), f"user-{kind.value}", role)
    session.commit()
    office = login(client, "office")
    others = {kind.value: login(client, f"user-{kind.value}") for kind, _ in kinds}

    for path in (STATS, f"{STATS}?group_by=district", CSV, VERIFY, EVENTS):
        assert client.get(path, headers=office).status_code == 200, path
        for kind, headers in others.items():
            response = client.get(path, headers=headers)
            assert response.status_code == 403, (path, kind)
            assert_error_shape(response.json(), "permission_denied")
        anonymous = client.get(path)
        assert anonymous.status_code == 401, path
        assert_error_shape(anonymous.json(), "unauthenticated")
        assert anonymous.headers["WWW-Authenticate"] == "Bearer"


def test_figures_of_an_empty_platform_are_zeros(client: TestClient, office: dict[str, str]) -> None:
    body = client.get(STATS, headers=office).json()
    assert_no_floats(body)
    total = body["total"]
    assert total["orders"] == total["applications_disbursed"] == 0
    assert total["orders_amount_fen"] == 0 and total["orders_amount"] == "0.00"
    assert total["disbursal_hours_p50"] is None and total["disbursed_within_48h_share"] is None
    assert body["groups"] == [] and body["group_by"] is None
    assert body["period_start"] is None and body["timezone"] == "Asia/Shanghai"


def test_figures_as_json(client: TestClient, session: Session, office: dict[str, str]) -> None:
    world.build_world(session)
    body = client.get(STATS, headers=office).json()
    assert_no_floats(body)
    total = body["total"]
    assert {name: total[name] for name in world.EVERYTHING} == world.EVERYTHING
    assert total["orders_amount"] == "3600.50"
    assert total["financed_amount"] == "1500.00"
    assert total["receivables_confirmed_amount"] == "1000.00"
    assert (total["disbursal_hours_p50"], total["disbursal_hours_p95"]) == ("30.00", "49.60")
    assert (total["disbursed_within_48h_share"], total["disbursed_within_48h_bp"]) == ("0.8000", 8000)

    november = client.get(STATS, params={"month": "2026-11", "cluster": "ict"}, headers=office).json()
    assert november["filters"] == {"cluster": "ict", "district": None, "from": None, "to": None, "month": "2026-11"}
    assert (november["period_start"], november["period_end"]) == (
        "2026-11-01T00:00:00+08:00",
        "2026-12-01T00:00:00+08:00",
    )
    # firm A's boundary order (1 November, 01:30 Beijing time) and SME X's order
    assert (november["total"]["orders"], november["total"]["orders_amount"]) == (2, "2100.50")

    days = client.get(STATS, params={"from": "2026-11-01", "to": "2026-11-04"}, headers=office).json()
    assert (days["total"]["orders"], days["total"]["contracts"], days["total"]["intent_orders_signed"]) == (1, 1, 1)
    assert days["period_end"] == "2026-11-05T00:00:00+08:00"


def test_figures_grouped(client: TestClient, session: Session, office: dict[str, str]) -> None:
    world.build_world(session)
    by_cluster = client.get(STATS, params={"group_by": "cluster"}, headers=office).json()
    assert_no_floats(by_cluster)
    assert by_cluster["group_by"] == "cluster"
    assert [g["key"] for g in by_cluster["groups"]] == [*taxonomy.CLUSTER_CODES, None]
    ict = by_cluster["groups"][0]
    assert (ict["label"], ict["orders"], ict["financed_amount"], ict["disbursal_hours_p50"]) == (
        "新一代信息技术",
        3,
        "1200.00",
        "34.00",
    )
    assert by_cluster["groups"][-1]["label_en"] == "Unclassified"
    assert sum(g["orders_amount_fen"] for g in by_cluster["groups"]) == by_cluster["total"]["orders_amount_fen"]

    by_month = client.get(STATS, params={"group_by": "month", "district": "海淀园"}, headers=office).json()
    assert [(g["key"], g["orders"], g["applications_disbursed"]) for g in by_month["groups"]] == [
        ("2026-10", 1, 0),
        ("2026-11", 2, 4),
    ]
    by_district = client.get(STATS, params={"group_by": "district", "cluster": "green"}, headers=office).json()
    assert [g["key"] for g in by_district["groups"]] == list(taxonomy.DISTRICTS)
    assert {g["key"]: g["offers"] for g in by_district["groups"] if g["offers"]} == {"昌平园": 1}


def _read_csv(response: Any) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_figures_as_csv(client: TestClient, session: Session, office: dict[str, str]) -> None:
    world.build_world(session)
    response = client.get(CSV, headers=office)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="qianfan-stats.csv"')
    header, *rows = _read_csv(response)
    assert header[:4] == ["分组 / Group", "名称 / Name", "Name (English)", "有需求的大企业数 / Large firms with orders"]
    assert all("/" in cell for cell in header if cell != "Name (English)")  # Chinese / English
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert (row["分组 / Group"], row["名称 / Name"], row["Name (English)"]) == ("all", "全部", "All")
    assert row["需求条数 / Orders"] == "4"
    assert row["需求金额（元）/ Order amount (yuan)"] == "3600.50"
    assert row["融资金额（元）/ Amount financed (yuan)"] == "1500.00"
    assert row["申请到放款P95（小时）/ Application to disbursement p95 (hours)"] == "49.60"
    assert row["48小时内放款占比 / Share disbursed within 48 h"] == "0.8000"

    grouped = client.get(CSV, params={"group_by": "cluster", "month": "2026-11"}, headers=office)
    assert 'filename="qianfan-stats-by-cluster.csv"' in grouped.headers["content-disposition"]
    header, *rows = _read_csv(grouped)
    assert [r[0] for r in rows] == [*taxonomy.CLUSTER_CODES, "", "total"]
    json_body = client.get(STATS, params={"group_by": "cluster", "month": "2026-11"}, headers=office).json()
    orders_column = header.index("需求条数 / Orders")
    assert [int(r[orders_column]) for r in rows] == [
        *(g["orders"] for g in json_body["groups"]),
        json_body["total"]["orders"],
    ]
    empty_p50 = header.index("申请到放款中位数（小时）/ Application to disbursement p50 (hours)")
    assert rows[1][empty_p50] == ""  # no loan in that cluster: an empty cell, not 0


#: Bad filters and the field each 422 names.
BAD_FILTERS: list[tuple[dict[str, str], str]] = [
    ({"month": "2026-13"}, "month"),
    ({"month": "November"}, "month"),
    ({"from": "2026-02-01", "to": "2026-01-31"}, "to"),
    ({"from": "2026-02-30"}, "from"),
    ({"month": "2026-01", "to": "2026-01-31"}, "month"),
    ({"group_by": "year"}, "group_by"),
    ({"cluster": "steel"}, "cluster"),
    ({"district": "纽约园"}, "district"),
    ({"period": "2026"}, "period"),
]


def test_bad_filters_are_a_bilingual_422(client: TestClient, office: dict[str, str]) -> None:
    for params, field in BAD_FILTERS:
        for path in (STATS, CSV):
            response = client.get(path, params=params, headers=office)
            assert response.status_code == 422, (path, params, response.text)
            body = response.json()
            assert_error_shape(body, "invalid_input")
            assert body["detail"][0]["field"] == field
            assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body  # Chinese …
            assert body["message_en"].startswith("Invalid request parameter"), body  # … and English


def _append(session: Session, n: int) -> None:
    for i in range(n):
        audit.append(
            session,
            entity_type="receivable" if i % 2 == 0 else "loan",
            entity_id=1 + i % 3,
            action=f"step-{i}",
            at=T0 + timedelta(minutes=i),
            actor_id=None,
            payload={"amount_fen": 100 * i},
        )
    session.commit()


def test_verify_the_audit_chain(client: TestClient, session: Session, office: dict[str, str]) -> None:
    empty = client.get(VERIFY, headers=office).json()
    assert (empty["ok"], empty["events_checked"], empty["broken_seq"]) == (True, 0, None)

    _append(session, 5)
    report = client.get(VERIFY, headers=office).json()
    assert (report["ok"], report["events_checked"], report["broken_seq"], report["reason"]) == (True, 5, None, None)
    assert report["message"] == "审计链完整：已校验 5 条记录"
    assert report["verified_at"] == "2026-11-02T09:30:00+08:00"  # the frozen clock, in Beijing time

    session.execute(sa.text("UPDATE audit_event SET action = 'forged' WHERE seq = 3"))
    session.commit()
    broken = client.get(VERIFY, headers=office).json()
    assert (broken["ok"], broken["events_checked"], broken["broken_seq"]) == (False, 2, 3)
    assert "altered" in broken["reason"] and "3" in broken["message"] and "3" in broken["message_en"]


def test_audit_events_newest_first_with_filters(client: TestClient, session: Session, office: dict[str, str]) -> None:
    _append(session, 7)
    page = client.get(EVENTS, params={"limit": 3}, headers=office).json()
    assert (page["total"], page["limit"], page["offset"]) == (7, 3, 0)
    assert [e["seq"] for e in page["items"]] == [7, 6, 5]
    first = page["items"][0]
    assert set(first) == {"seq", "entity_type", "entity_id", "action", "actor_id", "payload", "at", "prev_hash", "hash"}
    assert first["at"] == "2026-11-02T09:36:00+08:00" and first["payload"] == {"amount_fen": 600}
    assert first["prev_hash"] == page["items"][1]["hash"]
    assert [e["seq"] for e in client.get(EVENTS, params={"offset": 5}, headers=office).json()["items"]] == [2, 1]

    receivables = client.get(EVENTS, params={"entity_type": "receivable"}, headers=office).json()
    assert [e["seq"] for e in receivables["items"]] == [7, 5, 3, 1]
    one = client.get(EVENTS, params={"entity_type": "receivable", "entity_id": 1}, headers=office).json()
    assert [(e["seq"], e["entity_id"]) for e in one["items"]] == [(7, 1), (1, 1)]

    for bad in ({"entity_id": 0}, {"limit": 0}, {"entity_type": ""}, {"sort": "seq"}):
        response = client.get(EVENTS, params=bad, headers=office)
        assert response.status_code == 422, bad
        assert_error_shape(response.json(), "invalid_input")


def test_the_definitions_are_documented_in_openapi(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    figures = schema["components"]["schemas"]["FiguresPublic"]["properties"]
    assert "large_firm" in figures["large_firms_with_orders"]["description"]
    assert "≥1 match" in figures["auto_matched_orders"]["description"]
    assert {tag["name"] for tag in schema["tags"]} >= {"stats", "audit"}
    params = {p["name"] for p in schema["paths"][STATS]["get"]["parameters"]}
    assert params == {"cluster", "district", "from", "to", "month", "group_by"}


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "month=0001-01", "month=9999-12"])
def test_dates_outside_the_platforms_years_are_a_422_not_a_500(
    client: TestClient, session: Session, query: str
) -> None:
    # Found by the schemathesis fuzz: year 1 in Beijing time is before datetime.min in UTC.
    office = add_organisation(session, "日期边界测试管委会", kind=OrgKind.PROGRAMME_OFFICE)
    add_user(session, office, "date-office")
    response = client.get(f"/api/v1/stats?{query}", headers=login(client, "date-office"))
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")
