"""A small employer's pay runs for the tests: figures as a finished pay run would give them (pence)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from hmrc_export.model import (Address, Employee, EmployeePayment, Employer, Gender, HoursWorked, Name,
                               NIContributions, Payment, PayFrequency, Starter, StarterDeclaration, StudentLoanPlan,
                               TaxCode)

EMPLOYER = Employer(name="Mrs Joan Holder", hmrc_office_number="120", paye_reference="HA12345",
                    accounts_office_reference="120PA00123456", claims_employment_allowance=True,
                    address=Address(("14 Church Lane", "Leeds"), "LS6 2AB"))

# 2026-27 four-weekly NI bands (PAYROLL-RULES.md): LEL 516, PT 967, ST 385, UEL 3,867.
LEL, PT, ST, UEL = 51_600, 96_700, 38_500, 386_700


def ni_a(gross: int, periods: int = 1) -> NIContributions:
    """Letter A figures for ``periods`` equal four-weekly payments of ``gross`` (the last one 'this period')."""
    at_lel = LEL if gross >= LEL else 0
    lel_pt = max(0, min(gross, PT) - LEL) if gross >= LEL else 0
    pt_uel = max(0, min(gross, UEL) - PT)
    employee = pt_uel * 8 // 100
    employer = max(0, gross - ST) * 15 // 100
    return NIContributions("A", gross, gross * periods, at_lel * periods, lel_pt * periods, pt_uel * periods,
                           employee, employee * periods, employer, employer * periods)


def payment(gross: int, tax: int, *, periods: int = 1, week: int = 8, code: str = "1257L",
            paid: date = date(2026, 5, 29), **extra) -> Payment:
    return Payment(frequency=PayFrequency.FOUR_WEEKLY, payment_date=paid, hours_worked=HoursWorked.FROM_16_TO_23_99,
                   tax_code=TaxCode.parse(code), taxable_pay=gross, taxable_pay_to_date=gross * periods,
                   tax_deducted=tax, tax_deducted_to_date=tax * periods, ni=(ni_a(gross, periods),), tax_week=week,
                   **extra)


def person(pay_id: str, fore: str, sur: str, nino: str | None, **extra) -> Employee:
    return Employee(payroll_id=pay_id, name=Name((fore,), sur), birth_date=date(1990, 3, 14), gender=Gender.FEMALE,
                    nino=nino, address=Address(("3 Mill Road", "Leeds"), "LS6 3CD"), **extra)


def four_weekly_run() -> list[EmployeePayment]:
    """Tax week 8 run paid on 29 May 2026: a starter, a leaver, a Scottish code, a week-1 code, a student loan."""
    starter = person("PA-001", "Amira", "Khan", "AB123456C",
                     starter=Starter(date(2026, 5, 4), StarterDeclaration.A))
    leaver = person("PA-002", "Brian", "Lowe", "CE654321A", leaving_date=date(2026, 5, 27))
    scot = person("PA-003", "Catriona", "Macleod", "JK112233B")
    week1 = person("PA-004", "Dev", "Patel", "ML445566D",
                   starter=Starter(date(2026, 4, 20), StarterDeclaration.B))
    loan = person("PA-005", "Ella", "Okafor", "PR778899A")
    return [
        EmployeePayment(starter, payment(148_000, 10_220)),
        EmployeePayment(leaver, payment(95_000, 0, periods=2)),
        EmployeePayment(scot, payment(210_000, 21_780, periods=2, code="S1257L")),
        EmployeePayment(week1, payment(160_000, 12_620, periods=2, code="1257L W1")),
        EmployeePayment(loan, payment(250_000, 30_620, periods=2, student_loan_plan=StudentLoanPlan.PLAN_2,
                                      student_loan_recovered=4_000, student_loan_recovered_to_date=8_000,
                                      pension_net_pay=7_500, pension_net_pay_to_date=15_000)),
    ]


def monthly_year(gross: int = 200_000, tax: int = 19_520, *, employee: Employee | None = None) -> tuple[Employee, list[Payment]]:
    """Twelve monthly payments (25th of each tax month, 28 April for month 1) to one employee."""
    who = employee or person("PA-010", "Fatima", "Rahman", "AB654321D")
    payments = []
    for month in range(1, 13):
        paid = date(2026, 4, 28) if month == 1 else date(2026 + (month >= 10), (month + 3 - 1) % 12 + 1, 25)
        ni = NIContributions("A", gross, gross * month, 55_900 * month, 48_900 * month, 95_200 * month,
                             7_616, 7_616 * month, 23_850, 23_850 * month)
        payments.append(Payment(frequency=PayFrequency.MONTHLY, payment_date=paid,
                                hours_worked=HoursWorked.THIRTY_OR_MORE, tax_code=TaxCode.parse("1257L"),
                                taxable_pay=gross, taxable_pay_to_date=gross * month, tax_deducted=tax,
                                tax_deducted_to_date=tax * month, ni=(ni,), tax_month=month,
                                student_loan_plan=StudentLoanPlan.PLAN_1, student_loan_recovered=1_000,
                                student_loan_recovered_to_date=1_000 * month))
    return who, payments


def with_payment(item: EmployeePayment, **changes) -> EmployeePayment:
    return replace(item, payment=replace(item.payment, **changes))
