"""Bank statements (对账单, pure rules): read a CSV export, parse each row (Chinese or English column names), and
reconcile the rows with contracts by reference — matched, duplicate, unknown reference or invalid, each with a
bilingual reason."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from finance.settlement.reconciliation import Payment
from qianfan.errors import DomainError, InvalidInput, RuleViolation
from qianfan.money import yuan_to_fen

# --------------------------------------------------------------------------------------------- bank statements


#: A statement file is at most this large (a month of a busy account is far smaller).
MAX_STATEMENT_BYTES = 2 * 1024 * 1024


def read_statement_csv(data: bytes | str) -> list[dict[str, str]]:
    """A CSV bank statement as exported by online banking — UTF-8 (with or without BOM) or GBK — into its data rows
    as column → text (blank lines dropped); InvalidInput naming what is wrong with the file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_STATEMENT_BYTES:
        raise InvalidInput(
            f"文件不能超过 {MAX_STATEMENT_BYTES // 1024} KB",
            f"The file may be at most {MAX_STATEMENT_BYTES // 1024} KB",
            detail={"field": "file"},
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly any bytes
        raise InvalidInput("文件须是 UTF-8 或 GBK 编码的 CSV", "The file must be a CSV in UTF-8 or GBK")
    if "\x00" in text:
        raise InvalidInput(
            "文件不是 CSV 文本文件，请从网银导出 CSV 格式", "Not a CSV text file; export CSV from your bank"
        )
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows = [
            {str(k): (v if isinstance(v, str) else "") for k, v in row.items() if k is not None}
            for row in reader
            if any(isinstance(v, str) and v.strip() for v in row.values())
        ]
    except csv.Error as exc:
        raise InvalidInput(f"CSV 格式有误：{exc}", f"The CSV is malformed: {exc}", detail={"field": "file"}) from None
    if not rows:
        raise InvalidInput(
            "对账单没有数据行（第一行应为列名）", "The statement has no rows (the first line holds the headers)"
        )
    return rows


def _header(name: object) -> str:
    """``" 交易日期 "`` / ``"Transaction_Date"`` → a comparable key (NFKC, lower case, no spaces/_/-/:)."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"[\s_\-:()（）]+", "", text)


#: Column names seen on Chinese and English bank statements (compared after :func:`_header`).
STATEMENT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "date": ("交易日期", "日期", "记账日期", "入账日期", "交易时间", "date", "transactiondate", "valuedate",
             "bookingdate", "postingdate"),
    "amount": ("金额", "交易金额", "贷方金额", "贷方发生额", "收入金额", "收入", "入账金额", "amount", "credit",
               "creditamount", "transactionamount"),
    "debit": ("借方金额", "借方发生额", "支出金额", "支出", "debit", "debitamount"),
    "reference": ("摘要", "附言", "用途", "备注", "交易附言", "交易摘要", "reference", "memo", "remark", "remarks",
                  "description", "purpose", "narrative"),
    "payer": ("付款人", "付款人名称", "付款方", "对方户名", "对方账户名称", "对方名称", "对方单位", "payer",
              "payername", "counterparty", "counterpartyname"),
    "transaction_id": ("交易流水号", "流水号", "银行流水号", "交易编号", "交易参考号", "transactionid", "txnid",
                       "bankreference", "transactionreference"),
}  # fmt: skip
_ALIASES = {_header(alias): field for field, aliases in STATEMENT_COLUMNS.items() for alias in aliases}

_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_TIME = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")
_CURRENCY = re.compile(r"^(?:¥|rmb|cny)|(?:元|rmb|cny)$")
#: Yuan with optional thousands separators and decimals: ``1,234,567.89`` or ``1234567.89`` (sign checked later).
_AMOUNT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class StatementRow:
    """An incoming payment read from a bank statement (``line`` counts data rows from 1)."""

    line: int
    booked_on: date
    amount_fen: int
    reference: str
    payer: str
    transaction_id: str | None = None

    @property
    def key(self) -> str:
        """The transaction key: ``txn:<bank id>`` when the bank gives one, else date|amount|reference|payer."""
        if self.transaction_id:
            return f"txn:{self.transaction_id}"
        return f"{self.booked_on.isoformat()}|{self.amount_fen}|{_norm(self.reference)}|{_norm(self.payer)}"

    def as_payment(self) -> Payment:
        """The payment to record against the matched contract; its reference is the transaction key."""
        return Payment(self.key, self.amount_fen, self.booked_on)


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _text(value: object) -> str:
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def _parse_date(value: object) -> date:
    """``2026-03-02``, ``2026/3/2``, ``2026.03.02``, ``20260302``, ``2026年3月2日``, optionally with a time."""
    if isinstance(value, datetime):  # a spreadsheet reader's cell
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern in _DATE_PATTERNS:
        found = pattern.match(text)
        if found is None:
            continue
        rest = text[found.end() :].strip()
        if rest and not _TIME.fullmatch(rest):
            continue
        try:
            return date(*(int(g) for g in found.groups()))
        except ValueError:
            break
    raise InvalidInput(f"交易日期无法识别：{value!r}", f"Not a recognisable date: {value!r}", detail={"field": "date"})


def _parse_amount(value: object) -> int:
    """Yuan as text (``"1,234.50"``, ``"¥1,234.50"``, ``"1234.5元"``) or ``int``/``Decimal`` → fen; floats refused.

    A negative amount is an outgoing payment and is refused like garbage; sub-fen amounts are refused by
    :func:`qianfan.money.yuan_to_fen`.
    """
    if isinstance(value, bool | float):
        raise InvalidInput(
            f"金额不能是浮点数：{value!r}（请按文本读取该列）",
            f"An amount must not be a float: {value!r} (read the column as text)",
            detail={"field": "amount"},
        )
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    else:
        text = _CURRENCY.sub("", _text(value).replace(" ", "").lower()).removeprefix("+")
        if not _AMOUNT.fullmatch(text):
            raise InvalidInput(f"金额格式无效：{value!r}", f"Not a valid amount: {value!r}", detail={"field": "amount"})
        amount = Decimal(text.replace(",", ""))
    if not amount.is_finite():
        raise InvalidInput(f"金额格式无效：{value!r}", f"Not a valid amount: {value!r}", detail={"field": "amount"})
    if amount < 0:
        raise InvalidInput(
            f"金额为负（支出），不是收款：{value!r}",
            f"A negative amount is an outgoing payment, not a receipt: {value!r}",
            detail={"field": "amount"},
        )
    return yuan_to_fen(amount)


def parse_statement_row(row: Mapping[str, Any], line: int) -> StatementRow:
    """Read one statement row (a dict from ``csv.DictReader``); InvalidInput naming what is wrong.

    Columns are recognised by :data:`STATEMENT_COLUMNS` whatever their case, width or spacing.  Needed: a date,
    an incoming amount (a credit; a row with only a debit is an outgoing payment) and a reference (摘要).
    """
    fields: dict[str, object] = {}
    for name, value in row.items():
        field = _ALIASES.get(_header(name))
        if field and field not in fields and _text(value):
            fields[field] = value
    if "date" not in fields:
        raise InvalidInput("缺少交易日期", "The transaction date is missing", detail={"field": "date"})
    booked_on = _parse_date(fields["date"])
    if "amount" not in fields:
        if "debit" in fields:
            raise InvalidInput(
                "该行为支出（借方），不是收款", "The row is an outgoing (debit) payment, not a receipt",
                detail={"field": "debit"},
            )  # fmt: skip
        raise InvalidInput("缺少金额", "The amount is missing", detail={"field": "amount"})
    amount = _parse_amount(fields["amount"])
    reference = _text(fields.get("reference"))
    if not reference:
        raise InvalidInput("缺少摘要/附言", "The reference (memo) is missing", detail={"field": "reference"})
    txn = _norm(_text(fields.get("transaction_id"))) or None
    return StatementRow(line, booked_on, amount, reference, _text(fields.get("payer")), txn)


class RowStatus(StrEnum):
    MATCHED = "matched"  # 已匹配
    DUPLICATE = "duplicate"  # 重复
    UNKNOWN_REFERENCE = "unknown_reference"  # 无法识别的合同
    INVALID = "invalid"  # 无效行


@dataclass(frozen=True, slots=True)
class StatementLine:
    line: int
    status: RowStatus
    row: StatementRow | None = None
    contract_id: object | None = None
    reason_zh: str = ""
    reason_en: str = ""

    @property
    def amount_fen(self) -> int:
        return self.row.amount_fen if self.row is not None else 0


@dataclass(frozen=True, slots=True)
class StatementReport:
    lines: tuple[StatementLine, ...]

    def count(self, status: RowStatus) -> int:
        return sum(1 for line in self.lines if line.status is status)

    def total_fen(self, status: RowStatus) -> int:
        return sum(line.amount_fen for line in self.lines if line.status is status)

    @property
    def totals(self) -> dict[RowStatus, tuple[int, int]]:
        """``{status: (rows, amount_fen)}`` for every status (zeros included)."""
        return {status: (self.count(status), self.total_fen(status)) for status in RowStatus}

    def matched_by_contract(self) -> dict[object, int]:
        result: dict[object, int] = {}
        for line in self.lines:
            if line.status is RowStatus.MATCHED:
                result[line.contract_id] = result.get(line.contract_id, 0) + line.amount_fen
        return result

    def payments_for(self, contract_id: object) -> tuple[Payment, ...]:
        """The matched rows of a contract as :class:`Payment` (reference = transaction key) to reconcile."""
        return tuple(
            line.row.as_payment()
            for line in self.lines
            if line.status is RowStatus.MATCHED and line.row is not None and line.contract_id == contract_id
        )


ReferenceMatcher = Callable[[str], object | None] | Mapping[str, object]


def _mapping_matcher(mapping: Mapping[str, object]) -> Callable[[str], object | None]:
    """Exact match on the normalised reference, else the one contract whose reference occurs in the text as a
    whole token (``HT-1`` is not found inside ``HT-12``); two different contracts named at once are refused."""
    table = {_norm(key): value for key, value in mapping.items() if _norm(key)}
    patterns = [(re.compile(rf"(?<![0-9A-Z]){re.escape(key)}(?![0-9A-Z])"), value) for key, value in table.items()]

    def match(reference: str) -> object | None:
        if _norm(reference) in table:
            return table[_norm(reference)]
        text = unicodedata.normalize("NFKC", reference).upper()  # spaces kept: they separate references
        found: list[object] = []
        for pattern, value in patterns:
            if pattern.search(text) and value not in found:
                found.append(value)
        if len(found) > 1:
            raise RuleViolation(
                f"摘要同时提到多个合同：{reference}",
                f"The reference names more than one contract: {reference}",
                detail={"reference": reference},
            )
        return found[0] if found else None

    return match


def _duplicate(number: int, row: StatementRow, zh: str, en: str) -> StatementLine:
    return StatementLine(number, RowStatus.DUPLICATE, row, reason_zh=zh, reason_en=en)


def reconcile_statement(
    rows: Iterable[Mapping[str, Any]],
    match_reference: ReferenceMatcher,
    *,
    recorded_keys: Iterable[str] = (),
    as_of: date | None = None,
) -> StatementReport:
    """Classify each statement row: invalid → duplicate → unknown reference → matched, in that order.

    With ``as_of`` (the importing day), a row booked after it is invalid: a statement cannot hold tomorrow's money,
    and a payment is never recorded with a future date (as :func:`finance.service.settlement.record_payment`).

    A row is a duplicate when its transaction key (:attr:`StatementRow.key`) is in ``recorded_keys`` (already
    recorded) or appeared on an earlier row of the file; so a payment is never counted twice.  Without a bank
    transaction id, two genuinely separate transfers with the same date, amount, reference and payer look the
    same: the second is reported as a duplicate for a person to check, never silently counted.
    ``match_reference`` is a function (reference → contract id or ``None``; it may raise a DomainError, taken as
    the reason) or a mapping of contract references to contract ids.
    """
    matcher = _mapping_matcher(match_reference) if isinstance(match_reference, Mapping) else match_reference
    recorded = set(recorded_keys)
    first_line: dict[str, int] = {}  # transaction key → the line that first carried it in this file
    lines: list[StatementLine] = []
    for number, raw in enumerate(rows, start=1):
        try:
            row = parse_statement_row(raw, number)
        except DomainError as err:
            lines.append(StatementLine(number, RowStatus.INVALID, reason_zh=err.message_zh, reason_en=err.message_en))
            continue
        if as_of is not None and row.booked_on > as_of:
            lines.append(
                StatementLine(
                    number,
                    RowStatus.INVALID,
                    reason_zh=f"记账日期 {row.booked_on} 晚于今天 {as_of}",
                    reason_en=f"Booked on {row.booked_on}, after today ({as_of})",
                )
            )
            continue
        if row.key in recorded:
            lines.append(_duplicate(number, row, "该笔交易此前已记录", "This transaction was recorded before"))
            continue
        if row.key in first_line:
            earlier = first_line[row.key]
            lines.append(
                _duplicate(number, row, f"与第{earlier}行是同一笔交易", f"The same transaction as line {earlier}")
            )
            continue
        first_line[row.key] = number
        try:
            contract_id = matcher(row.reference)
        except DomainError as err:
            lines.append(
                StatementLine(
                    number, RowStatus.UNKNOWN_REFERENCE, row, reason_zh=err.message_zh, reason_en=err.message_en
                )
            )
            continue
        if contract_id is None:
            lines.append(
                StatementLine(
                    number,
                    RowStatus.UNKNOWN_REFERENCE,
                    row,
                    reason_zh=f"摘要中没有可识别的合同编号：{row.reference}",
                    reason_en=f"No known contract reference in: {row.reference}",
                )
            )
            continue
        lines.append(StatementLine(number, RowStatus.MATCHED, row, contract_id))
    return StatementReport(tuple(lines))
