"""Domain errors.  They carry no HTTP codes: ``api/errors.py`` maps each kind once.

Every error has a message in Simplified Chinese (shown first) and in English, and an optional ``detail``
(e.g. one entry per invalid field) that a person or a client can act on.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of all errors a use case may raise on purpose."""

    code = "domain_error"

    def __init__(self, message_zh: str, message_en: str, *, detail: Any = None) -> None:
        super().__init__(f"{message_zh} / {message_en}")
        self.message_zh = message_zh
        self.message_en = message_en
        self.detail = detail

    @property
    def message(self) -> str:
        return f"{self.message_zh} / {self.message_en}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "message": self.message_zh,
            "message_en": self.message_en,
            "detail": self.detail,
        }


class InvalidInput(DomainError):
    """The input itself is malformed (bad amount, empty title, wrong check digit…)."""

    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"

    @classmethod
    def of(cls, what_zh: str, what_en: str, ident: object) -> NotFound:
        return cls(f"{what_zh}不存在：{ident}", f"{what_en} not found: {ident}")


class Conflict(DomainError):
    """The request clashes with the current state (duplicate, concurrent change)."""

    code = "conflict"


class RuleViolation(DomainError):
    """A business rule forbids this (state machine, limits, roles)."""

    code = "rule_violated"


class PermissionDenied(DomainError):
    code = "permission_denied"


class AuthenticationFailed(DomainError):
    """No valid credentials: a wrong password, an expired or revoked token, or none at all."""

    code = "unauthenticated"


class TooManyRequests(DomainError):
    """Too many attempts in a short time (login rate limit, account lockout); ``retry_after`` seconds."""

    code = "too_many_requests"

    def __init__(self, message_zh: str, message_en: str, *, retry_after: int, detail: Any = None) -> None:
        super().__init__(message_zh, message_en, detail=detail if detail is not None else {"retry_after": retry_after})
        self.retry_after = retry_after
