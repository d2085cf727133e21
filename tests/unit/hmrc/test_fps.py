"""FPS and EPS builders: HMRC's element order and namespaces, and figures equal to the pay run's."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from hmrc_export.amounts import hmrc_amount
from hmrc_export.eps import build_eps
from hmrc_export.fps import build_fps, correction
from hmrc_export.model import EmployerPaymentSummary, LateReason, RecoverableAmounts, TaxCode, TaxRegime
from hmrc_export.taxyear import TaxYear
from hmrc_export.validate import find_problems, schema_for
from tests.unit.hmrc.sample_run import EMPLOYER, four_weekly_run, payment, with_payment

ENV = "{http://www.govtalk.gov.uk/CM/envelope}"
FPS_NS = "http://www.govtalk.gov.uk/taxation/PAYE/RTI/FullPaymentSubmission/26-27/1"
EPS_NS = "http://www.govtalk.gov.uk/taxation/PAYE/RTI/EmployerPaymentSummary/26-27/1"
N = f"{{{FPS_NS}}}"
WHEN = datetime(2026, 5, 28, 9, 30, tzinfo=timezone.utc)


def _fps(items=None, **kw) -> ET.Element:
    return ET.fromstring(build_fps(EMPLOYER, items if items is not None else four_weekly_run(), timestamp=WHEN, **kw))


def test_envelope_class_namespaces_and_keys():
    root = _fps()
    assert root.tag == f"{ENV}GovTalkMessage"
    assert root.findtext(f"{ENV}Header/{ENV}MessageDetails/{ENV}Class") == "HMRC-PAYE-RTI-FPS"
    assert root.findtext(f"{ENV}Header/{ENV}MessageDetails/{ENV}Qualifier") == "request"
    assert root.find(f"{ENV}Header/{ENV}SenderDetails") is None  # credentials are added only when sending
    ir = root.find(f"{ENV}Body")[0]
    assert ir.tag == f"{N}IRenvelope"
    keys = {k.get("Type"): k.text for k in root.iter(f"{ENV}Key")}
    assert keys == {"TaxOfficeNumber": "120", "TaxOfficeReference": "HA12345"}
    assert ir.findtext(f"{N}IRheader/{N}PeriodEnd") == "2027-04-05"
    assert ir.findtext(f"{N}FullPaymentSubmission/{N}RelatedTaxYear") == "26-27"
    assert ir.findtext(f"{N}FullPaymentSubmission/{N}EmpRefs/{N}AORef") == "120PA00123456"


def test_sample_four_weekly_run_is_valid_against_the_2026_27_schema_and_rules():
    message = build_fps(EMPLOYER, four_weekly_run(), timestamp=WHEN)
    assert find_problems(message, today=date(2026, 5, 28)) == []
    ir = ET.fromstring(message).find(f"{ENV}Body")[0]
    assert list(schema_for(FPS_NS).iter_errors(ir)) == []


def test_every_figure_in_the_fps_equals_the_pay_run_figure():
    run = four_weekly_run()
    employees = _fps(run).find(f"{ENV}Body")[0].findall(f"{N}FullPaymentSubmission/{N}Employee")
    assert len(employees) == len(run) == 5
    for element, item in zip(employees, run):
        p, e = item.payment, item.employee
        employment = element.find(f"{N}Employment")
        assert employment.findtext(f"{N}PayId") == e.payroll_id
        assert element.findtext(f"{N}EmployeeDetails/{N}NINO") == e.nino
        money = lambda path: int(Decimal(employment.findtext(N + path.replace("/", "/" + N))) * 100)  # noqa: E731
        assert money("FiguresToDate/TaxablePay") == p.taxable_pay_to_date
        assert money("FiguresToDate/TotalTax") == p.tax_deducted_to_date
        assert money("Payment/TaxablePay") == p.taxable_pay
        assert money("Payment/TaxDeductedOrRefunded") == p.tax_deducted
        assert employment.findtext(f"{N}Payment/{N}WeekNo") == "8"
        assert employment.findtext(f"{N}Payment/{N}PayFreq") == "W4"
        assert employment.findtext(f"{N}Payment/{N}PmtDate") == "2026-05-29"
        ni = employment.find(f"{N}NIlettersAndValues")
        n = p.ni[0]
        for tag, value in (("GrossEarningsForNICsInPd", n.gross_earnings), ("GrossEarningsForNICsYTD", n.gross_earnings_to_date),
                           ("AtLELYTD", n.at_lel_to_date), ("LELtoPTYTD", n.lel_to_pt_to_date),
                           ("PTtoUELYTD", n.pt_to_uel_to_date), ("TotalEmpNICInPd", n.employer_contributions),
                           ("TotalEmpNICYTD", n.employer_contributions_to_date),
                           ("EmpeeContribnsInPd", n.employee_contributions),
                           ("EmpeeContribnsYTD", n.employee_contributions_to_date)):
            assert ni.findtext(N + tag) == hmrc_amount(value), tag


def test_starter_leaver_scottish_week1_and_student_loan_are_reported_as_hmrc_specifies():
    employees = {e.findtext(f"{N}Employment/{N}PayId"): e
                 for e in _fps().find(f"{ENV}Body")[0].iter(f"{N}Employee")}
    starter = employees["PA-001"].find(f"{N}Employment/{N}Starter")
    assert starter.findtext(f"{N}StartDate") == "2026-05-04" and starter.findtext(f"{N}StartDec") == "A"
    assert employees["PA-002"].findtext(f"{N}Employment/{N}LeavingDate") == "2026-05-27"
    scottish = employees["PA-003"].find(f"{N}Employment/{N}Payment/{N}TaxCode")
    assert (scottish.text, scottish.get("TaxRegime"), scottish.get("BasisNonCumulative")) == ("1257L", "S", None)
    week1 = employees["PA-004"].find(f"{N}Employment/{N}Payment/{N}TaxCode")
    assert (week1.text, week1.get("TaxRegime"), week1.get("BasisNonCumulative")) == ("1257L", None, "yes")
    loan = employees["PA-005"].find(f"{N}Employment")
    recovered = loan.find(f"{N}Payment/{N}StudentLoanRecovered")
    assert (recovered.text, recovered.get("PlanType")) == ("40.00", "02")
    assert loan.findtext(f"{N}FiguresToDate/{N}StudentLoansTD") == "80.00"
    assert loan.findtext(f"{N}Payment/{N}EmpeePenContribnsPaid") == "75.00"
    assert loan.findtext(f"{N}FiguresToDate/{N}EmpeePenContribnsPaidYTD") == "150.00"
    # Elements follow the schema's sequence: FiguresToDate before Payment before NI.
    order = [child.tag.split("}")[1] for child in loan]
    assert order == ["PayId", "FiguresToDate", "Payment", "NIlettersAndValues"]


def test_tax_codes_parse_with_regime_and_basis():
    assert TaxCode.parse("S1257L M1") == TaxCode("1257L", TaxRegime.SCOTLAND, True)
    assert TaxCode.parse("C1257L") == TaxCode("1257L", TaxRegime.WALES, False)
    assert TaxCode.parse("K475 X") == TaxCode("K475", None, True)
    assert TaxCode.parse("SD1") == TaxCode("D1", TaxRegime.SCOTLAND, False)
    assert TaxCode.parse("BR").is_well_formed and not TaxCode.parse("1257Q").is_well_formed


def test_final_submission_for_year_and_late_reason():
    run = [with_payment(four_weekly_run()[2], late_reason=LateReason.REASONABLE_EXCUSE)]
    ir = _fps(run, final_for_year=True).find(f"{ENV}Body")[0]
    fps = ir.find(f"{N}FullPaymentSubmission")
    assert fps.findtext(f"{N}FinalSubmission/{N}ForYear") == "yes"
    assert fps[-1].tag == f"{N}FinalSubmission"
    assert fps.findtext(f"{N}Employee/{N}Employment/{N}Payment/{N}LateReason") == "G"
    assert list(schema_for(FPS_NS).iter_errors(ir)) == []


def test_correction_reports_the_difference_this_period_and_corrected_year_to_date():
    original = payment(160_000, 12_620, periods=2)
    corrected = replace(payment(170_000, 14_620, periods=2), taxable_pay_to_date=330_000, tax_deducted_to_date=27_240)
    fix = correction(original, corrected)
    assert (fix.taxable_pay, fix.tax_deducted) == (10_000, 2_000)
    assert (fix.taxable_pay_to_date, fix.tax_deducted_to_date) == (330_000, 27_240)
    assert fix.late_reason is LateReason.CORRECTION and fix.payment_date == original.payment_date
    assert fix.ni[0].gross_earnings == 10_000
    with pytest.raises(ValueError):
        correction(original, replace(corrected, payment_date=date(2026, 6, 26)))
    item = with_payment(four_weekly_run()[3], **{f: getattr(fix, f) for f in fix.__dataclass_fields__})
    message = build_fps(EMPLOYER, [item], timestamp=WHEN)
    assert b"<LateReason>H</LateReason>" in message
    assert find_problems(message, today=date(2026, 5, 28)) == []


def test_payments_from_two_tax_years_need_an_explicit_year():
    run = four_weekly_run()
    run[0] = with_payment(run[0], payment_date=date(2026, 4, 3))
    with pytest.raises(ValueError, match="tax_year"):
        build_fps(EMPLOYER, run)


def test_eps_with_employment_allowance_and_recoverable_amounts():
    summary = EmployerPaymentSummary(tax_month=2, employment_allowance=True,
                                     recoverable=RecoverableAmounts(smp_recovered=25_746, nic_compensation_on_smp=773,
                                                                    spbp_recovered=10_000))
    message = build_eps(EMPLOYER, summary, TaxYear(2026), timestamp=WHEN)
    root = ET.fromstring(message)
    assert root.findtext(f"{ENV}Header/{ENV}MessageDetails/{ENV}Class") == "HMRC-PAYE-RTI-EPS"
    ir = root.find(f"{ENV}Body")[0]
    e = f"{{{EPS_NS}}}"
    eps = ir.find(f"{e}EmployerPaymentSummary")
    assert eps.findtext(f"{e}EmpAllceInd") == "yes"
    amounts = eps.find(f"{e}RecoverableAmountsYTD")
    assert [(c.tag.split("}")[1], c.text) for c in amounts] == [
        ("TaxMonth", "2"), ("SMPRecovered", "257.46"), ("SPBPRecovered", "100.00"), ("NICCompensationOnSMP", "7.73")]
    assert list(schema_for(EPS_NS).iter_errors(ir)) == []
    assert find_problems(message, today=date(2026, 6, 10)) == []


def test_eps_no_payment_period_and_final_submission():
    summary = EmployerPaymentSummary(no_payment_from=date(2027, 3, 6), no_payment_to=date(2027, 4, 5),
                                     final_for_year=True)
    message = build_eps(EMPLOYER, summary, TaxYear(2026), timestamp=WHEN)
    assert b"<NoPaymentForPeriod>yes</NoPaymentForPeriod>" in message
    assert b"<ForYear>yes</ForYear>" in message
    assert find_problems(message, today=date(2027, 4, 10)) == []
    with pytest.raises(ValueError):
        build_eps(EMPLOYER, EmployerPaymentSummary(no_payment_from=date(2027, 3, 6)), TaxYear(2026))
