"""The bank's suggested credit lines (/bank/credit-suggestions: pick an SME, then its suggested revolving line with
every reason, its figure and exact value, the 12-month record and the formula) and the programme office's late
buyers (/office/late-buyers: contracts whose buyer is late under the 60-day rule, with the count and totals) — with
the refusals: wrong kind of user, an id that is not an SME, and the empty states."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from finance import service as fs
from finance.settlement import InstalmentKind, PlanTerm
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from qianfan.models import Organisation
from tests.finance_service.conftest import World, build_world
from tests.finance_service.test_settlement_service import contract, later
from tests.web.conftest import Pages
from tests.web.test_bank_pages import login

SUGGESTIONS = "/bank/credit-suggestions"


def main(html: str) -> str:
    """The page's own content (without the navigation and the footer)."""
    match = re.search(r"<main.*?</main>", html, re.S)
    assert match, html[:500]
    return match.group(0)


def three_settled_deals(w: World) -> None:
    """Three receivables of the SME confirmed and paid in full by two buyers, then 190 days later (as the API test:
    30 − 5 for two buyers + 5 for three confirmations = 30 % of ¥6,000,000.00 = ¥1,800,000.00)."""
    for n, (face, core) in enumerate([("1000000.00", w.core), ("2000000.00", w.core2), ("3000000.00", w.core)]):
        part = w.confirmed_part(face, core=core)
        fs.pay_receivable(w.uow(), core, part.receivable_id, face, f"web-pay-{n}")
    w.clock.advance(timedelta(days=190))


# ------------------------------------------------------------------------------------------ the bank


