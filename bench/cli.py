"""Benchmarks and simulations, run from a checkout (``bench`` is not part of the installed application).

python -m bench match --offers 200k                 # matcher speed against bm25s and tantivy (bench extra)
python -m bench simulate-finance --applications 1000 --reviewers 4 --days 5
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bench import finance_sim, speed
from bench.speed import parse_count
from qianfan.errors import DomainError

app = typer.Typer(help="性能基准与模拟 / benchmarks and simulations", no_args_is_help=True, add_completion=False)
err = Console(stderr=True)
out = Console()


def _fail(message: str) -> None:
    err.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


def _count(value: str) -> int:
    try:
        return parse_count(value)
    except ValueError as exc:
        raise typer.BadParameter(f"数量格式如 20000、200k、1m / {exc}") from None


@app.command("match")
def bench_match(
    offers: Annotated[str, typer.Option(help="生成的产品数 / generated offers: 20000, 200k, 1m")] = "20k",
    orders: Annotated[str, typer.Option(help="计时的订单数 / orders ranked")] = "1000",
    systems: Annotated[str, typer.Option(help="逗号分隔 / comma-separated: ours,bm25s,tantivy")] = "ours,bm25s,tantivy",
    seed: Annotated[int, typer.Option(help="加到生成器的固定种子 / added to the generators' fixed seeds")] = 0,
    tantivy_tokenizer: Annotated[str, typer.Option(help="ngram or jieba")] = "ngram",
) -> None:
    """撮合速度基准 / Matcher speed vs bm25s and tantivy on generated offers; the last stdout line is JSON."""
    if tantivy_tokenizer not in speed.TANTIVY_TOKENIZERS:
        raise typer.BadParameter(f"--tantivy-tokenizer: {' | '.join(speed.TANTIVY_TOKENIZERS)}")
    code = speed.benchmark(_count(offers), _count(orders), systems, seed, tantivy_tokenizer)
    if code:
        raise typer.Exit(code)


@app.command("simulate-finance")
def simulate_finance(
    applications: Annotated[int, typer.Option(min=1, help="每个工作日的申请数 / applications per working day")] = 1000,
    reviewers: Annotated[int, typer.Option(min=1, help="每家银行的审核员 / reviewers per bank")] = 4,
    days: Annotated[int, typer.Option(min=1, help="有新申请的天数，自2026-11-02起 / days of arrivals")] = 5,
    banks: Annotated[int, typer.Option(min=1, help="银行数 / banks")] = 10,
    seed: Annotated[int, typer.Option(help="随机种子，同种子同结果 / same seed, same figures")] = 0,
    database: Annotated[
        str | None, typer.Option(help="空数据库URL，默认临时SQLite / an empty database URL (default: temporary SQLite)")
    ] = None,
    drain_days: Annotated[int, typer.Option(min=0, help="停止新申请后继续处理的天数 / days to finish open work")] = 14,
    sweep_minutes: Annotated[int, typer.Option(min=1, help="SLA巡检间隔（模拟分钟）/ sla_sweep every N minutes")] = 15,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="把结果写入JSON文件 / write the figures here")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="不显示每日进度 / no daily progress")] = False,
) -> None:
    """48小时放款模拟 / Discrete-event simulation of submission → disbursement over the real finance use cases."""
    config = finance_sim.SimConfig(
        applications=applications,
        reviewers=reviewers,
        days=days,
        banks=banks,
        seed=seed,
        database=database,
        drain_days=drain_days,
        sweep_minutes=sweep_minutes,
    )
    try:
        result = finance_sim.simulate(config, progress=None if quiet else sys.stderr)
    except DomainError as exc:
        _fail(exc.message)
        return
    finance_sim.render(result, out)
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        out.print(f"已写入 / written: {json_file}")
