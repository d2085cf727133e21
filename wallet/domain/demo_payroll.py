"""The demo's payroll, run for real: Asha employs Jo, a PA on a four-weekly payroll, from April 2025.

Each period Jo's timesheet is saved, submitted and approved by Asha, and the pay run is created, calculated,
reviewed, approved (by Asha, who neither calculated nor reviewed it) and finalised through the payroll service,
so the demo's payslips, year-to-date figures and FPS come from the same code as a real employer's. Loading the
demo again finds the employer, the PA and each finalised run instead of making them twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from payroll.model import (Address, BankDetails, EmployerKind, HourKind, PayRates, PayRun, PayRunStatus, Shift,
                           TimesheetStatus)
from payroll.service import PayrollService

OWNER = "demo-asha"


@dataclass(frozen=True)
class DemoPayroll:
    service: PayrollService
    employer_id: str
    pa_id: str


def demo_payroll(service: PayrollService, *, admin: str, start: date) -> DemoPayroll:
    """Asha as employer and Jo as her PA (found again if already there)."""
    employers = service.list_employers(owner_ref=OWNER)
    if employers:
        employer = employers[0]
        pa = next(e for e in service.list_employees(employer.id) if e.payroll_id == "PA1")
        return DemoPayroll(service, employer.id, pa.id)
    address = Address(("14 Elm Road", "Leeds"), "LS6 2AB")
    employer = service.add_employer(
        name="Asha Patel", kind=EmployerKind.BUDGET_HOLDER, hmrc_office_number="120", paye_reference="DA12345",
        accounts_office_reference="120PA00012345", claims_employment_allowance=True, address=address,
        owner_ref=OWNER, actor=admin)
    pa = service.add_employee(
        employer.id, payroll_id="PA1", forenames=["Jo"], surname="Smith", birth_date=date(1986, 6, 1),
        start_date=start, frequency="four_weekly", tax_code="1257L", nino="JS102938B", gender="F",
        address=Address(("3 Park Lane", "Leeds"), "LS7 4DE"), starter_declaration="A",
        bank_details=BankDetails("J Smith", "402716", "71234567"), irregular_hours=True, actor=admin)
    service.add_contract(pa.id, starts=start, rates=PayRates(standard=1275, night=1450, weekend=1400,
                                                             bank_holiday=1915, sleep_in_flat=9500),
                         contracted_hours_per_week=Decimal("28"), actor=admin)
    service.enrol_pension(pa.id, actor=admin, effective=start)
    return DemoPayroll(service, employer.id, pa.id)


def _shifts(first: date, n: int) -> tuple[Shift, ...]:
    """Weekday mornings, and every other period a Saturday shift and a sleep-in: hours vary as a PA's do."""
    out = []
    for offset in range(28):
        day = first + timedelta(days=offset)
        if day.weekday() < 5:
            starts = datetime(day.year, day.month, day.day, 8, tzinfo=timezone.utc)
            out.append(Shift(starts, starts + timedelta(hours=5 + (offset + n) % 2)))
        elif day.weekday() == 5 and n % 2 == 0 and offset < 14:
            starts = datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc)
            out.append(Shift(starts, starts + timedelta(hours=5), HourKind.WEEKEND))
            night = datetime(day.year, day.month, day.day, 22, tzinfo=timezone.utc)
            out.append(Shift(night, night + timedelta(hours=9), HourKind.SLEEP_IN))
    return tuple(out)


def finalised_run(demo: DemoPayroll, n: int, first: date, payday: date, *, admin: str, reviewer: str,
                  holder: str, pa: str = "jo.smith") -> PayRun:
    """Period ``n`` (four weeks from ``first``) paid on ``payday``, finalised; the existing run if there is one.
    ``pa`` sends the timesheet in (Jo's own sign-in, when she has one)."""
    service = demo.service
    last = first + timedelta(days=27)
    for run in service.list_runs(demo.employer_id, status=PayRunStatus.FINALISED):
        if run.period_start == first and run.corrects is None:
            return service.get_run(run.id)
    sheets = service.list_timesheets(employee_id=demo.pa_id, overlapping=(first, last))
    sheet = next((s for s in sheets if s.status is TimesheetStatus.APPROVED), None)
    if sheet is None:
        sheet = service.save_timesheet(demo.pa_id, period_start=first, period_end=last, shifts=_shifts(first, n),
                                       actor=pa)
        service.submit_timesheet(sheet.id, actor=pa)
        service.approve_timesheet(sheet.id, actor=holder)
    run = service.create_pay_run(demo.employer_id, period_start=first, period_end=last, payment_date=payday,
                                 frequency="four_weekly", actor=admin)
    service.calculate(run.id, actor=admin)
    service.review(run.id, actor=reviewer)
    service.approve(run.id, actor=holder)
    return service.finalise(run.id, actor=admin)
