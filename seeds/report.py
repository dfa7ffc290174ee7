"""What a demo load reports: the records it created and found, per kind, and the finance rows by status.

Shared by every part of the demo load (:mod:`seeds.demo`, :mod:`seeds.finance`, :mod:`seeds.settlement`,
:mod:`seeds.chain_finance`), which is why it lives apart from all of them: each part imports it, none imports
another part to reach it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from finance.states import (
    FINANCE_APPLICATION,
    LOAN,
    RECEIVABLE,
    ApplicationState,
    LoanState,
    ReceivableState,
)


@dataclass(slots=True)
class DemoReport:
    """What a load created and what it found already present, per kind of record."""

    created: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # could not be applied (state changed since)
    seconds: float = 0.0
    #: finance rows in the database after the load, by status: "receivables", "applications", "loans", "flags"
    finance: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, which: dict[str, int], what: str) -> None:
        which[what] = which.get(what, 0) + 1

    @property
    def created_total(self) -> int:
        return sum(self.created.values())

    def summary(self) -> str:
        labels = [
            ("organisations", "机构"),
            ("users", "演示账号"),
            ("offers", "产品/服务"),
            ("orders", "订单"),
            ("service_packages", "服务包"),
            ("mentors", "创业导师"),
            ("service_needs", "服务需求"),
            ("interests", "意向/入围记录"),
            ("intent_orders", "意向订单"),
            ("contracts", "合同"),
            ("bank_products", "融资产品"),
            ("credit_lines", "授信额度"),
            ("exposure_limits", "敞口限额"),
            ("receivables", "应收账款"),
            ("finance_applications", "融资申请"),
            ("loans", "贷款"),
            ("payments", "付款"),
            ("payment_plans", "合同付款计划"),
            ("acceptances", "合同验收"),
            ("contract_payments", "合同付款"),
            ("statement_imports", "对账单导入"),
        ]
        zh = "，".join(f"{zh}新增{self.created.get(k, 0)}（已有{self.present.get(k, 0)}）" for k, zh in labels)
        en = ", ".join(
            f"{k.replace('_', ' ')} +{self.created.get(k, 0)} ({self.present.get(k, 0)} present)" for k, _ in labels
        )
        text = f"演示数据：{zh}。\nDemo data: {en}."
        if self.finance:
            text += "\n" + finance_summary(self.finance)
        if self.skipped:
            text += f"\n跳过 / skipped: {self.skipped}"
        return text


def finance_summary(counts: dict[str, dict[str, int]]) -> str:
    """One line in Chinese and one in English: receivables, applications and loans by status."""
    machines: tuple[tuple[str, str, str, Any, Any], ...] = (
        ("receivables", "应收账款", "receivables", RECEIVABLE, ReceivableState),
        ("applications", "融资申请", "finance applications", FINANCE_APPLICATION, ApplicationState),
        ("loans", "贷款", "loans", LOAN, LoanState),
    )
    zh_parts: list[str] = []
    en_parts: list[str] = []
    for key, name_zh, name_en, machine, states in machines:
        rows = counts.get(key, {})
        total = sum(rows.values())
        detail = [(machine.state_labels[s], rows[s.value]) for s in states if rows.get(s.value)]
        zh_parts.append(f"{name_zh}{total}笔（" + "、".join(f"{zh}{n}" for (zh, _), n in detail) + "）")
        en_parts.append(f"{name_en} {total} (" + ", ".join(f"{n} {en}" for (_, en), n in detail) + ")")
    flags = counts.get("flags", {})
    zh_parts.append(
        f"其中有争议的应收账款{flags.get('disputed', 0)}笔、临近48小时时限的申请{flags.get('at_risk', 0)}笔"
    )
    en_parts.append(
        f"of which {flags.get('disputed', 0)} disputed receivable(s) and {flags.get('at_risk', 0)} application(s) "
        "near the 48-hour deadline"
    )
    return f"金融演示数据：{'；'.join(zh_parts)}。\nFinance demo data: {'; '.join(en_parts)}."
