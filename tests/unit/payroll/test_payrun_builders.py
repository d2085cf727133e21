"""Small builders for the pay-run tests (no tests here): an employer, PAs, contracts, shifts, timesheets, runs."""
from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from payroll.model import Absence, Contract, Employee, Employer, EmployerKind, HourKind, PayRates, PayRun, \
    PayRunMember, Shift, SicknessRecord, Timesheet, TimesheetStatus, YearToDate
from payroll.rules.periods import Frequency, tax_period

LONDON = ZoneInfo("Europe/London")
EMPLOYER = Employer("er-1", "Alex Budget-Holder", EmployerKind.BUDGET_HOLDER, "120", "A120", "120PA00012345",
                    claims_employment_allowance=True)
RATES = PayRates(standard=1300, night=1450, weekend=1400, bank_holiday=2600, sleep_in_flat=5000, on_call=1300)


def ids(prefix: str = "id"):
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter)}"


def employee(number: int = 1, **changes) -> Employee:
    base = Employee(id=f"pa-{number}", employer_id=EMPLOYER.id, payroll_id=f"P{number:04d}",
                    forenames=("Sam",), surname=f"Carer{number}", birth_date=date(1990, 6, 15),
                    start_date=date(2025, 1, 6), frequency="monthly", tax_code="1257L")
    return replace(base, **changes)


def contract(pa: Employee, **changes) -> Contract:
    return replace(Contract(id=f"c-{pa.id}", employee_id=pa.id, starts=pa.start_date, rates=RATES), **changes)


def shift(day: date, start: str = "09:00", end: str = "17:00", kind: HourKind = HourKind.STANDARD) -> Shift:
    starts = datetime.combine(day, time.fromisoformat(start), LONDON)
    ends = datetime.combine(day, time.fromisoformat(end), LONDON)
    if ends <= starts:
        ends = datetime.combine(day + timedelta(days=1), time.fromisoformat(end), LONDON)
    return Shift(starts, ends, kind)


def weekday_shifts(first: date, last: date, start: str = "09:00", end: str = "17:00",
                   kind: HourKind = HourKind.STANDARD, skip: tuple[date, ...] = ()) -> tuple[Shift, ...]:
    days = (first + timedelta(n) for n in range((last - first).days + 1))
    return tuple(shift(d, start, end, kind) for d in days if d.weekday() < 5 and d not in skip)


def timesheet(pa: Employee, first: date, last: date, shifts=(), absences=(), expenses: int = 0,
              status: TimesheetStatus = TimesheetStatus.APPROVED) -> Timesheet:
    return Timesheet(id=f"ts-{pa.id}-{first}", employee_id=pa.id, period_start=first, period_end=last,
                     shifts=tuple(shifts), absences=tuple(absences), expenses=expenses, status=status)


def sick(day: date) -> Absence:
    return Absence(day, "sick")


def holiday(day: date, hours: str) -> Absence:
    return Absence(day, "holiday", D(hours))


def run(payday: date, first: date, last: date, frequency: str = "monthly", run_id: str = "run-1",
        **changes) -> PayRun:
    period = tax_period(payday, Frequency(frequency))
    return replace(PayRun(id=run_id, employer_id=EMPLOYER.id, tax_year=period.tax_year, frequency=frequency,
                          period=period.period, period_start=first, period_end=last, payment_date=payday), **changes)


def member(pa: Employee, ts: Timesheet | None, ytd: YearToDate = YearToDate(), sickness=SicknessRecord(),
           **contract_changes) -> PayRunMember:
    return PayRunMember(pa, contract(pa, **contract_changes), ts, ytd, sickness)


def month_one_run(**changes) -> PayRun:
    """Tax month 1 of 2026-27 (6 April to 5 May), paid on 30 April."""
    return run(date(2026, 4, 30), date(2026, 4, 6), date(2026, 5, 5), **changes)
