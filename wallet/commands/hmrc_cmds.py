"""`wallet hmrc ...` commands."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from wallet.commands.files import write_whole

from hmrc_export.model import LateReason


@click.group(help="HMRC Real Time Information submissions and year-end documents.")
def hmrc() -> None:
    pass


@hmrc.command("irmark", help="Show the IRmark of an RTI message FILE and whether the one it carries is right.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--write", is_flag=True, help="Put the computed IRmark into the file.")
def irmark_cmd(file: Path, write: bool) -> None:
    from hmrc_export.irmark import IRmarkError, compute_irmark, insert_irmark, stated_irmark

    message = file.read_bytes()  # bytes: whitespace inside Body is part of the IRmark
    try:
        mark = compute_irmark(message)
    except IRmarkError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"IRmark (base64, as in the message): {mark.base64}")
    click.echo(f"IRmark (base32, to show people):    {mark.base32}")
    if write:
        file.write_bytes(insert_irmark(message))
        click.echo(f"written into {file}")
        return
    stated = stated_irmark(message)
    if stated is None:
        click.echo("the message carries no IRmark element")
        sys.exit(1)
    if stated != mark.base64:
        click.echo(f"the message carries {stated!r}: WRONG")
        sys.exit(1)
    click.echo("the message's IRmark is correct")


@hmrc.command("validate", help="Check an RTI message FILE against HMRC's schema and business rules.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date the rules treat as today (default: today).")
def validate_cmd(file: Path, today) -> None:
    from hmrc_export.validate import find_problems

    problems = find_problems(file.read_bytes(), today=today.date() if today else date.today())
    if not problems:
        click.echo(f"{file}: no problems found")
        return
    click.echo(f"{file}: {len(problems)} problem(s) to fix before sending:")
    for problem in problems:
        click.echo(f"  - {problem}")
    sys.exit(1)


@hmrc.command("submit", help="Send an RTI message FILE to HMRC and wait for the answer. The gateway address and "
                             "credentials come from HMRC_GATEWAY_URL, HMRC_SENDER_ID, HMRC_PASSWORD and "
                             "HMRC_TEST_IN_LIVE.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("instance/hmrc"),
              show_default=True, help="Folder where submissions and HMRC's answers are recorded.")
def submit_cmd(file: Path, store_dir: Path) -> None:
    from hmrc_export.gateway import FileStore, GatewayClient, GatewayConfig
    from hmrc_export.validate import find_problems

    message = file.read_bytes()
    problems = find_problems(message)
    if problems:
        raise click.ClickException("not sent:\n" + "\n".join(f"  - {p}" for p in problems))
    client = GatewayClient(GatewayConfig.from_env(), FileStore(store_dir))
    done = client.submit(message)
    click.echo(f"{done.id}: {done.state.value} (correlation id {done.correlation_id})")
    for error in done.errors:
        click.echo(f"  HMRC: {error}")


@hmrc.command("resume", help="Finish submissions left pending (for example after a crash) by polling HMRC.")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("instance/hmrc"),
              show_default=True)
def resume_cmd(store_dir: Path) -> None:
    from hmrc_export.gateway import FileStore, GatewayClient, GatewayConfig

    for done in GatewayClient(GatewayConfig.from_env(), FileStore(store_dir)).resume_pending():
        click.echo(f"{done.id}: {done.state.value} (correlation id {done.correlation_id or 'unknown: check with HMRC'})")


# ---------------------------------------------------------------------------------------------------------
# Documents from the payroll's finalised runs


def _payroll(ctx: click.Context):
    from wallet.commands.payroll_cmds import _service

    return _service(ctx)


def _employer_id(service, employer_id: str | None) -> str:
    """The employer named, or the only one there is."""
    if employer_id:
        return employer_id
    employers = service.list_employers()
    if len(employers) == 1:
        return employers[0].id
    names = ", ".join(f"{e.id} ({e.name})" for e in employers) or "none yet"
    raise click.UsageError(f"say which employer with --employer (employers: {names})")


def _write(data: bytes, out: Path | None) -> None:
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_whole(out, data)
    click.echo(f"written to {out}", err=True)


def _finalised_runs(service, employer_id: str, tax_year: str):
    from payroll.model import PayRunStatus

    runs = [service.get_run(r.id) for r in service.list_runs(employer_id, status=PayRunStatus.FINALISED)]
    return [r for r in runs if r.tax_year == tax_year]


@hmrc.command("fps", help="Build the Full Payment Submission for a finalised pay run RUN_ID, check it against "
                          "HMRC's schema and rules, and write it (IRmarked) to --out or standard output.")
@click.argument("run_id")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--final", is_flag=True, help="This is the last FPS of the tax year.")
@click.option("--late-reason", type=click.Choice([r.name.lower() for r in LateReason]), default=None,
              help="Why the FPS is sent after payday (for a correction of an earlier FPS: correction).")
@click.pass_context
def fps_cmd(ctx: click.Context, run_id: str, out: Path | None, final: bool, late_reason: str | None) -> None:
    from hmrc_export.from_payroll import fps_for_run
    from hmrc_export.validate import find_problems
    from wallet.commands.payroll_cmds import _call

    service = _payroll(ctx)
    done = _call(lambda: service.finalised_run(run_id))
    earlier = {}
    for employee_id in done.employees:
        slips = _call(lambda e=employee_id: service.employee_payslips(e))
        earlier[employee_id] = tuple(s for s in slips if s.pay_run_id != run_id and s.tax_year == done.run.tax_year
                                     and s.payment_date <= done.run.payment_date)
    try:
        reason = LateReason[late_reason.upper()] if late_reason else None
        message = fps_for_run(done.run, done.employer, done.employees, earlier=earlier,
                              late_reason=reason).build(final_for_year=final)
    except ValueError as exc:   # a missing detail HMRC needs (gender, address...): say which and for whom
        raise click.ClickException(f"cannot build the FPS: {exc}") from exc
    problems = find_problems(message)
    if problems:
        raise click.ClickException("the FPS has problems to fix before it can be sent:\n"
                                   + "\n".join(f"  - {p}" for p in problems))
    _write(message, out)
    click.echo(f"FPS for {len(done.run.payslips)} employee(s), paid {done.run.payment_date:%d %B %Y}: "
               "valid against the schema and HMRC's rules.", err=True)


@hmrc.command("eps", help="Build the Employer Payment Summary for a tax month: the Employment Allowance claim, "
                          "and a no-payment period when no pay run paid anyone that month.")
@click.option("--employer", "employer_id", default=None, help="Employer id (default: the only employer).")
@click.option("--tax-year", required=True, help="For example 2026-27.")
@click.option("--tax-month", type=click.IntRange(1, 12), required=True, help="Tax month 1 (6 Apr-5 May) to 12.")
@click.option("--final", is_flag=True, help="Close the tax year with this EPS.")
@click.option("--recovered", multiple=True, metavar="KIND=POUNDS",
              help="Statutory pay recovered this year to date, KIND one of smp, spp, sap, shpp, spbp, sncp "
                   "(repeat for each).")
@click.option("--compensation", multiple=True, metavar="KIND=POUNDS",
              help="Small employers' NIC compensation on that statutory pay, year to date (repeat for each).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_context
def eps_cmd(ctx: click.Context, employer_id: str | None, tax_year: str, tax_month: int, final: bool,
            recovered: tuple[str, ...], compensation: tuple[str, ...], out: Path | None) -> None:
    from hmrc_export.eps import build_eps
    from hmrc_export.from_payroll import employer_from_payroll
    from hmrc_export.model import EmployerPaymentSummary
    from hmrc_export.taxyear import TaxYear
    from hmrc_export.validate import find_problems
    from payroll.rules.periods import tax_month as tax_month_of
    from wallet.commands.payroll_cmds import _call

    service = _payroll(ctx)
    employer = _call(lambda: service.get_employer(_employer_id(service, employer_id)))
    try:
        year = TaxYear.parse(tax_year)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tax-year") from exc
    paid = [r for r in _finalised_runs(service, employer.id, year.label) if tax_month_of(r.payment_date) == tax_month]
    month_start = _tax_month_start(year, tax_month)
    no_payment = {} if paid else {"no_payment_from": month_start, "no_payment_to": _tax_month_end(year, tax_month)}
    summary = EmployerPaymentSummary(tax_month=tax_month,
                                     employment_allowance=True if employer.claims_employment_allowance else None,
                                     recoverable=_recoverable(recovered, compensation),
                                     final_for_year=final, **no_payment)
    message = build_eps(employer_from_payroll(employer), summary, year)
    problems = find_problems(message)
    if problems:
        raise click.ClickException("the EPS has problems to fix before it can be sent:\n"
                                   + "\n".join(f"  - {p}" for p in problems))
    _write(message, out)
    click.echo(f"EPS for tax month {tax_month} of {year.label}: "
               f"{'no payments this month' if not paid else f'{len(paid)} pay run(s) this month'}"
               f"{', Employment Allowance claimed' if employer.claims_employment_allowance else ''}.", err=True)


_STATUTORY_PAY = ("smp", "spp", "sap", "shpp", "spbp", "sncp")


def _recoverable(recovered: tuple[str, ...], compensation: tuple[str, ...]):
    """``--recovered smp=123.45`` and ``--compensation smp=4.12`` as the EPS's RecoverableAmountsYTD."""
    from hmrc_export.model import RecoverableAmounts
    from wallet.money import parse_pounds

    fields: dict[str, int] = {}
    for option, values, name in (("--recovered", recovered, "{}_recovered"),
                                 ("--compensation", compensation, "nic_compensation_on_{}")):
        for value in values:
            kind, _, pounds = value.partition("=")
            if kind.lower() not in _STATUTORY_PAY or not pounds:
                raise click.BadParameter(f"{value!r}: write KIND=POUNDS, KIND one of {', '.join(_STATUTORY_PAY)}",
                                         param_hint=option)
            try:
                fields[name.format(kind.lower())] = parse_pounds(pounds)
            except ValueError as exc:
                raise click.BadParameter(f"{value!r}: {exc}", param_hint=option) from exc
    return RecoverableAmounts(**fields) if fields else None


