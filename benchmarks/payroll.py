"""Time one pay run for 10,000 PAs with every rule in play. Prints one JSON document.

    .venv/bin/python -m benchmarks.payroll              # 10,000 PAs
    .venv/bin/python -m benchmarks.payroll --quick      # 500 PAs
    .venv/bin/python -m benchmarks.payroll --pas 2000 --repeat 3

A four-weekly run (the usual frequency for a national payroll bureau), paid Thursday 25 June 2026, tax week 12,
pay period 25 May to 21 June. The PAs vary: tax codes (cumulative, week 1, K, BR, D0, NT, Scottish, Welsh),
NI letters, student and postgraduate loans, pension status and relief method, irregular hours with holiday
accrual, holiday taken and rolled-up holiday pay, sick days with SSP linking to earlier sickness, expenses,
sleep-ins, P45 starters, year-to-date figures from three earlier periods, and a few leavers. Building the
inputs is not timed; ``calculate_pay_run`` is, from the first PA to the summary. Target: under 10 s.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date, datetime, time as clock, timedelta, timezone
from decimal import Decimal

from payroll.model import Absence, Contract, Employee, Employer, EmployerKind, HourKind, PayRates, PayRun, \
    PayRunMember, PensionStatus, PreviousEmployment, Shift, SicknessRecord, Timesheet, TimesheetStatus, YearToDate
from payroll.payrun import calculate_pay_run

EMPLOYER = Employer("bench-employer", "Benchmark Payroll Bureau", EmployerKind.THIRD_PARTY, "120", "A120",
                    "120PA00012345", claims_employment_allowance=True)
PAYDAY = date(2026, 6, 25)
FIRST, LAST = date(2026, 5, 25), date(2026, 6, 21)
RUN = PayRun("bench-run", EMPLOYER.id, "2026-27", "four_weekly", 12, FIRST, LAST, PAYDAY)
UK = timezone(timedelta(hours=1))   # British Summer Time throughout the period

CODES = ("1257L", "1257L", "1257L", "S1257L", "C1257L", "1100L", "1257L W1", "BR", "D0", "K475", "0T", "NT",
         "1383L", "S1100L M1")
LETTERS = ("A", "A", "A", "A", "B", "C", "H", "J", "M", "Z", "X")
LOANS = ((), (), (), ("1",), ("2",), ("4",), ("5",), ("2", "PGL"), ("PGL",))
PENSIONS = (PensionStatus.ENROLLED, PensionStatus.ENROLLED, PensionStatus.OPTED_IN, PensionStatus.NOT_ASSESSED,
            PensionStatus.NOT_ELIGIBLE, PensionStatus.OPTED_OUT, PensionStatus.POSTPONED)


def build(count: int) -> list[PayRunMember]:
    members = []
    for i in range(count):
        irregular = i % 3 == 0
        pa = Employee(
            id=f"pa-{i}", employer_id=EMPLOYER.id, payroll_id=f"B{i:06d}", forenames=("Sam",),
            surname=f"Person{i}", birth_date=date(1950 + i % 55, 1 + i % 12, 1 + i % 28),
            start_date=date(2020, 1, 6) if i % 50 else date(2026, 5, 25), frequency="four_weekly",
            tax_code=CODES[i % len(CODES)], ni_letter=LETTERS[i % len(LETTERS)],
            student_loan_plans=LOANS[i % len(LOANS)], pension_status=PENSIONS[i % len(PENSIONS)],
            pension_postponed_until=date(2026, 8, 1) if i % 14 == 6 else None,
            previous_employment=PreviousEmployment(410_000, 41_800) if i % 50 == 0 else None,
            leaving_date=date(2026, 6, 19) if i % 97 == 0 else None,
            irregular_hours=irregular, rolled_up_holiday=irregular and i % 2 == 0)
        rates = PayRates(standard=1271 + i % 400, night=1400 + i % 300, weekend=1450, bank_holiday=2600,
                         sleep_in_flat=4500 + i % 2000, on_call=1300)
        contract = Contract(f"c-{i}", pa.id, pa.start_date, rates, contracted_hours_per_week=Decimal(20 + i % 20),
                            pension_relief="net_pay_arrangement" if i % 4 == 0 else "relief_at_source")
        members.append(PayRunMember(pa, contract, _timesheet(i, pa), _year_to_date(i, pa), _sickness(i)))
    return members


def _timesheet(i: int, pa: Employee) -> Timesheet:
    shifts = []
    working_days = [FIRST + timedelta(days=n) for n in range(28) if (n + i) % 7 < 4]   # 16 days
    for n, day in enumerate(working_days[: 8 + i % 9]):
        start = 7 + (i + n) % 6
        kind = (HourKind.STANDARD, HourKind.STANDARD, HourKind.WEEKEND, HourKind.NIGHT)[n % 4]
        starts = datetime.combine(day, clock(start), UK)
        shifts.append(Shift(starts, starts + timedelta(hours=5 + (i + n) % 6, minutes=15 * (n % 4)), kind))
        if n % 5 == 2:   # a sleep-in after the day shift
            night = datetime.combine(day, clock(22), UK)
            shifts.append(Shift(night, night + timedelta(hours=9), HourKind.SLEEP_IN))
    absences = []
    free_days = [FIRST + timedelta(days=n) for n in range(28) if (n + i) % 7 >= 4]
    if i % 11 == 0:
        absences += [Absence(d, "sick") for d in free_days[:3]]
    if pa.irregular_hours and i % 4 == 3:
        absences.append(Absence(free_days[-1], "holiday", Decimal("6.00")))
    if pa.leaving_date:
        shifts = [s for s in shifts if s.starts.date() <= pa.leaving_date]
        absences = [a for a in absences if a.day <= pa.leaving_date]
    if pa.start_date > FIRST:
        shifts = [s for s in shifts if s.starts.date() >= pa.start_date]
    return Timesheet(f"ts-{i}", pa.id, FIRST, LAST, tuple(shifts), tuple(absences), expenses=(i % 5) * 1250,
                     status=TimesheetStatus.APPROVED)


def _year_to_date(i: int, pa: Employee) -> YearToDate:
    if pa.start_date > FIRST:
        return YearToDate()
    gross = 3 * (90_000 + (i * 37) % 120_000)
    return YearToDate(gross_pay=gross, taxable_pay=gross, tax=gross // 12, employee_ni=gross // 40,
                      employer_ni=gross // 9, ni_earnings=gross, holiday_hours_accrued=Decimal("30.00"),
                      holiday_hours_taken=Decimal("6.00"), net_pay=gross - gross // 12 - gross // 40)


def _sickness(i: int) -> SicknessRecord:
    paydays = [PAYDAY - timedelta(weeks=4 * k) for k in range(1, 4)]
    earlier = tuple(date(2026, 5, 4) + timedelta(days=n) for n in range(4)) if i % 22 == 0 else ()
    return SicknessRecord(earlier, tuple((d, 90_000 + (i * 37) % 120_000) for d in paydays))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pas", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="500 PAs")
    parser.add_argument("--repeat", type=int, default=1, help="time the run this many times; report the best")
    args = parser.parse_args()
    count = 500 if args.quick else args.pas
    members = build(count)
    shifts = sum(len(m.timesheet.shifts) for m in members)
    timings, cpu = [], []
    for _ in range(args.repeat):
        ids = iter(range(10 ** 9))
        start, start_cpu = time.perf_counter(), time.process_time()
        result = calculate_pay_run(RUN, EMPLOYER, members, employment_allowance_used_before=250_000,
                                   new_id=lambda: f"slip-{next(ids)}")
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    best = min(timings)
    summary = result.summary
    print(json.dumps({
        "pas": count, "shifts": shifts, "payslips": len(result.payslips),
        "seconds": round(best, 3), "all_seconds": [round(t, 3) for t in timings],
        # CPU time of this process: what the run costs when other work shares the cores
        "cpu_seconds": [round(t, 3) for t in cpu],
        "payslips_per_second": round(len(result.payslips) / best),
        "warnings": sum(len(p.warnings) for p in result.payslips),
        "gross_pay_pence": summary.gross_pay, "net_pay_pence": summary.net_pay,
        "python": platform.python_version(), "machine": platform.machine(),
        "processor": platform.processor() or None, "cpus": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
