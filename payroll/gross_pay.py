"""Gross pay for one PA's pay period: hours at the contract's rates, holiday pay, Statutory Sick Pay.

Amounts here are ints of pence; the rules in ``payroll.rules`` work in Decimal pounds, so figures cross with
``pounds`` and ``to_pence``. Each amount is hours x rate rounded once, half up to the penny: no regulation sets
the rounding of contractual pay, and a PA checking the payslip by hand gets the same figure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

from payroll.model import Contract, Employee, HourKind, LineKind, PayRates, PayslipLine, SicknessRecord, \
    Timesheet, YearToDate
from payroll.rules.errors import PayrollRuleError
from payroll.rules.holiday_pay import holiday_for_period
from payroll.rules.money import to_pence
from payroll.rules.sick_pay import SickPay, average_weekly_earnings, statutory_sick_pay
from payroll.timesheets import absence_hours, hours_by_kind, hours_for_minimum_wage, kind_words, sick_days, \
    sleep_in_nights

ZERO_HOURS = Decimal("0.00")
HUNDREDTH = Decimal("0.01")
_PENNY = Decimal(1)   # amounts below are in pence


def pounds(pence: int) -> Decimal:
    """Pence to Decimal pounds, exactly (the rules take pounds)."""
    return Decimal(pence).scaleb(-2)


def pence_for(hours: Decimal, rate: int) -> int:
    """hours x a rate in pence, half up to the penny."""
    return int((hours * rate).quantize(_PENNY, rounding=ROUND_HALF_UP))


def money_words(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


# ---------------------------------------------------------------------------------------------------------
# Hours

@dataclass(frozen=True)
class PayForHours:
    lines: tuple[PayslipLine, ...]
    pay: int                  # every hour line, sleep-ins included: the pay for work done
    hours_worked: Decimal     # working time (Working Time Regulations 1998), sleep-ins included
    hours_counted: Decimal    # hours that count for the minimum wage (no sleep-in hours)
    pay_counted: int          # pay for those hours, premiums included
    premiums: int             # the part of pay_counted above the standard rate: not pay for the minimum wage


_KIND_ORDER = tuple(HourKind)


def pay_for_hours(timesheet: Timesheet | None, rates: PayRates) -> PayForHours:
    """One line per kind of hour: hours x the contract's rate; sleep-ins one flat amount a night."""
    if timesheet is None or not timesheet.shifts:
        return PayForHours((), 0, ZERO_HOURS, ZERO_HOURS, 0, 0)
    hours = hours_by_kind(timesheet)
    lines = []
    pay = pay_counted = premiums = 0
    for kind in _KIND_ORDER:
        if kind not in hours:
            continue
        rate = rates.rate_for(kind)
        if rate is None:
            raise PayrollRuleError(f"the contract has no rate for {kind_words(kind)}")
        if kind is HourKind.SLEEP_IN:
            nights = sleep_in_nights(timesheet)
            amount = nights * rate
            lines.append(PayslipLine(LineKind.EARNING, "hours.sleep_in",
                                     f"Sleep-in: {nights} night{'s' if nights != 1 else ''} at "
                                     f"{money_words(rate)} a night ({hours[kind]} hours)",
                                     amount, hours[kind], rate))
        else:
            amount = pence_for(hours[kind], rate)
            lines.append(PayslipLine(LineKind.EARNING, f"hours.{kind.value}", kind_words(kind).capitalize(),
                                     amount, hours[kind], rate))
            pay_counted += amount
            # National Minimum Wage Regulations 2015 reg 10(j)-(k): pay above the basic rate for particular
            # hours (premiums) does not count towards the minimum wage.
            premiums += max(amount - pence_for(hours[kind], rates.standard), 0)
        pay += amount
    worked = sum(hours.values(), ZERO_HOURS)
    return PayForHours(tuple(lines), pay, worked, hours_for_minimum_wage(hours), pay_counted, premiums)


# ---------------------------------------------------------------------------------------------------------
# Holiday

@dataclass(frozen=True)
class HolidayPay:
    lines: tuple[PayslipLine, ...]
    pay: int
    hours_accrued: Decimal
    hours_taken: Decimal      # taken in the period, plus hours paid in lieu when leaving


