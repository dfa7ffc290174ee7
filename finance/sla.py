"""The 48-hour clock (application → disbursement) and Chinese working days.  Pure: ``now`` is always passed in.

Defaults (:data:`DEFAULT_POLICY`):

* overall deadline = ``submitted_at + 48 h``; the deadline itself is still on time (breached only when
  ``now > deadline``);
* stage budgets — risk check 1 h (platform), bank review 24 h (bank), SME signature 12 h (SME),
  disbursement 11 h (bank): 48 h in total (a policy whose main-path budgets exceed 48 h is refused);
* "info requested" (waiting for the SME to provide information) is **not paused**: the overall clock keeps
  running and the time is **attributed to the SME**.  For reminders it has its own window (12 h by default),
  but for attribution it draws on the SME's allowance (the SME's 12 h cover answering questions and signing);
* at risk when less than 25 % of the stage budget or of the overall 48 h is left;
* breach attribution: time spent in each stage (summed over visits) is charged to the party owning the stage;
  the party whose consumption exceeds its allowance (sum of its main-path stage budgets: platform 1 h, bank 35 h,
  SME 12 h) by the most caused the breach; time in no recorded stage is charged to the platform.

Working days use ``chinese_calendar`` (statutory holidays and make-up working days 调休).  Its data covers a
fixed range of years; a date outside it is refused with :class:`~qianfan.errors.InvalidInput` rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction

import chinese_calendar

from qianfan.clock import ensure_utc
from qianfan.errors import InvalidInput


class Stage(StrEnum):
    RISK_CHECK = "risk_check"
    BANK_REVIEW = "bank_review"
    INFO_REQUESTED = "info_requested"
    SME_SIGNATURE = "sme_signature"
    DISBURSEMENT = "disbursement"


class Party(StrEnum):
    PLATFORM = "platform"
    BANK = "bank"
    SME = "sme"


class SlaStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"


STAGE_OWNER: Mapping[Stage, Party] = {
    Stage.RISK_CHECK: Party.PLATFORM,
    Stage.BANK_REVIEW: Party.BANK,
    Stage.INFO_REQUESTED: Party.SME,
    Stage.SME_SIGNATURE: Party.SME,
    Stage.DISBURSEMENT: Party.BANK,
}
MAIN_PATH: tuple[Stage, ...] = (Stage.RISK_CHECK, Stage.BANK_REVIEW, Stage.SME_SIGNATURE, Stage.DISBURSEMENT)
_SEVERITY = {SlaStatus.ON_TRACK: 0, SlaStatus.AT_RISK: 1, SlaStatus.BREACHED: 2}


def _default_budgets() -> dict[Stage, timedelta]:
    return {
        Stage.RISK_CHECK: timedelta(hours=1),
        Stage.BANK_REVIEW: timedelta(hours=24),
        Stage.SME_SIGNATURE: timedelta(hours=12),
        Stage.DISBURSEMENT: timedelta(hours=11),
        Stage.INFO_REQUESTED: timedelta(hours=12),
    }


@dataclass(frozen=True)
class SlaPolicy:
    overall: timedelta = timedelta(hours=48)
    budgets: Mapping[Stage, timedelta] = field(default_factory=_default_budgets)
    #: At risk when strictly less than this fraction of a budget is left.
    at_risk_fraction: Fraction = Fraction(1, 4)

    def __post_init__(self) -> None:
        missing = [s.value for s in Stage if s not in self.budgets]
        if missing:
            raise InvalidInput("缺少阶段时限", "stage budgets missing", detail={"missing": missing})
        if any(b <= timedelta(0) for b in self.budgets.values()) or self.overall <= timedelta(0):
            raise InvalidInput("时限必须为正", "budgets must be positive")
        main = sum((self.budgets[s] for s in MAIN_PATH), timedelta(0))
        if main > self.overall:
            raise InvalidInput(
                f"各阶段时限之和（{main}）超过总时限（{self.overall}）",
                f"the stage budgets ({main}) exceed the overall deadline ({self.overall})",
            )
        if not 0 < self.at_risk_fraction < 1:
            raise InvalidInput("预警比例须在 0 与 1 之间", "the at-risk fraction must be between 0 and 1")

    def allowance(self, party: Party) -> timedelta:
        return sum((self.budgets[s] for s in MAIN_PATH if STAGE_OWNER[s] is party), timedelta(0))


DEFAULT_POLICY = SlaPolicy()


def overall_due_at(submitted_at: datetime, policy: SlaPolicy = DEFAULT_POLICY) -> datetime:
    return ensure_utc(submitted_at) + policy.overall


def stage_due_at(stage: Stage, entered_at: datetime, policy: SlaPolicy = DEFAULT_POLICY) -> datetime:
    return ensure_utc(entered_at) + policy.budgets[stage]


def _status(now: datetime, due_at: datetime, budget: timedelta, fraction: Fraction) -> SlaStatus:
    left = due_at - now
    if left < timedelta(0):
        return SlaStatus.BREACHED
    # exact comparison on microseconds: left < fraction * budget
    if left // timedelta(microseconds=1) * fraction.denominator < (
        budget // timedelta(microseconds=1) * fraction.numerator
    ):
        return SlaStatus.AT_RISK
    return SlaStatus.ON_TRACK


@dataclass(frozen=True)
class SlaReport:
    status: SlaStatus
    overall_status: SlaStatus
    stage_status: SlaStatus | None
    overall_due_at: datetime
    stage_due_at: datetime | None
    overall_left: timedelta


def status(
    now: datetime,
    submitted_at: datetime,
    stage: Stage | None = None,
    stage_entered_at: datetime | None = None,
    policy: SlaPolicy = DEFAULT_POLICY,
) -> SlaReport:
    """Where an open application stands: the worse of the overall and the current stage's status."""
    now = ensure_utc(now)
    due = overall_due_at(submitted_at, policy)
    overall = _status(now, due, policy.overall, policy.at_risk_fraction)
    stage_st: SlaStatus | None = None
    stage_due: datetime | None = None
    if stage is not None:
        if stage_entered_at is None:
            raise InvalidInput("需要阶段开始时间", "stage_entered_at is required with a stage")
        stage_due = stage_due_at(stage, stage_entered_at, policy)
        stage_st = _status(now, stage_due, policy.budgets[stage], policy.at_risk_fraction)
    worst = max((s for s in (overall, stage_st) if s is not None), key=_SEVERITY.__getitem__)
    return SlaReport(worst, overall, stage_st, due, stage_due, due - now)


