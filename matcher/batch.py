"""Batch matching from JSONL files, with no database: bulk runs and offline evaluation.

    docs = read_documents("offers.jsonl")                  # every offer (the index needs them all)
    index = MatchIndex.fit(docs)
    with open("matches.jsonl", "w", encoding="utf-8") as out:
        run_batch(index, read_queries("orders.jsonl"), out, k=10)   # orders are streamed, 256 at a time

or all of it at once (what ``qianfan match`` runs): :func:`match_files`, which also saves or reuses a fitted index
and never leaves a half-written output behind (it writes a temporary file and renames it at the end).

Input: one JSON object per line; blank lines are skipped, unknown keys (e.g. ``topic``) ignored.

- offers: ``id`` (string or integer), ``title``; optional ``description``, ``keywords`` (list), ``category``,
  ``district``, ``qualifications`` (list), ``price_min`` / ``price_max`` (yuan, a string such as ``"1200.50"`` or an
  exact JSON number) or ``price_min_fen`` / ``price_max_fen`` (integer fen), ``capacity`` (integer).
- orders: ``id``, ``title``; optional ``description``, ``keywords``, ``category``, ``district``,
  ``required_qualifications`` (list; a hard filter), ``budget`` (yuan) or ``budget_fen``.

Output: one line per order, in input order, the best match first::

    {"order_id": "o-1", "matches": [{"offer_id": "f-7", "score": 1.2345, "why": "...", "title": "...",
                                     "contributions": {"word": 0.41, ...}}, ...]}

Bad input raises :class:`BatchInputError`, naming the file, the line and the field, in Chinese then English.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from matcher.index import Document, IndexVersionError, MatchIndex
from matcher.rank import Match, Query
from qianfan.errors import InvalidInput
from qianfan.money import MAX_AMOUNT_FEN, yuan_to_fen

__all__ = [
    "BATCH_SIZE",
    "BatchError",
    "BatchInputError",
    "BatchSummary",
    "NullReporter",
    "Reporter",
    "RichReporter",
    "match_files",
    "match_line",
    "read_documents",
    "read_queries",
    "run_batch",
]

#: Orders ranked per ``search_many`` call (and the most held in memory at once).
BATCH_SIZE = 256
_SCORE_DIGITS = 4

DocId = int | str
Advance = Callable[[int], None]


# ----------------------------------------------------------------------------------------------------- errors


class BatchError(InvalidInput):
    """The batch cannot run (bad input, unreadable index, unwritable output); the message says why."""


class BatchInputError(BatchError):
    """A bad input file, or a bad line in one: names the file, the line (1-based) and the field when known."""

    def __init__(self, path: str | Path, line: int | None, field: str | None, message_zh: str, message_en: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        where_zh = self.path + (f" 第 {line} 行" if line is not None else "") + (f"，字段 {field}" if field else "")
        where_en = self.path + (f" line {line}" if line is not None else "") + (f", field {field}" if field else "")
        super().__init__(f"{where_zh}：{message_zh}", f"{where_en}: {message_en}")
        self.reason_zh = message_zh
        self.reason_en = message_en


# ----------------------------------------------------------------------------------------------------- reading


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line; JSON numbers with a fraction are read as ``Decimal``."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise BatchInputError(path, None, None, "文件不存在", "no such file") from None
    except OSError as exc:
        raise BatchInputError(
            path, None, None, f"无法读取文件（{exc.strerror}）", f"cannot read it ({exc.strerror})"
        ) from None
    with fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BatchInputError(path, lineno, None, "不是有效的 UTF-8 文本", "not valid UTF-8 text") from None
            if lineno == 1:
                text = text.removeprefix("\ufeff")
            if not text.strip():
                continue
            try:
                obj = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
            except ValueError as exc:
                detail = f"{exc.msg}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
                raise BatchInputError(
                    path, lineno, None, f"不是有效的 JSON（{detail}）", f"not valid JSON ({detail})"
                ) from None
            if not isinstance(obj, dict):
                raise BatchInputError(path, lineno, None, "每行必须是一个 JSON 对象", "each line must be a JSON object")
            yield lineno, obj


@dataclass(slots=True)
class _Line:
    """One input line and the readers of its fields; every problem becomes a :class:`BatchInputError`."""

    path: Path
    lineno: int
    obj: dict[str, Any]

    def error(self, field: str | None, zh: str, en: str) -> BatchInputError:
        return BatchInputError(self.path, self.lineno, field, zh, en)

    def ident(self) -> DocId:
        value = self.obj.get("id")
        if value is None:
            raise self.error("id", "缺少编号", "missing")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip():
            return value
        raise self.error("id", "编号必须是非空字符串或整数", "must be a non-empty string or an integer")

    def text(self, field: str, *, required: bool = False) -> str | None:
        value = self.obj.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.error(field, "不能为空", "is required and must not be empty")
            return None
        if not isinstance(value, str):
            raise self.error(field, "必须是字符串", "must be a string")
        return value

    def strings(self, field: str) -> tuple[str, ...]:
        value = self.obj.get(field)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(field, "必须是字符串列表", "must be a list of strings")
        return tuple(v for v in value if v.strip())

    def count(self, field: str) -> int | None:
        value = self.obj.get(field)
        if value is None:
            return None
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.error(field, "必须是非负整数", "must be a non-negative integer")
        return value

    def money(self, yuan_field: str, *, allow_zero: bool) -> int | None:
        """Integer fen from ``<field>`` (yuan) or ``<field>_fen``; both may be given if they agree."""
        fen_field = yuan_field + "_fen"
        yuan, fen = self.obj.get(yuan_field), self.obj.get(fen_field)
        from_yuan = from_fen = None
        if yuan is not None:
            if isinstance(yuan, bool) or not isinstance(yuan, str | int | Decimal):
                raise self.error(
                    yuan_field, "金额必须是字符串或数字（元）", "an amount in yuan must be a string or a number"
                )
            try:
                from_yuan = yuan_to_fen(yuan, allow_zero=allow_zero)
            except InvalidInput as exc:
                raise self.error(yuan_field, exc.message_zh, exc.message_en) from None
        if fen is not None:
            if isinstance(fen, Decimal) and fen.is_finite() and fen == fen.to_integral_value():
                fen = int(fen)
            if not isinstance(fen, int) or isinstance(fen, bool):
                raise self.error(fen_field, "金额（分）必须是整数", "an amount in fen must be an integer")
            if fen < 0 or (fen == 0 and not allow_zero) or fen > MAX_AMOUNT_FEN:
                zh = "金额必须大于零" if fen == 0 else "金额超出允许范围"
                en = "the amount must be greater than zero" if fen == 0 else "the amount is out of range"
                raise self.error(fen_field, zh, en)
            from_fen = fen
        if from_yuan is not None and from_fen is not None and from_yuan != from_fen:
            raise self.error(
                fen_field,
                f"与 {yuan_field} 不一致（{from_yuan} 分 ≠ {from_fen} 分）",
                f"disagrees with {yuan_field} ({from_yuan} fen ≠ {from_fen} fen)",
            )
        return from_yuan if from_yuan is not None else from_fen


def _document(line: _Line) -> Document:
    price_min = line.money("price_min", allow_zero=True)
    price_max = line.money("price_max", allow_zero=True)
    if price_min is not None and price_max is not None and price_max < price_min:
        raise line.error("price_max", "最高价低于最低价", "is below price_min")
    return Document(
        id=line.ident(),
        title=line.text("title", required=True) or "",
        description=line.text("description") or "",
        keywords=line.strings("keywords"),
        category=line.text("category"),
        district=line.text("district"),
        qualifications=line.strings("qualifications"),
        price_min_fen=price_min,
        price_max_fen=price_max,
        capacity=line.count("capacity"),
    )


def _query(line: _Line) -> Query:
    return Query(
        title=line.text("title", required=True) or "",
        description=line.text("description") or "",
        keywords=line.strings("keywords"),
        category=line.text("category"),
        district=line.text("district"),
        required_qualifications=line.strings("required_qualifications"),
        budget_fen=line.money("budget", allow_zero=False),
    )


def read_documents(path: str | Path, *, advance: Advance | None = None) -> list[Document]:
    """Every offer of the JSONL file *path*; duplicate ids and an empty file are errors.

    *advance* (optional) is called now and then with the number of lines read since its last call.
    """
    path = Path(path)
    docs: list[Document] = []
    first_line: dict[DocId, int] = {}
    reported = 0
    for lineno, obj in _records(path):
        line = _Line(path, lineno, obj)
        doc = _document(line)
        seen = first_line.setdefault(doc.id, lineno)
        if seen != lineno:
            raise line.error(
                "id",
                f"编号 {doc.id!r} 重复（首次出现在第 {seen} 行）",
                f"duplicate id {doc.id!r} (first on line {seen})",
            )
        docs.append(doc)
        if advance is not None and lineno - reported >= 1024:
            advance(lineno - reported)
            reported = lineno
    if not docs:
        raise BatchInputError(path, None, None, "没有任何产品/服务", "the file holds no offers")
    return docs


def read_queries(path: str | Path) -> Iterator[tuple[DocId, Query]]:
    """(order id, query) for every order of the JSONL file *path*, lazily, in file order; duplicate ids are errors."""
    path = Path(path)
    first_line: dict[DocId, int] = {}
    for lineno, obj in _records(path):
        line = _Line(path, lineno, obj)
        order_id = line.ident()
        query = _query(line)
        seen = first_line.setdefault(order_id, lineno)
        if seen != lineno:
            raise line.error(
                "id",
                f"编号 {order_id!r} 重复（首次出现在第 {seen} 行）",
                f"duplicate id {order_id!r} (first on line {seen})",
            )
        yield order_id, query


def _count_lines(path: Path) -> int | None:
    """Lines in *path* (a progress total; blank lines included), or None when it cannot be read."""
    try:
        with path.open("rb") as fh:
            n = 0
            last = b"\n"
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                n += chunk.count(b"\n")
                last = chunk[-1:]
            return n + (last != b"\n")
    except OSError:
        return None


# ----------------------------------------------------------------------------------------------------- matching


def match_line(order_id: DocId, matches: Iterable[Match]) -> dict[str, Any]:
    """The output object of one order (scores and contributions rounded to 4 decimals)."""
    return {
        "order_id": order_id,
        "matches": [
            {
                "offer_id": m.doc_id,
                "score": round(m.score, _SCORE_DIGITS),
                "why": m.why,
                "title": m.title,
                "contributions": {name: round(v, _SCORE_DIGITS) for name, v in m.contributions.items()},
            }
            for m in matches
        ],
    }


def run_batch(
    index: MatchIndex,
    queries: Iterable[tuple[DocId, Query]],
    out: IO[str],
    *,
    k: int = 10,
    batch_size: int = BATCH_SIZE,
    advance: Advance | None = None,
) -> int:
    """Rank the offers of *index* for every query, *batch_size* at a time, and write one JSON line per query.

    Returns the number of queries. *advance* (optional) is called with the number of queries after each batch.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    it = iter(queries)
    total = 0
    dumps = json.dumps
    while chunk := list(itertools.islice(it, batch_size)):
        results = index.search_many([q for _, q in chunk], k)
        out.write(
            "".join(
                dumps(match_line(oid, ms), ensure_ascii=False) + "\n"
                for (oid, _), ms in zip(chunk, results, strict=True)
            )
        )
        total += len(chunk)
        if advance is not None:
            advance(len(chunk))
    return total