def holiday_pay(tax_year: str, employee: Employee, rates: PayRates, timesheet: Timesheet | None,
                hours: PayForHours, before: YearToDate, leaving: bool) -> HolidayPay:
    """Holiday accrued, taken and paid this period.

    Irregular-hours and part-year PAs (Working Time Regulations 1998 reg 15B): 12.07% of the hours worked
    accrues at the end of each pay period, so holiday taken in a period comes from hours accrued in earlier
    periods, and taking more is refused. Sleep-ins count as hours worked here: time at the workplace is
    working time under the Regulations (Jaeger, C-151/02), though not for the minimum wage. With rolled-up
    holiday pay (reg 16A) 12.07% of the pay for work is paid as its own line and nothing accrues; holiday
    taken is then unpaid, having been paid already. Other PAs' holiday is paid at the standard rate.
    On leaving, accrued holiday not taken is paid in lieu (reg 14).
    """
    taken = absence_hours(timesheet, "holiday") if timesheet is not None else ZERO_HOURS
    lines: list[PayslipLine] = []
    accrued = ZERO_HOURS
    if employee.irregular_hours or employee.rolled_up_holiday:
        accrual = holiday_for_period(tax_year, hours.hours_worked, pounds(hours.pay), employee.irregular_hours,
                                     employee.rolled_up_holiday)
        if employee.rolled_up_holiday:
            rolled = to_pence(accrual.rolled_up_holiday_pay)
            if rolled:
                lines.append(PayslipLine(LineKind.EARNING, "holiday.rolled_up",
                                         "Rolled-up holiday pay (12.07% of pay for work)", rolled))
        else:
            accrued = accrual.hours_accrued
    accruing = employee.irregular_hours and not employee.rolled_up_holiday
    if taken and not employee.rolled_up_holiday:
        if accruing:
            balance = before.holiday_hours_accrued - before.holiday_hours_taken
            if taken > balance:
                raise PayrollRuleError(
                    f"took {taken} hours of holiday but had only {max(balance, ZERO_HOURS).quantize(HUNDREDTH)} "
                    f"hours accrued and not yet taken (holiday accrued this period can be taken from the next)")
        lines.append(PayslipLine(LineKind.EARNING, "holiday.taken", "Holiday taken",
                                 pence_for(taken, rates.standard), taken, rates.standard))
    if leaving and accruing:
        remaining = before.holiday_hours_accrued + accrued - before.holiday_hours_taken - taken
        if remaining > 0:
            lines.append(PayslipLine(LineKind.EARNING, "holiday.in_lieu", "Holiday not taken, paid on leaving",
                                     pence_for(remaining, rates.standard), remaining, rates.standard))
            taken += remaining
    return HolidayPay(tuple(lines), sum(line.amount for line in lines), accrued, taken)


# ---------------------------------------------------------------------------------------------------------
# Statutory Sick Pay

@dataclass(frozen=True)
class SickPayForPeriod:
    line: PayslipLine | None
    amount: int
    weeks_paid: str | None     # Fraction as text for YearToDate.ssp_weeks_paid; None when no sickness is known
    warnings: tuple[str, ...]


def sick_pay(employee: Employee, contract: Contract, timesheet: Timesheet | None, sickness: SicknessRecord,
             period_start: date, period_end: date) -> SickPayForPeriod:
    """SSP for the sick days in the timesheet, linking with earlier sickness in ``sickness``.

    Days paid are the timesheet's sick absences; the record's days link spells (8 weeks) and count towards the
    28 weeks, and only those before the period are taken from it, so a day is never paid twice.
    """
    now = sick_days(timesheet) if timesheet is not None else ()
    earlier = tuple(d for d in sickness.sick_days if d < period_start)
    if not now and not earlier:
        return SickPayForPeriod(None, 0, None, ())
    all_days = sorted({*earlier, *now})
    earnings = {}
    if now:
        # SSP weekly rate uses normal weekly earnings for the start of each linked series; a series always
        # starts on the first day of a spell, so those are the only days that can need it.
        known = set(all_days)
        spell_starts = [d for d in all_days if d - timedelta(days=1) not in known]
        earnings = {start: normal_weekly_earnings(employee, contract, sickness, start) for start in spell_starts
                    if start <= now[-1]}
    result: SickPay = statutory_sick_pay(all_days, contract.qualifying_days, earnings, period_start, period_end)
    amount = to_pence(result.amount)
    warnings = []
    if result.exhausted_on is not None:
        warnings.append(f"Sick pay: SSP ran out on {result.exhausted_on} after 28 weeks in the linked series; "
                        f"give {employee.full_name} form SSP1")
    line = None
    if now:
        paid_days = sum(len(week.days) for week in result.weeks)
        line = PayslipLine(LineKind.STATUTORY, "ssp",
                           f"Statutory Sick Pay ({paid_days} qualifying day{'s' if paid_days != 1 else ''})", amount)
    return SickPayForPeriod(line, amount, str(result.weeks_paid_to_date), tuple(warnings))


def normal_weekly_earnings(employee: Employee, contract: Contract, sickness: SicknessRecord,
                           first_day: date) -> Decimal:
    """Average weekly earnings in the relevant period before sickness beginning ``first_day``.

    Social Security (SSP) Regulations 1982 reg 19: the relevant period ends with the last normal payday before
    the sickness and begins after the last payday at least 8 weeks before that one; earnings paid in it are
    averaged per week (``average_weekly_earnings``: weeks, or months x 12 / 52). A PA not yet paid has the
    earnings the contract promises for a week (HMRC: "employees who have not been paid yet").
    """
    paid = _totals_by_payday(sickness.earnings_before)
    last = max((d for d in paid if d < first_day), default=None)
    if last is None:
        if contract.contracted_hours_per_week is None:
            raise PayrollRuleError(
                f"was sick from {first_day} before any payday, and the contract gives no "
                f"weekly hours to work out normal weekly earnings for SSP")
        return pounds(pence_for(contract.contracted_hours_per_week, contract.rates.standard))
    opening = max((d for d in paid if d <= last - timedelta(weeks=8)), default=None)
    in_period = [d for d in paid if (opening is None or d > opening) and d <= last]
    total = sum(paid[d] for d in in_period)
    return average_weekly_earnings(pounds(total), employee.frequency, len(in_period))


def _totals_by_payday(earnings: Iterable[tuple[date, int]]) -> dict[date, int]:
    totals: dict[date, int] = {}
    for day, amount in earnings:
        totals[day] = totals.get(day, 0) + amount
    return totals