def test_the_bank_picks_an_sme_from_a_select_or_by_name(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    part = w.confirmed_part()
    w.apply(part.id)  # the SME applies to this bank; the supplier only has a receivable
    w.receivable(sme=w.supplier)
    login(pages, engine, w.reviewer)
    html = pages.get(SUGGESTIONS).text
    body = main(html)
    assert 'href="/bank/credit-suggestions" aria-current="page"' in html  # in the bank's menu
    assert '<label for="f-sme_id">' in body and '<label for="f-q">' in body
    sme_name, supplier_name = _name(w, w.sme), _name(w, w.supplier)
    assert f'<option value="{w.sme.organisation_id}">{sme_name}</option>' in body
    assert f'<option value="{w.supplier.organisation_id}">{supplier_name}</option>' in body
    assert f'<a href="/bank/credit-suggestions/{w.sme.organisation_id}">{sme_name}</a>' in body  # applied here
    assert f'<a href="/bank/credit-suggestions/{w.supplier.organisation_id}">' not in body
    assert "接受或拒绝" not in body  # that sentence is on the suggestion itself

    chosen = pages.get(f"{SUGGESTIONS}?sme_id={w.supplier.organisation_id}", follow_redirects=False, expect=303)
    assert chosen.headers["location"] == f"{SUGGESTIONS}/{w.supplier.organisation_id}"
    refused = main(pages.get(f"{SUGGESTIONS}?sme_id=abc", expect=422).text)
    assert 'aria-invalid="true"' in refused and "请选择一家企业" in refused

    found = main(pages.get(f"{SUGGESTIONS}?q={supplier_name[-8:]}").text)
    assert f'<a href="/bank/credit-suggestions/{w.supplier.organisation_id}">{supplier_name}</a>' in found
    assert f'value="{supplier_name[-8:]}"' in found  # what was typed stays in the box
    nothing = main(pages.get(f"{SUGGESTIONS}?q=不存在的企业名称").text)
    assert "没有名称包含这些字的中小企业" in nothing and 'class="empty"' in nothing


def _name(w: World, actor: Actor) -> str:
    with Session(w.engine) as s:
        org = s.get(Organisation, actor.organisation_id)
    assert org is not None
    return org.name


def test_an_empty_platform_says_what_to_do(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    login(pages, engine, w.reviewer)
    body = main(pages.get(SUGGESTIONS).text)
    assert 'class="empty"' in body and "可以按名称查找任一中小企业" in body
    assert '<label for="f-q">' in body


def test_a_suggested_line_shows_every_reason_with_its_figure_and_exact_value(
    engine: Engine, clock: FrozenClock, pages: Pages
) -> None:
    w = build_world(engine, clock)
    three_settled_deals(w)
    login(pages, engine, w.reviewer)
    url = f"{SUGGESTIONS}/{w.sme.organisation_id}"
    pages.get(url, expect=404)  # 授权查询: the SME neither applied to the bank nor granted it access
    fs.grant_record_access(w.uow(), w.sme, w.bank_id)
    body = main(pages.get(url).text)
    assert "建议授信" in body and "¥1,800,000.00" in body and "30%" in body
    assert "12 个月" in body and "循环使用" in body
    today = clock.now().date()
    assert today.replace(year=today.year + 1).isoformat() in body  # reviewed a year on
    with Session(engine) as s:
        suggestion = fs.suggest_credit_line(s, w.reviewer, w.sme.organisation_id, today)
    assert suggestion.has_line and suggestion.amount_fen == 180_000_000
    rows = re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", body, re.S)
    assert len(rows) == len(suggestion.reasons)
    for row, reason in zip(rows, suggestion.reasons, strict=True):
        assert reason.text_zh in row and f"<code>{reason.figure}</code>" in row
        badge = {"+": "badge-ok", "-": "badge-warn", "0": "badge-muted"}[reason.effect.value]
        assert badge in row
    settled = rows[0]
    assert "近12个月结清交易额" in settled and "¥6,000,000.00" in settled and "+30" in settled
    buyers = next(r for r in rows if "<code>distinct_buyers</code>" in r)
    assert ">2<" in buyers and "−5" not in buyers and "-5" in buyers
    # the 12-month record and the formula
    assert "近12个月交易记录" in body and "买方确权金额" in body and "¥6,000,000.00" in body
    assert "额度怎么算" in body and "¥30,000,000.00" in body and "¥10,000.00" in body
    # a reviewer reads the suggestion; setting or declining the line is for an admin or an approver
    assert "核定或拒绝额度须由本行管理员或审批人操作" in body
    assert 'method="post"' not in body

    pages.client.cookies.set("qf_lang", "en")
    english = main(pages.get(url).text)
    assert "Suggested revolving line" in english and "¥1,800,000.00" in english
    assert "A line is set or declined by the bank" in english
    assert suggestion.reasons[0].text_en in english and "Every reason" in english


def test_no_line_lists_the_blocking_reasons(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    login(pages, engine, w.bank2_admin)  # a bank the SME granted access (授权查询), though it never applied there
    fs.grant_record_access(w.uow(), w.supplier, w.bank2_admin.organisation_id)
    body = main(pages.get(f"{SUGGESTIONS}/{w.supplier.organisation_id}").text)
    assert "暂不建议授信" in body and "阻止授信的原因" in body
    assert "入驻平台 0 个月，不足 6 个月" in body and "近12个月结清交易 0 笔，不足 3 笔" in body
    assert body.count("badge-bad") >= 3 and "row-breached" in body
    assert "该企业尚未向本行申请融资" in body


def test_refusals_and_the_link_from_an_application(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    part = w.confirmed_part()
    app = w.apply(part.id)
    login(pages, engine, w.reviewer)
    html = pages.get(f"/bank/applications/{app.id}").text
    assert f'<a href="/bank/credit-suggestions/{w.sme.organisation_id}">查看建议授信</a>' in html
    assert f'<a href="/bank/applications/{app.id}">#{app.id}</a>' in main(
        pages.get(f"{SUGGESTIONS}/{w.sme.organisation_id}").text
    )
    for not_an_sme in (w.core.organisation_id, w.reviewer.organisation_id, 0, 999_999, 2**40):
        pages.get(f"{SUGGESTIONS}/{not_an_sme}", expect=404)
    for actor in (w.office, w.sme, w.core):
        login(pages, engine, actor)
        pages.get(SUGGESTIONS, expect=403)
        pages.get(f"{SUGGESTIONS}/{w.sme.organisation_id}", expect=403)
    pages.client.cookies.clear()
    assert pages.get(SUGGESTIONS, follow_redirects=False, expect=303).headers["location"].startswith("/login")


# ------------------------------------------------------------------------------------------ the office


def test_the_office_sees_late_buyers_most_days_late_first(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    login(pages, engine, w.office)
    empty = main(pages.get("/office/late-buyers").text)
    assert 'class="empty"' in empty and "目前没有大企业逾期付款" in empty

    very_late = contract(w, "1000000.00")
    a_bit_late = contract(w, "250000.01", buyer=w.core2)
    on_time = contract(w)
    assert very_late.id and a_bit_late.id and on_time.id
    fs.set_payment_plan(  # a 90-day term counts as 60 days
        w.uow(),
        w.core2,
        a_bit_late.id,
        percentages=[PlanTerm(InstalmentKind.ACCEPTANCE, 100, days_after_acceptance=90)],
    )
    first = later(w, 1)
    fs.accept_delivery(w.uow(), w.core, very_late.id, first)
    fs.record_payment(w.uow(), w.core, very_late.id, "P1", 10_000_000, first)
    accepted = later(w, 40)
    fs.accept_delivery(w.uow(), w.core2, a_bit_late.id, accepted)
    fs.accept_delivery(w.uow(), w.core, on_time.id, accepted)
    fs.record_payment(w.uow(), w.core, on_time.id, "P1", 100_000_000, accepted)
    later(w, 65)

    login(pages, engine, w.office)  # a new session: the first one has long expired
    html = pages.get("/office/late-buyers").text
    assert 'href="/office/late-buyers" aria-current="page"' in html
    body = main(html)
    rows = re.findall(r"<tr class=\"row-[a-z-]+\">(.*?)</tr>", body, re.S)
    assert len(rows) == 2
    assert f"HT-{very_late.id}" in rows[0] and "45 天" in rows[0] and "¥900,000.00" in rows[0]
    assert f"HT-{a_bit_late.id}" in rows[1] and "5 天" in rows[1] and "¥250,000.01" in rows[1]
    assert first.isoformat() in rows[0] and accepted.isoformat() in rows[1]
    assert 'class="row-breached"' in body and 'class="row-at-risk"' in body
    assert f"HT-{on_time.id}" not in body
    kpis = re.findall(r'<div class="value">(.*?)</div>', body)
    assert kpis == ["2", "¥1,150,000.01", "¥1,150,000.01"]

    pages.client.cookies.set("qf_lang", "en")
    english = main(pages.get("/office/late-buyers").text)
    assert "Large firms late in paying SMEs" in english and "45 days" in english

    funnel = pages.get("/office").text
    assert '<a href="/office/late-buyers">' in main(funnel)
    for actor in (w.reviewer, w.core, w.sme):
        login(pages, engine, actor)
        pages.get("/office/late-buyers", expect=403)
