"""One employee's pay period from gross to net: every figure a payslip and an FPS need.

Order of the calculation: pension (a net pay arrangement comes off pay before tax), PAYE on the taxable pay,
Class 1 NI and student loans on the NI-able (gross) pay, then the net pay.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable

from payroll.rules.auto_enrolment import PensionContributions, PensionScheme, pension_contributions
from payroll.rules.income_tax import IncomeTax, calculate_income_tax
from payroll.rules.money import ZERO, to_money
from payroll.rules.national_insurance import NIContributions, calculate_ni
from payroll.rules.periods import Frequency
from payroll.rules.student_loans import StudentLoanDeductions, calculate_student_loans
from payroll.rules.tax_codes import TaxCode
from payroll.rules.yearly_rates import check_tax_year


@dataclass(frozen=True)
class PayPeriodInputs:
    """What the pay run knows about one employee's payment.

    ``gross_pay`` is this period's pay subject to tax and NI (SSP and holiday pay included).
    ``previous_taxable_pay_to_date`` and ``previous_tax_to_date`` are this tax year's figures before this
    payment (P45 figures from an earlier employment included), the taxable pay being after any net pay pension
    contributions. ``pension_earnings`` defaults to the gross pay.
    """
    tax_year: str
    frequency: Frequency | str
    period: int
    tax_code: TaxCode | str
    gross_pay: Decimal | str
    non_cumulative: bool = False
    previous_taxable_pay_to_date: Decimal | str = ZERO
    previous_tax_to_date: Decimal | str = ZERO
    ni_letter: str = "A"
    student_loan_plans: Iterable[object] = field(default_factory=tuple)
    pension: PensionScheme | None = None
    pension_earnings: Decimal | str | None = None
    non_taxable_payments: Decimal | str = ZERO     # e.g. expenses repaid: no tax or NI, added to net pay
    deductions_from_net_pay: Decimal | str = ZERO  # e.g. attachment orders, agreed repayments


@dataclass(frozen=True)
class GrossToNet:
    gross_pay: Decimal
    pension: PensionContributions | None
    taxable_pay: Decimal                 # gross less net pay arrangement contributions: FPS TaxablePay
    income_tax: IncomeTax
    ni: NIContributions
    student_loans: StudentLoanDeductions
    non_taxable_payments: Decimal
    deductions_from_net_pay: Decimal
    net_pay: Decimal

    @property
    def tax(self) -> Decimal:
        return self.income_tax.tax

    @property
    def tax_to_date(self) -> Decimal:
        return self.income_tax.tax_to_date

    @property
    def taxable_pay_to_date(self) -> Decimal:
        return self.income_tax.pay_to_date

    @property
    def employee_ni(self) -> Decimal:
        return self.ni.employee

    @property
    def employer_ni(self) -> Decimal:
        return self.ni.employer

    @property
    def student_loan(self) -> Decimal:
        return self.student_loans.student_loan

    @property
    def postgraduate_loan(self) -> Decimal:
        return self.student_loans.postgraduate_loan

    @property
    def pension_net_pay(self) -> Decimal:
        """FPS EmpeePenContribnsPaid: contributions under a net pay arrangement."""
        return self.pension.employee_deduction if self.pension and self.pension.reduces_taxable_pay else ZERO

    @property
    def pension_relief_at_source(self) -> Decimal:
        """FPS EmpeePenContribnsNotPaid: contributions taken from net pay (relief at source)."""
        return self.pension.employee_deduction if self.pension and not self.pension.reduces_taxable_pay else ZERO

    @property
    def employer_pension(self) -> Decimal:
        return self.pension.employer_contribution if self.pension else ZERO

    @property
    def total_deductions(self) -> Decimal:
        """Everything taken from gross pay (a tax refund counts as a negative deduction)."""
        return (self.pension_net_pay + self.pension_relief_at_source + self.tax + self.employee_ni
                + self.student_loan + self.postgraduate_loan + self.deductions_from_net_pay)

    @property
    def employer_cost(self) -> Decimal:
        """Gross pay, employer NI and employer pension, plus expenses repaid."""
        return self.gross_pay + self.employer_ni + self.employer_pension + self.non_taxable_payments


def gross_to_net(inputs: PayPeriodInputs) -> GrossToNet:
    tax_year = check_tax_year(inputs.tax_year)
    frequency = Frequency.parse(inputs.frequency)
    gross = to_money(inputs.gross_pay, "gross pay")
    extra = to_money(inputs.non_taxable_payments, "non-taxable payments")
    other = to_money(inputs.deductions_from_net_pay, "deductions from net pay")

    pension = None
    if inputs.pension is not None:
        earnings = gross if inputs.pension_earnings is None else inputs.pension_earnings
        pension = pension_contributions(tax_year, frequency, earnings, inputs.pension)
    net_pay_pension = pension.employee_deduction if pension and pension.reduces_taxable_pay else ZERO
    # Net pay arrangement: contributions come off pay before PAYE (not before NI or student loans).
    taxable = max(gross - net_pay_pension, ZERO)

    income_tax = calculate_income_tax(tax_year, frequency, inputs.period, inputs.tax_code, taxable,
                                      inputs.previous_taxable_pay_to_date, inputs.previous_tax_to_date,
                                      inputs.non_cumulative)
    ni = calculate_ni(tax_year, frequency, inputs.ni_letter, gross)
    loans = calculate_student_loans(tax_year, frequency, gross, inputs.student_loan_plans)
    pension_deduction = pension.employee_deduction if pension else ZERO
    deductions = (pension_deduction + income_tax.tax + ni.employee + loans.student_loan + loans.postgraduate_loan
                  + other)
    return GrossToNet(gross, pension, taxable, income_tax, ni, loans, extra, other, gross - deductions + extra)
