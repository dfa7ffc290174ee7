"""The contract settlement pages: the large firm's contracts and one contract's settlement (set the plan by
percentages, accept the delivery, record a payment — a double submit records once —, import a bank statement CSV
and read its report), the 60-day rule stated on the page, and the SME's read-only view of a contract it supplies;
refused forms come back with what was typed (422), and another tenant's contracts and imports are 404 pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from qianfan.clock import FrozenClock, to_local
from qianfan.models import BankStatementImport, Contract, ContractPayment, OrgKind
from tests.api.tenants import PASSWORD, Tenants, build_tenants
from tests.web.conftest import Pages

FIRM = OrgKind.LARGE_FIRM
SME = OrgKind.SME


@pytest.fixture
def tenants(engine: Engine, clock: FrozenClock) -> Tenants:
    return build_tenants(engine, clock)


def _today(clock: FrozenClock) -> str:
    return to_local(clock.now()).date().isoformat()


def _contract(tenants: Tenants) -> int:
    return tenants.a.ids["contract"]


def _payments(engine: Engine, contract_id: int) -> list[ContractPayment]:
    with Session(engine) as s:
        return list(s.exec(select(ContractPayment).where(ContractPayment.contract_id == contract_id)))


def _plan(pages: Pages, contract_id: int, expect: int = 303, **fields: str) -> object:
    data = {
        "advance_percent": "30",
        "advance_due_on": "",
        "acceptance_percent": "60",
        "acceptance_days": "30",
        "final_percent": "",
        "final_days": "60",
        "retention_percent": "10",
        "retention_days": "365",
        **fields,
    }
    return pages.post(f"/firm/contracts/{contract_id}/plan", data, expect=expect)


def test_contracts_list_shows_the_firms_contracts_only(tenants: Tenants, pages: Pages) -> None:
    pages.login(tenants.a.usernames[FIRM], PASSWORD)
    home = pages.get("/firm").text
    assert 'href="/firm/contracts"' in home  # in the menu
    page = pages.get("/firm/contracts").text
    ident = _contract(tenants)
    assert f'href="/firm/contracts/{ident}"' in page and f"HT-{ident}" in page
    assert "¥1,800,000.00" in page  # the amount, outstanding in full
    assert f"HT-{tenants.b.ids['contract']}<" not in page and "乙方机密" not in page
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page
    deals = pages.get("/firm/deals").text
    assert f'href="/firm/contracts/{ident}"' in deals


def test_plan_acceptance_payment_and_the_60_day_rule(
    engine: Engine, clock: FrozenClock, tenants: Tenants, pages: Pages
) -> None:
    ident = _contract(tenants)
    url = f"/firm/contracts/{ident}"
    pages.login(tenants.a.usernames[FIRM], PASSWORD)
    page = pages.get(url).text
    assert "尚未约定付款计划" in page and "尚未验收" in page
    assert 'name="final_percent" type="text" value="100"' in page  # the statutory default, prefilled

    # refused: the percentages do not sum to 100; what was typed stays
    refused = _plan(pages, ident, expect=422, advance_due_on=_today(clock), retention_percent="5").text
    assert "必须正好是 100%" in refused and 'name="retention_percent" type="text" value="5"' in refused
    refused = _plan(pages, ident, expect=422, advance_due_on=_today(clock), acceptance_percent="六十").text
    assert (
        'id="f-acceptance_percent"' in refused
        and 'aria-invalid="true" aria-describedby="e-acceptance_percent"' in refused
    )
    refused = _plan(pages, ident, expect=422).text  # an advance without its date
    assert 'aria-describedby="e-advance_due_on"' in refused

    due = (to_local(clock.now()).date() + timedelta(days=7)).isoformat()
    done = pages.follow(_plan(pages, ident, advance_due_on=due)).text
    assert "付款计划已保存" in done
    assert "¥540,000.00" in done and "¥1,080,000.00" in done and "¥180,000.00" in done  # 30 / 60 / 10 %
    assert "验收后 30 天" in done and "待验收" in done

    # acceptance: a future day is refused beside the field; today is accepted
    future = (to_local(clock.now()).date() + timedelta(days=3)).isoformat()
    refused = pages.post(f"{url}/accept", {"accepted_on": future}, expect=422).text
    assert "晚于今天" in refused and f'value="{future}"' in refused
    done = pages.follow(pages.post(f"{url}/accept", {"accepted_on": _today(clock)})).text
    deadline = (to_local(clock.now()).date() + timedelta(days=60)).isoformat()
    assert "已验收" in done and f"最迟应于 {deadline} 前付清" in done and "未逾期" in done

    # a payment: a sub-fen amount is refused with the amount kept; a double submit records once
    page = pages.get(url).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key
    form = {"amount": "540000.005", "paid_on": _today(clock), "reference": "", "idempotency_key": key.group(1)}
    refused = pages.post(f"{url}/payments", form, expect=422).text
    assert 'value="540000.005"' in refused and 'aria-describedby="e-amount"' in refused
    form["amount"] = "540000.00"
    first = pages.follow(pages.post(f"{url}/payments", form)).text
    assert "已登记付款 ¥540000.00" in first
    again = pages.follow(pages.post(f"{url}/payments", form)).text
    assert "已登记过" in again
    assert [p.amount_fen for p in _payments(engine, ident)] == [54_000_000]
    assert "付款计划不能再修改" in again  # a plan with payments no longer changes
    refused = _plan(pages, ident, expect=422, advance_due_on=due).text
    assert "合同已有付款记录" in refused

    # 70 days on, the acceptance payment (due 30 days after acceptance) is 40 days late
    clock.advance(timedelta(days=70))
    pages.login(tenants.a.usernames[FIRM], PASSWORD)  # the web session of 70 days ago has ended
    late = pages.get(url).text
    assert "采购方已逾期" in late and "逾期 40 天" in late and "¥1,080,000.00" in late
    listing = pages.get("/firm/contracts").text
    assert "逾期 40 天" in listing

    # the supplier sees the same settlement, read-only
    sme = Pages(pages.client.__class__(pages.client.app))
    sme.login(tenants.a.usernames[SME], PASSWORD)
    assert f'href="/sme/contracts/{ident}"' in sme.get("/sme/deals").text
    view = sme.get(f"/sme/contracts/{ident}").text
    assert "买方已逾期" in view and "逾期 40 天" in view and "¥540,000.00" in view
    assert "<form" not in view.split("<main", 1)[-1].split("</main>", 1)[0]  # nothing to post


def _csv(ident: int, *, bom: bool = True) -> str:
    lines = [
        "交易日期,贷方金额,摘要,付款人,交易流水号",
        f"2026-01-05,100000.00,货款 HT-{ident},甲方集团,TXN-1",
        f"2026-01-05,100000.00,货款 HT-{ident},甲方集团,TXN-1",
        "2026-01-06,2500.00,HT-99999999 服务费,甲方集团,TXN-2",
        "2026-01-07,不是金额,HT-1,甲方集团,TXN-3",
    ]
    return ("\ufeff" if bom else "") + "\n".join(lines) + "\n"


def test_statement_import_reports_each_row(engine: Engine, clock: FrozenClock, tenants: Tenants, pages: Pages) -> None:
    ident = _contract(tenants)
    pages.login(tenants.a.usernames[FIRM], PASSWORD)
    files = {"file": ("对账单.csv", _csv(ident).encode("utf-8"), "text/csv")}
    response = pages.post("/firm/statements", {"contract_id": str(ident)}, files=files)
    assert re.fullmatch(r"/firm/statements/\d+", response.headers["location"])
    report = pages.follow(response).text
    assert "1 笔已匹配入账，1 笔重复，1 笔无法识别，1 行无效" in report
    assert f'href="/firm/contracts/{ident}"' in report and "已匹配" in report and "重复" in report
    assert "无法识别的合同" in report and "无效行" in report and "¥100,000.00" in report
    assert [p.amount_fen for p in _payments(engine, ident)] == [10_000_000]
    page = pages.get(f"/firm/contracts/{ident}").text
    assert "对账单导入" in page and "¥100,000.00" in page

    # the same file again (in GBK this time) records nothing: every valid row is a duplicate
    files = {"file": ("对账单-gbk.csv", _csv(ident, bom=False).encode("gbk"), "text/csv")}
    report = pages.follow(pages.post("/firm/statements", {}, files=files)).text
    assert "0 笔已匹配入账，2 笔重复" in report
    assert len(_payments(engine, ident)) == 1

    # refused: no file, an empty file; the page comes back (422) with the reason
    refused = pages.post("/firm/statements", {"contract_id": str(ident)}, expect=422).text
    assert "请选择要导入的对账单文件" in refused and f"HT-{ident}" in refused
    files = {"file": ("empty.csv", "交易日期,贷方金额,摘要\n".encode(), "text/csv")}
    refused = pages.post("/firm/statements", {}, files=files, expect=422).text
    assert "对账单没有数据行" in refused and "我的合同" in refused


def test_other_tenants_contracts_and_imports_are_404(
    engine: Engine, clock: FrozenClock, tenants: Tenants, pages: Pages
) -> None:
    ident = _contract(tenants)
    pages.login(tenants.a.usernames[FIRM], PASSWORD)
    files = {"file": ("a.csv", _csv(ident).encode(), "text/csv")}
    statement = pages.post("/firm/statements", {}, files=files).headers["location"]

    other = Pages(pages.client.__class__(pages.client.app))
    other.login(tenants.b.usernames[FIRM], PASSWORD)
    other.get(f"/firm/contracts/{ident}", expect=404)
    other.get(statement, expect=404)
    other.post(f"/firm/contracts/{ident}/accept", {"accepted_on": _today(clock)}, expect=404)
    other.post(f"/firm/contracts/{ident}/payments", {"amount": "1.00", "paid_on": _today(clock)}, expect=404)
    _plan(other, ident, expect=404)
    other.get("/firm/contracts/999999999", expect=404)

    sme_b = Pages(pages.client.__class__(pages.client.app))
    sme_b.login(tenants.b.usernames[SME], PASSWORD)
    sme_b.get(f"/sme/contracts/{ident}", expect=404)
    sme_b.get("/firm/contracts", expect=403)
    assert "sha256" not in sme_b.get(f"/sme/contracts/{tenants.b.ids['contract']}").text

    # without the CSRF token nothing is recorded
    response = pages.client.post(
        f"/firm/contracts/{ident}/payments", data={"amount": "1.00", "paid_on": _today(clock)}, follow_redirects=False
    )
    assert response.status_code == 403
    with Session(engine) as s:
        imports = s.exec(
            select(BankStatementImport).where(col(BankStatementImport.importer_id) == tenants.a.org_id(FIRM))
        )
        assert len(list(imports)) >= 1
        assert s.get(Contract, ident) is not None
    assert [p.amount_fen for p in _payments(engine, ident)] == [10_000_000]
