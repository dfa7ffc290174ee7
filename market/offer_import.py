"""Bulk import of offers from a spreadsheet (CSV or .xlsx): read the file into rows, check every row with the same
:class:`~market.service.OfferInput` as a single listing (plus the qualifications the SME really
holds), and ask for the background job that lists the valid rows (:func:`request_import`).

* A file is at most :data:`MAX_BYTES` and :data:`MAX_ROWS` data rows; the first row is the header, in Chinese (the
  template's), in English, or the field names, in any order; unknown columns are refused so nothing is silently
  dropped.  Lists (qualifications, keywords) are separated by ``;``, ``；``, ``、`` or ``,``/``，``.
* A row's problems are reported with its line number in the file (the header is line 1), each in both languages.
* :func:`request_import` creates the job row and publishes :data:`~qianfan.events.OFFERS_IMPORT_REQUESTED` in one
  unit of work: the worker (``workers.jobs.import_offers``) lists the rows under that task id.  The job is
  idempotent per task id: a row whose title the SME already lists as an active offer is skipped, so a retried job
  does not list anything twice.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from market import service as marketplace
from qianfan import events
from qianfan.actors import Actor
from qianfan.errors import DomainError, InvalidInput
from qianfan.models import Job, Offer, OfferKind, OfferStatus, OrgKind, Qualification
from qianfan.uow import UnitOfWork
from qianfan.validation import parse_input

#: The job kind recorded in the ``job`` table.
IMPORT_OFFERS = "offers.import"
MAX_ROWS = 2000
MAX_BYTES = 512 * 1024

#: The columns: (field, 中文表头, English header).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("kind", "类型", "Kind"),
    ("title", "名称", "Title"),
    ("description", "描述", "Description"),
    ("category", "类别代码", "Category code"),
    ("price_min", "最低价（元）", "Minimum price (yuan)"),
    ("price_max", "最高价（元）", "Maximum price (yuan)"),
    ("capacity", "年交付能力", "Capacity per year"),
    ("qualifications", "资质代码", "Qualification codes"),
    ("keywords", "关键词", "Keywords"),
)
FIELDS = tuple(c[0] for c in COLUMNS)
REQUIRED = ("title", "category", "price_min", "price_max", "capacity")
LIST_FIELDS = ("qualifications", "keywords")
_SPLIT = re.compile(r"[;；、,，]")

KIND_WORDS: dict[str, OfferKind] = {
    "产品": OfferKind.PRODUCT,
    "技术": OfferKind.TECHNOLOGY,
    "服务": OfferKind.SERVICE,
    **{k.value: k for k in OfferKind},
}

EXAMPLE_ROW = (
    "服务",
    "中央空调AI节能控制系统",
    "基于负荷预测的冷站群控，节能率15%–30%。",
    "green.hvac",
    "500000.00",
    "15000000.00",
    "12",
    "hnte",
    "中央空调;合同能源管理",
)


def _header_key(text: str) -> str:
    return re.sub(r"[\s()（）]", "", text).lower()


_HEADER_NAMES: dict[str, str] = {}
for _field, _zh, _en in COLUMNS:
    for _name in (_field, _zh, _en):
        _HEADER_NAMES[_header_key(_name)] = _field
_HEADER_NAMES[_header_key("类别")] = "category"
_HEADER_NAMES[_header_key("资质")] = "qualifications"


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # the line in the file (the header is line 1)
    field: str
    message_zh: str
    message_en: str


@dataclass
class ImportCheck:
    """What a file holds: the rows that may be listed (``{"row": line, "data": OfferInput fields}``) and the
    problems of the others."""

    valid: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})


def _file_error(zh: str, en: str) -> InvalidInput:
    return InvalidInput(zh, en, detail=[{"field": "file", "message": zh, "message_en": en}])


# ------------------------------------------------------------------------------------------ reading files


def _csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:  # pragma: no cover - gb18030 decodes nearly anything
        raise _file_error("无法识别文件编码，请保存为 UTF-8 的 CSV", "Unknown text encoding; save the CSV as UTF-8")
    if "\x00" in text:
        raise _file_error("文件不是文本格式的 CSV", "The file is not a text CSV")
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise _file_error(f"CSV 格式有误：{exc}", f"The CSV is malformed: {exc}") from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):  # a number typed into Excel: never through binary floating point for money
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # noqa: PLC0415 — openpyxl costs 0.23–0.65 s (python -X importtime, 3 runs) in every process importing market; only .xlsx needs it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise _file_error(
            "无法读取该 Excel 文件，请使用 .xlsx 格式", "The Excel file cannot be read; use .xlsx"
        ) from None
    try:
        sheet = book.worksheets[0]
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell(v) for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()


def read_rows(filename: str, data: bytes) -> list[dict[str, str]]:
    """The data rows of an uploaded file as ``{field: text}`` plus ``"_row"`` (the line in the file)."""
    if not data:
        raise _file_error("请选择要上传的文件", "Choose a file to upload")
    if len(data) > MAX_BYTES:
        raise _file_error(
            f"文件过大：最多 {MAX_BYTES // 1024} KB，请拆分后分批导入",
            f"The file is too large: at most {MAX_BYTES // 1024} KB; split it and import in parts",
        )
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _xlsx_rows(data)
    elif name.endswith(".csv") or name.endswith(".txt"):
        table = _csv_rows(data)
    else:
        raise _file_error("仅支持 .csv 或 .xlsx 文件", "Only .csv and .xlsx files are supported")
    table = [row for row in table if any(cell.strip() for cell in row)]
    if not table:
        raise _file_error("文件是空的", "The file is empty")
    header = [_HEADER_NAMES.get(_header_key(cell)) for cell in table[0]]
    unknown = [cell for cell, known in zip(table[0], header, strict=True) if cell.strip() and known is None]
    if unknown:
        raise _file_error(
            f"无法识别的列：{'、'.join(unknown)}（请使用模板的表头）",
            f"Unknown columns: {', '.join(unknown)} (use the template's header row)",
        )
    missing = [f for f in REQUIRED if f not in header]
    if missing:
        names = [c for c in COLUMNS if c[0] in missing]
        raise _file_error(
            f"缺少必需的列：{'、'.join(c[1] for c in names)}",
            f"Required columns are missing: {', '.join(c[2] for c in names)}",
        )
    body = table[1:]
    if not body:
        raise _file_error("文件只有表头，没有数据行", "The file has a header but no rows")
    if len(body) > MAX_ROWS:
        raise _file_error(
            f"数据行过多：最多 {MAX_ROWS} 行，请拆分后分批导入",
            f"Too many rows: at most {MAX_ROWS}; split the file and import in parts",
        )
    rows = []
    for line, cells in enumerate(body, start=2):
        row = {f: (cells[i].strip() if i < len(cells) else "") for i, f in enumerate(header) if f is not None}
        row["_row"] = str(line)
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------------------ checking rows


def split_list(text: str) -> list[str]:
    """``"数据治理; 政务、大数据"`` → ``["数据治理", "政务", "大数据"]`` (the separators people type)."""
    return [part.strip() for part in _SPLIT.split(text) if part.strip()]


def _payload(row: Mapping[str, str]) -> dict[str, Any]:
    """A row's text as the input of :func:`marketplace.list_offer` (JSON-safe: amounts stay strings)."""
    data: dict[str, Any] = {}
    for name in FIELDS:
        value = row.get(name, "")
        if name in LIST_FIELDS:
            data[name] = split_list(value)
        elif name == "kind":
            if value:
                data[name] = KIND_WORDS.get(value.lower(), value)
        elif value or name in REQUIRED:
            data[name] = value
    return data