def flag(
    now: datetime,
    deadline_at: datetime,
    stage: Stage | None = None,
    stage_due_at: datetime | None = None,
    policy: SlaPolicy = DEFAULT_POLICY,
) -> SlaStatus:
    """The flag stored on an application, from its stored deadlines.

    ``breached`` only when the 48-hour promise itself is broken (``now > deadline_at``).  A stage that ran over its
    own budget, or less than a quarter of the overall time or of the stage's budget left, makes it ``at_risk``: the
    promise is in danger but not yet broken.  Otherwise ``on_track``.
    """
    now = ensure_utc(now)
    overall = _status(now, ensure_utc(deadline_at), policy.overall, policy.at_risk_fraction)
    if overall is SlaStatus.BREACHED:
        return SlaStatus.BREACHED
    if overall is SlaStatus.AT_RISK:
        return SlaStatus.AT_RISK
    if stage is not None and stage_due_at is not None:
        stage_status = _status(now, ensure_utc(stage_due_at), policy.budgets[stage], policy.at_risk_fraction)
        if stage_status is not SlaStatus.ON_TRACK:
            return SlaStatus.AT_RISK
    return SlaStatus.ON_TRACK


def watch_window(policy: SlaPolicy = DEFAULT_POLICY) -> timedelta:
    """How long before a deadline a flag can first change: a sweep need only look at applications whose overall
    deadline or stage deadline falls within this window of now (or that are already flagged)."""
    longest = max([policy.overall, *policy.budgets.values()])
    return longest * policy.at_risk_fraction.numerator / policy.at_risk_fraction.denominator + timedelta(seconds=1)


@dataclass(frozen=True)
class StageInterval:
    stage: Stage
    entered_at: datetime
    left_at: datetime | None = None  # None: still in this stage


@dataclass(frozen=True)
class Breach:
    breached: bool
    responsible: Party | None
    excess: Mapping[Party, timedelta]
    elapsed: timedelta


def attribute_breach(
    submitted_at: datetime,
    intervals: Iterable[StageInterval],
    *,
    now: datetime,
    finished_at: datetime | None = None,
    policy: SlaPolicy = DEFAULT_POLICY,
) -> Breach:
    """Whether the 48 h promise is broken (at ``finished_at`` = disbursement, or ``now`` if still open) and by whom.

    Open intervals run to the end moment.  ``excess`` per party = time consumed − allowance (only positive values).
    """
    start = ensure_utc(submitted_at)
    end = ensure_utc(finished_at) if finished_at is not None else ensure_utc(now)
    elapsed = end - start
    consumed: dict[Party, timedelta] = {p: timedelta(0) for p in Party}
    recorded = timedelta(0)
    for iv in intervals:
        a = max(ensure_utc(iv.entered_at), start)
        b = min(ensure_utc(iv.left_at) if iv.left_at is not None else end, end)
        if b > a:
            consumed[STAGE_OWNER[iv.stage]] += b - a
            recorded += b - a
    if elapsed > recorded:
        consumed[Party.PLATFORM] += elapsed - recorded  # time in no recorded stage
    excess = {p: consumed[p] - policy.allowance(p) for p in Party if consumed[p] > policy.allowance(p)}
    breached = elapsed > policy.overall
    responsible = None
    if breached:
        order = list(Party)
        responsible = max(excess, key=lambda p: (excess[p], -order.index(p))) if excess else Party.PLATFORM
    return Breach(breached, responsible, excess, elapsed)


# --- Chinese working days ------------------------------------------------------------------------------------


def is_workday(day: date) -> bool:
    """A working day in mainland China, including make-up working days (调休) on weekends."""
    if isinstance(day, datetime):
        raise InvalidInput("需要日期而不是时间", "give a date, not a datetime")
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise InvalidInput(
            f"节假日数据不包含 {day.year} 年",
            f"no Chinese holiday data for {day.year}",
            detail={"day": day.isoformat()},
        ) from None


def add_working_days(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (before it when ``n`` < 0); ``n == 0`` returns ``day`` itself."""
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    current = day
    while remaining:
        current += step
        if is_workday(current):
            remaining -= 1
    return current


def count_working_days(start: date, end: date) -> int:
    """Working days in the half-open range ``[start, end)`` (0 when ``end <= start``)."""
    count = 0
    current = start
    while current < end:
        count += is_workday(current)
        current += timedelta(days=1)
    return count


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    return day if is_workday(day) else add_working_days(day, 1)
