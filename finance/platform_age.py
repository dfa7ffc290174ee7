"""How long an organisation has been on the platform (pure rules): one definition for the risk grade, the
suggested credit line and the pages.

An organisation is on the platform **from the earlier of** its registration (``Organisation.created_at``) and
its first recorded activity on the platform (an order, an offer, an interest or shortlist, an intent order, a
contract, a receivable, a finance application, a service package, mentor or need — see
:func:`finance.queries.platform.platform_since`).  The earlier of the two, because an organisation whose trade is
older than its account (imported, or registered again) has been trading here since that trade: a firm with
contracts since May is not "0 months on the platform".  Days and months are Beijing calendar days.
"""

from __future__ import annotations

from datetime import date

from finance.limits import add_months


def platform_since(registered_on: date, first_activity_on: date | None) -> date:
    """The day the organisation's time on the platform starts: the earlier of registration and first activity."""
    return registered_on if first_activity_on is None else min(registered_on, first_activity_on)


def days_on_platform(since: date, today: date) -> int:
    """Whole days from ``since`` to ``today`` (0 if ``today`` is before ``since``)."""
    return max(0, (today - since).days)


def months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (0 if ``end`` is before ``start``)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and add_months(start, months) > end:
        months -= 1
    return max(0, months)


def months_on_platform(since: date, today: date) -> int:
    """Whole calendar months from ``since`` to ``today``."""
    return months_between(since, today)