def held_qualifications(session: Session, organisation_id: int, today: date) -> set[str]:
    rows = session.exec(select(Qualification).where(col(Qualification.organisation_id) == organisation_id)).all()
    return {q.code for q in rows if q.is_valid_on(today)}


def check_rows(rows: Iterable[Mapping[str, str]], held: set[str]) -> ImportCheck:
    """Check every row as a single listing would be checked; duplicate titles within the file are refused too."""
    result = ImportCheck()
    seen: dict[str, int] = {}
    for row in rows:
        result.total += 1
        line = int(row.get("_row", "0"))
        data = _payload(row)
        errors: list[RowError] = []
        try:
            parsed = parse_input(marketplace.OfferInput, data)
        except InvalidInput as exc:
            for item in exc.detail if isinstance(exc.detail, list) else []:
                field_name = str(item.get("field", "")).split(".")[0]
                errors.append(RowError(line, field_name, str(item.get("message")), str(item.get("message_en"))))
        else:
            missing = sorted(set(parsed.qualifications) - held)
            if missing:
                errors.append(
                    RowError(
                        line,
                        "qualifications",
                        f"本企业未持有或已过期的资质：{'、'.join(missing)}",
                        f"Qualifications not held (or expired): {', '.join(missing)}",
                    )
                )
            earlier = seen.get(parsed.title)
            if earlier is not None:
                errors.append(
                    RowError(
                        line,
                        "title",
                        f"与第{earlier}行名称重复",
                        f"The same title as line {earlier}",
                    )
                )
            else:
                seen[parsed.title] = line
        if errors:
            result.errors.extend(errors)
        else:
            result.valid.append({"row": line, "data": data})
    return result


