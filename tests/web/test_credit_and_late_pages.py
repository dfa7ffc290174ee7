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
from qianfan.clock import FrozenClock, to_local
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
    applied_on = _day(clock)
    w.receivable(sme=w.supplier)
    login(pages, engine, w.reviewer)
    html = pages.get(SUGGESTIONS).text
    body = main(html)
    assert 'href="/bank/credit-suggestions" aria-current="page"' in html  # in the bank's menu
    assert '<label for="f-sme_id">' in body and '<label for="f-q">' in body
    assert "仅显示向本行申请过融资或授权本行查询的企业；其他企业的记录须经企业在其门户中授权。" in body
    sme_name, supplier_name = _name(w, w.sme), _name(w, w.supplier)
    assert f'<option value="{w.sme.organisation_id}">{sme_name}</option>' in body
    applied = _section(body, "sec-applied")
    assert "申请过本行融资的企业" in applied
    assert f'<a href="/bank/credit-suggestions/{w.sme.organisation_id}">{sme_name}</a>' in applied
    assert f"该企业于{applied_on}向本行申请融资" in applied  # the grounds, dated
    # 授权查询: an SME that only trades on the platform is not offered (its page would be a 404)
    assert f'value="{w.supplier.organisation_id}"' not in body and supplier_name not in body
    assert "在平台有交易" not in body and "sec-granted" not in body
    assert "接受或拒绝" not in body  # that sentence is on the suggestion itself

    chosen = pages.get(f"{SUGGESTIONS}?sme_id={w.sme.organisation_id}", follow_redirects=False, expect=303)
    assert chosen.headers["location"] == f"{SUGGESTIONS}/{w.sme.organisation_id}"
    refused = main(pages.get(f"{SUGGESTIONS}?sme_id=abc", expect=422).text)
    assert 'aria-invalid="true"' in refused and "请选择一家企业" in refused

    found = main(pages.get(f"{SUGGESTIONS}?q={sme_name[-8:]}").text)
    assert f'<a href="/bank/credit-suggestions/{w.sme.organisation_id}">{sme_name}</a>' in _section(found, "sec-found")
    assert f'value="{sme_name[-8:]}"' in found  # what was typed stays in the box
    nothing = main(pages.get(f"{SUGGESTIONS}?q=不存在的企业名称").text)
    assert "没有名称包含这些字的中小企业" in nothing and 'class="empty"' in nothing

    # the supplier grants this bank access in its portal, two days later: now listed under its own heading
    clock.advance(timedelta(days=2))
    fs.grant_record_access(w.uow(), w.supplier, w.bank_id)
    login(pages, engine, w.reviewer)  # the session of two days ago has expired
    body = main(pages.get(SUGGESTIONS).text)
    granted = _section(body, "sec-granted")
    assert "授权本行查询的企业" in granted
    assert f'<a href="/bank/credit-suggestions/{w.supplier.organisation_id}">{supplier_name}</a>' in granted
    assert f"该企业于{_day(clock)}授权本行查询其平台记录" in granted and applied_on != _day(clock)
    assert supplier_name not in _section(body, "sec-applied")
    assert f'<option value="{w.supplier.organisation_id}">{supplier_name}</option>' in body

    pages.client.cookies.set("qf_lang", "en")
    english = main(pages.get(SUGGESTIONS).text)
    assert "SMEs that applied to this bank" in english and "SMEs that granted this bank access" in english
    assert "any other SME's record needs its consent, given in its portal" in english.replace("&#39;", "'")
    assert f"The SME granted this bank access to its record on {_day(clock)}" in english


