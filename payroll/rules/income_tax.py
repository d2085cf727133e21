"""PAYE income tax, as HMRC's "Specification for PAYE Tax Table Routines" computes it.

Cumulative codes work on figures to date: pay to date less free pay to date (or plus additional pay for K codes)
gives taxable pay to date, rounded down to whole pounds; tax due to date on that, rounded down to the penny; this
period's tax is tax due to date less tax already deducted, so a refund is possible. Non-cumulative codes (W1, M1,
X) and the extra week 53, 54 or 56 treat the payment as if it were the only one: the week 1 (or month 1) tables,
or for fortnightly and four-weekly payrolls the 2-week or 4-week tables, and no refund. In every period the
regulatory limit caps the tax deducted at 50% of that period's pay.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from payroll.rules.errors import PayrollRuleError
from payroll.rules.money import ZERO, round_down_to_penny, round_down_to_pound, round_up_to_penny, \
    round_up_to_pound, to_money, truncate_to_four_places
from payroll.rules.periods import Frequency, check_period, is_extra_period
from payroll.rules.tax_codes import CodeKind, TaxCode, parse_tax_code
from payroll.rules.yearly_rates import IncomeTaxRates, RegimeRates, year_rates


@dataclass(frozen=True)
class IncomeTax:
    """What PAYE gives for one payment; figures 'to date' include this period."""
    tax_code: TaxCode
    non_cumulative: bool        # the basis used: W1/M1 code, or a week 53/54/56 payment
    table_periods: int          # periods of Tables A and band limits used (period to date, or 1/2/4 weeks)
    pay: Decimal                # taxable pay in this period
    pay_to_date: Decimal
    free_pay: Decimal           # Tables A free pay for ``table_periods`` (0 for K, flat-rate and NT codes)
    additional_pay: Decimal     # Tables A additional pay for K codes, for ``table_periods``
    taxable_pay: Decimal        # whole pounds: to date (cumulative) or this period (non-cumulative)
    tax_due: Decimal            # on taxable_pay, to date or for this period
    regulatory_limit: Decimal   # 50% of this period's pay
    tax: Decimal                # deducted this period; negative is a refund
    tax_to_date: Decimal        # deducted to date, this period included
    tax_held_back: Decimal      # due but not deducted because of the regulatory limit


def tables_a_period_one(code_number: int, monthly: bool, rates: IncomeTaxRates) -> Decimal:
    """Free pay (or K-code additional pay) for one week or one month, from HMRC's Tables A formula.

    Split the code number N into q = (N - 1) div 500 and r = ((N - 1) mod 500) + 1; r gives an annual amount of
    r x 10 + 9, divided by 52 (or 12) and rounded UP to the penny; each block of 500 adds 96.16 a week (416.67
    a month). Code 0 has none. Checks in the spec: 1257L gives 241.92 a week and 1,048.26 a month.
    """
    if code_number == 0:
        return ZERO
    q, remainder = divmod(code_number - 1, rates.code_block)
    annual = Decimal((remainder + 1) * 10 + 9)
    per_period = round_up_to_penny(annual / (12 if monthly else 52))
    return per_period + q * (rates.monthly_block_value if monthly else rates.weekly_block_value)


def tax_on_taxable_pay(taxable_pay: Decimal, regime: RegimeRates, periods: int, monthly: bool) -> Decimal:
    """Tax due on whole-pound taxable pay through the bands, for ``periods`` weeks or months.

    Spec: for each band, the cumulative band limit and the cumulative tax on all bands up to it are the annual
    figures x periods / 52 (or / 12), each truncated to 4 decimal places. Pay falls within a band if it does
    not exceed that band's limit rounded UP to the next pound; tax due is the tax on the bands below plus the
    pay above their limit at the band's rate, rounded DOWN to the penny. (Working the tax on the lower bands
    out from the truncated limits instead gives 506.03, not HMRC's 506.02, for S1257L week 4 in the 2026-27
    test data.)
    """
    annual_limit_below = annual_tax_below = Decimal(0)
    for band in regime.bands:
        limit_below = _period_share(annual_limit_below, periods, monthly)
        if band.limit is None or taxable_pay <= round_up_to_pound(_period_share(band.limit, periods, monthly)):
            tax_below = _period_share(annual_tax_below, periods, monthly)
            return round_down_to_penny(tax_below + (taxable_pay - limit_below) * band.rate)
        annual_tax_below += (band.limit - annual_limit_below) * band.rate
        annual_limit_below = band.limit
    raise PayrollRuleError("the tax bands have no top band")  # the data files always end with an open band


def _period_share(annual: Decimal, periods: int, monthly: bool) -> Decimal:
    return truncate_to_four_places(annual * periods / (12 if monthly else 52))


def calculate_income_tax(
    tax_year: str,
    frequency: Frequency | str,
    period: int,
    tax_code: TaxCode | str,
    pay: Decimal | str,
    previous_pay_to_date: Decimal | str = ZERO,
    previous_tax_to_date: Decimal | str = ZERO,
    non_cumulative: bool = False,
) -> IncomeTax:
    """PAYE for one payment.

    ``period`` is the tax week (weekly, fortnightly, four-weekly) or tax month (monthly) of the payday.
    ``previous_*`` are this employment's taxable pay and tax deducted to date before this payment (including
    any P45 figures taken over). ``non_cumulative`` puts a code on a week 1 / month 1 basis even without a W1,
    M1 or X marker.
    """
    rates = year_rates(tax_year).income_tax
    frequency = Frequency.parse(frequency)
    period = check_period(frequency, period)
    code = tax_code if isinstance(tax_code, TaxCode) else parse_tax_code(tax_code)
    pay = to_money(pay, "pay")
    previous_pay = to_money(previous_pay_to_date, "taxable pay to date")
    previous_tax = to_money(previous_tax_to_date, "tax paid to date")
    regime = _regime(rates, code)

    monthly = frequency is Frequency.MONTHLY
    basis_non_cumulative = code.non_cumulative or non_cumulative or is_extra_period(frequency, period)
    if basis_non_cumulative:
        # Week 1 / month 1 basis: one week, one month, or the 2-week / 4-week table for longer week periods.
        table_periods = 1 if monthly else frequency.weeks
        basis_pay = pay
    else:
        table_periods = period
        basis_pay = previous_pay + pay

    free_pay = additional_pay = ZERO
    if code.kind is CodeKind.NT:
        taxable_pay = ZERO
        tax_due = ZERO
    elif code.kind.is_flat_rate:
        taxable_pay = round_down_to_pound(basis_pay)
        tax_due = round_down_to_penny(taxable_pay * _flat_rate(regime, code))
    else:
        tables_a = tables_a_period_one(code.number, monthly, rates) * table_periods
        if code.kind is CodeKind.K:
            additional_pay = tables_a
            taxable_pay = round_down_to_pound(basis_pay + additional_pay)
        else:
            free_pay = tables_a
            taxable_pay = max(round_down_to_pound(basis_pay - free_pay), Decimal(0))
        tax_due = tax_on_taxable_pay(taxable_pay, regime, table_periods, monthly)

    if basis_non_cumulative:
        wanted = tax_due  # never a refund on a week 1 / month 1 basis
    else:
        wanted = tax_due - previous_tax  # a refund when tax already deducted exceeds tax due to date
    # Regulatory limit (PAYE Regulations 2003 reg 23 and the spec): deduct no more than 50% of this period's pay;
    # rounded down so the cap is never exceeded.
    limit = round_down_to_penny(pay * rates.regulatory_limit_rate)
    tax = min(wanted, limit) if wanted > 0 else wanted
    return IncomeTax(
        tax_code=code,
        non_cumulative=basis_non_cumulative,
        table_periods=table_periods,
        pay=pay,
        pay_to_date=previous_pay + pay,
        free_pay=free_pay,
        additional_pay=additional_pay,
        taxable_pay=taxable_pay,
        tax_due=tax_due,
        regulatory_limit=limit,
        tax=tax,
        tax_to_date=previous_tax + tax,
        tax_held_back=wanted - tax,
    )


def _regime(rates: IncomeTaxRates, code: TaxCode) -> RegimeRates:
    return rates.regimes[code.regime.value]


def _flat_rate(regime: RegimeRates, code: TaxCode) -> Decimal:
    try:
        return regime.flat_rates[code.kind.value]
    except KeyError:
        raise PayrollRuleError(f"tax code {code} has no rate for its regime") from None


