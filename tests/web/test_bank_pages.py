"""The bank's pages: the review queue by 48-hour deadline, one application and its decisions (start review,
approve, four-eyes, request information, reject, disburse exactly once), the loans and the portfolio of credit
lines — with the refusals: wrong kind of user, another bank's application, a form without its CSRF token, and the
use cases' own rules shown in both languages with nothing typed lost."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from finance import service as fs
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from qianfan.models import ApplicationStatus, CreditLine, FinanceApplication, Loan, LoanStatus, User
from tests.finance_service.conftest import World, build_world
from tests.web.conftest import Pages, new_pages, reread

PASSWORD = "Correct-horse-9"  # the password of the finance world's users


def login(pages: Pages, engine: Engine, actor: Actor) -> None:
    with Session(engine) as s:
        user = s.get(User, actor.user_id)
        assert user is not None
        username = user.username
    pages.client.cookies.clear()
    pages.login(username, PASSWORD)


def risk_checked(w: World, amount: str = "800000.00", face: str = "1000000.00", **kw: Any) -> FinanceApplication:
    part = w.confirmed_part(face, **kw)
    app = w.apply(part.id, amount)
    return fs.run_risk_check(w.uow(), app.id)


def row_of(html: str, app_id: int) -> str:
    """The table row of application *app_id* on the queue page."""
    match = re.search(rf'<tr class="([^"]*)">\s*<td[^>]*><a href="/bank/applications/{app_id}">.*?</tr>', html, re.S)
    assert match, f"no row for application {app_id}"
    return match.group(0)


def test_the_queue_is_sorted_by_deadline_and_flags_breached_and_at_risk(
    engine: Engine, clock: FrozenClock, pages: Pages
) -> None:
    w = build_world(engine, clock)
    late = risk_checked(w)
    clock.advance(timedelta(hours=20))
    near = risk_checked(w)
    clock.advance(timedelta(hours=27))
    fresh = risk_checked(w)
    clock.advance(timedelta(hours=2))  # late: 49 h old; near: its 24-hour bank review ran over; fresh: 2 h old
    login(pages, engine, w.reviewer)
    html = pages.get("/bank").text
    assert "<h1>" in html and "融资申请审批队列" in html
    assert html.index(f"/bank/applications/{late.id}") < html.index(f"/bank/applications/{near.id}")
    assert html.index(f"/bank/applications/{near.id}") < html.index(f"/bank/applications/{fresh.id}")
    assert 'class="row-breached"' in row_of(html, late.id) and "已超时" in row_of(html, late.id)
    assert 'class="row-at-risk"' in row_of(html, near.id) and "临近时限" in row_of(html, near.id)
    assert 'class=""' in row_of(html, fresh.id) and "正常" in row_of(html, fresh.id)
    assert 'data-count="breached">1<' in html and 'data-count="at_risk">1<' in html
    assert "¥800,000.00" in html and 'data-deadline="' in html
    # filter by state: none is under review yet
    assert "没有处于该状态的申请" in pages.get("/bank?state=under_review").text
    assert f"/bank/applications/{fresh.id}" in pages.get("/bank?state=risk_checked").text


def test_an_empty_queue_says_what_to_do(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    login(pages, engine, w.reviewer)
    page = pages.get("/bank")
    assert "队列是空的" in page.text and 'href="/bank/loans"' in page.text


def test_the_application_page_shows_what_a_reviewer_needs(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    app = risk_checked(w, "850000.00")
    login(pages, engine, w.reviewer)
    html = pages.get(f"/bank/applications/{app.id}").text
    assert f"融资申请 #{app.id}" in html
    assert "¥850,000.00" in html and "千帆应收账款融资" in html and "90%" in html  # amount, product, advance
    assert "智慧道路巡检系统 第一期货款" in html and "¥1,000,000.00" in html  # the receivable
    assert "已确权" in html and "确权人" in html  # its confirmation, by the core enterprise's user
    assert "自动风控报告" in html and "通过硬性规则" in html and f"<strong>{app.risk_grade}</strong>" in html
    assert "双方在平台上的记录" in html and "申请企业" in html and "核心企业" in html
    assert "48小时时间线" in html and "自动风控" in html and "银行审核" in html
    assert "开始审核" in html and "批准并发出要约" in html and "拒绝申请" in html and "要求补充材料" in html
    assert "放款" not in re.sub(r"<[^>]+>", "", html).split("审批操作")[1].split("自动风控报告")[0].replace(
        "放款与贷款", ""
    )  # no disbursement before a signature
    # the default rate: LPR 3.00% + the grade-D spread of 300 bp
    assert "6.00%" in html


def test_review_approve_sign_and_disburse_exactly_once(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    app = risk_checked(w)
    login(pages, engine, w.reviewer)
    page = pages.follow(pages.post(f"/bank/applications/{app.id}/start-review"))
    assert "已开始审核" in page.text and "银行审核中" in page.text
    assert reread_app(engine, app.id).status == ApplicationStatus.UNDER_REVIEW
    done = pages.post(f"/bank/applications/{app.id}/approve", {"amount": "700000.00", "annual_rate": "4.50"})
    assert "已批准" in pages.follow(done).text
    approved = reread_app(engine, app.id)
    assert approved.status == ApplicationStatus.APPROVED
    assert approved.approved_fen == 70_000_000 and approved.annual_rate == Decimal("0.045")
    assert approved.offer_terms is not None
    fs.sign_offer(w.uow(), w.sme, app.id, fs.terms_hash(approved.offer_terms))

    login(pages, engine, w.approver)
    html = pages.get(f"/bank/applications/{app.id}").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert key and "data-confirm" in html and "放款 ¥700,000.00" in html
    first = pages.post(f"/bank/applications/{app.id}/disburse", {"idempotency_key": key.group(1)})
    again = pages.post(f"/bank/applications/{app.id}/disburse", {"idempotency_key": key.group(1)})  # double submit
    assert "已放款" in pages.follow(again).text
    assert first.headers["location"] == f"/bank/applications/{app.id}"
    with Session(engine) as s:
        loans = s.exec(select(Loan).where(Loan.application_id == app.id)).all()
    assert len(loans) == 1 and loans[0].principal_fen == 70_000_000
    # a new page (a new key) after the disbursement is refused, naming the loan, in both languages
    refused = pages.follow(pages.post(f"/bank/applications/{app.id}/disburse", {"idempotency_key": "web-other"}))
    assert f"该申请已放款（贷款编号 {loans[0].id}）" in refused.text
    assert "flash-error" in refused.text
    assert reread_app(engine, app.id).status == ApplicationStatus.DISBURSED
    # the loans page lists it as current
    loans_page = pages.get("/bank/loans").text
    assert f"贷款 #{loans[0].id}" in loans_page and "正常" in loans_page and "¥700,000.00" in loans_page


def reread_app(engine: Engine, app_id: int | None) -> FinanceApplication:
    with Session(engine) as s:
        row = s.get(FinanceApplication, app_id)
        assert row is not None
        return row


def test_refused_decisions_keep_what_was_typed_and_say_why(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    app = risk_checked(w)
    login(pages, engine, w.reviewer)
    url = f"/bank/applications/{app.id}"
    too_high = pages.post(url + "/approve", {"amount": "700000.00", "annual_rate": "20", "note": "急"}, expect=422)
    assert "超过LPR四倍的司法保护上限" in too_high.text
    assert 'value="20"' in too_high.text and 'value="700000.00"' in too_high.text and ">急</textarea>" in too_high.text
    not_a_number = pages.post(url + "/approve", {"amount": "700000.00", "annual_rate": "四点五"}, expect=422)
    assert 'aria-invalid="true"' in not_a_number.text and "请填写数字" in not_a_number.text
    over = pages.post(url + "/approve", {"amount": "900000.00"}, expect=422)
    assert "批准金额不能超过申请金额" in over.text and 'value="900000.00"' in over.text
    no_reason = pages.post(url + "/reject", {"reason": "  "}, expect=422)
    assert "拒绝时须说明理由" in no_reason.text
    no_question = pages.post(url + "/request-info", {"question": ""}, expect=422)
    assert "请写明需要补充的材料" in no_question.text
    assert reread_app(engine, app.id).status == ApplicationStatus.RISK_CHECKED  # nothing happened
    pages.client.cookies.set("qf_lang", "en")
    english = pages.post(url + "/approve", {"amount": "700000.00", "annual_rate": "20"}, expect=422)
    assert "exceeds the legal ceiling of 4 × LPR" in english.text


def test_request_information_then_reject_releases_the_line(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    app = risk_checked(w)
    login(pages, engine, w.reviewer)
    url = f"/bank/applications/{app.id}"
    page = pages.follow(pages.post(url + "/request-info", {"question": "请补充验收单扫描件"}))
    assert "已要求企业补充材料" in page.text and "请补充验收单扫描件" in page.text
    assert reread_app(engine, app.id).status == ApplicationStatus.INFO_REQUESTED
    assert "批准并发出要约" not in page.text and "拒绝申请" in page.text
    page = pages.follow(pages.post(url + "/reject", {"reason": "验收单未按期提供"}))
    assert "已拒绝该申请" in page.text and "验收单未按期提供" in page.text
    assert reread_app(engine, app.id).status == ApplicationStatus.REJECTED
    with Session(engine) as s:
        line = s.exec(select(CreditLine).where(CreditLine.core_enterprise_id == w.core.organisation_id)).one()
    assert line.used_fen == 0


def test_four_eyes_second_approval_by_an_approver_only(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    app = risk_checked(w, "5400000.00", "6000000.00")
    login(pages, engine, w.reviewer)
    page = pages.follow(pages.post(f"/bank/applications/{app.id}/approve", {"amount": "5400000.00"}))
    assert "初审已批准" in page.text and "复核须由另一位具有审批权限的同事完成" in page.text
    assert "复核批准</button>" not in page.text
    assert reread_app(engine, app.id).status == ApplicationStatus.AWAITING_SECOND_APPROVAL
    login(pages, engine, w.approver)
    html = pages.get(f"/bank/applications/{app.id}").text
    assert "复核批准</button>" in html and "¥5,400,000.00" in html
    pages.post(f"/bank/applications/{app.id}/approve")
    assert reread_app(engine, app.id).status == ApplicationStatus.APPROVED


def test_refusals_wrong_kind_other_bank_and_missing_csrf(
    engine: Engine, clock: FrozenClock, pages: Pages, app: Any, session: Session
) -> None:
    w = build_world(engine, clock)
    application = risk_checked(w)
    login(pages, engine, w.sme)
    for url in ("/bank", "/bank/loans", "/bank/portfolio", f"/bank/applications/{application.id}"):
        forbidden = pages.get(url, expect=403)
        assert "此页面不属于您的机构类型" in forbidden.text
    other = new_pages(app)
    login(other, engine, w.bank2_admin)
    missing = other.get(f"/bank/applications/{application.id}", expect=404)
    assert "找不到该页面或记录" in missing.text
    other.post(f"/bank/applications/{application.id}/start-review", expect=303)  # refused as not found
    assert reread_app(engine, application.id).status == ApplicationStatus.RISK_CHECKED
    assert "找不到该页面或记录" in other.get("/bank/applications/999999", expect=404).text
    login(pages, engine, w.reviewer)
    forged = pages.client.post(
        f"/bank/applications/{application.id}/start-review", data={"csrf_token": "forged"}, follow_redirects=False
    )
    assert forged.status_code == 403 and "表单已过期或来源不明" in forged.text
    assert reread_app(engine, application.id).status == ApplicationStatus.RISK_CHECKED


def test_loans_page_shows_waiting_disbursements_and_overdue_loans(
    engine: Engine, clock: FrozenClock, pages: Pages
) -> None:
    w = build_world(engine, clock)
    loan = w.disbursed("600000.00", days=30)
    signed = w.approved("400000.00")
    fs.sign_offer(w.uow(), w.sme, signed.id, fs.terms_hash(signed.offer_terms))
    login(pages, engine, w.reviewer)
    html = pages.get("/bank/loans").text
    assert f"/bank/applications/{signed.id}" in html and "已签约，待放款" in html and 'data-deadline="' in html
    assert f"贷款 #{loan.id}" in html and "¥600,000.00" in html
    clock.advance(timedelta(days=32))
    fs.maturity_sweep(w.uow())
    with Session(engine) as s:
        assert s.get(Loan, loan.id).status == LoanStatus.OVERDUE  # type: ignore[union-attr]
    login(pages, engine, w.reviewer)  # a month later: the session has ended
    overdue = pages.get("/bank/loans?state=overdue").text
    assert f"贷款 #{loan.id}" in overdue and "已逾期" in overdue and 'class="row-breached"' in overdue
    assert "没有该状态的贷款" in pages.get("/bank/loans?state=repaid").text


def test_portfolio_sorted_by_utilisation_and_highlights_above_80_percent(
    engine: Engine, clock: FrozenClock, pages: Pages
) -> None:
    w = build_world(engine, clock)
    fs.set_credit_line(w.uow(), w.bank_admin, w.core2.organisation_id, "1000000.00")  # core2: a small line
    risk_checked(w, "850000.00", core=w.core2)  # 85 % of core2's line
    risk_checked(w, "800000.00")  # 0.8 % of core's
    login(pages, engine, w.reviewer)
    html = pages.get("/bank/portfolio").text
    rows = re.findall(r'<tr class="([^"]*)">\s*<td[^>]*>([^<]+)</td>', html)
    assert len(rows) == 2
    (first_class, _), (second_class, _) = rows
    assert first_class == "row-at-risk" and second_class == ""
    assert '<meter min="0" max="100"' in html and 'value="85.0"' in html and "85.0%" in html and 'value="0.8"' in html
    assert "超过80%" in html and "¥150,000.00" in html  # remaining on the small line


def test_an_admin_without_lines_sees_an_empty_portfolio(
    engine: Engine, clock: FrozenClock, pages: Pages, session: Session
) -> None:
    w = build_world(engine, clock)
    login(pages, engine, w.bank2_admin)
    assert "本行尚未对任何核心企业授信" in pages.get("/bank/portfolio").text
    assert "本行还没有贷款" in pages.get("/bank/loans").text
    _ = reread  # the page tests read through fresh sessions (engine) rather than the fixture's