# ------------------------------------------------------------------------------------------ the job


def new_task_id() -> str:
    return f"import-{uuid.uuid4().hex[:24]}"


def request_import(uow: UnitOfWork, actor: Actor, rows: list[dict[str, Any]], task_id: str | None = None) -> Job:
    """The job row (queued) and the event asking the worker to list *rows*, in one unit of work."""
    actor.require_kind(OrgKind.SME)
    if not rows:
        raise InvalidInput("没有可导入的行", "There are no rows to import")
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"最多导入 {MAX_ROWS} 行", f"At most {MAX_ROWS} rows can be imported")
    task_id = task_id or new_task_id()
    with uow:
        now = uow.clock.now()
        job = Job(
            kind=IMPORT_OFFERS,
            task_id=task_id,
            started_by_user_id=actor.user_id,
            organisation_id=actor.organisation_id,
            total=len(rows),
            message=f"排队中：{len(rows)} 行 / queued: {len(rows)} rows",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(job)
        uow.session.flush()
        uow.publish(
            events.OFFERS_IMPORT_REQUESTED,
            task_id=task_id,
            organisation_id=actor.organisation_id,
            user_id=actor.user_id,
            rows=rows,
        )
        uow.commit()
        return job


def already_listed(session: Session, organisation_id: int, title: str) -> bool:
    """Whether the SME already lists an active offer of this title (an imported row seen again is skipped)."""
    found = session.exec(
        select(Offer.id).where(
            col(Offer.organisation_id) == organisation_id,
            col(Offer.title) == title,
            col(Offer.status) == OfferStatus.ACTIVE,
        )
    ).first()
    return found is not None


@dataclass
class RowOutcome:
    created: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


def import_row(uow: UnitOfWork, actor: Actor, row: Mapping[str, Any], outcome: RowOutcome) -> None:
    """List one checked row (skipped when already listed; a refusal is recorded, not raised)."""
    data = dict(row.get("data") or {})
    line = row.get("row", "?")
    title = str(data.get("title", "")).strip()
    with Session(uow.engine) as session:
        if title and already_listed(session, actor.organisation_id, title):
            outcome.skipped += 1
            return
    try:
        marketplace.list_offer(uow, actor, data)
    except DomainError as exc:
        outcome.failed.append(f"第{line}行 / line {line}: {exc.message_zh} / {exc.message_en}")
    else:
        outcome.created += 1


def summary(outcome: RowOutcome, total: int) -> str:
    text = (
        f"完成：新建 {outcome.created} 个产品，跳过 {outcome.skipped} 个（已存在），失败 {len(outcome.failed)} 行"
        f" / done: {outcome.created} offers listed, {outcome.skipped} skipped (already listed), "
        f"{len(outcome.failed)} of {total} rows failed"
    )
    if outcome.failed:
        text += "\n" + "\n".join(outcome.failed[:50])
    return text


# ------------------------------------------------------------------------------------------ templates


def template_csv() -> bytes:
    """The CSV template: a Chinese header row and one example row, with a BOM so Excel reads it as UTF-8."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c[1] for c in COLUMNS])
    writer.writerow(EXAMPLE_ROW)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    from openpyxl import Workbook  # noqa: PLC0415 — see _xlsx_rows: 0.23 s+ at import, only .xlsx needs it

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "产品导入"
    sheet.append([c[1] for c in COLUMNS])
    sheet.append(list(EXAMPLE_ROW))
    for cell in sheet[2]:
        cell.number_format = "@"  # text: amounts stay exact, codes are not turned into numbers
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
