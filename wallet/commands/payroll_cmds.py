"""`wallet payroll ...` commands: the batch calculator, and employers, PAs, contracts, timesheets and pay runs
kept in the wallet's database.

Every command that changes something says who is doing it with ``--by`` (or WALLET_ACTOR). Bank details and NI
numbers are asked for at a prompt that does not echo them, and are never printed in full.
"""
from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, NoReturn

import click

from payroll import calc

UK_ZONE = "Europe/London"


@click.group(help="Payroll for personal assistants.")
def payroll() -> None:
    pass


@payroll.command("calc")
@click.option("--input", "input_file", type=click.File("r", encoding="utf-8", errors="replace"),
              default="-", show_default=True,
              help="JSON lines of requests (default: standard input).")
@click.option("--output", "output_file", type=click.File("w", encoding="utf-8"), default="-", show_default=True,
              help="Where to write the JSON result lines (default: standard output).")
def calc_command(input_file, output_file) -> None:
    """Compute PAYE, NI and student loans for one payment per JSON line.

    \b
    Request: {"id": ..., "tax_year": "2026-27", "frequency": "weekly|fortnightly|four_weekly|monthly",
              "period": <tax week, or tax month if monthly>, "tax_code": "1257L" (optionally " W1"/" M1"/" X"),
              "gross_pay": "1234.56", "non_cumulative": false, "taxable_pay_to_date": "0" (before this payment),
              "tax_paid_to_date": "0", "ni_category": "A", "student_loan_plans": ["2", "PGL"]}
    Result: {"id", "tax" (negative: refund), "tax_to_date", "employee_ni", "employer_ni", "student_loan",
             "postgrad_loan"}, or {"id", "error"} for a request that cannot be computed.
    """
    for result in calc.run(input_file):
        output_file.write(result + "\n")
        output_file.flush()


# ---------------------------------------------------------------------------------------------------------
# Plumbing shared by the commands below


def _service(ctx: click.Context):
    """The payroll service on the wallet's database (``--database-url`` / WALLET_DATABASE_URL) with the
    configured encryption keys (WALLET_ENCRYPTION_KEYS, or instance/encryption.key)."""
    from payroll.sealed import FieldCipher, SealedFieldError
    from payroll.service import PayrollService
    from wallet.config import database_url, encryption_keys
    from wallet.database import open_database

    root = ctx.find_root()
    cached = root.meta.get("payroll.service")
    if cached is not None:
        return cached
    try:
        cipher = FieldCipher(encryption_keys())
    except (SealedFieldError, ValueError) as exc:
        _fail(str(exc))
    database = open_database((root.obj or {}).get("database_url") or database_url())
    root.call_on_close(database.dispose)
    service = PayrollService(database.engine, cipher)
    root.meta["payroll.service"] = service
    return service


def _fail(message: str, problems: tuple[str, ...] = ()) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    if len(problems) > 1:
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
    sys.exit(2)


def _call(work: Callable[[], Any]) -> Any:
    """Run one service call; a refusal becomes its plain-English reason on stderr and exit status 2."""
    from payroll.sealed import SealedFieldError
    from payroll.service import PayrollError

    try:
        return work()
    except PayrollError as exc:
        _fail(str(exc), getattr(exc, "problems", ()))
    except SealedFieldError as exc:
        _fail(str(exc))


def _money(pence: int | None) -> str:
    from wallet.money import format_pence

    return "-" if pence is None else format_pence(pence)


def _pounds_option(value: str | None, what: str) -> int | None:
    from wallet.money import parse_pounds

    if value is None:
        return None
    try:
        return parse_pounds(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=what) from None


