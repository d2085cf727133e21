"""Pay runs and payslips built by hand, as the payroll calculation (built elsewhere) will hand them over."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from payroll.model import EmployerCostSummary, NIFigures, PayRun, PayRunStatus, Payslip, YearToDate


def payslip(run_id: str, employee_id: str, *, gross: int, tax: int, ee_ni: int, er_ni: int, ee_pension: int = 0,
            er_pension: int = 0, student_loan: int = 0, postgraduate_loan: int = 0, expenses: int = 0,
            net: int | None = None, payment_date: date = date(2026, 4, 30)) -> Payslip:
    if net is None:
        net = gross + expenses - tax - ee_ni - student_loan - postgraduate_loan - ee_pension
    return Payslip(
        id=f"{run_id}:{employee_id}", pay_run_id=run_id, employee_id=employee_id, tax_year="2026-27",
        frequency="monthly", period=1, period_start=date(2026, 4, 6), period_end=date(2026, 5, 5),
        payment_date=payment_date, tax_code="1257L", non_cumulative=False, ni_letter="A", lines=(),
        gross_pay=gross, taxable_pay=gross, tax=tax, employee_ni=ee_ni, employer_ni=er_ni,
        ni=(NIFigures("A", gross, 0, 0, 0, ee_ni, er_ni),), student_loan=student_loan,
        postgraduate_loan=postgraduate_loan, pension_employee=ee_pension, pension_employer=er_pension,
        pension_net_pay=0, pension_relief_at_source=ee_pension, ssp=0, holiday_pay=0,
        holiday_hours_accrued=Decimal(0), expenses=expenses, net_pay=net, year_to_date=YearToDate(),
        hours_worked=Decimal("100"), is_adjustment=False)


def pay_run(run_id: str, *slips: Payslip, allowance: int = 0, corrects: str | None = None,
            status: PayRunStatus = PayRunStatus.FINALISED, payment_date: date = date(2026, 4, 30),
            employer_id: str = "employer-1", with_summary: bool = True) -> PayRun:
    summary = None
    if with_summary:
        summary = EmployerCostSummary(
            employees=len(slips), gross_pay=sum(s.gross_pay for s in slips),
            employer_ni=sum(s.employer_ni for s in slips), employment_allowance_used=allowance,
            employer_pension=sum(s.pension_employer for s in slips), expenses=sum(s.expenses for s in slips),
            tax=sum(s.tax for s in slips), employee_ni=sum(s.employee_ni for s in slips),
            student_loans=sum(s.student_loan + s.postgraduate_loan for s in slips),
            net_pay=sum(s.net_pay for s in slips))
    return PayRun(id=run_id, employer_id=employer_id, tax_year="2026-27", frequency="monthly", period=1,
                  period_start=date(2026, 4, 6), period_end=date(2026, 5, 5), payment_date=payment_date,
                  status=status, payslips=tuple(slips), summary=summary, corrects=corrects)


def slips_for(run_id: str) -> tuple[Payslip, Payslip]:
    """Two PAs: Jo (with a Plan 2 student loan and expenses) and Kim."""
    jo = payslip(run_id, "pa-jo", gross=180_000, tax=10_780, ee_ni=4_312, er_ni=19_731, ee_pension=6_600,
                 er_pension=3_960, student_loan=500, expenses=1_250)
    kim = payslip(run_id, "pa-kim", gross=90_000, tax=0, ee_ni=0, er_ni=6_231, ee_pension=1_600, er_pension=960)
    return jo, kim
