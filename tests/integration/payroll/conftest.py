"""Fixtures for the payroll service tests: a PayrollService on a fresh database (SQLite and PostgreSQL), and
helpers that set up an employer with PAs, contracts and timesheets in tax year 2026-27."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet

from ledger.clock import ManualClock, seeded_ids
from ledger.db import make_engine
from payroll.model import BankDetails, EmployerKind, HourKind, PayRates, Shift
from payroll.sealed import FieldCipher
from payroll.service import PayrollService

UK = ZoneInfo("Europe/London")
NINO = "AB123456C"
SORT_CODE = "402716"
ACCOUNT = "71234567"


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def key():
    return Fernet.generate_key()


@pytest.fixture
def cipher(key):
    return FieldCipher([key])


@pytest.fixture
def payroll_clock():
    return ManualClock(datetime(2026, 4, 1, 9, 0, tzinfo=UK))


@pytest.fixture
def service(engine, cipher, payroll_clock):
    return PayrollService(engine, cipher, clock=payroll_clock, new_id=seeded_ids(11))


def shift(day: date, start_hour: int, hours: int, kind: HourKind = HourKind.STANDARD) -> Shift:
    starts = datetime(day.year, day.month, day.day, start_hour, tzinfo=UK)
    return Shift(starts, starts + timedelta(hours=hours), kind)


def weekday_shifts(first: date, last: date, hours: int = 8) -> tuple[Shift, ...]:
    """A day shift from 09:00 on every weekday from ``first`` to ``last``."""
    out = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            out.append(shift(day, 9, hours))
        day += timedelta(days=1)
    return tuple(out)


class Setup:
    """An employer with PAs on monthly pay; tax month n runs from the 6th to the 5th."""

    def __init__(self, service: PayrollService, *, employment_allowance: bool = True):
        self.service = service
        self.employer = service.add_employer(
            name="Asha Patel", kind=EmployerKind.BUDGET_HOLDER, hmrc_office_number="120",
            paye_reference="A120", accounts_office_reference="120PA00012345",
            claims_employment_allowance=employment_allowance, actor="admin")

    def pa(self, payroll_id: str = "PA1", *, nino: str | None = NINO, surname: str = "Jones",
           start: date = date(2026, 1, 5), rate: int = 1500, tax_code: str = "1257L", **extra):
        employee = self.service.add_employee(
            self.employer.id, payroll_id=payroll_id, forenames=["Sam"], surname=surname,
            birth_date=date(1990, 5, 17), start_date=start, frequency="monthly", tax_code=tax_code, nino=nino,
            bank_details=BankDetails("S Jones", SORT_CODE, ACCOUNT), actor="admin", **extra)
        self.service.add_contract(employee.id, starts=start, rates=PayRates(standard=rate, night=rate + 200),
                                  contracted_hours_per_week="30", actor="admin")
        return employee

    def approved_month(self, employee, month: int, hours: int = 8):
        """An approved timesheet for tax month ``month`` of 2026-27 (weekdays, ``hours`` a day)."""
        first, last = month_dates(month)
        sheet = self.service.save_timesheet(employee.id, period_start=first, period_end=last,
                                            shifts=weekday_shifts(first, last, hours), actor="sam")
        self.service.submit_timesheet(sheet.id, actor="sam")
        return self.service.approve_timesheet(sheet.id, actor="asha")

    def run(self, month: int):
        first, last = month_dates(month)
        return self.service.create_pay_run(self.employer.id, period_start=first, period_end=last,
                                           payment_date=last - timedelta(days=5), frequency="monthly",
                                           actor="admin")

    def finalised_run(self, month: int):
        run = self.run(month)
        self.service.calculate(run.id, actor="admin")
        self.service.review(run.id, actor="admin")
        self.service.approve(run.id, actor="asha")
        return self.service.finalise(run.id, actor="admin")


def month_dates(month: int) -> tuple[date, date]:
    """Tax month ``month`` of 2026-27: the 6th to the 5th."""
    start_month = 4 + month - 1
    year = 2026 + (start_month - 1) // 12
    start = date(year, (start_month - 1) % 12 + 1, 6)
    next_month = start_month + 1
    end = date(2026 + (next_month - 1) // 12, (next_month - 1) % 12 + 1, 5)
    return start, end


@pytest.fixture
def setup(service):
    return Setup(service)
