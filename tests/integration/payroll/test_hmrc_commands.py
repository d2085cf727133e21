"""`wallet hmrc fps | eps | p32` read finalised pay runs from the database (SQLite and PostgreSQL).

Three PAs on a four-weekly payroll, 2026-27: two runs are calculated, approved and finalised through the
service, then the commands write the FPS, EPS and P32, and the FPS's figures are checked against the payslips.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from hmrc_export.validate import find_problems
from payroll.model import BankDetails, PayRates
from tests.integration.payroll.conftest import weekday_shifts
from wallet.cli import cli
from wallet.money import format_pence
from tests.unit.hmrc.pdftext import text as pdf_text

FIRST_PERIOD = (date(2026, 4, 6), date(2026, 5, 3))     # tax weeks 1-4
SECOND_PERIOD = (date(2026, 5, 4), date(2026, 5, 31))   # tax weeks 5-8


@pytest.fixture
def payroll_db(setup, key, database_url, monkeypatch):
    """An employer with three four-weekly PAs (one with a student loan and a pension) and two finalised runs."""
    monkeypatch.setenv("WALLET_ENCRYPTION_KEYS", key.decode())
    service = setup.service
    pas = []
    for n, (surname, plans, tax_code) in enumerate([("Jones", (), "1257L"), ("Khan", ("2",), "1257L"),
                                                    ("Lopez", (), "BR")], start=1):
        pa = service.add_employee(
            setup.employer.id, payroll_id=f"PA{n}", forenames=["Sam"], surname=surname,
            birth_date=date(1988, 3, n), start_date=date(2026, 4, 6), frequency="four_weekly", tax_code=tax_code,
            nino=f"AB12345{n}C", gender="F" if n % 2 else "M", student_loan_plans=plans, starter_declaration="A",
            bank_details=BankDetails(f"S {surname}", "402716", f"7123456{n}"), actor="admin")
        service.add_contract(pa.id, starts=date(2026, 4, 6), rates=PayRates(standard=1450 + 100 * n, night=1800),
                             contracted_hours_per_week="35", actor="admin")
        pas.append(pa)
    runs = []
    for first, last in (FIRST_PERIOD, SECOND_PERIOD):
        for n, pa in enumerate(pas, start=1):
            sheet = service.save_timesheet(pa.id, period_start=first, period_end=last,
                                           shifts=weekday_shifts(first, last, hours=5 + n), actor="pa")
            service.submit_timesheet(sheet.id, actor="pa")
            service.approve_timesheet(sheet.id, actor="asha")
        run = service.create_pay_run(setup.employer.id, period_start=first, period_end=last,
                                     payment_date=last - timedelta(days=2), frequency="four_weekly", actor="admin")
        service.calculate(run.id, actor="admin")
        service.review(run.id, actor="admin")
        service.approve(run.id, actor="asha")
        runs.append(service.finalise(run.id, actor="admin"))
    return service, runs, database_url


def hmrc(url, *args):
    return CliRunner().invoke(cli, ["--database-url", url, "hmrc", *args])


def _pence(text: str) -> int:
    return int(Decimal(text) * 100)


def test_fps_for_a_four_weekly_run_carries_the_payslips_figures(payroll_db, tmp_path):
    service, runs, url = payroll_db
    run = service.get_run(runs[1].id)
    out = tmp_path / "fps.xml"
    result = hmrc(url, "fps", run.id, "--out", str(out))
    assert result.exit_code == 0, result.output
    message = out.read_bytes()
    assert find_problems(message) == []
    ns = {"f": message.split(b'xmlns="')[2].split(b'"')[0].decode()}
    employees = ElementTree.fromstring(message).findall(".//f:FullPaymentSubmission/f:Employee", ns)
    assert len(employees) == 3
    by_payroll_id = {e.payroll_id: e for e in service.list_employees(run.employer_id)}
    checked = 0
    for element in employees:
        payroll_id = element.findtext("f:Employment/f:PayId", namespaces=ns)
        slip = next(s for s in run.payslips if s.employee_id == by_payroll_id[payroll_id].id)
        payment = element.find("f:Employment/f:FiguresToDate", ns)
        assert _pence(payment.findtext("f:TaxablePay", namespaces=ns)) == slip.year_to_date.taxable_pay
        assert _pence(payment.findtext("f:TotalTax", namespaces=ns)) == slip.year_to_date.tax
        period = element.find("f:Employment/f:Payment", ns)
        assert period.findtext("f:PayFreq", namespaces=ns) == "W4"
        assert int(period.findtext("f:WeekNo", namespaces=ns)) == slip.period == 8
        assert _pence(period.findtext("f:TaxablePay", namespaces=ns)) == slip.taxable_pay
        assert _pence(period.findtext("f:TaxDeductedOrRefunded", namespaces=ns)) == slip.tax
        ni = element.find("f:Employment/f:NIlettersAndValues", ns)
        assert _pence(ni.findtext("f:EmpeeContribnsInPd", namespaces=ns)) == slip.employee_ni
        assert _pence(ni.findtext("f:EmpeeContribnsYTD", namespaces=ns)) == slip.year_to_date.employee_ni
        assert _pence(ni.findtext("f:TotalEmpNICInPd", namespaces=ns)) == slip.employer_ni
        assert _pence(ni.findtext("f:TotalEmpNICYTD", namespaces=ns)) == slip.year_to_date.employer_ni
        assert _pence(ni.findtext("f:GrossEarningsForNICsInPd", namespaces=ns)) == slip.gross_pay
        if slip.student_loan:
            assert _pence(period.findtext("f:StudentLoanRecovered", namespaces=ns)) == slip.student_loan
        checked += 1
    assert checked == 3
    assert any(s.student_loan > 0 for s in run.payslips)   # the plan 2 PA repays in this run


def test_fps_without_a_detail_hmrc_needs_names_the_employee(payroll_db, setup):
    service, runs, url = payroll_db
    pa = service.add_employee(setup.employer.id, payroll_id="PA9", forenames=["Kim"], surname="Ng",
                              birth_date=date(1990, 1, 1), start_date=date(2026, 6, 1), frequency="four_weekly",
                              tax_code="1257L", actor="admin")
    service.add_contract(pa.id, starts=date(2026, 6, 1), rates=PayRates(standard=1500), actor="admin")
    first, last = date(2026, 6, 1), date(2026, 6, 28)
    sheet = service.save_timesheet(pa.id, period_start=first, period_end=last,
                                   shifts=weekday_shifts(first, last, hours=4), actor="pa")
    service.submit_timesheet(sheet.id, actor="pa")
    service.approve_timesheet(sheet.id, actor="asha")
    run = service.create_pay_run(setup.employer.id, period_start=first, period_end=last,
                                 payment_date=date(2026, 6, 26), frequency="four_weekly", actor="admin")
    service.calculate(run.id, actor="admin")
    service.review(run.id, actor="admin")
    service.approve(run.id, actor="asha")
    service.finalise(run.id, actor="admin")
    result = hmrc(url, "fps", run.id)
    assert result.exit_code == 1
    assert "cannot build the FPS" in result.output and "PA9 (Kim Ng)" in result.output
    assert "Traceback" not in result.output


def test_fps_of_a_run_that_is_not_finalised_is_refused_in_plain_words(payroll_db, setup):
    service, runs, url = payroll_db
    draft = service.create_pay_run(setup.employer.id, period_start=date(2026, 6, 1), period_end=date(2026, 6, 28),
                                   payment_date=date(2026, 6, 26), frequency="four_weekly", actor="admin")
    result = hmrc(url, "fps", draft.id)
    assert result.exit_code == 2
    assert "is not finalised" in result.output


def test_eps_claims_employment_allowance_and_reports_a_month_with_no_payment(payroll_db, tmp_path):
    service, runs, url = payroll_db
    paid = hmrc(url, "eps", "--tax-year", "2026-27", "--tax-month", "1", "--out", str(tmp_path / "eps1.xml"))
    assert paid.exit_code == 0, paid.output
    message = (tmp_path / "eps1.xml").read_bytes()
    assert find_problems(message) == []
    assert b"<EmpAllceInd>yes</EmpAllceInd>" in message and b"NoPaymentForPeriod" not in message
    unpaid = hmrc(url, "eps", "--tax-year", "2026-27", "--tax-month", "4", "--out", str(tmp_path / "eps4.xml"))
    assert unpaid.exit_code == 0, unpaid.output
    message = (tmp_path / "eps4.xml").read_bytes()
    assert find_problems(message) == []
    assert re.search(rb"<NoPaymentDates>\s*<From>2026-07-06</From>\s*<To>2026-08-05</To>\s*</NoPaymentDates>",
                     message)


def test_p32_totals_each_tax_month_from_the_runs(payroll_db, tmp_path):
    service, runs, url = payroll_db
    result = hmrc(url, "p32", "--tax-year", "2026-27", "--out", str(tmp_path / "p32.pdf"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p32.pdf").read_bytes().startswith(b"%PDF")
    # The first run pays on 1 May (tax month 1), the second on 29 May (tax month 2).
    for run, month in ((runs[0], 1), (runs[1], 2)):
        slips = service.get_run(run.id).payslips
        line = next(l for l in result.output.splitlines() if l.split()[:1] == [str(month)])
        assert format_pence(sum(s.tax for s in slips)) in line
        assert format_pence(sum(s.employee_ni + s.employer_ni for s in slips)) in line
    quiet = next(l for l in result.output.splitlines() if l.split()[:1] == ["3"])
    assert quiet.split()[1] == format_pence(0)


def test_payslips_and_the_cost_summary_are_written_as_pdfs_with_the_figures(payroll_db, tmp_path):
    service, runs, url = payroll_db
    run = service.get_run(runs[0].id)
    result = CliRunner().invoke(cli, ["--database-url", url, "payroll", "run", "payslips", run.id,
                                      "--out", str(tmp_path / "slips")])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "slips").iterdir())
    assert files == ["cost-summary-2026-05-01.pdf", "payslip-2026-05-01-PA1.pdf", "payslip-2026-05-01-PA2.pdf",
                     "payslip-2026-05-01-PA3.pdf"]
    jones = next(e for e in service.list_employees(run.employer_id) if e.payroll_id == "PA1")
    slip = next(s for s in run.payslips if s.employee_id == jones.id)
    text = pdf_text((tmp_path / "slips" / "payslip-2026-05-01-PA1.pdf").read_bytes())
    for figure in (slip.gross_pay, slip.net_pay, slip.employee_ni):
        assert format_pence(figure) in text
    assert "AB123451C" not in text and "71234561" not in text     # NI and account numbers never in full
    summary = pdf_text((tmp_path / "slips" / "cost-summary-2026-05-01.pdf").read_bytes())
    assert format_pence(run.summary.total_cost) in summary


def test_p60_and_p45_come_from_the_finalised_runs(payroll_db, tmp_path):
    service, runs, url = payroll_db
    khan = next(e for e in service.list_employees(runs[0].employer_id) if e.payroll_id == "PA2")
    result = hmrc(url, "p60", khan.id, "--tax-year", "2026-27", "--out", str(tmp_path / "p60.html"))
    assert result.exit_code == 0, result.output
    html = (tmp_path / "p60.html").read_text()
    ytd = service.year_to_date(khan.id, "2026-27")
    assert format_pence(ytd.taxable_pay) in html and format_pence(ytd.tax) in html
    assert format_pence(ytd.student_loan) in html
    service.record_leaver(khan.id, date(2026, 6, 5), actor="admin")
    p45 = hmrc(url, "p45", khan.id, "--tax-year", "2026-27", "--out", str(tmp_path / "p45.pdf"))
    assert p45.exit_code == 0, p45.output
    assert format_pence(ytd.tax) in pdf_text((tmp_path / "p45.pdf").read_bytes())


def test_an_fps_for_a_correction_carries_the_late_reason_and_eps_the_recovered_pay(payroll_db, tmp_path):
    service, runs, url = payroll_db
    fps = hmrc(url, "fps", runs[1].id, "--late-reason", "correction", "--out", str(tmp_path / "late.xml"))
    assert fps.exit_code == 0, fps.output
    assert b"<LateReason>H</LateReason>" in (tmp_path / "late.xml").read_bytes()
    eps = hmrc(url, "eps", "--tax-year", "2026-27", "--tax-month", "2", "--recovered", "smp=920.00",
               "--compensation", "smp=80.50", "--out", str(tmp_path / "eps.xml"))
    assert eps.exit_code == 0, eps.output
    message = (tmp_path / "eps.xml").read_bytes()
    assert find_problems(message) == []
    assert b"<SMPRecovered>920.00</SMPRecovered>" in message
    assert b"<NICCompensationOnSMP>80.50</NICCompensationOnSMP>" in message
    bad = hmrc(url, "eps", "--tax-year", "2026-27", "--tax-month", "2", "--recovered", "ssp=10")
    assert bad.exit_code == 2 and "KIND one of smp" in bad.output


def test_a_starter_without_an_address_stops_the_fps_naming_the_employee_and_field(payroll_db):
    service, runs, url = payroll_db
    result = hmrc(url, "fps", runs[0].id)
    assert result.exit_code == 1
    assert "Employee PA1 (Sam Jones), address: a new starter needs at least two address lines" in result.output
