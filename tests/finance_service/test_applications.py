"""Finance application use cases on SQLite and PostgreSQL: the four limits and the tenor, the risk check, the bank's
review (queue, four-eyes, lower amount, rate cap, reject, information, withdraw), the e-signature, disbursement
exactly once with a balanced ledger, and the 48-hour SLA sweep."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from finance import service as fs
from qianfan.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from qianfan.models import (
    ApplicationStatus,
    Approval,
    BankProduct,
    ExposureLimit,
    FinanceApplication,
    LedgerPosting,
    Loan,
    PartState,
    Receivable,
    ReceivablePart,
    ReceivableStatus,
    ReviewDecision,
    Signature,
)
from tests.finance_service.conftest import World, exposure_used, get, line_used

APP_STATUS = ApplicationStatus


def checked(world: World, face: str = "1000000.00", amount: str = "800000.00", **kw: Any) -> FinanceApplication:
    """An application that passed the risk check (in the bank's queue)."""
    part = world.confirmed_part(face, **kw)
    app = world.apply(part.id, amount)
    app = fs.run_risk_check(world.uow(), app.id)
    assert app.status == APP_STATUS.RISK_CHECKED, app.decision_reason
    return app


def bank2_product(world: World, **spreads: int) -> BankProduct:
    return fs.create_product(
        world.uow(),
        world.bank2_admin,
        {"code": "B2", "name": "第二家银行保理", "advance_rate": "0.8", "spreads_bp": spreads or {"A": 60, "B": 120}},
    )


def refused_limit(exc: pytest.ExceptionInfo[RuleViolation]) -> str:
    return str(exc.value.detail["exceeded"][0]["limit"])


def assert_released(world: World, app_id: int | None, part_id: int) -> None:
    assert line_used(world) == 0 and exposure_used(world) == 0
    assert get(world, ReceivablePart, part_id).status == PartState.HELD
    assert get(world, FinanceApplication, app_id).active_part_id is None


# ------------------------------------------------------------------------------------------ limits


def test_apply_reserves_the_limits_and_starts_the_clock(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    app = world.apply(part.id, "900000.00")  # exactly confirmed × 0.9
    assert app.status == APP_STATUS.SUBMITTED and app.requested_fen == 90_000_000
    assert app.core_enterprise_id == world.core.organisation_id and app.active_part_id == part.id
    assert app.deadline_at == world.clock.now() + timedelta(hours=48)
    assert app.stage == "risk_check"
    assert line_used(world) == 90_000_000 and exposure_used(world) == 90_000_000
    assert get(world, ReceivablePart, part.id).status == PartState.FINANCING


def test_amount_above_the_advance_rate_is_refused_naming_the_limit(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    with pytest.raises(RuleViolation) as exc:
        world.apply(part.id, "900000.01")
    assert refused_limit(exc) == "advance_rate"
    assert "advance rate" in exc.value.message_en and "融资比例" in exc.value.message_zh
    assert exc.value.detail["max_amount_fen"] == 90_000_000
    assert line_used(world) == 0 and get(world, ReceivablePart, part.id).status == PartState.HELD


def test_amount_above_the_bank_line_remaining_is_refused(world: World) -> None:
    fs.set_credit_line(world.uow(), world.bank_admin, world.core.organisation_id, "1000000.00")
    first = world.confirmed_part("1000000.00")
    world.apply(first.id, "700000.00")
    second = world.confirmed_part("1000000.00")
    quote = fs.quote(world.uow(), world.sme, second.id, world.bank_id)
    assert (quote.max_amount_fen, quote.binding_constraint) == (30_000_000, "bank_line")
    with pytest.raises(RuleViolation) as exc:
        world.apply(second.id, "300000.01")
    assert refused_limit(exc) == "bank_line"
    assert "credit line" in exc.value.message_en
    world.apply(second.id, "300000.00")
    assert line_used(world) == 100_000_000
    with pytest.raises(RuleViolation):  # the line cannot be cut below what is in use
        fs.set_credit_line(world.uow(), world.bank_admin, world.core.organisation_id, "999999.99")


def test_amount_above_the_sme_exposure_is_refused(world: World) -> None:
    with pytest.raises(PermissionDenied):  # only the programme office sets exposure limits
        fs.set_exposure_limit(world.uow(), world.bank_admin, world.sme.organisation_id, "1.00")
    with pytest.raises(NotFound):
        fs.set_exposure_limit(world.uow(), world.office, world.core.organisation_id, "1.00")
    assert fs.set_exposure_limit(world.uow(), world.office, world.sme.organisation_id, "500000.00") == 50_000_000
    part = world.confirmed_part("1000000.00")
    with pytest.raises(RuleViolation) as exc:
        world.apply(part.id, "500000.01")
    assert refused_limit(exc) == "sme_exposure"
    assert "exposure" in exc.value.message_en
    world.apply(part.id, "400000.00")
    with pytest.raises(RuleViolation):
        fs.set_exposure_limit(world.uow(), world.office, world.sme.organisation_id, "399999.99")
    # the limit is the SME's, across banks and debtors: the supplier is not affected
    other = world.confirmed_part("1000000.00", sme=world.supplier)
    world.apply(other.id, "800000.00", sme=world.supplier)


def test_amount_above_the_deal_cap_is_refused(world: World) -> None:
    part = world.confirmed_part("40000000.00")
    with pytest.raises(RuleViolation) as exc:
        world.apply(part.id, "30000000.01")
    assert refused_limit(exc) == "deal_cap"
    assert "30,000,000.00" in exc.value.message_en
    app = world.apply(part.id, "30000000.00")
    assert app.requested_fen == 3_000_000_000


def test_a_bank_without_a_line_for_the_debtor_is_refused(world: World) -> None:
    bank2_product(world)
    part = world.confirmed_part("1000000.00")
    data = {"part_id": part.id, "bank_id": world.bank2_admin.organisation_id, "amount": "100000.00"}
    with pytest.raises(RuleViolation) as exc:
        fs.apply_for_finance(world.uow(), world.sme, data)
    assert "credit line" in exc.value.message_en
    with pytest.raises(NotFound):  # not a bank at all
        fs.apply_for_finance(world.uow(), world.sme, {**data, "bank_id": world.core.organisation_id})
    assert get(world, ReceivablePart, part.id).status == PartState.HELD


def test_an_unconfirmed_receivable_is_not_financed(world: World) -> None:
    rec = world.receivable("1000000.00")
    with Session(world.engine) as s:  # a part without confirmation cannot arise through the use cases
        part = ReceivablePart(
            receivable_id=rec.id,
            holder_id=world.sme.organisation_id,
            amount_fen=rec.face_fen,
            created_at=world.clock.now(),
        )
        s.add(part)
        s.commit()
        s.refresh(part)
    with pytest.raises(RuleViolation) as exc:
        world.apply(part.id, "100000.00")
    assert "confirmed" in exc.value.message_en
    assert line_used(world) == 0


def test_only_the_holder_applies(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    with pytest.raises(NotFound):
        world.apply(part.id, "100000.00", sme=world.supplier)
    with pytest.raises(PermissionDenied):
        fs.apply_for_finance(
            world.uow(), world.core, {"part_id": part.id, "bank_id": world.bank_id, "amount": "100000.00"}
        )
    # after a transfer the new holder may apply
    moved = fs.transfer_part(world.uow(), world.sme, part.id, world.supplier.organisation_id)
    app = world.apply(moved.id, "900000.00", sme=world.supplier)
    assert app.applicant_id == world.supplier.organisation_id
    assert exposure_used(world, world.supplier) == 90_000_000 and exposure_used(world) == 0


def test_a_part_in_an_application_is_a_conflict(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    world.apply(part.id, "500000.00")
    with pytest.raises(Conflict):
        world.apply(part.id, "100000.00")
    assert line_used(world) == 50_000_000
    with Session(world.engine) as s:
        assert len(s.exec(select(FinanceApplication)).all()) == 1


def test_a_financed_part_is_never_applied_for_again(world: World) -> None:
    loan = world.disbursed("800000.00")
    with pytest.raises(RuleViolation) as exc:
        world.apply(loan.part_id, "100000.00")
    assert "financed" in exc.value.message_en
    # nor after the receivable is paid and the loan repaid
    world.clock.advance(timedelta(days=90))
    part = get(world, ReceivablePart, loan.part_id)
    fs.pay_receivable(world.uow(), world.core, part.receivable_id, "1000000.00", "pay")
    with pytest.raises(RuleViolation):
        world.apply(loan.part_id, "100000.00")
    with Session(world.engine) as s:
        assert len(s.exec(select(FinanceApplication)).all()) == 1


def test_the_idempotency_key_returns_the_same_application(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    first = world.apply(part.id, "500000.00", idempotency_key="apply-1")
    again = world.apply(part.id, "500000.00", idempotency_key="apply-1")
    assert again.id == first.id
    assert line_used(world) == 50_000_000 and exposure_used(world) == 50_000_000
    with Session(world.engine) as s:
        assert len(s.exec(select(FinanceApplication)).all()) == 1


def test_tenor_above_twelve_months_is_refused(world: World) -> None:
    today = world.clock.now().date()
    too_long = world.confirmed_part("1000000.00", days=(today.replace(year=today.year + 1) - today).days + 1)
    with pytest.raises(RuleViolation) as exc:
        world.apply(too_long.id, "100000.00")
    assert exc.value.detail["latest_due"] == today.replace(year=today.year + 1).isoformat()
    with pytest.raises(RuleViolation):
        fs.quote(world.uow(), world.sme, too_long.id, world.bank_id)
    twelve = world.confirmed_part("1000000.00", days=(today.replace(year=today.year + 1) - today).days)
    assert world.apply(twelve.id, "100000.00").status == APP_STATUS.SUBMITTED


def test_the_advance_is_on_what_is_still_owed_on_a_partly_paid_part(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    fs.pay_receivable(world.uow(), world.core, part.receivable_id, "500000.00", "early")
    quote = fs.quote(world.uow(), world.sme, part.id, world.bank_id)
    assert quote.max_amount_fen == 45_000_000  # 90 % of the 500,000.00 still owed
    with pytest.raises(RuleViolation) as exc:
        world.apply(part.id, "450000.01")
    assert refused_limit(exc) == "advance_rate"
    app = world.apply(part.id, "450000.00")
    assert fs.run_risk_check(world.uow(), app.id).status == APP_STATUS.RISK_CHECKED


def test_a_quote_writes_nothing(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    quote = fs.quote(world.uow(), world.sme, part.id, world.bank_id)
    assert quote.limits_fen["sme_exposure"] == 5_000_000_000  # the default limit, read without creating a row
    with Session(world.engine) as s:
        assert s.exec(select(ExposureLimit).where(ExposureLimit.sme_id == world.sme.organisation_id)).first() is None


# ------------------------------------------------------------------------------------------ risk check


def test_risk_check_passes_and_stores_the_report(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    app = world.apply(part.id, "800000.00")
    world.clock.advance(timedelta(minutes=2))
    done = fs.run_risk_check(world.uow(), app.id)
    assert done.status == APP_STATUS.RISK_CHECKED
    row = get(world, FinanceApplication, app.id)
    assert row.risk_report is not None and row.risk_report["passed"] is True
    assert row.risk_report["hard_failures"] == []
    assert row.risk_grade == "D" == row.risk_report["grade"]  # a newcomer
    assert row.risk_score == row.risk_report["score"]
    assert {r["code"] for r in row.risk_report["reasons"]} >= {"delivered_contracts", "debtor_on_time"}
    assert row.risk_checked_at == world.clock.now()
    assert row.stage == "bank_review" and row.review_due_at == world.clock.now() + timedelta(hours=24)
    # running it again changes nothing
    again = fs.run_risk_check(world.uow(), app.id)
    assert again.status == APP_STATUS.RISK_CHECKED and again.version == row.version


def test_a_bank_that_does_not_lend_to_grade_d_rejects_a_newcomer_and_releases_everything(world: World) -> None:
    product = bank2_product(world, A=50, B=100, C=180)
    fs.set_credit_line(world.uow(), world.bank2_admin, world.core.organisation_id, "5000000.00")
    bank2 = world.bank2_admin.organisation_id
    part = world.confirmed_part("1000000.00")
    app = fs.apply_for_finance(
        world.uow(), world.sme, {"part_id": part.id, "bank_id": bank2, "product_id": product.id, "amount": "700000.00"}
    )
    assert line_used(world, bank_id=bank2) == 70_000_000 and exposure_used(world) == 70_000_000
    done = fs.run_risk_check(world.uow(), app.id)
    assert done.status == APP_STATUS.REJECTED and done.risk_grade == "D"
    assert "D" in done.decision_reason and done.finished_at == world.clock.now()
    assert line_used(world, bank_id=bank2) == 0 and exposure_used(world) == 0
    assert get(world, ReceivablePart, part.id).status == PartState.HELD
    assert get(world, FinanceApplication, app.id).active_part_id is None
    # the part is free for another bank
    assert world.apply(part.id, "800000.00").status == APP_STATUS.SUBMITTED


# ------------------------------------------------------------------------------------------ review


def test_review_queue_is_ordered_by_deadline_with_the_sme_s_turn_last(world: World) -> None:
    apps = []
    for _ in range(3):
        apps.append(checked(world))
        world.clock.advance(timedelta(hours=1))
    submitted_only = world.apply(world.confirmed_part().id)  # not risk-checked yet: not in the queue
    fs.request_info(world.uow(), world.reviewer, apps[0].id, "请补充发货单")
    with Session(world.engine) as s:
        queue = fs.review_queue(s, world.reviewer, world.clock.now())
        other_bank = fs.review_queue(s, world.bank2_admin, world.clock.now())
    assert [q.application.id for q in queue] == [apps[1].id, apps[2].id, apps[0].id]
    assert submitted_only.id not in [q.application.id for q in queue]
    assert queue[0].overall_left == timedelta(hours=48 - 2)
    assert other_bank == []


def test_approve_below_the_four_eyes_amount(world: World) -> None:
    app = checked(world, "6000000.00", "4999999.99")
    world.clock.advance(timedelta(hours=2))
    done = fs.approve(world.uow(), world.reviewer, app.id)
    assert done.status == APP_STATUS.APPROVED and done.approved_fen == 499_999_999
    assert done.annual_rate is not None and str(done.annual_rate).startswith("0.06")  # LPR 3.0 % + 300 bp (D)
    terms = done.offer_terms
    assert terms is not None and terms["principal_fen"] == 499_999_999 and terms["grade"] == "D"
    assert terms["fee_fen"] == 500_000  # 10 bp = 4,999.99…, half up, within the 100.00–50,000.00 range
    assert done.stage == "sme_signature" and done.sign_due_at == world.clock.now() + timedelta(hours=12)
    with Session(world.engine) as s:
        (approval,) = s.exec(select(Approval).where(Approval.application_id == app.id)).all()
    assert approval.decision == ReviewDecision.APPROVE and approval.user_id == world.reviewer.user_id


def test_four_eyes_at_and_above_the_threshold(world: World) -> None:
    app = checked(world, "6000000.00", "5000000.00")
    first = fs.approve(world.uow(), world.approver, app.id)
    assert first.status == APP_STATUS.AWAITING_SECOND_APPROVAL and first.offer_terms is None
    with pytest.raises(RuleViolation) as exc:  # the same person
        fs.approve(world.uow(), world.approver, app.id)
    assert "four-eyes" in exc.value.message_en
    with pytest.raises(RuleViolation):  # a reviewer may not give the second approval
        fs.approve(world.uow(), world.reviewer, app.id)
    assert get(world, FinanceApplication, app.id).status == APP_STATUS.AWAITING_SECOND_APPROVAL
    second = fs.approve(world.uow(), world.bank_admin, app.id)
    assert second.status == APP_STATUS.APPROVED and second.approved_fen == 500_000_000
    # first by a reviewer, second by the approver
    other = checked(world, "7000000.00", "5500000.00")
    fs.approve(world.uow(), world.reviewer, other.id, {"amount": "5200000.00"})
    done = fs.approve(world.uow(), world.approver, other.id)
    assert done.status == APP_STATUS.APPROVED and done.approved_fen == 520_000_000  # the first approver's terms
    assert done.requested_fen == 520_000_000
    with Session(world.engine) as s:
        decisions = s.exec(
            select(Approval.decision).where(Approval.application_id == other.id).order_by(col(Approval.id))
        ).all()
    assert decisions == [ReviewDecision.APPROVE_FIRST, ReviewDecision.APPROVE_SECOND]
    assert line_used(world) == 500_000_000 + 520_000_000


def test_approving_a_lower_amount_releases_the_difference(world: World) -> None:
    app = checked(world, "1000000.00", "800000.00")
    with pytest.raises(RuleViolation):
        fs.approve(world.uow(), world.reviewer, app.id, {"amount": "800000.01"})
    done = fs.approve(world.uow(), world.reviewer, app.id, {"amount": "500000.00"})
    assert done.approved_fen == 50_000_000 and done.requested_fen == 50_000_000
    assert done.offer_terms is not None and done.offer_terms["principal_fen"] == 50_000_000
    assert line_used(world) == 50_000_000 and exposure_used(world) == 50_000_000


def test_rate_above_four_times_lpr_is_refused(world: World) -> None:
    app = checked(world)
    with pytest.raises(RuleViolation) as exc:
        fs.approve(world.uow(), world.reviewer, app.id, {"annual_rate": "0.1201"})
    assert "4 × LPR" in exc.value.message_en
    with pytest.raises(InvalidInput):  # whole basis points only
        fs.approve(world.uow(), world.reviewer, app.id, {"annual_rate": "0.06005"})
    assert get(world, FinanceApplication, app.id).status in (APP_STATUS.RISK_CHECKED, APP_STATUS.UNDER_REVIEW)
    done = fs.approve(world.uow(), world.reviewer, app.id, {"annual_rate": "0.12"})
    assert done.status == APP_STATUS.APPROVED and done.offer_terms is not None
    assert done.offer_terms["annual_rate"].rstrip("0") == "0.12"


def test_reject_needs_a_reason_and_releases_the_limits(world: World) -> None:
    app = checked(world)
    with pytest.raises(InvalidInput):
        fs.reject(world.uow(), world.reviewer, app.id, "  ")
    done = fs.reject(world.uow(), world.reviewer, app.id, "贸易背景不清晰")
    assert done.status == APP_STATUS.REJECTED and done.decision_reason == "贸易背景不清晰"
    assert_released(world, app.id, app.part_id)
    with pytest.raises(RuleViolation):
        fs.approve(world.uow(), world.reviewer, app.id)
    with Session(world.engine) as s:
        decisions = s.exec(select(Approval.decision).where(Approval.application_id == app.id)).all()
    assert decisions == [ReviewDecision.REJECT]


def test_request_and_provide_information_the_review_clock_continues(world: World) -> None:
    app = checked(world)
    world.clock.advance(timedelta(hours=10))
    with pytest.raises(InvalidInput):
        fs.request_info(world.uow(), world.reviewer, app.id, "")
    asked = fs.request_info(world.uow(), world.reviewer, app.id, "请补充近三个月的发货记录")
    assert asked.status == APP_STATUS.INFO_REQUESTED and asked.stage == "info_requested"
    with pytest.raises(RuleViolation):  # no approval while waiting for the SME
        fs.approve(world.uow(), world.reviewer, app.id)
    world.clock.advance(timedelta(hours=5))
    with pytest.raises(NotFound):
        fs.provide_info(world.uow(), world.supplier, app.id, "不是我的申请")
    with pytest.raises(InvalidInput):
        fs.provide_info(world.uow(), world.sme, app.id, " ")
    answered = fs.provide_info(world.uow(), world.sme, app.id, "已上传发货记录")
    assert answered.status == APP_STATUS.UNDER_REVIEW and answered.info_response == "已上传发货记录"
    # 10 of the bank's 24 hours were used before the question: 14 are left, not a fresh 24
    assert answered.review_due_at == world.clock.now() + timedelta(hours=14)
    assert fs.approve(world.uow(), world.reviewer, app.id).status == APP_STATUS.APPROVED


def test_withdraw_releases_the_limits(world: World) -> None:
    app = checked(world)
    with pytest.raises(NotFound):
        fs.withdraw(world.uow(), world.supplier, app.id)
    done = fs.withdraw(world.uow(), world.sme, app.id)
    assert done.status == APP_STATUS.WITHDRAWN
    assert_released(world, app.id, app.part_id)
    signed = world.approved()
    fs.sign_offer(world.uow(), world.sme, signed.id, fs.terms_hash(signed.offer_terms or {}))
    with pytest.raises(RuleViolation):  # not after signing
        fs.withdraw(world.uow(), world.sme, signed.id)


def test_another_bank_does_not_see_the_application(world: World) -> None:
    app = checked(world)
    for call in (
        lambda: fs.approve(world.uow(), world.bank2_admin, app.id),
        lambda: fs.reject(world.uow(), world.bank2_admin, app.id, "不要"),
        lambda: fs.request_info(world.uow(), world.bank2_admin, app.id, "?"),
        lambda: fs.start_review(world.uow(), world.bank2_admin, app.id),
        lambda: fs.disburse(world.uow(), world.bank2_admin, app.id, "k"),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(PermissionDenied):
        fs.approve(world.uow(), world.sme, app.id)
    assert get(world, FinanceApplication, app.id).status == APP_STATUS.RISK_CHECKED


# ------------------------------------------------------------------------------------------ sign


def test_sign_with_the_wrong_terms_is_a_conflict(world: World) -> None:
    app = world.approved()
    terms = dict(app.offer_terms or {})
    terms["principal_fen"] += 1
    with pytest.raises(Conflict) as exc:
        fs.sign_offer(world.uow(), world.sme, app.id, fs.terms_hash(terms))
    assert exc.value.detail["expected_terms_hash"] == fs.terms_hash(app.offer_terms or {})
    assert get(world, FinanceApplication, app.id).status == APP_STATUS.APPROVED
    with Session(world.engine) as s:
        assert s.exec(select(Signature)).all() == []


def test_sign_stores_the_sha256_of_the_canonical_terms(world: World) -> None:
    pending = checked(world)
    with pytest.raises(RuleViolation):  # nothing to sign before approval
        fs.sign_offer(world.uow(), world.sme, pending.id, "0" * 64)
    app = world.approved()
    terms = get(world, FinanceApplication, app.id).offer_terms
    assert terms is not None
    canonical = json.dumps(terms, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    with pytest.raises(NotFound):
        fs.sign_offer(world.uow(), world.supplier, app.id, expected)
    world.clock.advance(timedelta(hours=1))
    sig = fs.sign_offer(world.uow(), world.sme, app.id, expected)
    assert sig.terms_hash == expected and sig.terms == terms
    assert sig.user_id == world.sme.user_id and sig.signed_at == world.clock.now()
    row = get(world, FinanceApplication, app.id)
    assert row.status == APP_STATUS.OFFER_SIGNED and row.stage == "disbursement"
    assert fs.sign_offer(world.uow(), world.sme, app.id, expected).id == sig.id  # a retried click


# ------------------------------------------------------------------------------------------ disburse


def test_no_disbursement_before_the_signature(world: World) -> None:
    app = world.approved()
    with pytest.raises(RuleViolation) as exc:
        fs.disburse(world.uow(), world.reviewer, app.id, "d-1")
    assert "signed" in exc.value.message_en
    with Session(world.engine) as s:
        assert s.exec(select(Loan)).all() == []


def test_disbursement_happens_exactly_once(world: World) -> None:
    app = world.approved()
    fs.sign_offer(world.uow(), world.sme, app.id, fs.terms_hash(app.offer_terms or {}))
    loan = fs.disburse(world.uow(), world.reviewer, app.id, "d-1")
    assert fs.disburse(world.uow(), world.reviewer, app.id, "d-1").id == loan.id
    with pytest.raises(Conflict) as refused:  # another key after disbursement: the loan is named
        fs.disburse(world.uow(), world.reviewer, app.id, "d-2")
    assert refused.value.detail == {"loan_id": loan.id}
    other = world.approved()
    fs.sign_offer(world.uow(), world.sme, other.id, fs.terms_hash(other.offer_terms or {}))
    with pytest.raises(Conflict):  # a key belongs to one disbursement
        fs.disburse(world.uow(), world.reviewer, other.id, "d-1")
    with Session(world.engine) as s:
        assert len(s.exec(select(Loan)).all()) == 1
        refs = s.exec(select(LedgerPosting.ref).where(LedgerPosting.loan_id == loan.id)).all()
    assert sorted(refs) == sorted(f"loan:{loan.id}:{k}" for k in ("disbursement", "interest", "fee", "fee-deduction"))


def test_disbursement_posts_a_balanced_ledger_and_deducts_the_fee(world: World) -> None:
    loan = world.disbursed("800000.00")
    assert loan.principal_fen == loan.principal_outstanding_fen == 80_000_000
    assert loan.fee_fen == 80_000  # 10 bp of 800,000.00
    app = get(world, FinanceApplication, loan.application_id)
    assert app.status == APP_STATUS.DISBURSED and app.finished_at == world.clock.now()
    assert app.offer_terms is not None and loan.interest_fen == app.offer_terms["interest_fen"]
    assert get(world, ReceivablePart, loan.part_id).status == PartState.FINANCED
    assert get(world, Receivable, app.receivable_id).status == ReceivableStatus.FINANCED
    assert line_used(world) == 80_000_000 and exposure_used(world) == 80_000_000  # held until repaid
    with Session(world.engine) as s:
        assert fs.unbalanced_postings(s) == []
        by_loan = fs.balances(s, loan_id=loan.id)
        by_bank = fs.balances(s, bank_id=world.bank_id)
        by_core = fs.balances(s, core_enterprise_id=world.core.organisation_id)
        outstanding = fs.loan_outstanding(s, loan.id)
    for view in (by_loan, by_bank, by_core):
        assert sum(view.values()) == 0
    assert by_loan[f"sme_settlement:{world.sme.organisation_id}"] == -(80_000_000 - 80_000)  # credit: net of fee
    assert by_loan[f"loan_principal:{loan.id}"] == 80_000_000
    assert by_loan[f"fee_income:{world.bank_id}"] == -80_000
    assert by_loan.get(f"fee_receivable:{loan.id}", 0) == 0  # charged and deducted at once
    assert by_loan[f"interest_income:{world.bank_id}"] == -loan.interest_fen
    assert outstanding.principal_fen == 80_000_000 and outstanding.interest_fen == loan.interest_fen
    assert outstanding.fees_fen == 0


def test_only_bank_users_with_a_review_role_disburse(world: World) -> None:
    app = world.approved()
    fs.sign_offer(world.uow(), world.sme, app.id, fs.terms_hash(app.offer_terms or {}))
    with pytest.raises(InvalidInput):
        fs.disburse(world.uow(), world.reviewer, app.id, " ")
    with pytest.raises(PermissionDenied):
        fs.disburse(world.uow(), world.sme, app.id, "d")
    assert fs.disburse(world.uow(), world.approver, app.id, "d").principal_fen == 80_000_000


# ------------------------------------------------------------------------------------------ SLA


def test_sla_sweep_at_risk_then_breached_and_escalated_once_naming_the_bank(world: World) -> None:
    app = checked(world)
    assert fs.sla_sweep(world.uow()).at_risk == 0
    world.clock.advance(timedelta(hours=19))  # 5 of the bank's 24 hours left: under a quarter
    sweep = fs.sla_sweep(world.uow())
    assert (sweep.checked, sweep.at_risk, sweep.breached, sweep.escalated) == (1, 1, 0, 0)
    assert get(world, FinanceApplication, app.id).sla_status == "at_risk"
    world.clock.advance(timedelta(hours=28))  # the bank sat on it for 47 hours
    sweep = fs.sla_sweep(world.uow())
    assert sweep.breached == 0 and sweep.escalated == 0
    world.clock.advance(timedelta(hours=1, seconds=1))  # past 48 h
    sweep = fs.sla_sweep(world.uow())
    assert (sweep.breached, sweep.escalated) == (1, 1)
    row = get(world, FinanceApplication, app.id)
    assert row.sla_status == "breached" and row.breach_party == "bank"
    assert row.escalated_at == world.clock.now()
    world.clock.advance(timedelta(minutes=1))
    again = fs.sla_sweep(world.uow())
    assert (again.breached, again.escalated) == (1, 0)
    assert get(world, FinanceApplication, app.id).escalated_at == row.escalated_at


def test_time_waiting_for_the_sme_s_information_is_charged_to_the_sme(world: World) -> None:
    app = checked(world)
    world.clock.advance(timedelta(hours=1))
    fs.request_info(world.uow(), world.reviewer, app.id, "请补充合同原件")
    world.clock.advance(timedelta(hours=47, minutes=1))
    sweep = fs.sla_sweep(world.uow())
    assert (sweep.breached, sweep.escalated) == (1, 1)
    assert get(world, FinanceApplication, app.id).breach_party == "sme"


def test_a_breach_at_disbursement_is_recorded(world: World) -> None:
    app = world.approved()
    fs.sign_offer(world.uow(), world.sme, app.id, fs.terms_hash(app.offer_terms or {}))
    world.clock.advance(timedelta(hours=49))  # the bank took 49 hours to pay out
    fs.disburse(world.uow(), world.reviewer, app.id, "late")
    row = get(world, FinanceApplication, app.id)
    assert row.sla_status == "breached" and row.breach_party == "bank"


def test_sweep_expires_applications_whose_receivable_matured(world: World) -> None:
    short = checked(world, days=3)
    longer = checked(world, days=30)
    world.clock.advance(timedelta(days=3))
    sweep = fs.sla_sweep(world.uow())
    assert sweep.expired == 1
    row = get(world, FinanceApplication, short.id)
    assert row.status == APP_STATUS.EXPIRED and row.active_part_id is None and row.finished_at is not None
    assert get(world, ReceivablePart, short.part_id).status == PartState.HELD
    assert get(world, FinanceApplication, longer.id).status == APP_STATUS.RISK_CHECKED
    assert line_used(world) == longer.requested_fen == exposure_used(world)
    assert fs.sla_sweep(world.uow()).expired == 0


# ------------------------------------------------------------------------------------------ more


def test_bank_set_up_rules(world: World) -> None:
    data = {"code": "RF2", "name": "第二个产品", "advance_rate": "0.8"}
    with pytest.raises(PermissionDenied):  # only the bank's admin creates products
        fs.create_product(world.uow(), world.reviewer, data)
    with pytest.raises(PermissionDenied):
        fs.create_product(world.uow(), world.sme, data)
    with pytest.raises(Conflict):
        fs.create_product(world.uow(), world.bank_admin, {**data, "code": "RF1"})
    with pytest.raises(InvalidInput):
        fs.create_product(world.uow(), world.bank_admin, {**data, "fee_min": "2.00", "fee_max": "1.00"})
    second = fs.create_product(world.uow(), world.bank_admin, data)
    part = world.confirmed_part("1000000.00")
    with pytest.raises(InvalidInput) as exc:  # two products: the SME must choose
        world.apply(part.id, "100000.00")
    assert exc.value.detail["products"] == [world.product.id, second.id]
    app = world.apply(part.id, "800000.00", product_id=second.id)  # 0.8 advance
    assert app.product_id == second.id
    with pytest.raises(PermissionDenied):
        fs.set_credit_line(world.uow(), world.reviewer, world.core.organisation_id, "1.00")
    with pytest.raises(NotFound):  # lines are for core enterprises
        fs.set_credit_line(world.uow(), world.approver, world.sme.organisation_id, "1.00")


def test_an_idempotency_key_reused_for_another_part_is_a_conflict(world: World) -> None:
    first = world.confirmed_part("1000000.00")
    other = world.confirmed_part("1000000.00")
    app = world.apply(first.id, "500000.00", idempotency_key="k-1")
    with pytest.raises(Conflict):
        world.apply(other.id, "500000.00", idempotency_key="k-1")
    assert get(world, ReceivablePart, other.id).status == PartState.HELD
    assert world.apply(first.id, "500000.00", idempotency_key="k-1").id == app.id
    with pytest.raises(Conflict):  # the same part with another amount is another request
        world.apply(first.id, "400000.00", idempotency_key="k-1")
    # keys are per applicant: another SME may use the same string
    theirs = world.confirmed_part("1000000.00", sme=world.supplier)
    assert world.apply(theirs.id, "100000.00", idempotency_key="k-1", sme=world.supplier).id != app.id


def test_a_debtor_in_default_stops_new_financing_against_it(world: World) -> None:
    loan = world.disbursed("800000.00", days=30)
    world.clock.advance(timedelta(days=30 + 91))  # unpaid more than 90 days after its due date
    fs.maturity_sweep(world.uow())
    # another SME, with a clean record of its own, is refused against that debtor for the debtor's default alone
    part = world.confirmed_part("1000000.00", sme=world.supplier)
    app = world.apply(part.id, "100000.00", sme=world.supplier)
    done = fs.run_risk_check(world.uow(), app.id)
    assert done.status == APP_STATUS.REJECTED
    assert done.risk_report is not None
    assert [f["code"] for f in done.risk_report["hard_failures"]] == ["debtor_in_default"]
    assert line_used(world) == loan.principal_fen  # only the defaulted loan still holds the line
    # another debtor is not affected
    other = world.confirmed_part(core=world.core2, sme=world.supplier)
    ok = fs.run_risk_check(world.uow(), world.apply(other.id, sme=world.supplier).id)
    assert ok.status == APP_STATUS.RISK_CHECKED
    # the borrower itself is refused against any debtor: its own loan is overdue and in default (issue 16)
    own = fs.run_risk_check(world.uow(), world.apply(world.confirmed_part(core=world.core2).id).id)
    assert own.status == APP_STATUS.REJECTED and own.risk_report is not None
    assert [f["code"] for f in own.risk_report["hard_failures"]] == ["sme_loan_overdue", "sme_default"]


def test_the_bank_may_reject_an_application_whose_sme_never_answered(world: World) -> None:
    part = world.confirmed_part()
    app = world.apply(part.id)
    fs.run_risk_check(world.uow(), app.id)
    fs.request_info(world.uow(), world.reviewer, app.id, "请补充验收单")
    world.clock.advance(timedelta(hours=30))
    done = fs.reject(world.uow(), world.reviewer, app.id, "未在期限内补充材料")
    assert done.status == ApplicationStatus.REJECTED
    assert line_used(world) == 0 and exposure_used(world) == 0
