"""The batch command: JSONL offers and orders in, one JSON line of ranked matches per order out (no database)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from matcher.batch import (
    BatchInputError,
    match_files,
    read_documents,
    read_queries,
    run_batch,
)
from matcher.index import MatchIndex
from matcher.rank import Query

OFFERS: list[dict[str, Any]] = [
    {
        "id": "road-1",
        "title": "智慧道路巡检系统",
        "description": "基于车载摄像头与AI识别的城市道路病害巡检，自动发现坑槽、裂缝",
        "keywords": ["道路巡检", "病害识别"],
        "category": "ai.cv",
        "district": "海淀园",
        "price_min": "500000.00",
        "price_max": "2000000.00",
        "qualifications": ["hnte"],
        "topic": "ignored",
    },
    {
        "id": "road-2",
        "title": "道路巡检无人机服务",
        "description": "无人机沿道路巡查，识别路面病害与违章占道",
        "keywords": ["无人机", "巡检"],
        "category": "aerospace.uav",
        "price_min_fen": 30_000_000,
    },
    {
        "id": "cloud-1",
        "title": "工业云PaaS平台建设与运维",
        "description": "私有云与混合云平台部署、云资源运维托管",
        "keywords": ["云计算", "PaaS"],
        "category": "ict.cloud",
        "price_min": 800000,
    },
    {
        "id": "cloud-2",
        "title": "云主机与对象存储租赁",
        "description": "弹性云主机、对象存储、云数据库按需计费",
        "keywords": ["云服务器"],
        "category": "ict.cloud",
    },
    {"id": 5, "title": "大数据治理与数据中台咨询", "category": "ict.bigdata", "price_min": 120000.5},
    {"id": "hvac-1", "title": "中央空调节能改造（合同能源管理）", "category": "green.hvac"},
]

ORDERS: list[dict[str, Any]] = [
    {"id": "o-road", "title": "智慧道路巡检系统", "description": "采购城市道路巡检与病害识别系统", "budget": "1000000"},
    {"id": "o-cloud", "title": "云平台运维托管", "description": "私有云平台部署与运维", "budget_fen": 100_000_000},
    {"id": 3, "title": "数据中台建设", "keywords": ["大数据"], "required_qualifications": []},
]


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_out(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write_jsonl(tmp_path / "offers.jsonl", OFFERS), write_jsonl(tmp_path / "orders.jsonl", ORDERS)


runner = CliRunner()


def cli(*args: object) -> Any:
    return runner.invoke(app, ["match", *map(str, args)])


# ------------------------------------------------------------------------------------------------ reading


def test_read_documents_parses_fields_and_money_in_yuan_and_fen(files: tuple[Path, Path]) -> None:
    docs = {d.id: d for d in read_documents(files[0])}
    assert list(docs) == ["road-1", "road-2", "cloud-1", "cloud-2", 5, "hvac-1"]
    road = docs["road-1"]
    assert road.keywords == ("道路巡检", "病害识别")
    assert road.qualifications == ("hnte",)
    assert (road.category, road.district) == ("ai.cv", "海淀园")
    assert (road.price_min_fen, road.price_max_fen) == (50_000_000, 200_000_000)
    assert docs["road-2"].price_min_fen == 30_000_000  # *_fen integer variant
    assert docs["cloud-1"].price_min_fen == 80_000_000  # JSON integer, yuan
    assert docs[5].price_min_fen == 12_000_050  # JSON number with a fraction, exact to the fen
    assert docs["cloud-2"].price_min_fen is None


def test_read_queries_is_lazy_and_reads_budget_in_yuan_and_fen(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "orders.jsonl", [*ORDERS, "{not json"])
    it = read_queries(path)
    first = next(it)
    assert first[0] == "o-road"
    assert first[1].budget_fen == 100_000_000
    assert next(it)[1].budget_fen == 100_000_000
    assert next(it)[0] == 3
    with pytest.raises(BatchInputError) as info:
        next(it)
    assert info.value.line == 4


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"id": "x", "title": "t", "price_min": 12.345}, "price_min"),  # sub-fen
        ({"id": "x", "title": "t", "price_min": "abc"}, "price_min"),
        ({"id": "x", "title": "t", "price_min": "-1"}, "price_min"),
        ({"id": "x", "title": "t", "price_min_fen": "100"}, "price_min_fen"),
        ({"id": "x", "title": "t", "price_min_fen": 1.5}, "price_min_fen"),
        ({"id": "x", "title": "t", "price_min": "1.00", "price_min_fen": 101}, "price_min_fen"),
        ({"id": "x", "title": "t", "price_min": "9", "price_max": "8"}, "price_max"),
        ({"id": "x", "title": "  "}, "title"),
        ({"id": "x"}, "title"),
        ({"title": "t"}, "id"),
        ({"id": 1.5, "title": "t"}, "id"),
        ({"id": True, "title": "t"}, "id"),
        ({"id": "x", "title": "t", "keywords": "a,b"}, "keywords"),
        ({"id": "x", "title": "t", "capacity": -1}, "capacity"),
        ({"id": "x", "title": "t", "category": 7}, "category"),
    ],
)
def test_bad_offer_fields_name_the_line_and_field(tmp_path: Path, row: dict[str, Any], field: str) -> None:
    path = write_jsonl(tmp_path / "offers.jsonl", [OFFERS[0], "", row])
    with pytest.raises(BatchInputError) as info:
        read_documents(path)
    err = info.value
    assert (err.line, err.field) == (3, field)
    assert f"第 3 行，字段 {field}" in err.message and f"line 3, field {field}" in err.message
    assert err.message.index("第 3 行") < err.message.index("line 3")  # Chinese first, then English


def test_zero_budget_is_refused_and_bad_json_is_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "orders.jsonl", [{"id": "a", "title": "t", "budget": "0"}])
    with pytest.raises(BatchInputError, match="budget"):
        list(read_queries(path))
    path = write_jsonl(tmp_path / "bad.jsonl", ['{"id": "a", "title": "t"', "[1, 2]", '{"id": "a", "x": NaN}'])
    with pytest.raises(BatchInputError, match="JSON") as info:
        list(read_queries(path))
    assert info.value.line == 1


def test_duplicate_ids_and_empty_files_are_errors(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "offers.jsonl", [OFFERS[0], OFFERS[1], {**OFFERS[2], "id": "road-1"}])
    with pytest.raises(BatchInputError, match="重复") as info:
        read_documents(path)
    assert (info.value.line, info.value.field) == (3, "id")
    assert "first on line 1" in info.value.message
    orders = write_jsonl(tmp_path / "orders.jsonl", [ORDERS[0], ORDERS[0]])
    with pytest.raises(BatchInputError, match="duplicate"):
        list(read_queries(orders))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(BatchInputError, match="no offers"):
        read_documents(empty)
    with pytest.raises(BatchInputError, match="no such file"):
        read_documents(tmp_path / "missing.jsonl")


def test_blank_lines_and_a_bom_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "offers.jsonl"
    path.write_text("\ufeff" + json.dumps(OFFERS[0]) + "\n\n   \n" + json.dumps(OFFERS[2]) + "\n\n", encoding="utf-8")
    assert [d.id for d in read_documents(path)] == ["road-1", "cloud-1"]


# ------------------------------------------------------------------------------------------------ matching


def test_run_batch_ranks_in_batches_of_the_given_size(files: tuple[Path, Path]) -> None:
    index = MatchIndex.fit(read_documents(files[0]))
    sizes: list[int] = []

    class Spy:
        def search_many(self, queries: list[Query], k: int) -> Any:
            sizes.append(len(queries))
            return index.search_many(queries, k)

    queries = [(f"q{i}", Query(title="道路巡检")) for i in range(7)]
    out = io.StringIO()
    assert run_batch(Spy(), iter(queries), out, k=2, batch_size=3) == 7  # type: ignore[arg-type]
    assert sizes == [3, 3, 1]
    lines = read_out(out.getvalue())
    assert [line["order_id"] for line in lines] == [f"q{i}" for i in range(7)]


def test_cli_matches_best_first_with_k_and_explanations(files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    result = cli("--offers", files[0], "--orders", files[1], "--top", 2, "--out", out)
    assert result.exit_code == 0, result.output
    lines = read_out(out.read_text(encoding="utf-8"))
    assert [line["order_id"] for line in lines] == ["o-road", "o-cloud", 3]  # input order, ids as given
    for line in lines:
        assert 1 <= len(line["matches"]) <= 2
        scores = [m["score"] for m in line["matches"]]
        assert scores == sorted(scores, reverse=True)
        for m in line["matches"]:
            assert {"offer_id", "score", "why", "title", "contributions"} <= set(m)
            assert m["why"] and round(m["score"], 4) == m["score"]
    assert lines[0]["matches"][0]["offer_id"] == "road-1"
    assert {m["offer_id"] for m in lines[0]["matches"]} == {"road-1", "road-2"}
    assert lines[1]["matches"][0]["offer_id"] == "cloud-1"
    assert lines[2]["matches"][0]["offer_id"] == 5
    assert "道路" in lines[0]["matches"][0]["why"]  # the shared terms
    assert "orders/s" in result.stderr  # the summary line
    assert not result.stdout


def test_cli_default_k_and_stdout(files: tuple[Path, Path]) -> None:
    result = cli("--offers", files[0], "--orders", files[1], "--quiet")
    assert result.exit_code == 0, result.output
    lines = read_out(result.stdout)
    assert len(lines) == 3
    assert all(len(line["matches"]) <= 10 for line in lines)
    assert max(len(line["matches"]) for line in lines) > 2
    assert result.stderr == ""
    dash = cli("--offers", files[0], "--orders", files[1], "--quiet", "--out", "-")
    assert dash.stdout == result.stdout


def test_cli_bad_line_exits_2_and_writes_nothing(files: tuple[Path, Path], tmp_path: Path) -> None:
    orders = write_jsonl(
        tmp_path / "bad-orders.jsonl", [ORDERS[0], "", ORDERS[1], {"id": "z", "title": "x", "budget": "1.001"}]
    )
    out = tmp_path / "out" / "m.jsonl"
    result = cli("--offers", files[0], "--orders", orders, "--out", out)
    assert result.exit_code == 2
    assert "bad-orders.jsonl 第 4 行，字段 budget" in result.stderr
    assert "line 4, field budget" in result.stderr
    assert not out.exists()
    assert not any(out.parent.iterdir())  # no temporary file left behind

    existing = tmp_path / "keep.jsonl"
    existing.write_text("old\n", encoding="utf-8")
    assert cli("--offers", files[0], "--orders", orders, "--out", existing).exit_code == 2
    assert existing.read_text(encoding="utf-8") == "old\n"  # an existing output is untouched on failure
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    stdout_run = cli("--offers", files[0], "--orders", orders)
    assert stdout_run.exit_code == 2 and stdout_run.stdout == ""  # nothing half-written to stdout either


def test_cli_duplicate_offer_ids_and_missing_files(files: tuple[Path, Path], tmp_path: Path) -> None:
    dup = write_jsonl(tmp_path / "dup.jsonl", [OFFERS[0], OFFERS[1], OFFERS[0]])
    result = cli("--offers", dup, "--orders", files[1])
    assert result.exit_code == 2
    assert "第 3 行" in result.stderr and "duplicate id 'road-1'" in result.stderr
    missing = cli("--offers", files[0], "--orders", tmp_path / "nope.jsonl")
    assert missing.exit_code == 2 and "nope.jsonl" in missing.stderr and "no such file" in missing.stderr
    assert cli("--orders", files[1]).exit_code == 2  # neither --offers nor --load-index
    assert cli("--orders", files[1], "--offers", files[0], "--load-index", tmp_path).exit_code == 2
    not_index = cli("--orders", files[1], "--load-index", tmp_path / "nothing")
    assert not_index.exit_code == 2 and "--index" in not_index.stderr


def test_cli_index_round_trip_gives_identical_output(files: tuple[Path, Path], tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    saved = cli("--offers", files[0], "--orders", files[1], "--index", tmp_path / "idx", "--out", first)
    assert saved.exit_code == 0, saved.output
    assert (tmp_path / "idx" / "manifest.json").is_file()
    loaded = cli("--load-index", tmp_path / "idx", "--orders", files[1], "--out", second)
    assert loaded.exit_code == 0, loaded.output
    assert second.read_bytes() == first.read_bytes()


def test_scale_data_end_to_end(tmp_path: Path) -> None:
    from seeds.scale import generate_offers, generate_orders, write_jsonl

    offers, orders = tmp_path / "offers.jsonl", tmp_path / "orders.jsonl"
    write_jsonl(offers, generate_offers(500))
    order_rows = list(generate_orders(50))
    write_jsonl(orders, order_rows)
    out = tmp_path / "m.jsonl"
    summary = match_files(orders, offers=offers, out=out, k=5)
    assert (summary.offers, summary.orders) == (500, 50)
    lines = read_out(out.read_text(encoding="utf-8"))
    assert [line["order_id"] for line in lines] == [o["id"] for o in order_rows]
    topic_of = {json.loads(line)["id"]: json.loads(line)["topic"] for line in offers.read_text("utf-8").splitlines()}
    same_category = 0
    for order, line in zip(order_rows, lines, strict=True):
        scores = [m["score"] for m in line["matches"]]
        assert len(scores) <= 5 and scores == sorted(scores, reverse=True)
        if line["matches"]:
            top = topic_of[line["matches"][0]["offer_id"]]
            same_category += top.split("#")[0] == order["category"]
    assert sum(bool(line["matches"]) for line in lines) >= 45
    assert same_category >= 35  # the best offer is mostly in the order's own category
