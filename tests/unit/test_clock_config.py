from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from qianfan.clock import FrozenClock, ensure_utc, format_local
from qianfan.config import PLACEHOLDER_SECRET, Settings


def test_frozen_clock_moves_only_when_told() -> None:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(timedelta(hours=48))
    assert clock.now() == datetime(2026, 1, 3, tzinfo=UTC)


def test_naive_datetimes_refused_and_display_is_beijing() -> None:
    with pytest.raises(ValueError):
        ensure_utc(datetime(2026, 1, 1))
    assert format_local(datetime(2026, 1, 1, 16, 0, tzinfo=UTC)) == "2026-01-02 00:00"


def test_embedded_defaults(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("QIANFAN_DATABASE_URL", raising=False)
    monkeypatch.delenv("QIANFAN_BROKER_URL", raising=False)
    s = Settings(var_dir=tmp_path, env="development")
    assert s.database_url == f"sqlite:///{tmp_path / 'qianfan.db'}"
    assert s.broker_url.startswith("sqla+sqlite:///") and s.is_sqlite
    assert str(s.tz) == "Asia/Shanghai"


def test_env_prefix(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QIANFAN_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("QIANFAN_BROKER_URL", "redis://127.0.0.1:6379/0")
    s = Settings()
    assert s.database_url.startswith("postgresql") and s.broker_url.startswith("redis")


def test_production_refuses_placeholder_secret() -> None:
    with pytest.raises(ValidationError, match="QIANFAN_SECRET_KEY"):
        Settings(env="production", secret_key=PLACEHOLDER_SECRET)
    with pytest.raises(ValidationError):
        Settings(env="production", secret_key="short")
    assert Settings(env="production", secret_key="x" * 40).env == "production"
    assert Settings(env="development").secret_key == PLACEHOLDER_SECRET


def test_unknown_timezone_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(timezone="Mars/Olympus")