# ----------------------------------------------------------------------------------------------------- progress


class Reporter(Protocol):
    """Where progress goes: a stage is a context whose value advances it by a count."""

    active: bool

    def stage(self, description: str, total: int | None) -> AbstractContextManager[Advance]: ...


def _ignore(_: int) -> None:
    return None


class NullReporter:
    """No progress display."""

    active = False

    def __enter__(self) -> NullReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @contextmanager
    def stage(self, description: str, total: int | None) -> Iterator[Advance]:
        yield _ignore


class RichReporter:
    """A rich progress bar per stage on *console* (stderr); use it as a context manager around the run."""

    active = True

    def __init__(self, console: Console) -> None:
        self._progress: Progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )

    def __enter__(self) -> RichReporter:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    @contextmanager
    def stage(self, description: str, total: int | None) -> Iterator[Advance]:
        progress = self._progress
        task = progress.add_task(description, total=total)

        def advance(n: int) -> None:
            progress.advance(task, n)

        try:
            yield advance
        finally:
            done = total if total is not None else 1
            progress.update(task, total=done, completed=done)


# ----------------------------------------------------------------------------------------------------- files


@dataclass(frozen=True, slots=True)
class BatchSummary:
    offers: int
    orders: int
    index_seconds: float  # reading and fitting the offers (or loading the index), and saving it
    match_seconds: float  # reading the orders, ranking, writing
    seconds: float  # the whole run

    @property
    def orders_per_second(self) -> float:
        return self.orders / self.match_seconds if self.match_seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"已索引产品/服务 {self.offers} 条，撮合订单 {self.orders} 个，共用时 {self.seconds:.2f} 秒"
            f"（建索引 {self.index_seconds:.2f} 秒，撮合 {self.match_seconds:.2f} 秒，"
            f"每秒 {self.orders_per_second:.1f} 个）"
            f" / indexed {self.offers} offers, matched {self.orders} orders in {self.seconds:.2f} s"
            f" (index {self.index_seconds:.2f} s, matching {self.match_seconds:.2f} s, "
            f"{self.orders_per_second:.1f} orders/s)"
        )


