"""The large firm's pages: home figures, orders (post, edit with a version check, close), the ranked suppliers of an
order with filters, comparison, shortlist / reject and intent orders, deals (sign, cancel), confirmation of
receivables (one, a batch all-or-nothing, dispute) and repayment (a double submit repays once); and the refusals
(wrong kind of user, another tenant's records, a form without its CSRF token)."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.web.render import yuan
from finance import service as fs
from finance.queries.loans import payoff
from market import service as mkt
from qianfan.clock import FrozenClock, to_local
from qianfan.models import (
    Contract,
    IntentOrder,
    IntentStatus,
    Interest,
    InterestKind,
    Loan,
    LoanStatus,
    Order,
    OrderStatus,
    OrgKind,
    Receivable,
    ReceivableStatus,
)
from qianfan.uow import UnitOfWork
from tests.api.conftest import use_fresh_offer_index
from tests.api.tenants import PASSWORD, Tenants, build_tenants
from tests.web.conftest import Pages

_invoice = itertools.count(880001)
FIRM = OrgKind.LARGE_FIRM
SME = OrgKind.SME


@pytest.fixture
def tenants(engine: Engine, clock: FrozenClock) -> Tenants:
    return build_tenants(engine, clock)


def _login_firm(pages: Pages, tenants: Tenants) -> None:
    pages.login(tenants.a.usernames[FIRM], PASSWORD)


def _order(engine: Engine, clock: FrozenClock, tenants: Tenants, **fields: Any) -> Order:
    data = {
        "title": "道路巡检AI识别平台采购",
        "description": "需要道路巡检AI识别平台，覆盖四个养护片区。",
        "category": "ict.iot",
        "budget": "2500000.00",
        "district": "海淀园",
        "deadline": clock.now().date() + timedelta(days=45),
        **fields,
    }
    return mkt.post_order(UnitOfWork(engine, clock), tenants.a.actors[FIRM], data)


def _receivable(engine: Engine, clock: FrozenClock, tenants: Tenants, title: str, face: str = "100000.00") -> int:
    today = clock.now().date()
    row = fs.register_receivable(
        UnitOfWork(engine, clock),
        tenants.a.actors[SME],
        {
            "title": title,
            "debtor_id": tenants.a.org_id(FIRM),
            "face": face,
            "issue_date": today,
            "due_date": today + timedelta(days=60),
            "invoice_numbers": [f"INV{next(_invoice)}"],
        },
    )
    assert row.id is not None
    return row.id


def test_home_shows_what_waits_for_the_firm(engine: Engine, clock: FrozenClock, tenants: Tenants, pages: Pages) -> None:
    _order(engine, clock, tenants)
    _receivable(engine, clock, tenants, "第三期货款", "123456.78")
    _login_firm(pages, tenants)
    page = pages.get("/firm").text
    assert "大企业工作台" in page
    assert "250.00万元" in page  # the open order's budget (the chain's first order is awarded)
    assert "¥123,456.78" in page  # face value waiting for confirmation
    assert 'href="/firm/receivables"' in page and 'href="/firm/repayments"' in page


def test_posting_an_order_keeps_what_was_typed_on_refusal(
    engine: Engine, clock: FrozenClock, tenants: Tenants, pages: Pages, session: Session
) -> None:
    _login_firm(pages, tenants)
    assert "发布订单" in pages.get("/firm/orders/new").text
    form = {
        "kind": "procurement",
        "title": "园区楼宇中央空调节能改造",
        "description": "12栋办公楼",
        "category": "green.hvac",
        "budget": "12.345",
        "district": "海淀园",
        "deadline": (clock.now().date() + timedelta(days=30)).isoformat(),
        "required_qualifications": ["hnte", "emc"],
    }
    refused = pages.post("/firm/orders", form, expect=422)
    assert 'value="园区楼宇中央空调节能改造"' in refused.text and 'value="12.345"' in refused.text
    assert 'id="f-budget"' in refused.text and 'aria-invalid="true"' in refused.text
    assert 'value="emc" checked' in refused.text  # the ticked qualifications stay ticked
    past = pages.post("/firm/orders", {**form, "budget": "12500000.00", "deadline": "2020-01-01"}, expect=422)
    assert "截止日期必须晚于今天" in past.text
    done = pages.post("/firm/orders", {**form, "budget": "12500000.00"})
    order_id = int(done.headers["location"].rsplit("/", 1)[1])
    session.rollback()
    order = session.get(Order, order_id)
    assert order is not None and order.budget_fen == 1_250_000_000
    assert order.required_qualifications == ["emc", "hnte"]
    assert order.organisation_id == tenants.a.org_id(FIRM)
    listing = pages.get("/firm/orders").text
    assert "园区楼宇中央空调节能改造" in listing and "1,250.00万元" in listing


def test_editing_checks_the_version_and_closing_asks_first(
    engine: Engine, clock: FrozenClock, tenants: Tenants, pages: Pages, session: Session
) -> None:
    order = _order(engine, clock, tenants)
    _login_firm(pages, tenants)
    form = pages.get(f"/firm/orders/{order.id}/edit").text
    assert 'name="version" value="1"' in form and 'value="2500000.00"' in form
    data = {
        "title": "道路巡检AI识别平台采购（二期）",
        "category": "ict.iot",
        "budget": "2600000.00",
        "district": "海淀园",
        "deadline": order.deadline.isoformat(),
        "version": "1",
    }
    mkt.edit_order(UnitOfWork(engine, clock), tenants.a.actors[FIRM], order.id or 0, {"budget": "2700000.00"})
    stale = pages.post(f"/firm/orders/{order.id}/edit", data, expect=422)
    assert "已被他人修改" in stale.text and 'value="道路巡检AI识别平台采购（二期）"' in stale.text
    pages.post(f"/firm/orders/{order.id}/edit", {**data, "version": "2"})
    session.rollback()
    edited = session.get(Order, order.id)
    assert edited is not None and edited.title.endswith("（二期）") and edited.budget_fen == 260_000_000
    page = pages.get(f"/firm/orders/{order.id}").text
    assert "data-confirm=" in page and "关闭订单" in page
    pages.follow(pages.post(f"/firm/orders/{order.id}/close"))
    session.rollback()
    closed = session.get(Order, order.id)
    assert closed is not None and closed.status == OrderStatus.CLOSED


def test_ranked_suppliers_with_reasons_filters_compare_shortlist_and_propose(
    app: FastAPI,
    engine: Engine,
    clock: FrozenClock,
    tenants: Tenants,
    pages: Pages,
    session: Session,
    tmp_path: Path,
) -> None:
    use_fresh_offer_index(app, engine, clock, tmp_path / "offers")
    order = _order(engine, clock, tenants)
    offer_a, spare_a, offer_b = tenants.a.ids["offer"], tenants.a.ids["spare_offer"], tenants.b.ids["offer"]
    _login_firm(pages, tenants)
    page = pages.get(f"/firm/orders/{order.id}").text
    assert "甲方道路巡检AI识别平台" in page and "乙方机密道路巡检AI识别平台" in page
    assert "匹配理由" in page and "共同关键词" in page and "同一类别" in page
    assert "data-compare" in page and "预算内" in page
    # the shortlist / rule-out form says who reads what: the note is the firm's own, the message the supplier's
    assert page.count('name="note"') == page.count('name="message_to_supplier"') >= 2
    assert "内部备注（可选，仅本企业可见）" in page and "给供应商的留言（可选，供应商可见）" in page
    assert "还没有入围的供应商" in page
    empty = pages.get(f"/firm/orders/{order.id}?min_score=99").text
    assert "没有符合筛选条件的供应商" in empty
    bad = pages.get(f"/firm/orders/{order.id}?min_score=lots").text
    assert "最低得分须为0到100之间的数字" in bad
    compared = pages.get(f"/firm/orders/{order.id}/compare?offer={offer_a}&offer={offer_b}").text
    assert "并排对比" in compared and "甲方道路巡检AI识别平台" in compared and "乙方机密道路巡检AI识别平台" in compared
    assert "总得分" in compared and "平台履约记录" in compared
    one = pages.get(f"/firm/orders/{order.id}/compare?offer={offer_a}", expect=303, follow_redirects=False)
    assert "请勾选2至4家供应商" in pages.follow(one).text

    pages.post(f"/firm/orders/{order.id}/reject", {"offer_id": str(spare_a), "note": "价格不合适"})
    picked = pages.post(
        f"/firm/orders/{order.id}/shortlist",
        {"offer_id": str(offer_a), "note": "资质齐全", "message_to_supplier": "请准备技术方案答辩"},
    )
    page = pages.follow(picked)
    assert "已加入入围名单" in page.text and "发起意向订单" in page.text
    session.rollback()
    decisions = {
        (i.offer_id, i.kind, i.note, i.message_to_supplier)
        for i in session.exec(select(Interest).where(col(Interest.order_id) == order.id)).all()
    }
    assert decisions == {
        (offer_a, InterestKind.SHORTLIST, "资质齐全", "请准备技术方案答辩"),
        (spare_a, InterestKind.REJECTION, "价格不合适", ""),
    }

    pages.get(f"/firm/orders/{order.id}/propose/{offer_b}", expect=404)  # not shortlisted
    form = pages.get(f"/firm/orders/{order.id}/propose/{offer_a}").text
    assert 'value="500000.00"' in form  # the offer's lowest price, within the budget
    refused = pages.post(
        f"/firm/orders/{order.id}/propose/{offer_a}",
        {"amount": "abc", "delivery_due": order.deadline.isoformat(), "terms": "分两期付款"},
        expect=422,
    )
    assert 'aria-invalid="true"' in refused.text and "分两期付款" in refused.text
    done = pages.post(
        f"/firm/orders/{order.id}/propose/{offer_a}",
        {"amount": "1800000.00", "delivery_due": order.deadline.isoformat(), "terms": "分两期付款"},
    )
    assert done.headers["location"] == "/firm/deals"
    session.rollback()
    intent = session.exec(select(IntentOrder).where(col(IntentOrder.order_id) == order.id)).one()
    assert intent.amount_fen == 180_000_000 and intent.buyer_signed_at is not None
    assert "等待供应商签署" in pages.follow(done).text


def test_deals_sign_makes_a_contract_and_cancel_asks_first(
    engine: Engine, clock: FrozenClock, tenants: Tenants, pages: Pages, session: Session
) -> None:
    sme = tenants.a.actors[SME]
    due = clock.now().date() + timedelta(days=40)
    first = _order(engine, clock, tenants, title="巡检平台扩容")
    second = _order(engine, clock, tenants, title="巡检平台运维")
    proposals = [
        mkt.propose_intent_order(
            UnitOfWork(engine, clock),
            sme,
            {"order_id": o.id, "offer_id": tenants.a.ids["spare_offer"], "amount": "300000.00", "delivery_due": due},
        )
        for o in (first, second)
    ]
    _login_firm(pages, tenants)
    page = pages.get("/firm/deals").text
    assert "待我方签署" in page and "供应商已签署" in page and "巡检平台扩容" in page
    assert page.count("/sign") == 2 and "data-confirm" in page
    signed = pages.follow(pages.post(f"/firm/deals/{proposals[0].id}/sign")).text
    assert "合同已生成" in signed
    pages.post(f"/firm/deals/{proposals[1].id}/cancel")
    again = pages.follow(pages.post(f"/firm/deals/{proposals[0].id}/sign"))
    assert "不能签署" in again.text  # a signed intent order is not signed twice
    session.rollback()
    assert session.get(IntentOrder, proposals[1].id).status == IntentStatus.CANCELLED  # type: ignore[union-attr]
    contract = session.exec(select(Contract).where(col(Contract.intent_order_id) == proposals[0].id)).one()
    assert contract.amount_fen == 30_000_000
    assert session.get(Order, first.id).status == OrderStatus.AWARDED  # type: ignore[union-attr]


def test_confirming_receivables_one_by_one_in_a_batch_and_disputing(
    engine: Engine, clock: FrozenClock, tenants: Tenants, pages: Pages, session: Session
) -> None:
    one, two, three, four = (_receivable(engine, clock, tenants, f"货款{n}") for n in range(4))
    _login_firm(pages, tenants)
    page = pages.get("/firm/receivables").text
    assert "待确权（4）" in page and "甲方巡检系统第一期货款" in page  # the chain's confirmed one is listed too
    no_promise = pages.follow(pages.post(f"/firm/receivables/{one}/confirm"))
    assert "不可撤销的付款承诺" in no_promise.text
    pages.post(f"/firm/receivables/{one}/confirm", {"irrevocable_undertaking": "true"})
    refused = pages.post(
        "/firm/receivables/confirm-batch",
        {"receivable_id": [str(one), str(two), str(three)], "irrevocable_undertaking": "true"},
        expect=422,
    )
    assert "批量确权未执行" in refused.text and "本批次没有任何一笔被确权" in refused.text
    assert f"#{one}：" in refused.text and f"#{two}：" not in refused.text  # only the refused one is named
    assert f'value="{two}" form="batch-form" checked' in refused.text  # the ticks are kept
    session.rollback()
    assert session.get(Receivable, two).status == ReceivableStatus.REGISTERED  # type: ignore[union-attr]
    done = pages.post(
        "/firm/receivables/confirm-batch",
        {"receivable_id": [str(two), str(three)], "irrevocable_undertaking": "true"},
    )
    assert "已批量确权2笔" in pages.follow(done).text
    pages.follow(pages.post(f"/firm/receivables/{four}/dispute", {"reason": " "}))  # a reason is required
    session.rollback()
    assert session.get(Receivable, four).status == ReceivableStatus.REGISTERED  # type: ignore[union-attr]
    pages.post(f"/firm/receivables/{four}/dispute", {"reason": "验收未完成"})
    session.rollback()
    rows = {r.id: r for r in session.exec(select(Receivable).where(col(Receivable.id).in_([one, two, three, four])))}
    assert [rows[i].status for i in (one, two, three)] == [ReceivableStatus.CONFIRMED] * 3
    assert rows[four].status == ReceivableStatus.CANCELLED and rows[four].disputed
    assert rows[two].confirmed_by is not None


def test_a_repayment_submitted_twice_is_made_once(
    engine: Engine, clock: FrozenClock, tenants: Tenants, pages: Pages, session: Session
) -> None:
    loan_id = tenants.a.ids["loan"]
    _login_firm(pages, tenants)
    page = pages.get("/firm/repayments").text
    assert f"#{loan_id}" in page and "data-confirm" in page and "还有 " in page
    key = re.search(rf'action="/firm/repayments/{loan_id}".*?name="idempotency_key" value="([^"]+)"', page, re.S)
    assert key is not None
    form = {"amount": "100000.00", "idempotency_key": key.group(1)}
    first = pages.follow(pages.post(f"/firm/repayments/{loan_id}", form))
    assert "¥100000.00" in first.text
    second = pages.follow(pages.post(f"/firm/repayments/{loan_id}", form))
    assert "没有重复扣款" in second.text
    session.rollback()
    loan = session.get(Loan, loan_id)
    assert loan is not None and loan.repaid_fen == 10_000_000 and loan.status == LoanStatus.REPAID_PARTIALLY
    too_much = pages.follow(
        pages.post(f"/firm/repayments/{loan_id}", {"amount": "99999999.00", "idempotency_key": "k2"})
    )
    assert "还款金额超过应还总额" in too_much.text
    clock.advance(timedelta(days=120))  # past the maturity: overdue and highlighted
    fs.maturity_sweep(UnitOfWork(engine, clock))
    pages.login(tenants.a.usernames[FIRM], PASSWORD)  # the session of four months ago has ended
    overdue = pages.get("/firm/repayments").text
    assert "row-breached" in overdue and "已逾期" in overdue and "罚息" in overdue


@pytest.mark.parametrize("days", [70, 100], ids=["due-in-20-days", "10-days-overdue-before-the-sweep"])
def test_home_and_repayments_show_one_payoff_of_a_loan(
    engine: Engine, clock: FrozenClock, tenants: Tenants, pages: Pages, session: Session, days: int
) -> None:
    """The home page's "due in 30 days" figure of a loan, the repayments page's and ``payoff`` of today agree (they
    once showed ¥1,436,717.78 and ¥1,424,510.05 for demo-firm's loan #3)."""
    loan_id = tenants.a.ids["loan"]
    clock.advance(timedelta(days=days))
    today = to_local(clock.now()).date()
    expected = yuan(payoff(session, loan_id, today).total_fen)
    _login_firm(pages, tenants)
    home = pages.get("/firm").text
    assert expected in home, re.findall(r"¥[\d,.]+", home)
    page = pages.get("/firm/repayments").text
    row = re.search(rf"#{loan_id}<br>.*?</tr>", page, re.S)
    assert row is not None and expected in row.group(0), (expected, row and re.findall(r"¥[\d,.]+", row.group(0)))


def test_refusals_wrong_kind_other_tenant_and_missing_csrf(
    engine: Engine, clock: FrozenClock, tenants: Tenants, pages: Pages, client: Any, session: Session
) -> None:
    pages.login(tenants.a.usernames[SME], PASSWORD)
    for url in ("/firm", "/firm/orders", "/firm/receivables", "/firm/repayments"):
        forbidden = client.get(url)
        assert forbidden.status_code == 403 and "此页面不属于您的机构类型" in forbidden.text
    client.cookies.clear()
    _login_firm(pages, tenants)
    foreign_order, foreign_offer = tenants.b.ids["order"], tenants.b.ids["offer"]
    for url in (
        f"/firm/orders/{foreign_order}",
        f"/firm/orders/{foreign_order}/edit",
        f"/firm/orders/{foreign_order}/compare?offer=1&offer=2",
        f"/firm/orders/{foreign_order}/propose/{foreign_offer}",
    ):
        missing = client.get(url)
        assert missing.status_code == 404 and "找不到" in missing.text and "乙方机密" not in missing.text
    assert "乙方机密" not in pages.get("/firm/orders").text + pages.get("/firm/deals").text
    assert "乙方机密" not in pages.get("/firm/receivables").text + pages.get("/firm/repayments").text
    refused = pages.follow(pages.post(f"/firm/receivables/{tenants.b.ids['receivable']}/dispute", {"reason": "x"}))
    assert "不存在" in refused.text or "找不到" in refused.text
    mine = _order(engine, clock, tenants)
    forged = client.post(f"/firm/orders/{mine.id}/close", data={"csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403 and "表单已过期或来源不明" in forged.text
    session.rollback()
    assert session.get(Order, mine.id).status == OrderStatus.OPEN  # type: ignore[union-attr]