def _date(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (use YYYY-MM-DD)", param_hint=what) from None


def _moment(text: object, what: str) -> datetime:
    """ISO date and time; without a zone it is UK time."""
    from zoneinfo import ZoneInfo

    if not isinstance(text, str):
        raise click.BadParameter(f"{what} must be a date and time such as 2026-04-06T09:00")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{what} {text!r} is not a date and time such as 2026-04-06T09:00") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(UK_ZONE))


ACTOR = click.option("--by", "actor", envvar="WALLET_ACTOR", required=True,
                     help="Who is doing this (name or user id); default from WALLET_ACTOR.")


def _progress_printer(enabled: bool | None) -> Callable[[str, int, int], None] | None:
    """Progress lines on stderr: always with --progress, never with --no-progress; by default when stderr is a
    terminal or the run is long (100 PAs or more)."""
    if enabled is False:
        return None
    interactive = sys.stderr.isatty()

    def show(stage: str, done: int, total: int) -> None:
        if enabled or interactive or total >= 100:
            click.echo(f"{stage}: {done} of {total}", err=True)

    return show


PROGRESS = click.option("--progress/--no-progress", default=None,
                        help="Show progress on stderr (default: on a terminal, or for 100 PAs or more).")


# ---------------------------------------------------------------------------------------------------------
# Employers


@payroll.group(help="Employers: the budget holder or organisation that employs the PAs.")
def employer() -> None:
    pass


@employer.command("add", help="Add an employer with its HMRC references.")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["budget_holder", "third_party"]), default="budget_holder",
              show_default=True)
@click.option("--paye-reference", required=True, help="Employer PAYE reference, e.g. 120/A120")
@click.option("--accounts-office-reference", required=True, help="e.g. 120PA00012345")
@click.option("--employment-allowance/--no-employment-allowance", default=False, show_default=True,
              help="Claims the Employment Allowance (care and support employers can).")
@click.option("--owner", "owner_ref", default=None, help="The wallet or organisation this employer belongs to.")
@ACTOR
@click.pass_context
def employer_add(ctx, name, kind, paye_reference, accounts_office_reference, employment_allowance, owner_ref, actor):
    office, slash, reference = paye_reference.partition("/")
    if not slash:
        raise click.BadParameter("write the employer PAYE reference with its slash, e.g. 120/A120",
                                 param_hint="--paye-reference")
    service = _service(ctx)
    made = _call(lambda: service.add_employer(
        name=name, kind=kind, hmrc_office_number=office.strip(), paye_reference=reference.strip(),
        accounts_office_reference=accounts_office_reference, claims_employment_allowance=employment_allowance,
        owner_ref=owner_ref, actor=actor))
    click.echo(f"Employer {made.id} added: {made.name} ({made.employer_paye_reference})")


@employer.command("list", help="List employers.")
@click.pass_context
def employer_list(ctx):
    service = _service(ctx)
    for e in _call(service.list_employers):
        allowance = "claims Employment Allowance" if e.claims_employment_allowance else "no Employment Allowance"
        click.echo(f"{e.id}  {e.name}  {e.employer_paye_reference}  {e.kind.value}  {allowance}")


# ---------------------------------------------------------------------------------------------------------
# Employees


@payroll.group(help="Employees: the personal assistants (PAs).")
def employee() -> None:
    pass


@employee.command("add", help="Add a PA. The NI number and bank details are asked for and not shown as typed.")
@click.option("--employer", "employer_id", required=True, help="Employer id.")
@click.option("--payroll-id", required=True, help="The employer's own number for the PA.")
@click.option("--forenames", required=True, help="Forenames, separated by spaces.")
@click.option("--surname", required=True)
@click.option("--birth-date", required=True, help="YYYY-MM-DD")
@click.option("--start-date", required=True, help="YYYY-MM-DD")
@click.option("--frequency", type=click.Choice(["weekly", "fortnightly", "four_weekly", "monthly"]),
              default="monthly", show_default=True)
