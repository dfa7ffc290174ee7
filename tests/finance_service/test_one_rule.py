"""Issue 16, finance's contradictions on the database: an SME with an overdue loan is refused by the automatic
check of a receivable application (as the contract check refuses it), and an SME registered today with a contract
signed 7 months ago is 7 months on the platform for the credit suggestion and the risk grade."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from finance import service as fs
from finance.limits import add_months
from finance.queries.platform import platform_since
from finance.service.chain_facts import sme_record
from finance.service.credit_suggestion import trade_record
from qianfan.clock import to_local
from qianfan.models import ApplicationStatus, Contract, FinanceApplication, Organisation
from tests.finance_service.conftest import World, get
from tests.finance_service.test_settlement_service import contract


def test_an_overdue_loan_refuses_a_new_receivable_application(world: World) -> None:
    world.disbursed("800000.00", days=30)
    world.clock.advance(timedelta(days=40))  # that loan is 10 days overdue (the sweep need not have run)
    part = world.confirmed_part(days=90)
    app = world.apply(part.id, "100000.00")
    fs.run_risk_check(world.uow(), app.id)
    row = get(world, FinanceApplication, app.id)
    assert row.status == ApplicationStatus.REJECTED
    assert row.risk_report is not None
    codes = [f["code"] for f in row.risk_report["hard_failures"]]
    assert codes == ["sme_loan_overdue"] and not row.risk_report["passed"]


def test_a_clean_record_still_passes(world: World) -> None:
    part = world.confirmed_part(days=90)
    app = world.apply(part.id, "100000.00")
    fs.run_risk_check(world.uow(), app.id)
    assert get(world, FinanceApplication, app.id).status == ApplicationStatus.RISK_CHECKED


def test_an_sme_registered_today_with_a_contract_7_months_ago_is_7_months_on_the_platform(world: World) -> None:
    c = contract(world)
    today = to_local(world.clock.now()).date()
    seven_months_ago = add_months(today, -7)
    with Session(world.engine) as s:  # the contract was signed 7 months ago; the organisation registered today
        row = s.get(Contract, c.id)
        assert row is not None
        row.signed_at = world.clock.now() - (today - seven_months_ago)
        s.add(row)
        org = s.get(Organisation, world.sme.organisation_id)
        assert org is not None and to_local(org.created_at).date() == today
        s.commit()
    sme_id = world.sme.organisation_id
    with Session(world.engine) as s:
        assert platform_since(s, sme_id) == seven_months_ago
        assert trade_record(s, sme_id, today).months_on_platform == 7
        assert sme_record(s, sme_id, today).days_on_platform == (today - seven_months_ago).days
