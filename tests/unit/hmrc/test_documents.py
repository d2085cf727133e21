"""P60, P45 and P32 as HTML and tagged PDF, with the FPS figures."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from hmrc_export.amounts import pounds_for_people
from hmrc_export.documents import FiguresDisagree, build_p45, build_p60, render_html, render_pdf
from hmrc_export.fps import build_fps
from hmrc_export.model import EmployeePayment, Starter, StarterDeclaration, TaxCode
from hmrc_export.p32 import build_p32
from hmrc_export.taxyear import TaxYear
from tests.unit.hmrc import pdftext
from tests.unit.hmrc.sample_run import EMPLOYER, four_weekly_run, monthly_year, payment

YEAR = TaxYear(2026)
N = "{http://www.govtalk.gov.uk/taxation/PAYE/RTI/FullPaymentSubmission/26-27/1}"


def _fps_sum(messages: list[bytes], path: str) -> int:
    total = 0
    for message in messages:
        for element in ET.fromstring(message).iter(N + path.split("/")[-1]):
            total += int(Decimal(element.text) * 100)
    return total


@pytest.fixture(scope="module")
def year_of_fps():
    employee, payments = monthly_year()
    messages = [build_fps(EMPLOYER, [EmployeePayment(employee, p)], timestamp=datetime(2026, 4, 1, tzinfo=timezone.utc),
                          final_for_year=p.tax_month == 12) for p in payments]
    return employee, payments, messages


def test_p60_totals_equal_the_sum_of_the_years_fps_figures(year_of_fps):
    employee, payments, messages = year_of_fps
    p60 = build_p60(EMPLOYER, employee, payments, YEAR)
    payment_elements = [ET.fromstring(m).find(f".//{N}Payment") for m in messages]
    assert p60.pay_this_employment == sum(int(Decimal(e.findtext(f"{N}TaxablePay")) * 100) for e in payment_elements)
    assert p60.tax_this_employment == _fps_sum(messages, "TaxDeductedOrRefunded")
    assert p60.student_loan_deductions == _fps_sum(messages, "StudentLoanRecovered")
    assert p60.ni[0].employee_contributions_to_date == _fps_sum(messages, "EmpeeContribnsInPd")
    last = ET.fromstring(messages[-1])
    assert p60.pay_this_employment == int(Decimal(last.findtext(f".//{N}FiguresToDate/{N}TaxablePay")) * 100)
    assert p60.ni[0].pt_to_uel_to_date == int(Decimal(last.findtext(f".//{N}PTtoUELYTD")) * 100)
    assert p60.pay_total == 2_400_000 and p60.tax_total == 234_240


def test_p60_refuses_figures_that_do_not_add_up(year_of_fps):
    employee, payments, _ = year_of_fps
    broken = payments[:-1] + [replace(payments[-1], taxable_pay_to_date=payments[-1].taxable_pay_to_date + 1)]
    with pytest.raises(FiguresDisagree, match="taxable pay"):
        build_p60(EMPLOYER, employee, broken, YEAR)
    with pytest.raises(ValueError, match="P45"):
        build_p60(EMPLOYER, replace(employee, leaving_date=date(2026, 9, 30)), payments, YEAR)


def test_p60_pdf_is_tagged_titled_in_english_and_shows_the_figures(year_of_fps):
    employee, payments, _ = year_of_fps
    p60 = build_p60(EMPLOYER, replace(employee, starter=Starter(date(2026, 4, 6), StarterDeclaration.B,
                                                                previous_pay=123_456, previous_tax=7_890)),
                    payments, YEAR)
    pdf = render_pdf(p60)
    assert pdf.startswith(b"%PDF-")
    structure = pdftext.everything(pdf)
    for marker in (b"/StructTreeRoot", b"/MarkInfo", b"/Lang (en-GB)", b"/H1", b"/H2", b"/Table", b"/TH"):
        assert marker in structure, marker
    assert b"P60 End of Year Certificate 2026-27" in structure  # the document title in the metadata
    text = pdftext.text(pdf)
    for figure in (p60.pay_this_employment, p60.tax_this_employment, p60.pay_total, p60.tax_total, 123_456, 7_890,
                   p60.ni[0].employee_contributions_to_date, p60.student_loan_deductions):
        assert pounds_for_people(figure) in text, figure
    assert "AB654321D" in text and "120/HA12345" in text and "1257L" in text


def test_p60_html_is_the_same_template_with_headings_and_table_headers(year_of_fps):
    employee, payments, _ = year_of_fps
    html = render_html(build_p60(EMPLOYER, employee, payments, YEAR))
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en-GB">' in html
    assert "<title>P60 End of Year Certificate 2026-27: Fatima Rahman</title>" in html
    assert "<h1>" in html and '<th scope="col"' in html and '<th scope="row">' in html and "<caption>" in html
    assert "£24,000.00" in html


def test_p45_parts_and_figures_for_a_cumulative_leaver():
    leaver = four_weekly_run()[1]
    employee = replace(leaver.employee, starter=Starter(date(2026, 4, 6), StarterDeclaration.B,
                                                        previous_pay=50_000, previous_tax=1_000))
    p45 = build_p45(EMPLOYER, employee, [payment(95_000, 0, week=4, paid=date(2026, 5, 1)), leaver.payment], YEAR)
    assert p45.period_label == "Week 8"
    assert (p45.total_pay_to_date, p45.total_tax_to_date) == (190_000 + 50_000, 1_000)
    assert (p45.pay_this_employment, p45.tax_this_employment) == (190_000, 0)
    pdf = render_pdf(p45)
    text = pdftext.text(pdf)
    for part in ("P45 Part 1A", "P45 Part 2", "P45 Part 3", "New employer to complete"):
        assert part in text, part
    assert text.count("£2,400.00") == 3  # box 7 on each of the three parts
    assert "27 May 2026" in text and "CE654321A" in text
    assert b"/StructTreeRoot" in pdftext.everything(pdf)


def test_p45_for_a_week_1_code_leaves_box_7_empty():
    leaver = four_weekly_run()[3]
    employee = replace(leaver.employee, leaving_date=date(2026, 5, 29))
    p45 = build_p45(EMPLOYER, employee, [payment(160_000, 12_620, week=4, code="1257L W1", paid=date(2026, 5, 1)),
                                         leaver.payment], YEAR)
    assert p45.tax_code == TaxCode.parse("1257L W1")
    assert p45.total_pay_to_date is None and p45.pay_this_employment == 320_000
    html = render_html(p45)
    assert "No entry (tax code not cumulative)" in html and "(Week 1/Month 1 basis: X)" in html
    with pytest.raises(ValueError, match="no leaving date"):
        build_p45(EMPLOYER, four_weekly_run()[0].employee, [leaver.payment], YEAR)


def test_p32_pdf_and_html_show_months_amounts_and_due_dates():
    _, payments = monthly_year()
    p32 = build_p32(EMPLOYER.name, EMPLOYER.employer_paye_reference, EMPLOYER.accounts_office_reference, YEAR,
                    payments, employment_allowance=1_050_000)
    html = render_html(p32)
    assert "P32 Employer Payment Record" in html and "22 May 2026" in html and "21 August 2026" in html
    pdf = render_pdf(p32)
    text = pdftext.text(pdf)
    assert pounds_for_people(p32.months[0].amount_due) in text
    assert pounds_for_people(p32.total_due) in text
    assert "Quarter 4" in text and "22 April 2027" in text
    assert b"/Lang (en-GB)" in pdftext.everything(pdf)