@click.option("--tax-code", required=True, help="As HMRC writes it, e.g. 1257L, S1257L M1, BR")
@click.option("--ni-letter", default="A", show_default=True)
@click.option("--student-loan", "plans", multiple=True, help="Plan 1, 2, 4, 5 or PGL (repeat for several).")
@click.option("--starter-declaration", type=click.Choice(["A", "B", "C"]), default=None)
@click.option("--gender", type=click.Choice(["M", "F"]), default=None)
@click.option("--irregular-hours", is_flag=True, help="Holiday accrues at 12.07% of hours worked.")
@click.option("--no-bank", is_flag=True, help="Add the PA without bank details (give them later).")
@ACTOR
@click.pass_context
def employee_add(ctx, employer_id, payroll_id, forenames, surname, birth_date, start_date, frequency, tax_code,
                 ni_letter, plans, starter_declaration, gender, irregular_hours, no_bank, actor):
    from payroll.model import BankDetails

    service = _service(ctx)
    nino = click.prompt("NI number (leave blank if not known)", default="", show_default=False,
                        hide_input=True).strip() or None
    bank = None
    if not no_bank:
        name = click.prompt("Name on the bank account")
        sort_code = click.prompt("Sort code (6 digits)", hide_input=True)
        account = click.prompt("Account number (8 digits)", hide_input=True, confirmation_prompt=True)
        bank = BankDetails(name, sort_code, account)
    made = _call(lambda: service.add_employee(
        employer_id, payroll_id=payroll_id, forenames=forenames.split(), surname=surname,
        birth_date=_date(birth_date, "--birth-date"), start_date=_date(start_date, "--start-date"),
        frequency=frequency, tax_code=tax_code, ni_letter=ni_letter, nino=nino, gender=gender,
        student_loan_plans=plans, starter_declaration=starter_declaration, bank_details=bank,
        irregular_hours=irregular_hours, actor=actor))
    bank_words = made.bank_details.masked if made.bank_details else "no bank details"
    click.echo(f"Employee {made.id} added: {made.full_name} (payroll id {made.payroll_id}), bank {bank_words}")


@employee.command("list", help="List an employer's PAs, with bank details masked.")
@click.option("--employer", "employer_id", required=True)
@click.option("--current", is_flag=True, help="Leave out PAs who have left.")
@click.pass_context
def employee_list(ctx, employer_id, current):
    service = _service(ctx)
    employees = _call(lambda: service.list_employees(employer_id, include_leavers=not current))
    if not employees:
        click.echo("No employees.")
        return
    rows = [("Payroll id", "Name", "Employee id", "Tax code", "NI", "Paid", "Pension", "Bank", "Left")]
    for e in employees:
        code = e.tax_code + (" M1/W1" if e.non_cumulative else "")
        rows.append((e.payroll_id, e.full_name, e.id, code,
                     f"{e.ni_letter}{'' if e.nino else ' (no number)'}", e.frequency, e.pension_status.value,
                     e.bank_details.masked if e.bank_details else "none",
                     str(e.leaving_date) if e.leaving_date else ""))
    _table(rows)


@employee.command("bank", help="Give or change a PA's bank details (asked for, not shown as typed).")
@click.argument("employee_id")
@ACTOR
@click.pass_context
def employee_bank(ctx, employee_id, actor):
    from payroll.model import BankDetails

    service = _service(ctx)
    name = click.prompt("Name on the bank account")
    sort_code = click.prompt("Sort code (6 digits)", hide_input=True)
    account = click.prompt("Account number (8 digits)", hide_input=True, confirmation_prompt=True)
    changed = _call(lambda: service.update_bank_details(employee_id, BankDetails(name, sort_code, account),
                                                        actor=actor))
    click.echo(f"Bank details for {changed.full_name} saved: {changed.bank_details.masked}")


@employee.command("tax-code", help="Record a new tax code from a date; it takes effect in the next run.")
@click.argument("employee_id")
@click.argument("tax_code")
@click.option("--from", "effective_from", required=True, help="YYYY-MM-DD: paydays from this day use it.")
@ACTOR
@click.pass_context
def employee_tax_code(ctx, employee_id, tax_code, effective_from, actor):
    service = _service(ctx)
    _call(lambda: service.update_tax_code(employee_id, tax_code, effective_from=_date(effective_from, "--from"),
                                          actor=actor))
    click.echo(f"Tax code {tax_code.upper()} recorded for {employee_id} from {effective_from}.")


@employee.command("leave", help="Record that a PA leaves; shows the P45 figures so far.")
@click.argument("employee_id")
@click.option("--date", "leaving_date", required=True, help="Last day of employment, YYYY-MM-DD")
@ACTOR
@click.pass_context
def employee_leave(ctx, employee_id, leaving_date, actor):
    service = _service(ctx)
    record = _call(lambda: service.record_leaver(employee_id, _date(leaving_date, "--date"), actor=actor))
    ytd = record.year_to_date
    click.echo(f"{record.employee.full_name} leaves on {record.employee.leaving_date}.")
    click.echo(f"P45 figures for {record.tax_year} so far: pay {_money(ytd.taxable_pay)}, tax {_money(ytd.tax)}")
    if not record.final_payment_finalised:
        click.echo("The final payment is not finalised yet: the P45 figures are those after it.")