def test_a_search_by_name_never_lists_an_sme_without_grounds(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    w.apply(w.confirmed_part().id)  # the SME applied to the first bank
    w.receivable(sme=w.supplier)  # the supplier trades, applied nowhere, granted nothing
    everyone = "金融测试机构"  # a part of every organisation's name in the world
    login(pages, engine, w.reviewer)
    found = _section(main(pages.get(f"{SUGGESTIONS}?q={everyone}").text), "sec-found")
    assert re.findall(r'href="/bank/credit-suggestions/(\d+)"', found) == [str(w.sme.organisation_id)]
    assert "该企业于" in found and "向本行申请融资" in found
    by_whole_name = main(pages.get(f"{SUGGESTIONS}?q={_name(w, w.supplier)}").text)  # the supplier: not found
    assert (
        'class="empty"' in by_whole_name
        and f"/bank/credit-suggestions/{w.supplier.organisation_id}" not in by_whole_name
    )

    # another bank: the SME applied elsewhere, the supplier granted it access and then revoked it
    fs.grant_record_access(w.uow(), w.supplier, w.bank2_admin.organisation_id)
    login(pages, engine, w.bank2_admin)
    found = _section(main(pages.get(f"{SUGGESTIONS}?q={everyone}").text), "sec-found")
    assert re.findall(r'href="/bank/credit-suggestions/(\d+)"', found) == [str(w.supplier.organisation_id)]
    assert "授权本行查询其平台记录" in found
    fs.revoke_record_access(w.uow(), w.supplier, w.bank2_admin.organisation_id)
    body = main(pages.get(f"{SUGGESTIONS}?q={everyone}").text)
    assert 'href="/bank/credit-suggestions/' not in body
    assert "尚无企业向本行申请融资或授权本行查询" in body and "没有名称包含这些字的中小企业" in body


def _name(w: World, actor: Actor) -> str:
    with Session(w.engine) as s:
        org = s.get(Organisation, actor.organisation_id)
    assert org is not None
    return org.name


def _day(clock: FrozenClock) -> str:
    """Today in Beijing, as the grounds are dated."""
    return to_local(clock.now()).date().isoformat()


def _section(body: str, heading_id: str) -> str:
    """The section of the page under the heading ``heading_id``."""
    match = re.search(rf'<section [^>]*aria-labelledby="{heading_id}".*?</section>', body, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


def test_an_empty_platform_says_what_to_do(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    w.receivable(sme=w.supplier)  # an SME trading on the platform is no grounds
    login(pages, engine, w.reviewer)
    body = main(pages.get(SUGGESTIONS).text)
    assert 'class="empty"' in body and "尚无企业向本行申请融资或授权本行查询" in body
    assert "其他企业的记录须经企业在其门户中授权" in body
    assert '<label for="f-q">' in body and '<label for="f-sme_id">' not in body
    pages.client.cookies.set("qf_lang", "en")
    assert "No SME has applied to this bank or granted it access yet" in main(pages.get(SUGGESTIONS).text)


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
    grounds = re.search(r'<p id="grounds">.*?</p>', body, re.S)
    assert grounds, "the grounds under the title"
    assert "查询依据" in grounds.group(0) and "badge-info" in grounds.group(0)
    assert f"该企业于{_day(clock)}授权本行查询其平台记录" in grounds.group(0)
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
    assert f"Grounds</span> The SME granted this bank access to its record on {_day(clock)}" in english
    assert "A line is set or declined by the bank" in english
    assert suggestion.reasons[0].text_en in english and "Every reason" in english


def test_no_line_lists_the_blocking_reasons(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    login(pages, engine, w.bank2_admin)  # a bank the SME granted access (授权查询), though it never applied there
    fs.grant_record_access(w.uow(), w.supplier, w.bank2_admin.organisation_id)
    body = main(pages.get(f"{SUGGESTIONS}/{w.supplier.organisation_id}").text)
    assert "暂不建议授信" in body and "阻止授信的原因" in body
    assert f"该企业于{_day(clock)}授权本行查询其平台记录" in body  # the grounds, though it never applied here
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
    body = main(pages.get(f"{SUGGESTIONS}/{w.sme.organisation_id}").text)
    assert f'<a href="/bank/applications/{app.id}">#{app.id}</a>' in body
    assert f"查询依据</span> 该企业于{_day(clock)}向本行申请融资" in body  # applied: the grounds it cannot take back
    for not_an_sme in (w.core.organisation_id, w.reviewer.organisation_id, 0, 999_999, 2**40):
        pages.get(f"{SUGGESTIONS}/{not_an_sme}", expect=404)
    # 授权查询: an SME that trades on the platform but neither applied to this bank nor granted it access is a 404
    # page, told as an id that does not exist (its name not disclosed); deciding a line for it is refused alike
    w.receivable(sme=w.supplier)
    foreign = pages.get(f"{SUGGESTIONS}/{w.supplier.organisation_id}", expect=404).text
    assert "找不到该页面或记录" in foreign and _name(w, w.supplier) not in foreign and "查询依据" not in foreign
    login(pages, engine, w.approver)
    decide = {"decision": "decline", "note": "x"}
    pages.post(f"{SUGGESTIONS}/{w.supplier.organisation_id}/decision", decide, expect=404)
    login(pages, engine, w.bank2_admin)  # the SME applied to the first bank, not to this one
    pages.get(f"{SUGGESTIONS}/{w.sme.organisation_id}", expect=404)
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
