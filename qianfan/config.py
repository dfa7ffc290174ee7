"""Settings from the environment (prefix ``QIANFAN_``), with embedded defaults that need no server.

Defaults: a SQLite file and an embedded (SQLite-backed kombu) broker under ``./var/``.  Production sets
``QIANFAN_DATABASE_URL=postgresql+psycopg://…`` and ``QIANFAN_BROKER_URL=redis://…``; the code path is the same.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "dev-insecure-change-me"
_PLACEHOLDERS = {PLACEHOLDER_SECRET, "", "changeme", "change-me", "secret", "please-change"}

Environment = Literal["development", "test", "production"]


def default_var_dir() -> Path:
    return Path.cwd() / "var"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QIANFAN_", env_file=".env", extra="ignore")

    env: Environment = "development"
    var_dir: Path = Field(default_factory=default_var_dir)
    database_url: str = ""
    broker_url: str = ""
    secret_key: str = PLACEHOLDER_SECRET
    timezone: str = "Asia/Shanghai"
    # 1-year Loan Prime Rate, used by finance pricing (3.0 % in 2026).
    lpr_1y: Decimal = Decimal("0.030")
    # An SME's total finance exposure on the platform when the programme office has set none for it (yuan).
    sme_exposure_limit: Decimal = Decimal("50000000.00")
    sql_echo: bool = False
    # Seconds before Redis delivers again a task whose worker died holding it (longer than any task runs).
    broker_visibility_timeout: int = Field(default=7200, ge=1)
    # Authentication: bearer tokens, login rate limit and lockout.
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=7, ge=1, le=90)
    login_max_failures: int = Field(default=5, ge=1)  # failed logins in a row before the account locks
    login_lockout_minutes: int = Field(default=15, ge=1)
    login_attempts_per_minute: int = Field(default=30, ge=1)  # per client address, successful or not
    # HTTP: largest request body accepted, and the origins allowed to call the API from a browser (none).
    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    cors_origins: list[str] = Field(default_factory=list)
    # Web pages: how long a login lasts, and whether cookies are sent only over HTTPS (on by default in production).
    web_session_hours: int = Field(default=8, ge=1, le=24 * 7)
    cookie_secure: bool | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError):
            raise ValueError(f"未知时区 / unknown timezone: {value}") from None
        return value

    @model_validator(mode="after")
    def _fill_defaults_and_refuse_placeholder(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'qianfan.db'}"
        if not self.broker_url:
            self.broker_url = f"sqla+sqlite:///{self.var_dir / 'broker.db'}"
        if self.env == "production" and (self.secret_key.strip().lower() in _PLACEHOLDERS or len(self.secret_key) < 32):
            raise ValueError(
                "QIANFAN_SECRET_KEY 必须在生产环境中设置为至少 32 个字符的随机值 / "
                "QIANFAN_SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        return self

    @property
    def secure_cookies(self) -> bool:
        return self.env == "production" if self.cookie_secure is None else self.cookie_secure

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