@employee.command("pension", help="Change a PA's auto-enrolment status.")
@click.argument("employee_id")
@click.argument("move", type=click.Choice(["enrol", "opt-in", "opt-out", "postpone", "not-eligible"]))
@click.option("--until", default=None, help="End of a postponement, YYYY-MM-DD")
@click.option("--effective", default=None, help="Day the change applies, YYYY-MM-DD (default today)")
@ACTOR
@click.pass_context
def employee_pension(ctx, employee_id, move, until, effective, actor):
    service = _service(ctx)
    status = {"enrol": "enrolled", "opt-in": "opted_in", "opt-out": "opted_out", "postpone": "postponed",
              "not-eligible": "not_eligible"}[move]
    changed = _call(lambda: service.change_pension_status(
        employee_id, status, actor=actor, effective=_date(effective, "--effective"),
        postponed_until=_date(until, "--until")))
    click.echo(f"{changed.full_name}: pension status {changed.pension_status.value}")


# ---------------------------------------------------------------------------------------------------------
# Contracts


@payroll.group(help="Contracts: pay rates for each kind of hour.")
def contract() -> None:
    pass


@contract.command("add", help="Add a contract. Rates are pounds an hour (sleep-in: pounds a night).")
@click.option("--employee", "employee_id", required=True)
@click.option("--starts", required=True, help="YYYY-MM-DD")
@click.option("--ends", default=None, help="YYYY-MM-DD (default: open-ended)")
@click.option("--standard", required=True, help="Standard hourly rate, e.g. 12.71")
@click.option("--night", default=None)
@click.option("--weekend", default=None)
@click.option("--bank-holiday", default=None)
@click.option("--sleep-in", default=None, help="Flat amount a night.")
@click.option("--on-call", default=None)
@click.option("--hours-per-week", default=None, help="Contracted hours a week (SSP uses them before a first payday).")
@click.option("--pension-employee", default="0.05", show_default=True)
@click.option("--pension-employer", default="0.03", show_default=True)
@click.option("--relief", type=click.Choice(["relief_at_source", "net_pay_arrangement"]), default="relief_at_source",
              show_default=True)
@ACTOR
@click.pass_context
def contract_add(ctx, employee_id, starts, ends, standard, night, weekend, bank_holiday, sleep_in, on_call,
                 hours_per_week, pension_employee, pension_employer, relief, actor):
    from payroll.model import PayRates

    rates = PayRates(standard=_pounds_option(standard, "--standard"), night=_pounds_option(night, "--night"),
                     weekend=_pounds_option(weekend, "--weekend"),
                     bank_holiday=_pounds_option(bank_holiday, "--bank-holiday"),
                     sleep_in_flat=_pounds_option(sleep_in, "--sleep-in"), on_call=_pounds_option(on_call, "--on-call"))
    service = _service(ctx)
    made = _call(lambda: service.add_contract(
        employee_id, starts=_date(starts, "--starts"), ends=_date(ends, "--ends"), rates=rates,
        contracted_hours_per_week=hours_per_week, pension_employee_rate=pension_employee,
        pension_employer_rate=pension_employer, pension_relief=relief, actor=actor))
    click.echo(f"Contract {made.id} added from {made.starts}: standard {_money(made.rates.standard)} an hour")


# ---------------------------------------------------------------------------------------------------------
# Timesheets


@payroll.group(help="Timesheets: hours worked, sickness and holiday in a period.")
def timesheet() -> None:
    pass


