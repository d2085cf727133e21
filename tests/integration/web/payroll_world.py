"""A real payroll behind the standard test wallet, for the timesheet and payslip pages: the wallet employs two
PAs on monthly pay (Jo Smith and Sam Jones), and Jo signs in as ``pa`` (``pa@example.org``), linked to her own
payroll record. Made through the portal's own payroll service, so the same keys seal NI numbers and bank
details."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from payroll.model import BankDetails, Employee, Employer, EmployerKind, HourKind, PayRates, PayRun, Shift, Timesheet
from payroll.service import PayrollService
from tests.integration.web.people import person
from wallet.domain import wallets
from wallet.domain.personal_assistants import link_personal_assistant
from wallet.domain.unit_of_work import SYSTEM
from wallet.web.views.timesheets import payroll

UK = ZoneInfo("Europe/London")
JO_NINO, JO_SORT_CODE, JO_ACCOUNT = "AB123456C", "402716", "71234567"
MONTH_1 = (date(2026, 4, 6), date(2026, 5, 5))   # tax month 1 of 2026-27


@dataclass
class PayrollWorld:
    service: PayrollService
    employer: Employer
    jo: Employee
    sam: Employee
    pa_user: str

    def shifts(self, first: date = MONTH_1[0], days: int = 5, hours: int = 6) -> tuple[Shift, ...]:
        out = []
        for n in range(days):
            day = first + timedelta(days=n)
            starts = datetime(day.year, day.month, day.day, 9, tzinfo=UK)
            out.append(Shift(starts, starts + timedelta(hours=hours), HourKind.STANDARD))
        return tuple(out)

    def submitted(self, employee: Employee, by: str, period=MONTH_1) -> Timesheet:
        sheet = self.service.save_timesheet(employee.id, period_start=period[0], period_end=period[1],
                                            shifts=self.shifts(period[0]), expenses=1_250, actor=by)
        return self.service.submit_timesheet(sheet.id, actor=by)

    def finalised_month_1(self, by: str, approver: str) -> PayRun:
        """Both PAs' month 1 approved, paid on 30 April 2026 and finalised."""
        for employee in (self.jo, self.sam):
            sheet = self.submitted(employee, by)
            self.service.approve_timesheet(sheet.id, actor=approver)
        run = self.service.create_pay_run(self.employer.id, period_start=MONTH_1[0], period_end=MONTH_1[1],
                                          payment_date=date(2026, 4, 30), frequency="monthly", actor="payroll")
        self.service.calculate(run.id, actor="payroll")
        self.service.review(run.id, actor="payroll")
        self.service.approve(run.id, actor=approver)
        return self.service.finalise(run.id, actor="payroll")


def add_payroll(portal) -> PayrollWorld:
    """Give the portal's world a payroll employer with two PAs, and a sign-in for Jo (``portal.client("pa")``)."""
    w = portal.world
    with portal.app.app_context():
        service = payroll()
        employer = service.add_employer(
            name="Asha Patel", kind=EmployerKind.BUDGET_HOLDER, hmrc_office_number="120", paye_reference="A120",
            accounts_office_reference="120PA00012345", claims_employment_allowance=True, owner_ref=w.wallet.id,
            actor="payroll")
        staff = []
        for payroll_id, forename, surname, nino in (("PA1", "Jo", "Smith", JO_NINO),
                                                    ("PA2", "Sam", "Jones", "JS102938B")):
            employee = service.add_employee(
                employer.id, payroll_id=payroll_id, forenames=[forename], surname=surname,
                birth_date=date(1990, 5, 17), start_date=date(2026, 1, 5), frequency="monthly", tax_code="1257L",
                nino=nino, bank_details=BankDetails(f"{forename[0]} {surname}", JO_SORT_CODE, JO_ACCOUNT),
                actor="payroll")
            service.add_contract(employee.id, starts=date(2026, 1, 5),
                                 rates=PayRates(standard=1_300, night=1_450, weekend=1_400, sleep_in_flat=9_500),
                                 contracted_hours_per_week="20", actor="payroll")
            staff.append(employee)
        wallets.update_wallet(w.uow, w.wallet.id, actor=SYSTEM, payroll_employer_id=employer.id)
    pa_user = person(portal.app, "Jo Smith", "pa@example.org")
    link_personal_assistant(w.uow, service, w.wallet.id, pa_user, staff[0].id, actor=SYSTEM)
    w.users["pa"] = pa_user
    return PayrollWorld(service, employer, staff[0], staff[1], pa_user)
