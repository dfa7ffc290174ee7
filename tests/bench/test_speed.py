"""Smoke test of the speed benchmark (``python -m bench match``): a tiny corpus, the JSON line last on stdout."""

from __future__ import annotations

import importlib.util
import json

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.speed import SYSTEMS, parse_count, precision_at_k

KEYS = {"build_s", "peak_mb", "p50_ms", "p99_ms", "qps", "recall_at_10"}
PEERS = [s for s in SYSTEMS[1:] if importlib.util.find_spec(s) is not None]


@pytest.mark.parametrize(("text", "n"), [("20000", 20_000), ("200k", 200_000), ("1m", 1_000_000), ("1.5M", 1_500_000)])
def test_parse_count(text: str, n: int) -> None:
    assert parse_count(text) == n


@pytest.mark.parametrize("text", ["", "abc", "0", "1.5k5", "-3"])
def test_parse_count_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_count(text)


def test_precision_counts_missing_results_as_misses() -> None:
    topics = ["a", "b", "a", "a"]
    assert precision_at_k([[0, 2, 1]], ["a"], topics) == pytest.approx(0.2)


def test_bench_match_prints_one_json_line_last() -> None:
    systems = ",".join(["ours", *PEERS])
    result = CliRunner().invoke(app, ["match", "--offers", "2000", "--orders", "20", "--systems", systems])
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    data = json.loads(last)
    assert data["offers"] == 2000
    assert set(data) == {"offers", "ours", *PEERS}
    for name in ("ours", *PEERS):
        figures = data[name]
        assert set(figures) >= KEYS, name
        assert 0.0 <= figures["recall_at_10"] <= 1.0
        assert 0.0 < figures["p50_ms"] <= figures["p99_ms"]
        assert figures["build_s"] > 0 and figures["qps"] > 0
        assert figures["orders"] == 20
    assert data["ours"]["recall_at_10"] > 0.05  # the topic ground truth is reachable at all