def _entries(data: Any, where: str) -> tuple[tuple, tuple, int]:
    """Shifts, absences and expenses from a timesheet file's JSON (see ``timesheet add --help``)."""
    from payroll.model import Absence, HourKind, Shift
    from wallet.money import parse_pounds

    if isinstance(data, list):
        data = {"shifts": data}
    if not isinstance(data, dict):
        raise click.BadParameter(f"{where} must hold a JSON object with \"shifts\" (and optionally \"absences\" "
                                 f"and \"expenses\")")
    unknown = sorted(set(data) - {"shifts", "absences", "expenses", "employee", "from", "to"})
    if unknown:
        raise click.BadParameter(f"{where} has unknown field(s): {', '.join(unknown)}")
    shifts = []
    for number, item in enumerate(data.get("shifts") or [], start=1):
        label = f"{where}: shift {number}"
        if not isinstance(item, dict) or "start" not in item or "end" not in item:
            raise click.BadParameter(f"{label} needs \"start\" and \"end\"")
        try:
            kind = HourKind(item.get("kind", "standard"))
        except ValueError:
            raise click.BadParameter(f"{label}: kind must be one of {', '.join(k.value for k in HourKind)}") from None
        shifts.append(Shift(_moment(item["start"], f"{label} start"), _moment(item["end"], f"{label} end"), kind,
                            str(item.get("note", ""))))
    absences = []
    for number, item in enumerate(data.get("absences") or [], start=1):
        label = f"{where}: absence {number}"
        if not isinstance(item, dict) or "day" not in item or "kind" not in item:
            raise click.BadParameter(f"{label} needs \"day\" and \"kind\" (sick or holiday)")
        try:
            hours = Decimal(str(item.get("hours", "0")))
        except InvalidOperation:
            raise click.BadParameter(f"{label}: hours must be a number such as 7.5") from None
        if not hours.is_finite() or not 0 <= hours <= 24:
            raise click.BadParameter(f"{label}: hours must be a number from 0 to 24, such as 7.5")
        absences.append(Absence(_date(str(item["day"]), label), str(item["kind"]), hours))
    try:
        expenses = parse_pounds(str(data.get("expenses", "0")))
    except ValueError as exc:
        raise click.BadParameter(f"{where}: expenses: {exc}") from None
    return tuple(shifts), tuple(absences), expenses


TIMESHEET_FILE_BYTES = 256 * 1024
"""A month of shifts is a few kilobytes; a bigger file is refused before it is read."""


def _read_json(path: Path) -> Any:
    try:
        if path.stat().st_size > TIMESHEET_FILE_BYTES:
            raise click.BadParameter(f"{path} is larger than {TIMESHEET_FILE_BYTES // 1024} KB; a timesheet is "
                                     "much smaller")
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:   # RecursionError: absurdly deep nesting
        raise click.BadParameter(f"{path} is not readable JSON ({str(exc)[:200]})") from None


def _read_timesheet(path: Path, fmt: str | None) -> tuple[tuple, tuple, int]:
    """Shifts, absences and expenses from a JSON or CSV timesheet file (by --format, else by its extension)."""
    from payroll.timesheet_csv import TimesheetFileError, read_timesheet_csv

    chosen = fmt or ("csv" if path.suffix.lower() == ".csv" else "json")
    if chosen == "json":
        return _entries(_read_json(path), str(path))
    try:
        with path.open("rb") as handle:
            data = handle.read(TIMESHEET_FILE_BYTES + 1)
        rows = read_timesheet_csv(data)
    except OSError as exc:
        raise click.BadParameter(f"{path} cannot be read ({exc.strerror or exc})") from None
    except TimesheetFileError as exc:
        if len(exc.problems) == 1:
            _fail(f"{path} is not a timesheet we can read: {exc.problems[0]}")
        _fail(f"{path} is not a timesheet we can read:", exc.problems)
    return rows.shifts, rows.absences, 0


@timesheet.command("add", help="""Add a draft timesheet from a JSON or CSV file.

\b
JSON:
{"shifts": [{"start": "2026-04-06T09:00", "end": "2026-04-06T17:00", "kind": "standard", "note": ""}],
 "absences": [{"day": "2026-04-10", "kind": "sick"}, {"day": "2026-04-13", "kind": "holiday", "hours": "7.5"}],
 "expenses": "12.50"}
Times without a zone are UK time; kinds: standard, night, weekend, bank_holiday, sleep_in, on_call.

\b
CSV (a file ending .csv, or --format csv), UK time, a shift ending before it starts ends the next day:
date,start,end,kind,note,hours
06/04/2026,09:00,17:00,standard,,
06/04/2026,22:00,07:00,sleep_in,,
10/04/2026,,,sick,,
13/04/2026,,,holiday,,7.5""")
@click.option("--employee", "employee_id", required=True)
@click.option("--from", "period_start", required=True, help="First day, YYYY-MM-DD")
@click.option("--to", "period_end", required=True, help="Last day, YYYY-MM-DD")
@click.option("--file", "file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default=None,
              help="The file's format (default: csv for a .csv file, else json).")