def _build_index(
    offers: Path | None, load_index: Path | None, save_index: Path | None, reporter: Reporter
) -> MatchIndex:
    if load_index is not None:
        with reporter.stage("载入索引 loading the index", None):
            try:
                return MatchIndex.load(load_index)
            except IndexVersionError as exc:
                raise BatchInputError(
                    load_index,
                    None,
                    None,
                    f"索引需用 --offers 重新建立（{exc}）",
                    f"refit the index with --offers ({exc})",
                ) from None
            except FileNotFoundError:
                raise BatchInputError(
                    load_index, None, None, "不是用 --index 保存的索引目录", "not an index directory saved with --index"
                ) from None
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise BatchInputError(
                    load_index, None, None, f"索引无法读取（{exc!r}）", f"the index cannot be read ({exc!r})"
                ) from None
    assert offers is not None
    total = _count_lines(offers) if reporter.active else None
    with reporter.stage("读取产品/服务 reading offers", total) as advance:
        docs = read_documents(offers, advance=advance)
    with reporter.stage("建立索引 fitting the index", None):
        index = MatchIndex.fit(docs)
    if save_index is not None:
        with reporter.stage("保存索引 saving the index", None):
            try:
                index.save(save_index)
            except OSError as exc:
                raise BatchError(
                    f"索引无法保存到 {save_index}（{exc.strerror}）",
                    f"cannot save the index to {save_index} ({exc.strerror})",
                ) from None
    return index


