"""Payslips and the employer cost summary: every figure shown, masked identifiers, accessible HTML, tagged PDF."""
from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

import pytest

from payroll.model import LineKind
from payroll.payslip_documents import (CostSummaryDisagrees, PayslipDoesNotAddUp, mask_nino, render_cost_summary_html,
                                       render_cost_summary_pdf, render_payslip_html, render_payslip_pdf)
from payroll.rendering import format_hours, format_long_date, format_money
from tests.unit.hmrc import pdftext
from tests.unit.payroll.payslip_samples import EMPLOYEES, EMPLOYER, GRACE, SAMIRA, THOMAS, sample_year


class Tables(HTMLParser):
    """Reads the tables of a document: caption -> rows of (row heading, [cells]); checks every th has a scope."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[tuple[str, list[str]]]] = {}
        self.lang = None
        self.th_without_scope = 0
        self.tables_without_caption = 0
        self._caption: str | None = None
        self._rows: list[tuple[str, list[str]]] = []
        self._row: list[tuple[str, str]] | None = None
        self._text: list[str] | None = None
        self._in_caption = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        elif tag == "table":
            self._caption, self._rows = None, []
        elif tag == "caption":
            self._in_caption, self._text = True, []
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            if tag == "th" and "scope" not in attrs:
                self.th_without_scope += 1
            self._text = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self._caption, self._in_caption = " ".join("".join(self._text).split()), False
        elif tag in ("th", "td") and self._row is not None:
            self._row.append((tag, " ".join("".join(self._text).split())))
            self._text = None
        elif tag == "tr" and self._row:
            heading = next((text for kind, text in self._row if kind == "th"), "")
            self._rows.append((heading, [text for kind, text in self._row if kind == "td"]))
            self._row = None
        elif tag == "table":
            if self._caption is None:
                self.tables_without_caption += 1
            self.tables[self._caption or f"table {len(self.tables)}"] = self._rows

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def row(self, caption: str, heading_start: str) -> list[str]:
        matches = [cells for heading, cells in self.tables[caption] if heading.startswith(heading_start)]
        assert len(matches) == 1, (caption, heading_start, self.tables[caption])
        return matches[0]

    def money(self, caption: str, heading_start: str) -> str:
        return self.row(caption, heading_start)[-1]


def _pounds(text: str) -> int:
    """'£1,234.56' -> 123456, for adding up what a document shows."""
    return int(text.replace("£", "").replace(",", "").replace(".", ""))


def _all_payslips():
    year = sample_year()
    return [(run, slip) for run in year.runs for slip in run.payslips]


def _structure_ok(doc: Tables) -> None:
    assert doc.lang == "en-GB"
    assert doc.tables and doc.tables_without_caption == 0 and doc.th_without_scope == 0


@pytest.mark.parametrize("index", range(len(_all_payslips())))
def test_payslip_html_shows_every_line_figure_and_the_year_to_date(index):
    _, slip = _all_payslips()[index]
    employee = EMPLOYEES[slip.employee_id]
    html = render_payslip_html(slip, employee, EMPLOYER)
    doc = Tables(html)
    _structure_ok(doc)
    assert "<caption>" in html and '<th scope="col"' in html and "<h1>" in html

    pay = [line for line in slip.lines if line.kind in (LineKind.EARNING, LineKind.STATUTORY)]
    pay_rows = doc.tables["Pay before deductions"]
    assert [h for h, _ in pay_rows if h != "Pay for" and h != "Gross pay"] == [line.description for line in pay]
    for line in pay:
        hours, rate, amount = doc.row("Pay before deductions", line.description)
        assert amount == format_money(line.amount)
        assert hours == (format_hours(line.hours) if line.hours is not None else "")
        assert rate.startswith(format_money(line.rate)) if line.rate is not None else rate == ""
    assert doc.money("Pay before deductions", "Gross pay") == format_money(slip.gross_pay)
    assert f"Taxable pay this period: {format_money(slip.taxable_pay)}" in html

    deductions = "Deductions"
    if slip.tax >= 0:
        assert doc.money(deductions, "Income Tax") == format_money(slip.tax)
    assert doc.money(deductions, "National Insurance") == format_money(slip.employee_ni)
    if slip.student_loan or any(p != "PGL" for p in employee.student_loan_plans):
        assert doc.money(deductions, "Student Loan") == format_money(slip.student_loan)
    if slip.postgraduate_loan or "PGL" in employee.student_loan_plans:
        assert doc.money(deductions, "Postgraduate Loan") == format_money(slip.postgraduate_loan)
    if slip.pension_relief_at_source:
        assert doc.money(deductions, "Workplace pension, relief at source") == format_money(
            slip.pension_relief_at_source)
    if slip.pension_net_pay:
        assert doc.money(deductions, "Workplace pension, net pay arrangement") == format_money(slip.pension_net_pay)
    for line in slip.lines:
        if line.kind is LineKind.DEDUCTION and line.code.startswith("deduction."):
            assert doc.money(deductions, line.description) == format_money(line.amount)
        if line.kind is LineKind.NON_TAXABLE:
            assert doc.money("Payments added after deductions", line.description) == format_money(line.amount)
    shown = [cells[-1] for heading, cells in doc.tables[deductions]
             if heading not in ("Deduction", "Total taken from your pay")]
    total_taken = doc.money(deductions, "Total taken from your pay")
    assert total_taken == format_money(sum(_pounds(m) for m in shown))

    assert doc.money("What you are paid", "Net pay") == format_money(slip.net_pay)
    employer_paid = "Paid by your employer on top of your pay (not taken from your pay)"
    assert doc.money(employer_paid, "Employer's National Insurance") == format_money(slip.employer_ni)
    assert doc.money(employer_paid, "Employer's pension") == format_money(slip.pension_employer)

    ytd, year = slip.year_to_date, "Year to date, including this payslip"
    assert doc.money(year, "Gross pay") == format_money(ytd.gross_pay)
    assert doc.money(year, "Taxable pay in this job") == format_money(ytd.taxable_pay - ytd.previous_taxable_pay)
    assert doc.money(year, "Income Tax in this job") == format_money(ytd.tax - ytd.previous_tax)
    assert doc.money(year, "National Insurance") == format_money(ytd.employee_ni)
    assert doc.money(year, "Employer's National Insurance") == format_money(ytd.employer_ni)
    assert doc.money(year, "Net pay") == format_money(ytd.net_pay)
    for heading, value in (("Student Loan", ytd.student_loan), ("Postgraduate Loan", ytd.postgraduate_loan),
                           ("Your pension contributions", ytd.pension_employee),
                           ("Your employer's pension contributions", ytd.pension_employer),
                           ("Statutory Sick Pay", ytd.ssp), ("Holiday pay", ytd.holiday_pay),
                           ("Taxable pay in earlier jobs", ytd.previous_taxable_pay),
                           ("Income Tax in earlier jobs", ytd.previous_tax)):
        if value:
            assert doc.money(year, heading) == format_money(value)
    if employee.irregular_hours and not employee.rolled_up_holiday:
        holiday = "Holiday hours"
        assert doc.money(holiday, "Holiday hours earned this pay period") == format_hours(slip.holiday_hours_accrued)
        assert doc.money(holiday, "Holiday hours taken this pay period") == format_hours(slip.holiday_hours_taken)
        assert doc.money(holiday, "Holiday hours earned this tax year") == format_hours(ytd.holiday_hours_accrued)
        assert doc.money(holiday, "Holiday hours taken this tax year") == format_hours(ytd.holiday_hours_taken)
        assert doc.money(holiday, "Holiday hours left to take") == format_hours(
            ytd.holiday_hours_accrued - ytd.holiday_hours_taken)

    details = "Who, when and how tax is worked out"
    assert doc.money(details, "Tax code") == slip.tax_code
    assert doc.money(details, "National Insurance category letter") == slip.ni_letter
    assert doc.money(details, "Payment date") == format_long_date(slip.payment_date)
    assert doc.money(details, "Pay period").startswith(f"Tax week {slip.period} of {slip.tax_year}")
    assert doc.money(details, "Work dates") == (f"{format_long_date(slip.period_start)} to "
                                                f"{format_long_date(slip.period_end)}")
    assert doc.money(details, "National Insurance number") == mask_nino(employee.nino)
    assert employee.bank_details.masked in doc.money("What you are paid", "Paid into")


def test_a_tax_refund_is_shown_as_a_refund_added_to_pay():
    slip = sample_year().week12.payslips[0]
    assert slip.tax < 0  # Grace was off sick nearly all of week 12: tax paid earlier comes back
    doc = Tables(render_payslip_html(slip, GRACE, EMPLOYER))
    refund = doc.money("Payments added after deductions", "Income Tax refund")
    assert refund == format_money(-slip.tax)
    assert not any(h.startswith("Income Tax") for h, _ in doc.tables["Deductions"])
    assert "-£" not in render_payslip_html(slip, GRACE, EMPLOYER)


def test_a_correction_payslip_says_so_and_shows_the_difference_with_the_corrected_year_to_date():
    year = sample_year()
    [slip] = year.week8_correction.payslips
    assert slip.is_adjustment and slip.gross_pay > 0
    html = render_payslip_html(slip, GRACE, EMPLOYER)
    assert "<h1>Correction payslip</h1>" in html and "<title>Correction payslip for Grace Adebayo" in html
    doc = Tables(html)
    corrected_hours = next(line for line in slip.lines if line.code == "hours.standard")
    hours, rate, amount = doc.row("Pay before deductions", corrected_hours.description)
    assert (hours, amount) == (format_hours(corrected_hours.hours), format_money(corrected_hours.amount))
    assert doc.money("Pay before deductions", "Gross pay") == format_money(slip.gross_pay)
    assert doc.money("What you are paid", "Net pay") == format_money(slip.net_pay)
    assert doc.money("Year to date, including this payslip", "Gross pay") == format_money(slip.year_to_date.gross_pay)
    overpaid = replace(slip, lines=tuple(replace(line, amount=-line.amount) for line in slip.lines),
                       **{name: -getattr(slip, name) for name in (
                           "gross_pay", "taxable_pay", "tax", "employee_ni", "employer_ni", "expenses", "net_pay")})
    html = render_payslip_html(overpaid, GRACE, EMPLOYER)
    assert Tables(html).money("What you are paid", "Overpaid") == format_money(slip.net_pay)
    assert f"You were overpaid: {format_money(slip.net_pay)}" in html


def test_reviewer_warnings_are_not_on_the_payslip():
    slip = sample_year().week8.payslips[0]
    assert slip.warnings
    html = render_payslip_html(slip, GRACE, EMPLOYER)
    text = pdftext.text(render_payslip_pdf(slip, GRACE, EMPLOYER))
    for warning in slip.warnings:
        assert warning not in html and warning not in text


@pytest.mark.parametrize("employee", [GRACE, THOMAS, SAMIRA], ids=lambda e: e.payroll_id)
def test_pdf_is_tagged_and_holds_the_figures_but_never_the_full_nino_or_account(employee):
    slip = next(p for p in sample_year().week8.payslips if p.employee_id == employee.id)
    html = render_payslip_html(slip, employee, EMPLOYER)
    pdf = render_payslip_pdf(slip, employee, EMPLOYER)
    assert pdf.startswith(b"%PDF-")
    structure = pdftext.everything(pdf)
    for marker in (b"/StructTreeRoot", b"/MarkInfo", b"/Lang (en-GB)", b"/H1", b"/H2", b"/Table", b"/TH", b"/Caption"):
        assert marker in structure, marker
    assert f"Payslip for {employee.full_name}".encode() in structure  # the document title in the metadata
    text = pdftext.text(pdf)
    ytd = slip.year_to_date
    figures = [slip.gross_pay, slip.taxable_pay, slip.employee_ni, slip.employer_ni, slip.net_pay, ytd.gross_pay,
               ytd.tax - ytd.previous_tax, ytd.employee_ni, ytd.net_pay, *(line.amount for line in slip.lines
                                                                       if line.kind is not LineKind.EMPLOYER)]
    figures += [v for v in (slip.student_loan, slip.postgraduate_loan, slip.pension_employee, slip.pension_employer,
                            ytd.student_loan, ytd.postgraduate_loan, ytd.previous_taxable_pay, ytd.previous_tax) if v]
    for figure in figures:
        assert format_money(figure) in text, figure
    assert slip.tax_code in text and format_long_date(slip.payment_date) in text

    nino, bank = employee.nino, employee.bank_details
    for document in (html, text):
        squashed = "".join(document.split())
        assert nino not in squashed and nino[:-3] not in squashed
        assert bank.account_number not in squashed and bank.sort_code not in squashed
        assert mask_nino(nino) in document and bank.masked in document


def test_starter_payslip_shows_the_p45_figures_apart_from_this_job():
    slip = next(p for p in sample_year().week8.payslips if p.employee_id == SAMIRA.id)
    ytd = slip.year_to_date
    assert ytd.previous_taxable_pay == SAMIRA.previous_employment.taxable_pay
    doc = Tables(render_payslip_html(slip, SAMIRA, EMPLOYER))
    year = "Year to date, including this payslip"
    assert doc.money(year, "Taxable pay in this job") == format_money(slip.taxable_pay)
    assert doc.money(year, "Income Tax in this job") == format_money(slip.tax)
    assert doc.money(year, "Taxable pay in earlier jobs") == format_money(SAMIRA.previous_employment.taxable_pay)
    assert doc.money(year, "Income Tax in earlier jobs") == format_money(SAMIRA.previous_employment.tax)
    sleep_in = next(line for line in slip.lines if line.code == "hours.sleep_in")
    assert doc.row("Pay before deductions", sleep_in.description)[1] == f"{format_money(sleep_in.rate)} a night"


def test_a_payslip_that_does_not_add_up_is_refused():
    slip = sample_year().week8.payslips[1]
    with pytest.raises(PayslipDoesNotAddUp, match="net pay"):
        render_payslip_html(replace(slip, net_pay=slip.net_pay + 1), THOMAS, EMPLOYER)
    with pytest.raises(PayslipDoesNotAddUp, match="gross pay"):
        render_payslip_html(replace(slip, gross_pay=slip.gross_pay + 100, net_pay=slip.net_pay + 100), THOMAS, EMPLOYER)
    with pytest.raises(ValueError, match="not pa-grace"):
        render_payslip_html(slip, GRACE, EMPLOYER)


@pytest.mark.parametrize("nino, shown", [("AB123456C", "** ** ** 56 C"), ("ab 12 34 56 c", "** ** ** 56 C"),
                                         (None, "Not known")])
def test_nino_masking_keeps_only_the_last_three_characters(nino, shown):
    assert mask_nino(nino) == shown


# ------------------------------------------------------------------------------------------- cost summary

@pytest.mark.parametrize("which", ["week4", "week8", "week12"])
def test_cost_summary_rows_and_totals_are_the_sums_of_the_payslips(which):
    run = getattr(sample_year(), which)
    html = render_cost_summary_html(run, EMPLOYER, EMPLOYEES)
    doc = Tables(html)
    _structure_ok(doc)
    per_pa = "What each personal assistant costs you this pay run"
    for slip in run.payslips:
        cells = doc.row(per_pa, EMPLOYEES[slip.employee_id].full_name)
        assert cells == [format_money(v) for v in (slip.gross_pay, slip.employer_ni, slip.pension_employer,
                                                   slip.expenses, slip.employer_cost)]
        assert _pounds(cells[0]) + _pounds(cells[1]) + _pounds(cells[2]) + _pounds(cells[3]) == _pounds(cells[4])
    slips = run.payslips
    gross, er_ni = sum(p.gross_pay for p in slips), sum(p.employer_ni for p in slips)
    pension, expenses = sum(p.pension_employer for p in slips), sum(p.expenses for p in slips)
    assert doc.row(per_pa, "All personal assistants") == [format_money(v) for v in (
        gross, er_ni, pension, expenses, sum(p.employer_cost for p in slips))]

    allowance = run.summary.employment_allowance_used
    cost = "Total cost after the Employment Allowance"
    assert doc.money(cost, "Gross pay") == format_money(gross)
    assert doc.money(cost, "Employer's National Insurance to pay") == format_money(er_ni - allowance)
    assert doc.money(cost, "Employment Allowance used") == format_money(allowance)
    assert doc.money(cost, "Total cost of this pay run") == format_money(gross + er_ni - allowance + pension + expenses)
    hmrc = "Due to HMRC for this pay run"
    tax, ee_ni = sum(p.tax for p in slips), sum(p.employee_ni for p in slips)
    loans = sum(p.student_loan + p.postgraduate_loan for p in slips)
    assert doc.money(hmrc, "Income Tax") == format_money(tax)
    assert doc.money(hmrc, "Employees' National Insurance") == format_money(ee_ni)
    assert doc.money(hmrc, "Student and Postgraduate Loans") == format_money(loans)
    assert doc.money(hmrc, "Due to HMRC") == format_money(tax + ee_ni + er_ni - allowance + loans)
    others = "Paid to others"
    assert doc.money(others, "Net pay to personal assistants") == format_money(sum(p.net_pay for p in slips))
    assert doc.money(others, "Pension contributions") == format_money(
        sum(p.pension_employee + p.pension_employer for p in slips))


def test_cost_summary_pdf_is_tagged_and_shows_the_totals():
    run = sample_year().week8
    pdf = render_cost_summary_pdf(run, EMPLOYER, EMPLOYEES)
    structure = pdftext.everything(pdf)
    for marker in (b"/StructTreeRoot", b"/Lang (en-GB)", b"/Table", b"/TH", b"/Caption"):
        assert marker in structure, marker
    text = pdftext.text(pdf)
    for slip in run.payslips:
        assert EMPLOYEES[slip.employee_id].full_name in text and format_money(slip.employer_cost) in text
    assert format_money(run.summary.total_cost) in text and format_money(run.summary.due_to_hmrc) in text
    assert not any(e.nino in text for e in EMPLOYEES.values())


def test_cost_summary_refuses_a_summary_that_is_not_the_sum_of_its_payslips():
    run = sample_year().week8
    broken = replace(run, summary=replace(run.summary, gross_pay=run.summary.gross_pay + 1))
    with pytest.raises(CostSummaryDisagrees):
        render_cost_summary_html(broken, EMPLOYER, EMPLOYEES)


def test_cost_summary_of_a_run_without_a_summary_adds_up_the_payslips():
    run = replace(sample_year().week4, summary=None)
    doc = Tables(render_cost_summary_html(run, EMPLOYER))  # no names given: rows show the employee ids
    assert doc.money("Due to HMRC for this pay run", "Due to HMRC") == format_money(
        sum(p.tax + p.employee_ni + p.employer_ni + p.student_loan + p.postgraduate_loan for p in run.payslips))
    for slip in run.payslips:
        assert doc.money("What each personal assistant costs you this pay run", slip.employee_id) == format_money(
            slip.employer_cost)