@ACTOR
@click.pass_context
def timesheet_add(ctx, employee_id, period_start, period_end, file, fmt, actor):
    shifts, absences, expenses = _read_timesheet(file, fmt)
    service = _service(ctx)
    made = _call(lambda: service.save_timesheet(
        employee_id, period_start=_date(period_start, "--from"), period_end=_date(period_end, "--to"),
        shifts=shifts, absences=absences, expenses=expenses, actor=actor))
    click.echo(f"Timesheet {made.id} saved as draft: {len(made.shifts)} shifts, {len(made.absences)} absences")


@timesheet.command("submit", help="Submit a draft (or corrected rejected) timesheet for approval.")
@click.argument("timesheet_id")
@ACTOR
@click.pass_context
def timesheet_submit(ctx, timesheet_id, actor):
    service = _service(ctx)
    moved = _call(lambda: service.submit_timesheet(timesheet_id, actor=actor))
    click.echo(f"Timesheet {moved.id} submitted by {moved.submitted_by}")


@timesheet.command("approve", help="Approve a submitted timesheet (not your own).")
@click.argument("timesheet_id")
@ACTOR
@click.pass_context
def timesheet_approve(ctx, timesheet_id, actor):
    service = _service(ctx)
    moved = _call(lambda: service.approve_timesheet(timesheet_id, actor=actor))
    click.echo(f"Timesheet {moved.id} approved by {moved.decided_by}")


@timesheet.command("reject", help="Reject a submitted timesheet, saying why.")
@click.argument("timesheet_id")
@click.option("--reason", required=True, help="What the PA should change.")
@ACTOR
@click.pass_context
def timesheet_reject(ctx, timesheet_id, reason, actor):
    service = _service(ctx)
    moved = _call(lambda: service.reject_timesheet(timesheet_id, actor=actor, reason=reason))
    click.echo(f"Timesheet {moved.id} rejected by {moved.decided_by}: {moved.rejection_reason}")


# ---------------------------------------------------------------------------------------------------------
# Pay runs


@payroll.group(help="Pay runs: draft → calculated → reviewed → approved → finalised.")
def run() -> None:
    pass


def _run_line(r) -> str:
    kind = f"adjustment of {r.corrects}" if r.corrects else "pay run"
    return (f"{r.id}  {kind}  {r.frequency} {r.tax_year} period {r.period}  {r.period_start} to {r.period_end}  "
            f"paid {r.payment_date}  {r.status.value}")


@run.command("create", help="Create a draft pay run for a period and payday.")
@click.option("--employer", "employer_id", required=True)
@click.option("--from", "period_start", required=True, help="First day of the pay period, YYYY-MM-DD")
@click.option("--to", "period_end", required=True, help="Last day of the pay period, YYYY-MM-DD")
@click.option("--payment-date", required=True, help="Payday, YYYY-MM-DD (sets the tax period)")
@click.option("--frequency", type=click.Choice(["weekly", "fortnightly", "four_weekly", "monthly"]),
              default="monthly", show_default=True)
@ACTOR
@click.pass_context
def run_create(ctx, employer_id, period_start, period_end, payment_date, frequency, actor):
    service = _service(ctx)
    made = _call(lambda: service.create_pay_run(
        employer_id, period_start=_date(period_start, "--from"), period_end=_date(period_end, "--to"),
        payment_date=_date(payment_date, "--payment-date"), frequency=frequency, actor=actor))
    click.echo(f"Pay run {made.id} created: {made.tax_year} period {made.period}, paid {made.payment_date}")


@run.command("list", help="List an employer's pay runs.")
@click.option("--employer", "employer_id", required=True)
@click.pass_context
def run_list(ctx, employer_id):
    service = _service(ctx)
    runs = _call(lambda: service.list_runs(employer_id))
    for r in runs:
        click.echo(_run_line(r))
    if not runs:
        click.echo("No pay runs.")


