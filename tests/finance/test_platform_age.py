"""The platform age of an organisation, defined once (issue 16): from the earlier of its registration and its
first recorded activity."""

from __future__ import annotations

from datetime import date

from finance.platform_age import days_on_platform, months_on_platform, platform_since


def test_the_earlier_of_registration_and_first_activity() -> None:
    assert platform_since(date(2026, 12, 1), date(2026, 5, 6)) == date(2026, 5, 6)  # trade older than the account
    assert platform_since(date(2026, 5, 6), date(2026, 12, 1)) == date(2026, 5, 6)
    assert platform_since(date(2026, 12, 1), None) == date(2026, 12, 1)  # registered, nothing done yet


def test_days_and_months_count_from_that_day() -> None:
    since = platform_since(date(2026, 12, 1), date(2026, 5, 1))
    assert months_on_platform(since, date(2026, 12, 1)) == 7
    assert months_on_platform(since, date(2026, 11, 30)) == 6
    assert days_on_platform(since, date(2026, 12, 1)) == 214
    assert days_on_platform(since, date(2026, 4, 1)) == 0 == months_on_platform(since, date(2026, 4, 1))
