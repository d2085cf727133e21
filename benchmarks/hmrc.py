"""Build, validate and IRmark one FPS for 10,000 employees. Prints one JSON document.

    .venv/bin/python -m benchmarks.hmrc                 # 10,000 employees
    .venv/bin/python -m benchmarks.hmrc --employees 500

Stages, as ``build_fps`` runs them and a submission then goes: build (model -> GovTalk XML text), irmark (the
IRmark taken from the written Body and filled in), validate (HMRC's 2026-27 schema and the business rules, from
the message bytes). Target: under 5 s in total. Also timed, outside the total: verifying the IRmark from the
bytes through the general canonicalisation, as a receiver (or ``wallet hmrc irmark``) does.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date, datetime, timezone

from hmrc_export.envelope import FPS_CLASS, ChannelRouting, govtalk_message
from hmrc_export.fps import build_fps, fps_body
from hmrc_export.irmark import insert_irmark_written, verify_irmark
from hmrc_export.model import (Address, Employee, EmployeePayment, Employer, Gender, HoursWorked, Name,
                               NIContributions, Payment, PayFrequency, StudentLoanPlan, TaxCode)
from hmrc_export.taxyear import TaxYear
from hmrc_export.validate import find_problems, schema_for

EMPLOYER = Employer("Benchmark Care Employer", "120", "HA12345", "120PA00123456")
_LETTERS = "ABCEGHJKLMNPRSTWXYZ"


def _nino(i: int) -> str:
    return f"{'ACEHJLMPRSWY'[i % 12]}{_LETTERS[(i // 12) % len(_LETTERS)]}{i % 1_000_000:06d}{'ABCD'[i % 4]}"


def run(employees: int) -> list[EmployeePayment]:
    out = []
    for i in range(employees):
        gross = 120_000 + (i * 37) % 150_000
        employee = Employee(f"PA-{i:06d}", Name(("Sam",), f"Person{chr(65 + i % 26)}"), date(1970 + i % 40, 1 + i % 12, 1 + i % 28),
                            Gender.FEMALE if i % 2 else Gender.MALE, _nino(i), Address(("1 High Street", "Leeds"), "LS1 1AA"))
        ni = NIContributions("A", gross, gross * 2, 103_200, 90_200, (gross - 96_700) * 2, (gross - 96_700) * 8 // 100,
                             (gross - 96_700) * 16 // 100, (gross - 38_500) * 15 // 100, (gross - 38_500) * 30 // 100)
        payment = Payment(PayFrequency.FOUR_WEEKLY, date(2026, 5, 29), HoursWorked.FROM_16_TO_23_99,
                          TaxCode.parse("S1257L" if i % 10 == 0 else "1257L"), gross, gross * 2, gross // 10, gross // 5,
                          ni=(ni,), tax_week=8, student_loan_plan=StudentLoanPlan.PLAN_2 if i % 7 == 0 else None)
        out.append(EmployeePayment(employee, payment))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    args = parser.parse_args()
    schema_for("http://www.govtalk.gov.uk/taxation/PAYE/RTI/FullPaymentSubmission/26-27/1")  # load once, untimed
    items = run(args.employees)
    figures: dict[str, object] = {"employees": args.employees, "python": platform.python_version(),
                                  "machine": platform.machine(), "processor": platform.processor() or None}
    when = datetime(2026, 5, 28, tzinfo=timezone.utc)
    year = TaxYear(2026)
    t0 = time.perf_counter()
    text = govtalk_message(FPS_CLASS, EMPLOYER, fps_body(EMPLOYER, items, year), channel=ChannelRouting(), timestamp=when)
    t1 = time.perf_counter()
    message = insert_irmark_written(text)
    t2 = time.perf_counter()
    problems = find_problems(message, today=date(2026, 5, 28))
    t3 = time.perf_counter()
    ok = verify_irmark(message)
    t4 = time.perf_counter()
    if problems or not ok or message != build_fps(EMPLOYER, items, timestamp=when):
        raise SystemExit(f"benchmark document is not valid: {problems[:3]} irmark ok={ok}")
    figures.update(message_bytes=len(message), build_seconds=round(t1 - t0, 3), irmark_seconds=round(t2 - t1, 3),
                   validate_seconds=round(t3 - t2, 3), total_seconds=round(t3 - t0, 3),
                   verify_irmark_from_bytes_seconds=round(t4 - t3, 3))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