@run.command("calculate", help="Calculate every PA's pay for the run (again, if already calculated).")
@click.argument("run_id")
@PROGRESS
@ACTOR
@click.pass_context
def run_calculate(ctx, run_id, progress, actor):
    service = _service(ctx)
    done = _call(lambda: service.calculate(run_id, actor=actor, progress=_progress_printer(progress)))
    _warnings(done)
    click.echo(f"Pay run {done.id} calculated: {len(done.payslips)} payslips, "
               f"total cost {_money(done.summary.total_cost)}")


@run.command("review", help="Mark the calculated figures as checked.")
@click.argument("run_id")
@ACTOR
@click.pass_context
def run_review(ctx, run_id, actor):
    service = _service(ctx)
    done = _call(lambda: service.review(run_id, actor=actor))
    click.echo(f"Pay run {done.id} reviewed by {actor}")


@run.command("approve", help="Approve the reviewed run (someone who did not calculate or review it).")
@click.argument("run_id")
@ACTOR
@click.pass_context
def run_approve(ctx, run_id, actor):
    service = _service(ctx)
    done = _call(lambda: service.approve(run_id, actor=actor))
    click.echo(f"Pay run {done.id} approved by {actor}")


@run.command("finalise", help="Finalise the approved run: year-to-date figures are written; no more changes.")
@click.argument("run_id")
@PROGRESS
@ACTOR
@click.pass_context
def run_finalise(ctx, run_id, progress, actor):
    service = _service(ctx)
    done = _call(lambda: service.finalise(run_id, actor=actor, progress=_progress_printer(progress)))
    click.echo(f"Pay run {done.id} finalised by {actor}")


@run.command("correct", help="""Correct a finalised run with an adjustment run, from a JSON file of corrected
timesheets, one per PA (each as for `timesheet add`, with "employee", and optionally "from"/"to" inside the
run's period):

\b
{"timesheets": [{"employee": "<id>", "shifts": [...], "absences": [...], "expenses": "0"}]}""")
@click.argument("run_id")
@click.option("--file", "file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--payment-date", default=None, help="Payday of the correction, YYYY-MM-DD (default today)")
@PROGRESS
@ACTOR
@click.pass_context
def run_correct(ctx, run_id, file, payment_date, progress, actor):
    from payroll.model import Timesheet

    data = _read_json(file)
    items = data.get("timesheets") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise click.BadParameter(f"{file} must hold {{\"timesheets\": [...]}} with at least one timesheet")
    service = _service(ctx)
    original = _call(lambda: service.get_run(run_id, with_payslips=False))
    corrected = []
    for number, item in enumerate(items, start=1):
        where = f"{file}: timesheet {number}"
        if not isinstance(item, dict) or not isinstance(item.get("employee"), str):
            raise click.BadParameter(f"{where} needs \"employee\" (the employee id)")
        shifts, absences, expenses = _entries(item, where)
        corrected.append(Timesheet(
            id="", employee_id=item["employee"],
            period_start=_date(item.get("from"), f"{where} from") or original.period_start,
            period_end=_date(item.get("to"), f"{where} to") or original.period_end,
            shifts=shifts, absences=absences, expenses=expenses))
    done = _call(lambda: service.correct(run_id, corrected, actor=actor,
                                         payment_date=_date(payment_date, "--payment-date"),
                                         progress=_progress_printer(progress)))
    _warnings(done)
    click.echo(f"Adjustment run {done.id} calculated for {run_id}: {len(done.payslips)} payslips, "
               f"net pay difference {_money(done.summary.net_pay)}")


