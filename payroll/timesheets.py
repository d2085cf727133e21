"""Timesheets: checking the hours a PA reports, moving a timesheet through its statuses, and counting hours.

Pure functions over ``payroll.model.Timesheet`` values; nothing here stores anything. A timesheet moves
draft → submitted → approved, or submitted → rejected → (edited) → submitted again; only an approved timesheet
is paid (``payroll.payrun``).

Hours are real elapsed time: shifts are converted to UTC before subtracting, so a night shift across the clock
change in March or October counts the hours actually worked. A shift belongs to the day it starts, as recorded.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

from payroll.model import Absence, Contract, Employee, HourKind, Shift, Timesheet, TimesheetStatus

HUNDREDTH = Decimal("0.01")
_MICROSECONDS_AN_HOUR = Decimal(3_600_000_000)
_LONGEST_SHIFT = timedelta(hours=24)
ABSENCE_KINDS = ("sick", "holiday")


class TimesheetInvalid(ValueError):
    """A timesheet that cannot be paid as it stands; ``problems`` says what to fix, one plain sentence each."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("; ".join(self.problems))


class TimesheetStatusError(ValueError):
    """A status move the timesheet's current status does not allow (e.g. approving a draft)."""


# ---------------------------------------------------------------------------------------------------------
# Hours

def elapsed(shift: Shift) -> timedelta:
    """Time from start to end; aware times through UTC (Python subtracts same-zone times as wall clock)."""
    starts, ends = shift.starts, shift.ends
    if starts.utcoffset() is None or ends.utcoffset() is None:   # naive (refused by validation)
        return ends.replace(tzinfo=None) - starts.replace(tzinfo=None)
    return ends.astimezone(timezone.utc) - starts.astimezone(timezone.utc)