@contextmanager
def _atomic_output(out: Path | None, stdout: IO[str] | None) -> Iterator[IO[str]]:
    """A text stream that reaches *out* (or stdout) only when the block succeeds: a temporary file, then renamed
    into place (or copied to stdout). On failure the temporary file is removed and nothing is written."""
    if out is None:
        target = stdout if stdout is not None else sys.stdout
        with tempfile.TemporaryFile("w+b") as spool:
            text = io.TextIOWrapper(spool, encoding="utf-8", newline="\n")
            try:
                yield text
            finally:
                text.detach()  # flushes; the spool stays open
            spool.seek(0)
            buffer = getattr(target, "buffer", None)
            target.flush()
            if buffer is not None:
                shutil.copyfileobj(spool, buffer)
                buffer.flush()
            else:
                target.write(spool.read().decode("utf-8"))
                target.flush()
        return
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fh = tmp.open("x", encoding="utf-8", newline="\n")
    except OSError as exc:
        raise BatchError(f"无法写入 {out}（{exc.strerror}）", f"cannot write {out} ({exc.strerror})") from None
    try:
        with fh:
            yield fh
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def match_files(
    orders: str | Path,
    *,
    offers: str | Path | None = None,
    load_index: str | Path | None = None,
    save_index: str | Path | None = None,
    out: str | Path | None = None,
    k: int = 10,
    batch_size: int = BATCH_SIZE,
    reporter: Reporter | None = None,
    stdout: IO[str] | None = None,
) -> BatchSummary:
    """Index the offers (or load a saved index), rank the offers for every order, write the JSONL output.

    Exactly one of *offers* / *load_index*. *save_index*: a directory to save the fitted index in. *out*: the output
    file (``None`` or ``"-"``: *stdout*, by default ``sys.stdout``), replaced only when the whole run succeeded.
    """
    if (offers is None) == (load_index is None):
        raise ValueError("give exactly one of offers and load_index")
    if k < 1:
        raise ValueError("k must be at least 1")
    reporter = reporter if reporter is not None else NullReporter()
    orders_path = Path(orders)
    out_path = None if out is None or str(out) == "-" else Path(out)
    started = time.perf_counter()
    if not orders_path.is_file():  # fail before the (long) indexing
        raise BatchInputError(orders_path, None, None, "文件不存在", "no such file")
    index = _build_index(
        Path(offers) if offers is not None else None,
        Path(load_index) if load_index is not None else None,
        Path(save_index) if save_index is not None else None,
        reporter,
    )
    indexed = time.perf_counter()
    total = _count_lines(orders_path) if reporter.active else None
    with _atomic_output(out_path, stdout) as fh, reporter.stage("撮合订单 matching orders", total) as advance:
        n = run_batch(index, read_queries(orders_path), fh, k=k, batch_size=batch_size, advance=advance)
    finished = time.perf_counter()
    return BatchSummary(
        offers=len(index),
        orders=n,
        index_seconds=indexed - started,
        match_seconds=finished - indexed,
        seconds=finished - started,
    )