def _tax_month_start(year, month: int) -> date:
    first = year.first_day
    y, m = first.year + (first.month + month - 2) // 12, (first.month + month - 2) % 12 + 1
    return date(y, m, 6)


def _tax_month_end(year, month: int) -> date:
    from datetime import timedelta

    return (_tax_month_start(year, month + 1) if month < 12 else year.last_day + timedelta(days=1)) \
        - timedelta(days=1)


@hmrc.command("p32", help="The employer payment record for a tax year: what is due to HMRC each tax month and "
                          "by when, from the finalised pay runs.")
@click.option("--employer", "employer_id", default=None, help="Employer id (default: the only employer).")
@click.option("--tax-year", required=True, help="For example 2026-27.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the record as a document: .pdf (accessible PDF) or .html.")
@click.pass_context
def p32_cmd(ctx: click.Context, employer_id: str | None, tax_year: str, out: Path | None) -> None:
    from hmrc_export.documents import render_html, render_pdf
    from hmrc_export.from_payroll import p32_for_runs
    from hmrc_export.taxyear import TaxYear
    from wallet.commands.payroll_cmds import _call
    from wallet.money import format_pence

    service = _payroll(ctx)
    employer = _call(lambda: service.get_employer(_employer_id(service, employer_id)))
    try:
        year = TaxYear.parse(tax_year)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tax-year") from exc
    try:
        p32 = p32_for_runs(_finalised_runs(service, employer.id, year.label), employer, year)
    except ValueError as exc:
        raise click.ClickException(f"cannot build the P32: {exc}") from exc
    click.echo(f"P32 employer payment record, {employer.name} ({employer.employer_paye_reference}), {year.label}")
    click.echo(f"{'month':>5}  {'tax':>11}  {'loans':>9}  {'NI':>11}  {'allowance':>10}  {'due':>11}  due by")
    for m in p32.months:
        click.echo(f"{m.month:>5}  {format_pence(m.tax):>11}  {format_pence(m.student_loans + m.postgraduate_loans):>9}"
                   f"  {format_pence(m.total_ni):>11}  {format_pence(m.employment_allowance_used):>10}"
                   f"  {format_pence(m.amount_due):>11}  {m.due_date:%d %b %Y}")
    if out is not None:
        _write(render_pdf(p32) if out.suffix.lower() == ".pdf" else render_html(p32).encode("utf-8"), out)


