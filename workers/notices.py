"""The in-app notices that events cause: who is told, and what (in Chinese and English).

Wording and addressees only — the state changes themselves happened in the use cases that published the events.
Each notice is written through :func:`qianfan.notifications.notify` with a key derived from the outbox
id, so a re-sent event notifies nobody twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from qianfan import events
from qianfan.models import FinanceApplication, FinanceKind, Loan, Organisation, OrgKind, Receivable

#: Topics that become notices (the finance state events, overdue loans, receivables to confirm).
NOTICE_TOPICS = frozenset(
    {
        events.APPLICATION_RISK_PASSED,
        events.APPLICATION_APPROVED,
        events.APPLICATION_REJECTED,
        events.APPLICATION_INFO_REQUESTED,
        events.APPLICATION_INFO_PROVIDED,
        events.APPLICATION_OFFER_SIGNED,
        events.APPLICATION_DISBURSED,
        events.APPLICATION_SLA_BREACHED,
        events.LOAN_OVERDUE,
        events.RECEIVABLE_REGISTERED,
    }
)


@dataclass(frozen=True, slots=True)
class Notice:
    organisation_ids: tuple[int, ...]
    kind: str
    title: str
    title_en: str
    link: str
    body: str = ""


def application_link(application_id: int) -> str:
    return f"/finance/applications/{application_id}"


def _programme_offices(session: Session) -> tuple[int, ...]:
    rows = session.exec(select(Organisation.id).where(Organisation.kind == OrgKind.PROGRAMME_OFFICE)).all()
    return tuple(sorted(int(r) for r in rows if r is not None))


_APPLICANT_NOTICES: dict[str, tuple[str, str]] = {
    events.APPLICATION_APPROVED: (
        "您的融资申请 #{id} 已获银行批准，请签署融资协议",
        "Finance application #{id} was approved: sign the offer",
    ),
    events.APPLICATION_REJECTED: (
        "您的融资申请 #{id} 未获通过",
        "Finance application #{id} was not approved",
    ),
    events.APPLICATION_INFO_REQUESTED: (
        "银行要求补充融资申请 #{id} 的资料",
        "The bank asks for more information on application #{id}",
    ),
    events.APPLICATION_DISBURSED: (
        "融资申请 #{id} 已放款",
        "Finance application #{id} has been disbursed",
    ),
}
_BANK_NOTICES: dict[str, tuple[str, str]] = {
    events.APPLICATION_RISK_PASSED: (
        "融资申请 #{id} 已通过风控，待审核",
        "Application #{id} passed the risk check and awaits review",
    ),
    events.APPLICATION_INFO_PROVIDED: (
        "融资申请 #{id} 已补充资料",
        "The SME answered your question on application #{id}",
    ),
    events.APPLICATION_OFFER_SIGNED: (
        "融资申请 #{id} 的协议已签署，请放款",
        "The offer on application #{id} is signed: disburse",
    ),
}


def notices_for(session: Session, topic: str, payload: dict[str, Any]) -> list[Notice]:
    """The notices *topic* causes (re-reading the rows it names); empty when the row is gone."""
    if topic in _APPLICANT_NOTICES or topic in _BANK_NOTICES or topic == events.APPLICATION_SLA_BREACHED:
        app_id = int(payload["application_id"])
        app = session.get(FinanceApplication, app_id)
        if app is None:
            return []
        link = application_link(app_id)
        if topic in _APPLICANT_NOTICES:
            zh, en = _APPLICANT_NOTICES[topic]
            body = f"原因 / reason: {app.decision_reason}" if topic == events.APPLICATION_REJECTED else ""
            return [Notice((app.applicant_id,), topic, zh.format(id=app_id), en.format(id=app_id), link, body)]
        if topic in _BANK_NOTICES:
            zh, en = _BANK_NOTICES[topic]
            return [Notice((app.bank_id,), topic, zh.format(id=app_id), en.format(id=app_id), link)]
        party = payload.get("party") or "-"
        return [
            Notice(
                (app.bank_id, app.applicant_id, *_programme_offices(session)),
                topic,
                f"融资申请 #{app_id} 超出48小时放款时限（责任方：{party}）",
                f"Application #{app_id} breached the 48-hour deadline (responsible: {party})",
                link,
            )
        ]
    if topic == events.LOAN_OVERDUE:
        loan = session.get(Loan, int(payload["loan_id"]))
        if loan is None or loan.id is None:
            return []
        due = loan.due_date.isoformat()
        return [
            Notice(
                # A receivable loan is owed by the debtor; a contract loan or a drawdown by the SME.
                (loan.core_enterprise_id or loan.sme_id, loan.bank_id)
                if loan.kind == FinanceKind.RECEIVABLE
                else (loan.sme_id, loan.bank_id),
                topic,
                f"贷款 #{loan.id} 已于 {due} 到期未付，请尽快还款",
                f"Loan #{loan.id} was due on {due} and is overdue: please repay",
                f"/finance/loans/{loan.id}",
            )
        ]
    if topic == events.RECEIVABLE_REGISTERED:
        receivable = session.get(Receivable, int(payload["receivable_id"]))
        if receivable is None or receivable.id is None:
            return []
        return [
            Notice(
                (receivable.debtor_id,),
                topic,
                f"供应商登记了一笔应收账款 #{receivable.id}，请确权",
                f"A supplier registered receivable #{receivable.id}: please confirm it",
                f"/finance/receivables/{receivable.id}",
            )
        ]
    return []