@run.command("show", help="Show a run: the employer's cost summary and each PA's figures.")
@click.argument("run_id")
@click.pass_context
def run_show(ctx, run_id):
    service = _service(ctx)
    r = _call(lambda: service.get_run(run_id))
    employer_ = _call(lambda: service.get_employer(r.employer_id))
    names = {e.id: e for e in _call(lambda: service.list_employees(r.employer_id, as_of=r.payment_date))}
    title = "Adjustment run" if r.corrects else "Pay run"
    click.echo(f"{title} {r.id} for {employer_.name} ({employer_.employer_paye_reference})")
    if r.corrects:
        click.echo(f"Corrects pay run {r.corrects}")
    click.echo(f"Period {r.period_start} to {r.period_end}, paid {r.payment_date} "
               f"({r.tax_year}, {r.frequency} period {r.period})")
    click.echo(f"Status: {r.status.value}")
    for status, who, when in r.history:
        click.echo(f"  {status:<10} by {who} at {when:%Y-%m-%d %H:%M} UTC")
    s = r.summary
    if s is None:
        click.echo("Not calculated yet: no figures.")
        return
    click.echo("")
    click.echo("Employer cost summary")
    _table([
        ("PAs paid", str(s.employees)),
        ("Gross pay", _money(s.gross_pay)),
        ("Employer NI", _money(s.employer_ni)),
        ("Employment Allowance", _money(-s.employment_allowance_used)),
        ("Employer pension", _money(s.employer_pension)),
        ("Expenses repaid", _money(s.expenses)),
        ("Total cost", _money(s.total_cost)),
        ("Net pay to PAs", _money(s.net_pay)),
        ("Due to HMRC", _money(s.due_to_hmrc)),
    ], header=False, right=(1,))
    click.echo("")
    rows = [("Payroll id", "Name", "Hours", "Gross", "Tax", "Employee NI", "Loans", "Pension", "Net pay",
             "Employer NI", "Employer pension")]
    for p in r.payslips:
        e = names.get(p.employee_id)
        rows.append((e.payroll_id if e else "?", e.full_name if e else p.employee_id, str(p.hours_worked),
                     _money(p.gross_pay), _money(p.tax), _money(p.employee_ni),
                     _money(p.student_loan + p.postgraduate_loan), _money(p.pension_employee), _money(p.net_pay),
                     _money(p.employer_ni), _money(p.pension_employer)))
    _table(rows, right=tuple(range(2, 11)))
    _warnings(r)


@run.command("payslips", help="Write every payslip of a run, and the employer cost summary, as accessible PDF "
                              "(or HTML) files into a folder.")
@click.argument("run_id")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the files (made if missing).")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf", show_default=True)
@click.pass_context
def run_payslips(ctx, run_id, out_dir, fmt):
    from payroll.payslip_documents import (render_cost_summary_html, render_cost_summary_pdf, render_payslip_html,
                                           render_payslip_pdf)

    service = _service(ctx)
    r = _call(lambda: service.get_run(run_id))
    if r.summary is None:
        _fail("the run has not been calculated yet, so there are no payslips")
    employer_ = _call(lambda: service.get_employer(r.employer_id))
    employees = {e.id: e for e in _call(lambda: service.list_employees(r.employer_id, as_of=r.payment_date))}
    out_dir.mkdir(parents=True, exist_ok=True)

    def write(name: str, data: bytes) -> None:
        tmp = out_dir / (name + ".part")
        tmp.write_bytes(data)
        tmp.replace(out_dir / name)   # a file is there whole or not at all

    with click.progressbar(r.payslips, label="Writing payslips", file=sys.stderr) as slips:
        for slip in slips:
            employee = employees[slip.employee_id]
            name = f"payslip-{r.payment_date}-{employee.payroll_id}.{fmt}"
            write(name, render_payslip_pdf(slip, employee, employer_) if fmt == "pdf"
                  else render_payslip_html(slip, employee, employer_).encode("utf-8"))
    write(f"cost-summary-{r.payment_date}.{fmt}",
          render_cost_summary_pdf(r, employer_, employees) if fmt == "pdf"
          else render_cost_summary_html(r, employer_, employees).encode("utf-8"))
    click.echo(f"{len(r.payslips)} payslip(s) and the cost summary written to {out_dir}")


def _warnings(r) -> None:
    for p in r.payslips:
        for warning in p.warnings:
            click.echo(f"Warning ({p.employee_id}): {warning}", err=True)


def _table(rows: list[tuple[str, ...]], header: bool = True, right: tuple[int, ...] = ()) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        click.echo("  ".join(cells).rstrip())
        if header and number == 0:
            click.echo("  ".join("-" * w for w in widths))
