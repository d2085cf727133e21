"""Full Payment Submission (FPS) for 2026-27, in the element order of HMRC's FPS schema.

Layout: GovTalk envelope > Body > IRenvelope (IRheader, FullPaymentSubmission (EmpRefs, RelatedTaxYear,
Employee..., FinalSubmission)). Figures come in as pence and go out as HMRC's two-decimal amounts; nothing is
recalculated here, so the document says exactly what the pay run computed.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from hmrc_export.amounts import hmrc_amount
from hmrc_export.envelope import FPS_CLASS, ChannelRouting, govtalk_message, ir_header
from hmrc_export.irmark import insert_irmark_written
from hmrc_export.model import Employee, EmployeePayment, Employer, LateReason, Payment
from hmrc_export.taxyear import TaxYear
from hmrc_export.xmlwriter import XmlWriter

# Pay period and year-to-date fields that a correcting FPS reports as "difference from what was sent".
_PERIOD_FIELDS = ("taxable_pay", "tax_deducted", "student_loan_recovered", "postgraduate_loan_recovered",
                  "pension_net_pay", "pension_not_net_pay", "non_tax_or_nic_payment", "deductions_from_net_pay")


def build_fps(employer: Employer, payments: Sequence[EmployeePayment], *, tax_year: TaxYear | None = None,
              channel: ChannelRouting = ChannelRouting(), timestamp: datetime | None = None,
              final_for_year: bool = False, scheme_ceased: date | None = None) -> bytes:
    """The GovTalk FPS message, IRmarked, as UTF-8 bytes.

    ``tax_year`` defaults to the year of the payment dates (they must share one). ``final_for_year`` sets
    ``FinalSubmission/ForYear`` (the last FPS of the year); ``scheme_ceased`` reports a closed PAYE scheme.
    """
    year = tax_year or _year_of(payments)
    body = fps_body(employer, payments, year, final_for_year=final_for_year, scheme_ceased=scheme_ceased)
    message = govtalk_message(FPS_CLASS, employer, body, channel=channel, timestamp=timestamp)
    return insert_irmark_written(message)


def _year_of(payments: Sequence[EmployeePayment]) -> TaxYear:
    years = {TaxYear.of(p.payment.payment_date) for p in payments}
    if len(years) != 1:
        raise ValueError("give tax_year: the payments are not all in one tax year" if years
                         else "give tax_year for an FPS without employees")
    return years.pop()


def fps_body(employer: Employer, payments: Sequence[EmployeePayment], year: TaxYear, *,
             final_for_year: bool = False, scheme_ceased: date | None = None) -> str:
    w = XmlWriter(depth=2)
    w.open("IRenvelope", {"xmlns": year.fps_namespace()})
    ir_header(w, employer, year)
    w.open("FullPaymentSubmission")
    w.open("EmpRefs")
    w.leaf("OfficeNo", employer.hmrc_office_number).leaf("PayeRef", employer.paye_reference)
    w.leaf("AORef", employer.accounts_office_reference)
    w.leaf("SAUTR", employer.sa_utr).leaf("COTAXRef", employer.cotax_reference)
    w.close()
    w.leaf("RelatedTaxYear", year.short)
    for item in payments:
        _employee(w, item.employee, item.payment)
    if final_for_year or scheme_ceased:
        w.open("FinalSubmission")
        if scheme_ceased:
            w.leaf("BecauseSchemeCeased", "yes").leaf("DateSchemeCeased", scheme_ceased.isoformat())
        if final_for_year:
            w.leaf("ForYear", "yes")
        w.close()
    w.close().close()
    return w.text()


def _amount_if(value: int, *others: int) -> str | None:
    """Optional money elements are left out when they and their companions are all zero."""
    return hmrc_amount(value) if value or any(others) else None


def _employee(w: XmlWriter, employee: Employee, p: Payment) -> None:
    w.open("Employee").open("EmployeeDetails")
    w.leaf("NINO", employee.nino)
    w.open("Name").leaf("Ttl", employee.name.title)
    for fore in employee.name.forenames:
        w.leaf("Fore", fore)
    w.leaf("Sur", employee.name.surname).close()
    if employee.address is not None:
        w.open("Address")
        for line in employee.address.lines:
            w.leaf("Line", line)
        w.leaf("UKPostcode", employee.address.postcode).leaf("ForeignCountry", employee.address.foreign_country)
        w.close()
    w.leaf("BirthDate", employee.birth_date.isoformat()).leaf("Gender", employee.gender.value)
    w.close()

    w.open("Employment")
    s = employee.starter
    if s is not None:
        w.open("Starter").leaf("StartDate", s.start_date.isoformat())
        w.leaf("StartDec", s.declaration.value if s.declaration else None)
        w.leaf("StudentLoan", "yes" if s.student_loan else None)
        w.leaf("PostgradLoan", "yes" if s.postgraduate_loan else None)
        w.close()
    w.leaf("PayId", employee.payroll_id)
    w.leaf("IrrEmp", "yes" if employee.irregular_payment else None)
    w.leaf("LeavingDate", employee.leaving_date.isoformat() if employee.leaving_date else None)

    w.open("FiguresToDate")
    w.leaf("TaxablePay", hmrc_amount(p.taxable_pay_to_date)).leaf("TotalTax", hmrc_amount(p.tax_deducted_to_date))
    w.leaf("StudentLoansTD", hmrc_amount(p.student_loan_recovered_to_date)
           if p.student_loan_plan or p.student_loan_recovered_to_date else None)
    w.leaf("PostgradLoansTD", _amount_if(p.postgraduate_loan_recovered_to_date, p.postgraduate_loan_recovered))
    w.leaf("EmpeePenContribnsPaidYTD", _amount_if(p.pension_net_pay_to_date, p.pension_net_pay))
    w.leaf("EmpeePenContribnsNotPaidYTD", _amount_if(p.pension_not_net_pay_to_date, p.pension_not_net_pay))
    w.close()

    w.open("Payment")
    w.leaf("PayFreq", p.frequency.value).leaf("PmtDate", p.payment_date.isoformat())
    w.leaf("LateReason", p.late_reason.value if p.late_reason else None)
    if (p.tax_week is None) == (p.tax_month is None):
        raise ValueError(f"employee {employee.label}: give exactly one of tax_week and tax_month")
    w.leaf("WeekNo", str(p.tax_week) if p.tax_week is not None else None)
    w.leaf("MonthNo", str(p.tax_month) if p.tax_month is not None else None)
    w.leaf("PeriodsCovered", str(p.periods_covered))
    w.leaf("PmtAfterLeaving", "yes" if p.payment_after_leaving else None)
    w.leaf("HoursWorked", p.hours_worked.value)
    code_attrs = {}
    if p.tax_code.non_cumulative:
        code_attrs["BasisNonCumulative"] = "yes"
    if p.tax_code.regime is not None:
        code_attrs["TaxRegime"] = p.tax_code.regime.value
    w.leaf("TaxCode", p.tax_code.code, code_attrs)
    w.leaf("TaxablePay", hmrc_amount(p.taxable_pay))
    w.leaf("NonTaxOrNICPmt", _amount_if(p.non_tax_or_nic_payment))
    w.leaf("DednsFromNetPay", _amount_if(p.deductions_from_net_pay))
    w.leaf("PayAfterStatDedns", hmrc_amount(p.pay_after_statutory_deductions)
           if p.pay_after_statutory_deductions is not None else None)
    w.leaf("EmpeePenContribnsPaid", _amount_if(p.pension_net_pay, p.pension_net_pay_to_date))
    w.leaf("EmpeePenContribnsNotPaid", _amount_if(p.pension_not_net_pay, p.pension_not_net_pay_to_date))
    if p.student_loan_plan is not None:
        w.leaf("StudentLoanRecovered", hmrc_amount(p.student_loan_recovered), {"PlanType": p.student_loan_plan.value})
    w.leaf("PostgradLoanRecovered", _amount_if(p.postgraduate_loan_recovered, p.postgraduate_loan_recovered_to_date))
    w.leaf("TaxDeductedOrRefunded", hmrc_amount(p.tax_deducted))
    w.leaf("UnpaidAbsence", "yes" if p.unpaid_absence else None)
    sp = p.statutory_pay_to_date
    for tag, value in (("SMPYTD", sp.smp), ("SPPYTD", sp.spp), ("SAPYTD", sp.sap), ("ShPPYTD", sp.shpp),
                       ("SPBPYTD", sp.spbp), ("SNCPYTD", sp.sncp)):
        w.leaf(tag, _amount_if(value))
    w.close()

    for n in p.ni:
        w.open("NIlettersAndValues")
        w.leaf("NIletter", n.letter)
        w.leaf("GrossEarningsForNICsInPd", hmrc_amount(n.gross_earnings))
        w.leaf("GrossEarningsForNICsYTD", hmrc_amount(n.gross_earnings_to_date))
        w.leaf("AtLELYTD", hmrc_amount(n.at_lel_to_date))
        w.leaf("LELtoPTYTD", hmrc_amount(n.lel_to_pt_to_date))
        w.leaf("PTtoUELYTD", hmrc_amount(n.pt_to_uel_to_date))
        # TotalEmpNIC is the employer's (secondary) contribution: HMRC's 2014-15 sample shows 13.8% of pay above ST.
        w.leaf("TotalEmpNICInPd", hmrc_amount(n.employer_contributions))
        w.leaf("TotalEmpNICYTD", hmrc_amount(n.employer_contributions_to_date))
        w.leaf("EmpeeContribnsInPd", hmrc_amount(n.employee_contributions))
        w.leaf("EmpeeContribnsYTD", hmrc_amount(n.employee_contributions_to_date))
        w.close()
    w.close().close()


def correction(original: Payment, corrected: Payment) -> Payment:
    """The payment an additional FPS reports to correct one already sent in this tax year.

    HMRC, "Fix problems with running payroll" (gov.uk/payroll-errors/correcting-pay-or-deductions): the
    'this pay period' figures carry the difference between what was reported and the correct figures, the
    year-to-date figures are the corrected ones, with the same payment date and pay frequency as the original
    and late reporting reason H. (Correcting the next regular FPS needs nothing special: its year-to-date
    figures already include the correction.)
    """
    if original.payment_date != corrected.payment_date or original.frequency != corrected.frequency:
        raise ValueError("a correction keeps the payment date and pay frequency of the original FPS")
    differences = {name: getattr(corrected, name) - getattr(original, name) for name in _PERIOD_FIELDS}
    by_letter = {n.letter: n for n in original.ni}
    ni = tuple(replace(n, gross_earnings=n.gross_earnings - (by_letter[n.letter].gross_earnings if n.letter in by_letter else 0),
                       employee_contributions=n.employee_contributions
                       - (by_letter[n.letter].employee_contributions if n.letter in by_letter else 0),
                       employer_contributions=n.employer_contributions
                       - (by_letter[n.letter].employer_contributions if n.letter in by_letter else 0))
               for n in corrected.ni)
    return replace(corrected, ni=ni, late_reason=LateReason.CORRECTION, **differences)
