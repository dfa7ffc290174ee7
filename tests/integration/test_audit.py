from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from qianfan.audit import verify_chain
from qianfan.uow import UnitOfWork


def _write(engine, clock, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        with UnitOfWork(engine, clock) as uow:
            uow.audit("receivable", i + 1, "registered", actor_id=7, amount_fen=str(100 * i), note="应收账款")
            uow.commit()
        clock.advance(timedelta(minutes=1))


def test_chain_verifies_and_detects_tampering(engine, clock) -> None:  # type: ignore[no-untyped-def]
    _write(engine, clock, 5)
    with Session(engine) as s:
        report = verify_chain(s, batch=2)
        assert report.ok and report.checked == 5
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_event SET action = 'confirmed' WHERE seq = 3"))
    with Session(engine) as s:
        report = verify_chain(s)
        assert not report.ok and report.broken_seq == 3 and report.checked == 2


def test_deleted_record_is_a_gap(engine, clock) -> None:  # type: ignore[no-untyped-def]
    _write(engine, clock, 4)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_event WHERE seq = 2"))
    with Session(engine) as s:
        report = verify_chain(s)
        assert not report.ok and report.broken_seq == 3 and "gap" in (report.reason or "")


def test_rolled_back_unit_of_work_leaves_no_audit(engine, clock) -> None:  # type: ignore[no-untyped-def]
    with UnitOfWork(engine, clock) as uow:
        uow.audit("loan", 1, "disbursed")
        uow.publish("loan.disbursed", loan_id=1)
        # no commit: leaving the block rolls back
    with Session(engine) as s:
        assert verify_chain(s).checked == 0
