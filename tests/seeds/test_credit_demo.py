"""The SME with an established platform history (seeds.settlement, ``demo-sme-veteran``) on a fresh demo load, per
backend: a bank sees a suggested credit line with its reasons; the demo's other SMEs still get none."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from finance.credit_suggestion import Effect
from finance.service.credit_suggestion import suggest_credit_line
from finance.service.settlement import late_buyers
from qianfan.actors import Actor
from qianfan.clock import to_local
from qianfan.models import Contract, ContractStatus, Organisation, OrgKind, Receivable, User
from seeds.demo import DEMO_USERS, build_plan
from seeds.settlement import VETERAN, VETERAN_DEALS
from tests.seeds.conftest import DemoDb


def _actor(s: Session, username: str) -> Actor:
    user = s.exec(select(User).where(User.username == username)).one()
    org = s.get(Organisation, user.organisation_id)
    assert org is not None
    return Actor.for_user(user, org)


def _today(demo_db: DemoDb) -> date:
    return to_local(demo_db.clock.now()).date()


def test_the_veteran_is_a_demo_account_registered_months_ago(demo_db: DemoDb) -> None:
    assert DEMO_USERS[-1][:2] == ("demo-sme-veteran", VETERAN)
    assert VETERAN not in {o.name for o in build_plan(_today(demo_db)).orgs}  # no clash with a generated SME
    with Session(demo_db.engine) as s:
        veteran = _actor(s, "demo-sme-veteran")
        assert veteran.kind == OrgKind.SME
        org = s.get(Organisation, veteran.organisation_id)
        assert org is not None and org.name == VETERAN
        assert to_local(org.created_at).date() == _today(demo_db) - timedelta(days=430)


def test_the_veterans_history(demo_db: DemoDb) -> None:
    today = _today(demo_db)
    with Session(demo_db.engine) as s:
        veteran = _actor(s, "demo-sme-veteran")
        titles = [d.order["title"] for d in VETERAN_DEALS]
        contracts = s.exec(  # its settled history (its contract-finance demo contracts come later)
            select(Contract)
            .where(Contract.supplier_id == veteran.organisation_id, col(Contract.title).in_(titles))
            .order_by(col(Contract.id))
        ).all()
        assert [c.title for c in contracts] == titles
        assert [c.status for c in contracts] == [ContractStatus.COMPLETED] * 4 + [ContractStatus.DELIVERED]
        assert len({c.buyer_id for c in contracts}) == 3
        for c in contracts:
            assert c.accepted_on is not None and c.accepted_on <= c.delivery_due  # delivered on time
            assert today - timedelta(days=365) < c.accepted_on < today
            assert to_local(c.signed_at).date() < c.accepted_on
        (receivable,) = s.exec(select(Receivable).where(Receivable.creditor_id == veteran.organisation_id)).all()
        assert receivable.contract_id == contracts[-1].id and receivable.confirmed_fen == receivable.face_fen
        # not late: the balance of the last contract is due in 16 days
        assert all(b.supplier_id != veteran.organisation_id for b in late_buyers(s, _actor(s, "demo-office"), today))


def test_a_bank_sees_a_suggested_line_for_the_veteran(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        veteran = _actor(s, "demo-sme-veteran")
        suggestion = suggest_credit_line(s, _actor(s, "demo-bank"), veteran.organisation_id, _today(demo_db))
    assert suggestion.has_line and suggestion.amount_fen > 0 and not suggestion.blocking
    record = suggestion.record
    assert record.months_on_platform == 14 and record.settled_deals == 4 and record.distinct_buyers == 3
    assert record.settled_fen == 385_000_000 and record.largest_deal_fen == 120_000_000
    assert record.deliveries == 5 and record.on_time_delivery_share == 1
    assert record.confirmed_receivables == 1 and record.loans_overdue_now == record.defaults == 0
    assert record.loans_repaid_on_time == 1  # the drawdown on its accepted line, repaid on time
    # 30 % base + 5 pp for on-time delivery + 2 pp for the loan repaid on time = 37 % of ¥3,850,000.00, rounded
    # down to ¥10,000.00 (the bank accepted ¥1,340,000.00 at 35 % before that drawdown)
    assert suggestion.rate_pct == 37 and suggestion.amount_fen == 142_000_000
    reasons = {r.code: r for r in suggestion.reasons}
    assert {"settled_volume", "months_on_platform", "settled_deals", "on_time_delivery"} <= set(reasons)
    assert reasons["on_time_delivery"].effect == Effect.PLUS and reasons["on_time_delivery"].points == 5
    assert reasons["settled_volume"].value == "385000000"


def test_the_other_smes_still_get_no_line(demo_db: DemoDb) -> None:
    today = _today(demo_db)
    with Session(demo_db.engine) as s:
        # The office reads every SME's record; a bank only those that applied to it or granted it access (授权查询).
        bank = _actor(s, "demo-office")
        veteran_id = _actor(s, "demo-sme-veteran").organisation_id
        smes = s.exec(select(Organisation.id).where(Organisation.kind == OrgKind.SME)).all()
        assert len(smes) > 200
        blocking: dict[int, list[str]] = {}
        for sme_id in smes:
            if sme_id == veteran_id:
                continue
            assert sme_id is not None
            suggestion = suggest_credit_line(s, bank, sme_id, today)
            blocking[sme_id] = [r.code for r in suggestion.blocking]
            assert not suggestion.has_line and blocking[sme_id], sme_id
        # demo-sme has traded on the platform since its first offers months ago (platform age: the earlier of
        # registration and first activity) and settled three deals: only its overdue loan holds it back;
        # 北京澄观数据 (six months, no deal settled yet) too few; every other SME joined with the seed
        demo_sme = _actor(s, "demo-sme").organisation_id
        chengguan = s.exec(select(Organisation.id).where(Organisation.name == "北京澄观数据技术有限公司")).one()
        assert chengguan is not None
        assert blocking.pop(demo_sme) == ["overdue_now"]
        assert blocking.pop(chengguan) == ["too_few_deals"]
        assert all("too_new" in codes for codes in blocking.values())
