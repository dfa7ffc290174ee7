"""The programme office's statistics over hand-built rows: every figure, every filter and every grouping exactly,
on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, SQLModel

from qianfan import taxonomy
from qianfan.models import (
    ApplicationStatus,
    BankProduct,
    Contract,
    FinanceApplication,
    IntentOrder,
    IntentStatus,
    ListingStatus,
    Loan,
    Match,
    Mentor,
    Offer,
    OfferKind,
    OfferStatus,
    Order,
    OrderKind,
    OrderStatus,
    Organisation,
    OrgKind,
    PartState,
    Receivable,
    ReceivablePart,
    ServiceNeed,
    ServicePackage,
)
from reports import stats
from reports.stats import Figures, GroupBy, Scope

BEIJING = ZoneInfo("Asia/Shanghai")
_serial = itertools.count(1)


def bj(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment of 2026 given in Beijing time, as aware UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


#: 2026-10-31 17:30 UTC is already 1 November in Beijing: a month boundary the grouping must take locally.
BOUNDARY = datetime(2026, 10, 31, 17, 30, tzinfo=UTC)


def add(session: Session, row: SQLModel) -> Any:
    session.add(row)
    session.flush()
    return row


def org(session: Session, kind: OrgKind, cluster: str | None, district: str) -> Organisation:
    n = next(_serial)
    return add(
        session,
        Organisation(
            kind=kind,
            name=f"统计测试机构{n}",
            credit_code=f"91110108STAT{n:06d}",
            district=district,
            cluster=cluster,
            created_at=bj(1, 1),
        ),
    )


def order(session: Session, owner: Organisation, budget_fen: int, at: datetime, **extra: Any) -> Order:
    assert owner.id is not None
    return add(
        session,
        Order(
            organisation_id=owner.id,
            kind=OrderKind.PROCUREMENT,
            title=f"订单{next(_serial)}",
            category="ict.cloud",
            budget_fen=budget_fen,
            district=owner.district,
            deadline=date(2027, 1, 1),
            created_at=at,
            updated_at=at,
            **extra,
        ),
    )


def offer(session: Session, owner: Organisation, at: datetime, **extra: Any) -> Offer:
    assert owner.id is not None
    return add(
        session,
        Offer(
            organisation_id=owner.id,
            kind=OfferKind.SERVICE,
            title=f"产品{next(_serial)}",
            category="ict.cloud",
            price_min_fen=100,
            price_max_fen=200,
            capacity=1,
            created_at=at,
            updated_at=at,
            **extra,
        ),
    )


def match(session: Session, o: Order, f: Offer, at: datetime) -> Match:
    assert o.id is not None and f.id is not None
    return add(session, Match(order_id=o.id, offer_id=f.id, rank=1, score=0.5, engine_version="test", created_at=at))


@dataclass
class World:
    firm_a: Organisation
    firm_b: Organisation
    sme_x: Organisation
    sme_y: Organisation
    provider: Organisation


def build_world(session: Session) -> World:
    """Two large firms, two SMEs, a provider without a cluster, a bank; rows in October and November 2026."""
    firm_a = org(session, OrgKind.LARGE_FIRM, "ict", "海淀园")
    firm_b = org(session, OrgKind.LARGE_FIRM, "green", "朝阳园")
    sme_x = org(session, OrgKind.SME, "ict", "海淀园")
    sme_y = org(session, OrgKind.SME, "green", "昌平园")
    provider = org(session, OrgKind.SERVICE_PROVIDER, None, "海淀园")
    bank = org(session, OrgKind.BANK, None, "西城园")

    # Demand: firm A posts in October and at the local start of November, firm B in November; an order owned
    # by an SME counts as an order but not as a large firm.
    a1 = order(session, firm_a, 100_000, bj(10, 10))  # 1,000.00
    order(session, firm_a, 200_050, BOUNDARY)  # 2,000.50 — November in Beijing
    b1 = order(session, firm_b, 50_000, bj(11, 5), status=OrderStatus.CLOSED)
    order(session, sme_x, 10_000, bj(11, 6))

    # Supply: one withdrawn offer is not counted.
    x1 = offer(session, sme_x, bj(10, 1))
    offer(session, sme_x, bj(10, 2), status=OfferStatus.WITHDRAWN)
    y1 = offer(session, sme_y, bj(11, 1))

    # Matches: a1 first matched in October and again in November; b1 in November; the SME's order never.
    match(session, a1, x1, bj(10, 11))
    match(session, a1, y1, bj(11, 2))
    match(session, b1, y1, bj(11, 6))

    assert provider.id is not None
    add(
        session,
        ServicePackage(
            organisation_id=provider.id,
            title="上云服务包",
            category="ict.cloud",
            value_fen=30_000,
            created_at=bj(10, 3),
        ),
    )
    add(
        session,
        ServicePackage(
            organisation_id=provider.id,
            title="节能诊断包",
            category="green.hvac",
            value_fen=5_000,
            status=ListingStatus.WITHDRAWN,
            created_at=bj(10, 3),
        ),
    )
    add(session, Mentor(organisation_id=provider.id, name="导师甲", headline="云架构", created_at=bj(11, 3)))
    add(
        session,
        Mentor(
            organisation_id=provider.id,
            name="导师乙",
            headline="已退出",
            status=ListingStatus.WITHDRAWN,
            created_at=bj(11, 3),
        ),
    )
    assert sme_x.id is not None and sme_y.id is not None
    # n1 has an active package of its category; n2's only candidate is withdrawn.
    add(session, ServiceNeed(organisation_id=sme_x.id, title="上云", category="ict.cloud", created_at=bj(11, 7)))
    add(session, ServiceNeed(organisation_id=sme_y.id, title="节能", category="green.hvac", created_at=bj(10, 7)))

    # Deals: a signed intent order (the later signature is 4 November) and its contract; a proposed one.
    assert firm_a.id is not None and a1.id is not None and x1.id is not None
    signed = add(
        session,
        IntentOrder(
            order_id=a1.id,
            offer_id=x1.id,
            buyer_id=firm_a.id,
            supplier_id=sme_x.id,
            title="意向1",
            amount_fen=80_000,
            delivery_due=date(2027, 3, 1),
            status=IntentStatus.SIGNED,
            proposed_by_id=firm_a.id,
            proposed_at=bj(10, 20),
            buyer_signed_at=bj(11, 3),
            supplier_signed_at=bj(11, 4),
        ),
    )
    add(
        session,
        IntentOrder(
            order_id=a1.id,
            offer_id=x1.id,
            buyer_id=firm_a.id,
            supplier_id=sme_x.id,
            title="意向2",
            amount_fen=999,
            delivery_due=date(2027, 3, 1),
            proposed_by_id=firm_a.id,
            proposed_at=bj(10, 21),
        ),
    )
    contract = add(
        session,
        Contract(
            intent_order_id=signed.id,
            buyer_id=firm_a.id,
            supplier_id=sme_x.id,
            title="合同1",
            amount_fen=80_000,
            delivery_due=date(2027, 3, 1),
            signed_at=bj(11, 4),
        ),
    )

    # Receivables: r1 confirmed in November (700.00 of 800.00), r3 in October, r2 never.
    assert firm_b.id is not None
    r1 = receivable(session, sme_x, firm_a, 80_000, confirmed=(70_000, bj(11, 5)), contract_id=contract.id)
    receivable(session, sme_x, firm_a, 10_000, confirmed=None)
    r3 = receivable(session, sme_y, firm_b, 30_000, confirmed=(30_000, bj(10, 20)))

    # Loans: application → disbursement of 10 h, 20 h, 48 h (exactly: within), 50 h for SME X (November) and
    # 30 h for SME Y (October).
    assert bank.id is not None
    product = add(
        session,
        BankProduct(bank_id=bank.id, code="P1", name="应收账款融资", advance_rate=Decimal("0.8"), created_at=bj(1, 1)),
    )
    for hours, principal, disbursed, r, who, debtor in [
        (10, 10_000, bj(11, 10), r1, sme_x, firm_a),
        (20, 20_000, bj(11, 11), r1, sme_x, firm_a),
        (48, 40_000, bj(11, 12), r1, sme_x, firm_a),
        (50, 50_000, bj(11, 13), r1, sme_x, firm_a),
        (30, 30_000, bj(10, 25), r3, sme_y, firm_b),
    ]:
        loan(session, product, r, who, debtor, principal, disbursed - timedelta(hours=hours), disbursed)
    session.commit()
    return World(firm_a, firm_b, sme_x, sme_y, provider)


def receivable(
    session: Session,
    creditor: Organisation,
    debtor: Organisation,
    face_fen: int,
    *,
    confirmed: tuple[int, datetime] | None,
    contract_id: int | None = None,
) -> Receivable:
    assert creditor.id is not None and debtor.id is not None
    return add(
        session,
        Receivable(
            creditor_id=creditor.id,
            debtor_id=debtor.id,
            contract_id=contract_id,
            title=f"应收{next(_serial)}",
            face_fen=face_fen,
            confirmed_fen=confirmed[0] if confirmed else None,
            confirmed_at=confirmed[1] if confirmed else None,
            issue_date=date(2026, 10, 1),
            due_date=date(2027, 4, 1),
            registered_at=bj(10, 1),
        ),
    )


def loan(
    session: Session,
    product: BankProduct,
    r: Receivable,
    sme: Organisation,
    debtor: Organisation,
    principal: int,
    submitted: datetime,
    disbursed: datetime,
) -> Loan:
    assert r.id is not None and sme.id is not None and debtor.id is not None and product.id is not None
    part = add(
        session,
        ReceivablePart(
            receivable_id=r.id, holder_id=sme.id, amount_fen=principal, status=PartState.FINANCED, created_at=submitted
        ),
    )
    application = add(
        session,
        FinanceApplication(
            applicant_id=sme.id,
            bank_id=product.bank_id,
            product_id=product.id,
            core_enterprise_id=debtor.id,
            receivable_id=r.id,
            part_id=part.id,
            requested_fen=principal,
            status=ApplicationStatus.DISBURSED,
            submitted_at=submitted,
            deadline_at=submitted + timedelta(hours=48),
            finished_at=disbursed,
        ),
    )
    return add(
        session,
        Loan(
            application_id=application.id,
            part_id=part.id,
            disbursement_key=f"d-{part.id}",
            bank_id=product.bank_id,
            sme_id=sme.id,
            core_enterprise_id=debtor.id,
            principal_fen=principal,
            principal_outstanding_fen=principal,
            annual_rate=Decimal("0.045"),
            day_count="ACT/360",
            start_date=disbursed.date(),
            due_date=date(2027, 4, 1),
            disbursed_at=disbursed,
        ),
    )


#: The world's figures, all of it.
EVERYTHING = {
    "large_firms_with_orders": 2,
    "orders": 4,
    "orders_amount_fen": 100_000 + 200_050 + 50_000 + 10_000,
    "auto_matched_orders": 2,
    "matches": 3,
    "offers": 2,
    "service_packages": 1,
    "service_packages_value_fen": 30_000,
    "mentors": 1,
    "service_providers": 1,
    "service_needs": 2,
    "service_needs_matched": 1,
    "intent_orders_signed": 1,
    "intent_orders_signed_amount_fen": 80_000,
    "contracts": 1,
    "contracts_amount_fen": 80_000,
    "receivables_confirmed": 2,
    "receivables_confirmed_amount_fen": 100_000,
    "applications_disbursed": 5,
    "financed_amount_fen": 150_000,
    "disbursed_within_48h": 4,
}
ZERO = dict.fromkeys(EVERYTHING, 0)


def test_an_empty_database_gives_zeros(session: Session) -> None:
    figures = stats.programme_stats(session)
    assert figures.counts() == ZERO
    assert figures.disbursal_hours_p50 is None and figures.disbursal_hours_p95 is None
    assert figures.disbursed_within_48h_share is None and figures.disbursed_within_48h_bp is None

    by_cluster = stats.programme_stats_by(session, GroupBy.CLUSTER)
    assert [g.key for g in by_cluster] == list(taxonomy.CLUSTER_CODES)
    assert all(g.figures.counts() == ZERO for g in by_cluster)
    assert [g.key for g in stats.programme_stats_by(session, GroupBy.DISTRICT)] == list(taxonomy.DISTRICTS)
    assert stats.programme_stats_by(session, GroupBy.MONTH) == []


def test_every_figure_over_the_whole_database(session: Session) -> None:
    build_world(session)
    figures = stats.programme_stats(session)
    assert figures.counts() == EVERYTHING
    # Durations 10, 20, 30, 48, 50 h: median 30; p95 at rank 3.8 = 48 + 0.8 × 2.
    assert figures.disbursal_hours_p50 == Decimal("30.00")
    assert figures.disbursal_hours_p95 == Decimal("49.60")
    assert figures.disbursed_within_48h_share == Decimal("0.8000")
    assert figures.disbursed_within_48h_bp == 8000


def test_filters_by_cluster_and_district_use_the_attributed_organisation(session: Session) -> None:
    build_world(session)
    ict = stats.programme_stats(session, Scope(cluster="ict"))
    assert ict.counts() == {
        **ZERO,
        "large_firms_with_orders": 1,  # firm A (the SME's own order counts as an order only)
        "orders": 3,
        "orders_amount_fen": 100_000 + 200_050 + 10_000,
        "auto_matched_orders": 1,
        "matches": 2,  # both of a1's matches, whoever the offer belongs to
        "offers": 1,
        "service_needs": 1,
        "service_needs_matched": 1,
        "intent_orders_signed": 1,
        "intent_orders_signed_amount_fen": 80_000,
        "contracts": 1,
        "contracts_amount_fen": 80_000,
        "receivables_confirmed": 1,
        "receivables_confirmed_amount_fen": 70_000,
        "applications_disbursed": 4,
        "financed_amount_fen": 120_000,
        "disbursed_within_48h": 3,
    }
    # 10, 20, 48, 50 h: median halfway between 20 and 48; p95 at rank 2.85.
    assert ict.disbursal_hours_p50 == Decimal("34.00")
    assert ict.disbursal_hours_p95 == Decimal("49.70")
    assert ict.disbursed_within_48h_share == Decimal("0.7500")

    changping = stats.programme_stats(session, Scope(district="昌平园"))  # SME Y only
    assert changping.counts() == {
        **ZERO,
        "offers": 1,
        "service_needs": 1,
        "receivables_confirmed": 1,
        "receivables_confirmed_amount_fen": 30_000,
        "applications_disbursed": 1,
        "financed_amount_fen": 30_000,
        "disbursed_within_48h": 1,
    }
    assert changping.disbursal_hours_p50 == changping.disbursal_hours_p95 == Decimal("30.00")

    haidian_ict = stats.programme_stats(session, Scope(cluster="ict", district="海淀园"))
    assert haidian_ict.counts() == ict.counts()  # firm A and SME X are both in 海淀园
    assert stats.programme_stats(session, Scope(cluster="ict", district="昌平园")).counts() == ZERO


def test_periods_are_taken_in_beijing_time(session: Session) -> None:
    build_world(session)
    november = stats.programme_stats(session, Scope(*stats.month_period("2026-11")))
    assert november.counts() == {
        **ZERO,
        "large_firms_with_orders": 2,
        "orders": 3,  # the boundary order (31 October 17:30 UTC) is November in Beijing
        "orders_amount_fen": 200_050 + 50_000 + 10_000,
        "auto_matched_orders": 1,  # b1; a1 was first matched in October
        "matches": 2,
        "offers": 1,
        "mentors": 1,
        "service_providers": 1,
        "service_needs": 1,
        "service_needs_matched": 1,
        "intent_orders_signed": 1,
        "intent_orders_signed_amount_fen": 80_000,
        "contracts": 1,
        "contracts_amount_fen": 80_000,
        "receivables_confirmed": 1,
        "receivables_confirmed_amount_fen": 70_000,
        "applications_disbursed": 4,
        "financed_amount_fen": 120_000,
        "disbursed_within_48h": 3,
    }
    october = stats.programme_stats(session, Scope(*stats.month_period("2026-10")))
    assert (october.orders, october.orders_amount_fen, october.large_firms_with_orders) == (1, 100_000, 1)
    assert (october.auto_matched_orders, october.matches, october.service_packages) == (1, 1, 1)

    # Inclusive calendar days: 1–4 November holds the boundary order, the second signature and the contract.
    first_days = stats.programme_stats(session, Scope(*stats.date_period(date(2026, 11, 1), date(2026, 11, 4))))
    assert (first_days.orders, first_days.intent_orders_signed, first_days.contracts) == (1, 1, 1)
    assert (first_days.matches, first_days.offers, first_days.mentors) == (1, 1, 1)
    # The day before: no signature yet (the later of the two signatures counts).
    before = stats.programme_stats(session, Scope(*stats.date_period(date(2026, 11, 1), date(2026, 11, 3))))
    assert (before.intent_orders_signed, before.contracts) == (0, 0)
    # Open-ended on either side.
    since = stats.programme_stats(session, Scope(*stats.date_period(date(2026, 11, 6), None)))
    assert (since.orders, since.matches, since.applications_disbursed) == (1, 1, 4)
    until = stats.programme_stats(session, Scope(*stats.date_period(None, date(2026, 10, 31))))
    assert (until.orders, until.receivables_confirmed, until.applications_disbursed) == (1, 1, 1)


#: Distinct organisations may appear in several months; the other figures add up over months too.
ADDITIVE = [name for name in EVERYTHING if name not in ("large_firms_with_orders", "service_providers")]


def _sum(groups: list[stats.Group]) -> dict[str, int]:
    return {name: sum(g.figures.counts()[name] for g in groups) for name in EVERYTHING}


def test_group_by_cluster(session: Session) -> None:
    build_world(session)
    groups = stats.programme_stats_by(session, GroupBy.CLUSTER)
    assert [g.key for g in groups] == [*taxonomy.CLUSTER_CODES, None]  # the provider has no cluster
    by_key = {g.key: g for g in groups}
    assert by_key["ict"].figures.counts() == stats.programme_stats(session, Scope(cluster="ict")).counts()
    assert (by_key["ict"].label, by_key["ict"].label_en) == (
        taxonomy.CLUSTER_BY_CODE["ict"].name_zh,
        taxonomy.CLUSTER_BY_CODE["ict"].name_en,
    )
    green = by_key["green"].figures
    assert green.counts() == {
        **ZERO,
        "large_firms_with_orders": 1,
        "orders": 1,
        "orders_amount_fen": 50_000,
        "auto_matched_orders": 1,
        "matches": 1,
        "offers": 1,
        "service_needs": 1,
        "receivables_confirmed": 1,
        "receivables_confirmed_amount_fen": 30_000,
        "applications_disbursed": 1,
        "financed_amount_fen": 30_000,
        "disbursed_within_48h": 1,
    }
    assert green.disbursal_hours_p50 == Decimal("30.00")
    unclassified = by_key[None]
    assert (unclassified.label, unclassified.label_en) == ("未分类", "Unclassified")
    assert unclassified.figures.counts() == {
        **ZERO,
        "service_packages": 1,
        "service_packages_value_fen": 30_000,
        "mentors": 1,
        "service_providers": 1,
    }
    assert all(g.figures.counts() == ZERO for g in groups if g.key not in ("ict", "green", None))
    # One organisation per record: the groups add up to the whole.
    assert _sum(groups) == EVERYTHING

    only = stats.programme_stats_by(session, GroupBy.CLUSTER, Scope(cluster="green"))
    assert [g.key for g in only] == ["green"]
    assert only[0].figures.counts() == green.counts()


def test_group_by_district(session: Session) -> None:
    build_world(session)
    groups = stats.programme_stats_by(session, GroupBy.DISTRICT)
    assert [g.key for g in groups] == list(taxonomy.DISTRICTS)
    by_key = {g.key: g.figures for g in groups}
    assert by_key["朝阳园"].counts() == {
        **ZERO,
        "large_firms_with_orders": 1,
        "orders": 1,
        "orders_amount_fen": 50_000,
        "auto_matched_orders": 1,
        "matches": 1,
    }
    assert by_key["昌平园"].counts() == stats.programme_stats(session, Scope(district="昌平园")).counts()
    assert by_key["海淀园"].service_providers == 1 and by_key["海淀园"].orders == 3
    assert _sum(groups) == EVERYTHING
    assert groups[0].label == groups[0].label_en == "海淀园"

    filtered = stats.programme_stats_by(session, GroupBy.DISTRICT, Scope(cluster="green"))
    assert {g.key: g.figures.orders for g in filtered if g.figures.orders} == {"朝阳园": 1}


def test_group_by_month(session: Session) -> None:
    build_world(session)
    groups = stats.programme_stats_by(session, GroupBy.MONTH)
    assert [(g.key, g.label, g.label_en) for g in groups] == [
        ("2026-10", "2026年10月", "Oct 2026"),
        ("2026-11", "2026年11月", "Nov 2026"),
    ]
    october, november = groups
    assert november.figures.counts() == stats.programme_stats(session, Scope(*stats.month_period("2026-11"))).counts()
    assert october.figures.counts() == stats.programme_stats(session, Scope(*stats.month_period("2026-10"))).counts()
    assert november.figures.disbursal_hours_p50 == Decimal("34.00")
    assert october.figures.disbursed_within_48h_share == Decimal("1.0000")
    assert {name: v for name, v in _sum(groups).items() if name in ADDITIVE} == {n: EVERYTHING[n] for n in ADDITIVE}

    # A period fixes the months shown, empty ones included.
    autumn = stats.programme_stats_by(
        session, GroupBy.MONTH, Scope(*stats.date_period(date(2026, 9, 15), date(2026, 12, 31)))
    )
    assert [g.key for g in autumn] == ["2026-09", "2026-10", "2026-11", "2026-12"]
    assert autumn[0].figures.counts() == autumn[3].figures.counts() == ZERO
    # Combined with a cluster.
    ict = stats.programme_stats_by(session, GroupBy.MONTH, Scope(cluster="ict"))
    assert [(g.key, g.figures.orders, g.figures.matches) for g in ict] == [("2026-10", 1, 1), ("2026-11", 2, 1)]


def test_month_period_and_date_period() -> None:
    start, end = stats.month_period("2026-12")
    assert start == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert stats.date_period(date(2026, 1, 1), date(2026, 1, 1)) == (
        datetime(2025, 12, 31, 16, tzinfo=UTC),
        datetime(2026, 1, 1, 16, tzinfo=UTC),
    )
    assert stats.date_period(None, None) == (None, None)


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], Fraction(1, 2), None),
        ([7], Fraction(95, 100), Fraction(7)),
        ([4, 1, 3, 2], Fraction(1, 2), Fraction(5, 2)),
        ([4, 1, 3, 2], Fraction(95, 100), Fraction(385, 100)),
        ([1, 2, 3, 4], Fraction(0), Fraction(1)),
        ([1, 2, 3, 4], Fraction(1), Fraction(4)),
        (list(range(1, 101)), Fraction(95, 100), Fraction(9505, 100)),
    ],
)
def test_percentile_interpolates_between_closest_ranks(
    values: list[int], p: Fraction, expected: Fraction | None
) -> None:
    assert stats.percentile(values, p) == expected


def test_percentile_refuses_p_outside_0_to_1() -> None:
    with pytest.raises(ValueError):
        stats.percentile([1], Fraction(3, 2))


def test_share_and_hours_round_half_even() -> None:
    figures = Figures(applications_disbursed=3, disbursed_within_48h=2)
    assert figures.disbursed_within_48h_share == Decimal("0.6667")
    assert figures.disbursed_within_48h_bp == 6667
    # 1 h 0 min 18 s = 1.005 h → 1.00 (half-even); 30 min 54 s = 0.515 h → 0.52.
    figures = Figures(disbursal_micros=[3_618_000_000])
    assert figures.disbursal_hours_p50 == Decimal("1.00")
    figures = Figures(disbursal_micros=[1_854_000_000])
    assert figures.disbursal_hours_p50 == Decimal("0.52")