def _year_end_document(ctx: click.Context, employee_id: str, tax_year: str, out: Path | None, which: str) -> None:
    from hmrc_export.documents import render_html, render_pdf
    from hmrc_export.from_payroll import p45_for_leaver, p60_for_employee
    from hmrc_export.taxyear import TaxYear
    from wallet.commands.payroll_cmds import _call

    service = _payroll(ctx)
    employee = _call(lambda: service.get_employee(employee_id))
    employer = _call(lambda: service.get_employer(employee.employer_id))
    try:
        year = TaxYear.parse(tax_year)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tax-year") from exc
    runs = _finalised_runs(service, employer.id, year.label)
    try:
        document = (p60_for_employee if which == "P60" else p45_for_leaver)(runs, employer, employee, year)
    except ValueError as exc:
        raise click.ClickException(f"cannot make the {which}: {exc}") from exc
    if out is None or out.suffix.lower() != ".pdf":
        data = render_html(document).encode("utf-8")
    else:
        data = render_pdf(document)
    _write(data, out)


@hmrc.command("p60", help="The P60 end-of-year certificate for a PA (EMPLOYEE_ID), from the finalised pay runs.")
@click.argument("employee_id")
@click.option("--tax-year", required=True, help="For example 2026-27.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A .pdf (accessible PDF) or .html file; standard output (HTML) if not given.")
@click.pass_context
def p60_cmd(ctx: click.Context, employee_id: str, tax_year: str, out: Path | None) -> None:
    _year_end_document(ctx, employee_id, tax_year, out, "P60")


@hmrc.command("p45", help="The P45 for a PA who has left (EMPLOYEE_ID), from the finalised pay runs.")
@click.argument("employee_id")
@click.option("--tax-year", required=True, help="The tax year of the leaving date, for example 2026-27.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A .pdf (accessible PDF) or .html file; standard output (HTML) if not given.")
@click.pass_context
def p45_cmd(ctx: click.Context, employee_id: str, tax_year: str, out: Path | None) -> None:
    _year_end_document(ctx, employee_id, tax_year, out, "P45")
