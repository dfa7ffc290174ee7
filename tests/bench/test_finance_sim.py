"""Smoke test of the 48-hour finance simulation (``python -m bench simulate-finance``): a tiny run through the real use
cases on a temporary SQLite file, figures that add up, and the same figures for the same seed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.finance_sim import SimConfig, arrivals, next_office_open, percentile
from qianfan.errors import InvalidInput


def test_tiny_run_adds_up(tmp_path: Path) -> None:
    out = tmp_path / "sim.json"
    args = ["simulate-finance", "--applications", "20", "--reviewers", "2", "--days", "2", "--banks", "2"]
    result = CliRunner().invoke(app, [*args, "--seed", "3", "--quiet", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "48" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    a = data["applications"]
    assert a["submitted"] > 20  # two working days at 20 a day
    assert a["submitted"] == a["disbursed"] + a["rejected"] + a["withdrawn_or_expired"] + a["open_at_end"]
    assert sum(a["by_status"].values()) == a["submitted"]
    assert a["disbursed"] > 0
    h = data["hours_to_disbursement"]
    assert 0 < h["p50"] <= h["p95"] <= h["max"]
    w = data["within_48h"]
    assert 0 <= w["share_of_not_rejected"] <= w["share_of_disbursed"] <= 1
    assert (
        w["disbursed_within"]
        + data["breaches"]["disbursed_late_by_party"]["bank"]
        + data["breaches"]["disbursed_late_by_party"]["sme"]
        + data["breaches"]["disbursed_late_by_party"]["platform"]
        == a["disbursed"]
    )
    assert data["errors"] == {}
    assert data["timing"]["use_case_calls"] > a["submitted"] * 5


def test_same_seed_same_figures() -> None:
    from bench.finance_sim import simulate

    config = SimConfig(applications=8, reviewers=1, days=1, banks=1, seed=7, drain_days=3, smes=2, cores=1)
    first, second = simulate(config), simulate(config)
    first.pop("timing")
    second.pop("timing")
    assert first == second


def test_refuses_to_run_past_the_calendar() -> None:
    with pytest.raises(InvalidInput) as exc:
        SimConfig(days=61).validate()
    assert "2026-12-31" in exc.value.message_en and "2026-12-31" in exc.value.message_zh
    result = CliRunner().invoke(app, ["simulate-finance", "--days", "61"])
    assert result.exit_code == 1


def test_helpers() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([5.0], 95) == 5.0
    import random

    day = date(2026, 11, 2)
    times = arrivals(random.Random(1), day, 2000)
    assert 1800 < len(times) < 2200
    office = sum(1 for t in times if 9 <= (t.hour + 8) % 24 < 18)
    assert office / len(times) > 0.6  # most arrive in Beijing office hours
    # Saturday 2026-11-07 evening → Monday 09:00 Beijing (01:00 UTC)
    opens = next_office_open(times[0].replace(year=2026, month=11, day=7, hour=12), date(2026, 12, 31))
    assert opens is not None and (opens.month, opens.day, opens.hour) == (11, 9, 1)
