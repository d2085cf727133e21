"""Employer Payment Summary (EPS) for 2026-27, in the element order of HMRC's EPS schema.

Sent by the 19th after a tax month when there is something to claim (Employment Allowance, statutory pay
recovered) or no employee was paid; also to close the year when the final FPS did not.
"""
from __future__ import annotations

from datetime import datetime

from hmrc_export.amounts import hmrc_amount
from hmrc_export.envelope import EPS_CLASS, ChannelRouting, govtalk_message, ir_header
from hmrc_export.irmark import insert_irmark_written
from hmrc_export.model import EmployerPaymentSummary, Employer
from hmrc_export.taxyear import TaxYear
from hmrc_export.xmlwriter import XmlWriter

_RECOVERED = (("SMPRecovered", "smp_recovered"), ("SPPRecovered", "spp_recovered"), ("SAPRecovered", "sap_recovered"),
              ("ShPPRecovered", "shpp_recovered"), ("SPBPRecovered", "spbp_recovered"),
              ("SNCPRecovered", "sncp_recovered"), ("NICCompensationOnSMP", "nic_compensation_on_smp"),
              ("NICCompensationOnSPP", "nic_compensation_on_spp"), ("NICCompensationOnSAP", "nic_compensation_on_sap"),
              ("NICCompensationOnShPP", "nic_compensation_on_shpp"),
              ("NICCompensationOnSPBP", "nic_compensation_on_spbp"),
              ("NICCompensationOnSNCP", "nic_compensation_on_sncp"))


def build_eps(employer: Employer, summary: EmployerPaymentSummary, tax_year: TaxYear, *,
              channel: ChannelRouting = ChannelRouting(), timestamp: datetime | None = None) -> bytes:
    """The GovTalk EPS message, IRmarked, as UTF-8 bytes."""
    body = eps_body(employer, summary, tax_year)
    return insert_irmark_written(govtalk_message(EPS_CLASS, employer, body, channel=channel, timestamp=timestamp))


def eps_body(employer: Employer, s: EmployerPaymentSummary, year: TaxYear) -> str:
    if (s.no_payment_from is None) != (s.no_payment_to is None):
        raise ValueError("a period with no payment needs both its first and last date")
    w = XmlWriter(depth=2)
    w.open("IRenvelope", {"xmlns": year.eps_namespace()})
    ir_header(w, employer, year)
    w.open("EmployerPaymentSummary")
    w.open("EmpRefs")
    w.leaf("OfficeNo", employer.hmrc_office_number).leaf("PayeRef", employer.paye_reference)
    w.leaf("AORef", employer.accounts_office_reference).leaf("COTAXRef", employer.cotax_reference)
    w.close()
    if s.no_payment_from is not None:
        # NoPaymentDates run over whole tax months: From is a 6th, To a 5th (schema patterns).
        w.leaf("NoPaymentForPeriod", "yes").open("NoPaymentDates")
        w.leaf("From", s.no_payment_from.isoformat()).leaf("To", s.no_payment_to.isoformat())
        w.close()
    if s.employment_allowance is not None:
        w.leaf("EmpAllceInd", "yes" if s.employment_allowance else "no")
    if s.recoverable is not None:
        w.open("RecoverableAmountsYTD")
        w.leaf("TaxMonth", str(s.tax_month) if s.tax_month else None)
        for tag, name in _RECOVERED:
            value = getattr(s.recoverable, name)
            w.leaf(tag, hmrc_amount(value) if value else None)
        w.close()
    w.leaf("RelatedTaxYear", year.short)
    if s.final_for_year or s.scheme_ceased:
        w.open("FinalSubmission")
        if s.scheme_ceased:
            w.leaf("BecauseSchemeCeased", "yes").leaf("DateSchemeCeased", s.scheme_ceased.isoformat())
        if s.final_for_year:
            w.leaf("ForYear", "yes")
        w.close()
    w.close().close()
    return w.text()