def to_hours(span: timedelta) -> Decimal:
    """Hours to the hundredth, half up (no rule sets the rounding; half up is what a PA would expect)."""
    return (Decimal(span // timedelta(microseconds=1)) / _MICROSECONDS_AN_HOUR).quantize(
        HUNDREDTH, rounding=ROUND_HALF_UP)


def hours_by_kind(timesheet: Timesheet) -> dict[HourKind, Decimal]:
    """Hours of each kind in the timesheet, to the hundredth (summed exactly, rounded once per kind).

    Sleep-in hours are reported here, but a sleep-in is paid one flat amount a night (``sleep_in_nights``) and
    its hours never count for the minimum wage (``hours_for_minimum_wage``).
    """
    spans: dict[HourKind, timedelta] = {}
    for shift in timesheet.shifts:
        spans[shift.kind] = spans.get(shift.kind, timedelta(0)) + elapsed(shift)
    return {kind: to_hours(span) for kind, span in spans.items()}


def sleep_in_nights(timesheet: Timesheet) -> int:
    """Each sleep-in shift is one night, however long it is."""
    return sum(1 for shift in timesheet.shifts if shift.kind is HourKind.SLEEP_IN)


def hours_for_minimum_wage(hours: dict[HourKind, Decimal]) -> Decimal:
    """Hours that count as working time for the minimum wage: all but sleep-in hours, when the PA may sleep
    (National Minimum Wage Regulations 2015 reg 32; Royal Mencap Society v Tomlinson-Blake [2021] UKSC 8).
    Work done when woken is recorded as its own shift and counts. On-call hours count: the stricter reading
    when the PA is on call at or near the person's home (reg 32(1))."""
    return sum((h for kind, h in hours.items() if kind is not HourKind.SLEEP_IN), Decimal("0.00"))


def absence_hours(timesheet: Timesheet, kind: str) -> Decimal:
    return sum((a.hours for a in timesheet.absences if a.kind == kind), Decimal("0.00"))


def sick_days(timesheet: Timesheet) -> tuple[date, ...]:
    return tuple(sorted({a.day for a in timesheet.absences if a.kind == "sick"}))


# ---------------------------------------------------------------------------------------------------------
# Checking

def validate_timesheet(timesheet: Timesheet, contract: Contract, employee: Employee) -> None:
    """Raise ``TimesheetInvalid`` listing every problem, or return None when the timesheet can be paid."""
    problems = timesheet_problems(timesheet, contract, employee)
    if problems:
        raise TimesheetInvalid(problems)


def timesheet_problems(timesheet: Timesheet, contract: Contract, employee: Employee) -> tuple[str, ...]:
    """Every problem with the timesheet, in plain English, each naming the shift or absence concerned."""
    problems: list[str] = []
    name = employee.full_name
    if timesheet.employee_id != employee.id:
        problems.append(f"this timesheet belongs to employee {timesheet.employee_id}, not {name}")
    if contract.employee_id != employee.id:
        problems.append(f"the contract {contract.id} is not {name}'s")
    first, last = timesheet.period_start, timesheet.period_end
    if last < first:
        problems.append(f"the period ends ({_day(last)}) before it starts ({_day(first)})")
    if not isinstance(timesheet.expenses, int) or isinstance(timesheet.expenses, bool):
        problems.append(f"expenses must be a whole number of pence, not {timesheet.expenses!r}")
    elif timesheet.expenses < 0:
        problems.append(f"expenses cannot be negative ({_pounds(timesheet.expenses)})")

    utc = timezone.utc
    priced: dict[HourKind, bool] = {}
    working: list[tuple[datetime, datetime, int, Shift]] = []   # (UTC start, UTC end, ...) for the overlap check
    sleeping: list[tuple[datetime, datetime, int, Shift]] = []
    for number, shift in enumerate(timesheet.shifts, start=1):
        found: list[str] = []   # the shift is named only when something is wrong: most shifts are fine
        aware = shift.starts.utcoffset() is not None and shift.ends.utcoffset() is not None
        if aware:
            starts, ends = shift.starts.astimezone(utc), shift.ends.astimezone(utc)
            span = ends - starts
        else:
            found.append("has a time without a time zone; record times with their zone (e.g. Europe/London)")
            span = elapsed(shift)
        if span <= timedelta(0):
            found.append("ends before or when it starts")
        elif span > _LONGEST_SHIFT:
            found.append(f"lasts {to_hours(span)} hours; no shift can be longer than 24 hours")
        elif aware:
            (sleeping if shift.kind is HourKind.SLEEP_IN else working).append((starts, ends, number, shift))
        day = shift.starts.date()
        if not first <= day <= last:
            found.append(f"starts on {_day(day)}, outside this timesheet's period {_day(first)} to {_day(last)}")
        if shift.kind not in priced:
            priced[shift.kind] = contract.rates.rate_for(shift.kind) is not None
        if not priced[shift.kind]:
            found.append(f"is {kind_words(shift.kind)}, but the contract has no rate for {kind_words(shift.kind)}")
        found.extend(_outside_employment(day, employee, contract))
        if found:
            label = _shift_label(number, shift)
            problems.extend(f"{label} {why}" for why in found)

    # A PA woken during a sleep-in records the work as its own shift, which may overlap the sleep-in; two
    # working shifts, or two sleep-ins, at the same time are a mistake.
    for group in (working, sleeping):
        problems.extend(_overlaps(group))

    days: dict[tuple[date, str], list[Absence]] = defaultdict(list)
    for absence in timesheet.absences:
        label = f"the absence on {_day(absence.day)} ({absence.kind})"
        if absence.kind not in ABSENCE_KINDS:
            problems.append(f"{label} must be \"sick\" or \"holiday\", not {absence.kind!r}")
        if not isinstance(absence.hours, (Decimal, int)) or isinstance(absence.hours, bool):
            problems.append(f"{label} has hours {absence.hours!r}; give a decimal number such as 7.50")
        elif absence.hours < 0:
            problems.append(f"{label} has negative hours ({absence.hours})")
        elif absence.hours > 24:
            problems.append(f"{label} has {absence.hours} hours; a day has 24")
        elif absence.kind == "holiday" and absence.hours == 0:
            problems.append(f"{label} needs the hours of holiday taken")
        if not first <= absence.day <= last:
            problems.append(f"{label} is outside this timesheet's period {_day(first)} to {_day(last)}")
        problems.extend(f"{label} {why}" for why in _outside_employment(absence.day, employee, None))
        days[(absence.day, absence.kind)].append(absence)
    for (day, kind), entries in sorted(days.items()):
        if kind == "sick" and (day, "holiday") in days:
            problems.append(f"{_day(day)} is recorded as both a sick day and a holiday; it can only be one")
        if kind == "sick" and len(entries) > 1:
            problems.append(f"{_day(day)} is recorded as a sick day {len(entries)} times")
        if kind == "holiday" and len(entries) > 1 and sum(_as_decimal(a.hours) for a in entries) > 24:
            problems.append(f"the holidays on {_day(day)} add up to more than 24 hours")
    return tuple(problems)


def _overlaps(group: list[tuple[datetime, datetime, int, Shift]]) -> list[str]:
    found = []
    latest: tuple[datetime, datetime, int, Shift] | None = None   # the shift reaching furthest so far
    for item in sorted(group, key=lambda item: (item[0], item[2])):
        starts, ends, number, shift = item
        if latest is not None and starts < latest[1]:
            found.append(f"{_shift_label(number, shift)} overlaps {_shift_label(latest[2], latest[3])}")
        if latest is None or ends > latest[1]:
            latest = item
    return found


def _outside_employment(day: date, employee: Employee, contract: Contract | None) -> list[str]:
    reasons = []
    if day < employee.start_date:
        reasons.append(f"is before {employee.full_name} started on {_day(employee.start_date)}")
    if employee.leaving_date is not None and day > employee.leaving_date:
        reasons.append(f"is after {employee.full_name} left on {_day(employee.leaving_date)}")
    if contract is not None and (day < contract.starts or (contract.ends is not None and day > contract.ends)):
        until = f" to {_day(contract.ends)}" if contract.ends else ""
        reasons.append(f"is outside the contract (from {_day(contract.starts)}{until})")
    return reasons


# ---------------------------------------------------------------------------------------------------------
# Status moves

def edit(timesheet: Timesheet, *, shifts: tuple[Shift, ...] | None = None,
         absences: tuple[Absence, ...] | None = None, expenses: int | None = None) -> Timesheet:
    """New hours for a draft or rejected timesheet; submitted and approved ones are fixed."""
    _require(timesheet, (TimesheetStatus.DRAFT, TimesheetStatus.REJECTED), "edited")
    return replace(timesheet,
                   shifts=timesheet.shifts if shifts is None else tuple(shifts),
                   absences=timesheet.absences if absences is None else tuple(absences),
                   expenses=timesheet.expenses if expenses is None else expenses)


def submit(timesheet: Timesheet, by: str) -> Timesheet:
    """Draft (or rejected, after editing) → submitted; a resubmission clears the earlier decision."""
    _require(timesheet, (TimesheetStatus.DRAFT, TimesheetStatus.REJECTED), "submitted")
    return replace(timesheet, status=TimesheetStatus.SUBMITTED, submitted_by=_actor(by, "submits"),
                   decided_by=None, rejection_reason=None)


def approve(timesheet: Timesheet, by: str) -> Timesheet:
    """Submitted → approved: the hours can now be paid."""
    _require(timesheet, (TimesheetStatus.SUBMITTED,), "approved")
    return replace(timesheet, status=TimesheetStatus.APPROVED, decided_by=_actor(by, "approves"),
                   rejection_reason=None)


def reject(timesheet: Timesheet, by: str, reason: str) -> Timesheet:
    """Submitted → rejected, with the reason the PA will read; it can then be edited and resubmitted."""
    _require(timesheet, (TimesheetStatus.SUBMITTED,), "rejected")
    if not isinstance(reason, str) or not reason.strip():
        raise TimesheetStatusError("say why the timesheet is rejected, so the PA knows what to change")
    return replace(timesheet, status=TimesheetStatus.REJECTED, decided_by=_actor(by, "rejects"),
                   rejection_reason=reason.strip())


def _require(timesheet: Timesheet, allowed: tuple[TimesheetStatus, ...], move: str) -> None:
    if timesheet.status not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        raise TimesheetStatusError(f"timesheet {timesheet.id} is {timesheet.status.value}; only a {wanted} "
                                   f"timesheet can be {move}")


def _actor(by: str, verb: str) -> str:
    if not isinstance(by, str) or not by.strip():
        raise TimesheetStatusError(f"say who {verb} the timesheet")
    return by


# ---------------------------------------------------------------------------------------------------------
# Words

def _as_decimal(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value) if isinstance(value, int) else Decimal(0)


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _when(moment: datetime) -> str:
    return f"{_day(moment.date())} {moment:%H:%M}"


def _shift_label(number: int, shift: Shift) -> str:
    end = f"{shift.ends:%H:%M}" if shift.ends.date() == shift.starts.date() else _when(shift.ends)
    return f"shift {number} ({_when(shift.starts)} to {end}, {kind_words(shift.kind)})"


def kind_words(kind: HourKind) -> str:
    """Plain words for a kind of hour, as payslips and messages use them."""
    return {HourKind.STANDARD: "standard hours", HourKind.NIGHT: "night hours", HourKind.WEEKEND: "weekend hours",
            HourKind.BANK_HOLIDAY: "bank holiday hours", HourKind.SLEEP_IN: "a sleep-in",
            HourKind.ON_CALL: "on-call hours"}[kind]


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"
