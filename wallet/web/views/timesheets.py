"""Timesheets: a PA (or the holder, an appointee or a support manager on their behalf) sends in the hours of a
period, shift by shift (date, start, end and the kind of hour, sleep-ins included) with any expenses; the holder
or an appointee approves it, or sends it back with a reason the PA reads.

Every write goes through ``wallet.domain.personal_assistants`` and so through the payroll service, where the
payroll's rules apply (checked against the PA's contract; nobody approves a timesheet they sent in themselves,
and a PA never approves their own). The form works without JavaScript: more rows are one button away, and each
problem is shown next to the field it is about. Every form is a POST with a CSRF token; after a write the page
redirects.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import login_required

from payroll.model import HourKind, Shift, Timesheet, TimesheetStatus
from payroll.rendering import format_hours
from payroll.service import InvalidInput, NotPermitted, PayrollError, PayrollService, WrongStatus
from payroll.timesheets import elapsed, hours_by_kind, kind_words, sleep_in_nights, to_hours
from wallet.domain import personal_assistants as pas
from wallet.domain.directory import names_of
from wallet.domain.errors import NotFound, PermissionDenied, WalletError
from wallet.domain.permissions import Action
from wallet.money import format_pence, parse_pounds
from wallet.web.auth import credentials
from wallet.web.context import uow, user_id
from wallet.web.db import engine
from wallet.web.views import UK, plain

bp = Blueprint("wallet_timesheets", __name__)

ROWS = 7                    # shift rows on a new form; "Add more rows" adds as many again
MAX_ROWS = 70
MAX_EXPENSES = 1_000_000    # £10,000: more is a typing slip, not a PA's expenses
MAX_REASON = 1000

STATUS_WORDS = {TimesheetStatus.DRAFT: "Not sent yet", TimesheetStatus.SUBMITTED: "Waiting for approval",
                TimesheetStatus.APPROVED: "Approved", TimesheetStatus.REJECTED: "Sent back"}
KIND_LABELS = {HourKind.STANDARD: "Standard hours", HourKind.NIGHT: "Night hours",
               HourKind.WEEKEND: "Weekend hours", HourKind.BANK_HOLIDAY: "Bank holiday hours",
               HourKind.SLEEP_IN: "Sleep-in (one night, paid a set amount)", HourKind.ON_CALL: "On call"}


def payroll() -> PayrollService:
    """The payroll, on the portal's database, with the same keys that seal NI numbers and bank details."""
    ext = current_app.extensions
    if "wallet.payroll" not in ext:
        ext["wallet.payroll"] = PayrollService(engine(), credentials().cipher, clock=current_app.config.get("CLOCK"))
    return ext["wallet.payroll"]


def guarded_page(read):
    """Run a page's guarded read: unknown things are 404, refusals 403; sets the wallet navigation."""
    try:
        found = read()
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)
    scope = found[0]
    g.wallet = scope.wallet
    g.wallet_actions = scope.actions
    return found


# ---------------------------------------------------------------------- the form
@dataclass
class ShiftRow:
    day: str = ""
    start: str = ""
    end: str = ""
    kind: str = HourKind.STANDARD.value

    @property
    def blank(self) -> bool:
        return not (self.day.strip() or self.start.strip() or self.end.strip())


@dataclass
class TimesheetForm:
    employee: str = ""
    period_start: str = ""
    period_end: str = ""
    expenses: str = ""
    rows: list[ShiftRow] | None = None

    @classmethod
    def posted(cls) -> "TimesheetForm":
        f = request.form
        try:
            count = min(max(int(f.get("rows", ROWS)), 1), MAX_ROWS)
        except ValueError:
            count = ROWS
        rows = [ShiftRow(f.get(f"shift-{i}-date", ""), f.get(f"shift-{i}-start", ""), f.get(f"shift-{i}-end", ""),
                         f.get(f"shift-{i}-kind", HourKind.STANDARD.value)) for i in range(1, count + 1)]
        return cls(f.get("employee", ""), f.get("period_start", ""), f.get("period_end", ""),
                   f.get("expenses", ""), rows)

    @classmethod
    def of(cls, sheet: Timesheet) -> "TimesheetForm":
        rows = []
        for s in sheet.shifts:
            starts, ends = s.starts.astimezone(UK), s.ends.astimezone(UK)
            rows.append(ShiftRow(starts.date().isoformat(), f"{starts:%H:%M}", f"{ends:%H:%M}", s.kind.value))
        rows += [ShiftRow() for _ in range(max(ROWS - len(rows), 2))]
        expenses = f"{sheet.expenses // 100}.{sheet.expenses % 100:02d}" if sheet.expenses else ""
        return cls(sheet.employee_id, sheet.period_start.isoformat(), sheet.period_end.isoformat(), expenses, rows)


def _day(text: str) -> date:
    """A date as the date field sends it (2026-04-06), or as people type it (6/4/2026)."""
    text = text.strip()
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if found:
        return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
    return date.fromisoformat(text)


def _time(text: str) -> time:
    """A time as the time field sends it (08:30), or typed (8.30, 0830, 8:30am)."""
    text = text.strip().lower().replace(" ", "")
    found = re.fullmatch(r"(\d{1,2})(?:[:.]?(\d{2}))?(am|pm)?", text)
    if not found:
        raise ValueError(text)
    hour, minute, half = int(found.group(1)), int(found.group(2) or 0), found.group(3)
    if half:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if half == "pm" else 0)
    return time(hour, minute)


def check_form(form: TimesheetForm, *, fixed_period: tuple[date, date] | None = None
               ) -> tuple[dict[str, str], tuple[date, date] | None, list[tuple[int, Shift]], int]:
    """The form's problems, by field id; and what it says: the period, the shifts (with their row numbers, to
    put the payroll's own findings next to the right row) and the expenses in pence."""
    errors: dict[str, str] = {}
    period = fixed_period
    if period is None:
        days: dict[str, date] = {}
        for name, words in (("period_start", "first"), ("period_end", "last")):
            text = getattr(form, name)
            if not text.strip():
                errors[name] = f"Enter the {words} day of the timesheet"
                continue
            try:
                days[name] = _day(text)
            except ValueError:
                errors[name] = f"The {words} day must be a real date, like 6/4/2026"
        if len(days) == 2:
            if days["period_end"] < days["period_start"]:
                errors["period_end"] = "The last day must be the same as or after the first day"
            elif (days["period_end"] - days["period_start"]).days >= 31:
                errors["period_end"] = "A timesheet covers 31 days at most: send one for each pay period"
            else:
                period = (days["period_start"], days["period_end"])
    shifts: list[tuple[int, Shift]] = []
    for number, row in enumerate(form.rows or [], start=1):
        if row.blank:
            continue
        field = f"shift-{number}"
        try:
            kind = HourKind(row.kind)
        except ValueError:
            errors[f"{field}-kind"] = f"Row {number}: choose the kind of hours"
            continue
        day = starts = ends = None
        if not row.day.strip():
            errors[f"{field}-date"] = f"Row {number}: enter the date the shift started"
        else:
            try:
                day = _day(row.day)
            except ValueError:
                errors[f"{field}-date"] = f"Row {number}: the date must be a real date, like 6/4/2026"
        for part, words in (("start", "start"), ("end", "end")):
            text = getattr(row, part)
            if not text.strip():
                errors[f"{field}-{part}"] = f"Row {number}: enter the {words} time, like 08:30"
                continue
            try:
                value = _time(text)
            except ValueError:
                errors[f"{field}-{part}"] = f"Row {number}: the {words} time must be a time, like 08:30 or 20:00"
                continue
            if part == "start":
                starts = value
            else:
                ends = value
        if day is None or starts is None or ends is None:
            continue
        if starts == ends:
            errors[f"{field}-end"] = f"Row {number}: the end time must be different from the start time"
            continue
        began = datetime.combine(day, starts, tzinfo=UK)
        # A shift that ends at or before its start time ends the next day (nights, sleep-ins).
        finished = datetime.combine(day + timedelta(days=1) if ends < starts else day, ends, tzinfo=UK)
        if period is not None and not period[0] <= day <= period[1]:
            errors[f"{field}-date"] = (f"Row {number}: the shift starts on {_words(day)}, outside the timesheet "
                                       f"({_words(period[0])} to {_words(period[1])})")
            continue
        shifts.append((number, Shift(began, finished, kind)))
    expenses = 0
    if form.expenses.strip():
        try:
            expenses = parse_pounds(form.expenses)
        except ValueError:
            errors["expenses"] = "Enter the expenses in pounds and pence, like 12.50"
        else:
            if expenses < 0:
                errors["expenses"] = "Expenses cannot be less than £0.00"
            elif expenses > MAX_EXPENSES:
                errors["expenses"] = f"Expenses must be {format_pence(MAX_EXPENSES)} or less"
    if not errors and not shifts and not expenses:
        errors["shift-1-date"] = "Add at least one shift, or the expenses to pay back"
    return errors, period, shifts, expenses


def _words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


_SHIFT_PROBLEM = re.compile(r"^shift (\d+) \(.*?\) (.*)$")


def payroll_errors(exc: PayrollError, shift_rows: list[int]) -> dict[str, str]:
    """The payroll's findings as form errors: a problem about shift n goes next to the row it came from."""
    problems = exc.problems if isinstance(exc, InvalidInput) else (str(exc),)
    errors: dict[str, str] = {}
    for problem in problems:
        found = _SHIFT_PROBLEM.match(problem)
        if found and 1 <= int(found.group(1)) <= len(shift_rows):
            row = shift_rows[int(found.group(1)) - 1]
            key = f"shift-{row}-date"
            text = f"Row {row}: the shift {found.group(2)}"
        else:
            key = "timesheet"
            text = problem
        errors[key] = (errors[key] + ". " if key in errors else "") + _sentence(text)
    return errors


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------- pages
def _names(sheets) -> dict[str, str]:
    ids = {s.submitted_by for s in sheets if s.submitted_by} | {s.decided_by for s in sheets if s.decided_by}
    return names_of(uow(), ids)


def _hours(sheet: Timesheet) -> Decimal:
    return sum((h for k, h in hours_by_kind(sheet).items() if k is not HourKind.SLEEP_IN), Decimal("0.00"))


def _words_for_templates() -> dict:
    return {"status_words": STATUS_WORDS, "kind_labels": KIND_LABELS, "kind_words": kind_words,
            "hours": format_hours, "worked_hours": _hours, "sleep_ins": sleep_in_nights, "Status": TimesheetStatus,
            "HourKind": HourKind, "uk": UK, "shift_hours": lambda shift: to_hours(elapsed(shift))}


@bp.get("/wallets/<wallet_id>/timesheets")
@login_required
def timesheets(wallet_id: str):
    scope, sheets, staff = guarded_page(lambda: pas.view_timesheets(uow(), payroll(), wallet_id, actor=user_id(),
                                                                  detail=request.path))
    names = {e.id: e.full_name for e in staff}
    # Waiting for this person: sent in by someone else (whoever sent a timesheet in cannot decide on it).
    waiting = [s for s in sheets if s.status is TimesheetStatus.SUBMITTED and scope.may_decide_for(s.employee_id)
               and s.submitted_by != user_id()]
    return render_template("wallet/timesheets.html", wallet=scope.wallet, scope=scope, sheets=sheets,
                           waiting=waiting, pa_names=names, people=_names(sheets), me=user_id(),
                           may_send=any(scope.may_submit_for(e.id) for e in staff), page="timesheets",
                           **_words_for_templates())


def _form_page(scope, staff, form: TimesheetForm, errors: dict[str, str], *, sheet: Timesheet | None = None,
               status: int = 200):
    choices = [e for e in staff if scope.may_submit_for(e.id)]
    return render_template("wallet/timesheet_form.html", wallet=scope.wallet, scope=scope, form=form,
                           errors=errors, choices=choices, sheet=sheet, page="timesheets", max_rows=MAX_ROWS,
                           **_words_for_templates()), status


@bp.route("/wallets/<wallet_id>/timesheets/new", methods=["GET", "POST"])
@login_required
def new_timesheet(wallet_id: str):
    detail = request.path
    scope, _, staff = guarded_page(lambda: pas.attempt(
        uow(), wallet_id, actor=user_id(), any_of=(Action.SUBMIT_TIMESHEET,), detail=detail,
        work=lambda s: (s, None, pas.employees(payroll(), s)), log_as=pas.VIEW_TIMESHEETS))
    choices = [e for e in staff if scope.may_submit_for(e.id)]
    if request.method == "GET":
        form = TimesheetForm(employee=choices[0].id if len(choices) == 1 else "",
                             rows=[ShiftRow() for _ in range(ROWS)])
        return _form_page(scope, staff, form, {})
    form = TimesheetForm.posted()
    if request.form.get("action") == "more":
        form.rows = (form.rows or []) + [ShiftRow() for _ in range(min(ROWS, MAX_ROWS - len(form.rows or [])))]
        return _form_page(scope, staff, form, {})
    errors, period, shifts, expenses = check_form(form)
    if form.employee not in {e.id for e in choices}:
        errors["employee"] = "Choose whose timesheet this is"
    if errors:
        return _form_page(scope, staff, form, errors, status=400)
    send = request.form.get("action") != "save"
    try:
        sheet = pas.send_timesheet(uow(), payroll(), wallet_id, actor=user_id(), employee_id=form.employee,
                                   period_start=period[0], period_end=period[1], shifts=[s for _, s in shifts],
                                   expenses=expenses, submit=send)
    except PermissionDenied:
        abort(403)
    except (PayrollError, WalletError) as refused:
        found = payroll_errors(refused, [n for n, _ in shifts]) if isinstance(refused, PayrollError) \
            else {"timesheet": plain(refused)}
        return _form_page(scope, staff, form, found, status=400)
    whose = "Your timesheet" if form.employee in scope.own else \
        f"The timesheet for {next(e.full_name for e in choices if e.id == form.employee)}"
    flash(f"{whose} has been sent for approval." if send else
          f"{whose} has been saved. It has not been sent for approval yet.", "success")
    return redirect(url_for("wallet_timesheets.timesheet", wallet_id=wallet_id, timesheet_id=sheet.id))


def _one(wallet_id: str, timesheet_id: str, any_of=pas.TIMESHEET_ACTIONS):
    return guarded_page(lambda: pas.view_timesheet(uow(), payroll(), wallet_id, timesheet_id, actor=user_id(),
                                               detail=request.path, any_of=any_of))


def _detail(scope, sheet, employee, errors=None, reason: str = "", status: int = 200):
    return render_template("wallet/timesheet.html", wallet=scope.wallet, scope=scope, sheet=sheet,
                           employee=employee, people=_names([sheet]), me=user_id(), errors=errors or {},
                           reason=reason, by_kind=hours_by_kind(sheet), page="timesheets",
                           **_words_for_templates()), status


@bp.get("/wallets/<wallet_id>/timesheets/<timesheet_id>")
@login_required
def timesheet(wallet_id: str, timesheet_id: str):
    scope, sheet, employee = _one(wallet_id, timesheet_id)
    return _detail(scope, sheet, employee)


@bp.route("/wallets/<wallet_id>/timesheets/<timesheet_id>/change", methods=["GET", "POST"])
@login_required
def change_timesheet(wallet_id: str, timesheet_id: str):
    scope, sheet, employee = _one(wallet_id, timesheet_id, any_of=(Action.SUBMIT_TIMESHEET,))
    if not scope.may_submit_for(sheet.employee_id):
        abort(403)
    staff = [employee]
    if sheet.status not in (TimesheetStatus.DRAFT, TimesheetStatus.REJECTED):
        flash(f"This timesheet is {STATUS_WORDS[sheet.status].lower()}, so it can no longer be changed.", "error")
        return redirect(url_for("wallet_timesheets.timesheet", wallet_id=wallet_id, timesheet_id=timesheet_id))
    if request.method == "GET":
        return _form_page(scope, staff, TimesheetForm.of(sheet), {}, sheet=sheet)
    form = TimesheetForm.posted()
    form.employee, form.period_start, form.period_end = (sheet.employee_id, sheet.period_start.isoformat(),
                                                         sheet.period_end.isoformat())
    if request.form.get("action") == "more":
        form.rows = (form.rows or []) + [ShiftRow() for _ in range(min(ROWS, MAX_ROWS - len(form.rows or [])))]
        return _form_page(scope, staff, form, {}, sheet=sheet)
    errors, _, shifts, expenses = check_form(form, fixed_period=(sheet.period_start, sheet.period_end))
    if errors:
        return _form_page(scope, staff, form, errors, sheet=sheet, status=400)
    send = request.form.get("action") != "save"
    try:
        pas.change_timesheet(uow(), payroll(), wallet_id, timesheet_id, actor=user_id(),
                             shifts=[s for _, s in shifts], expenses=expenses, submit=send)
    except PermissionDenied:
        abort(403)
    except (PayrollError, WalletError) as refused:
        found = payroll_errors(refused, [n for n, _ in shifts]) if isinstance(refused, PayrollError) \
            else {"timesheet": plain(refused)}
        return _form_page(scope, staff, form, found, sheet=sheet, status=400)
    flash("The timesheet has been changed and sent for approval." if send else "The timesheet has been changed.",
          "success")
    return redirect(url_for("wallet_timesheets.timesheet", wallet_id=wallet_id, timesheet_id=timesheet_id))


def _refusal_words(refused: Exception) -> str:
    if isinstance(refused, NotPermitted):
        return "You sent this timesheet in, so someone else must approve it or send it back."
    if isinstance(refused, WrongStatus):
        return "This timesheet was already dealt with, or its pay period has been paid: it cannot change now."
    if isinstance(refused, InvalidInput):
        return "The payroll cannot accept this timesheet: " + "; ".join(refused.problems) + "."
    return plain(refused) if isinstance(refused, WalletError) else _sentence(str(refused)) + "."


def _act(work, done: str) -> bool:
    """Run one step on a timesheet; its refusal, in the payroll's own words, or ``done`` goes to the page."""
    try:
        work()
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)
    except (PayrollError, WalletError) as refused:
        flash(_refusal_words(refused), "error")
        return False
    flash(done, "success")
    return True


@bp.post("/wallets/<wallet_id>/timesheets/<timesheet_id>/send")
@login_required
def send(wallet_id: str, timesheet_id: str):
    _act(lambda: pas.submit_timesheet(uow(), payroll(), wallet_id, timesheet_id, actor=user_id()),
         "The timesheet has been sent for approval.")
    return redirect(url_for("wallet_timesheets.timesheet", wallet_id=wallet_id, timesheet_id=timesheet_id))


@bp.post("/wallets/<wallet_id>/timesheets/<timesheet_id>/approve")
@login_required
def approve(wallet_id: str, timesheet_id: str):
    _act(lambda: pas.decide_timesheet(uow(), payroll(), wallet_id, timesheet_id, actor=user_id(), approve=True),
         "Approved: these hours will be paid in the next pay run.")
    return redirect(url_for("wallet_timesheets.timesheets", wallet_id=wallet_id))


@bp.post("/wallets/<wallet_id>/timesheets/<timesheet_id>/reject")
@login_required
def reject(wallet_id: str, timesheet_id: str):
    reason = request.form.get("reason", "").strip()
    problem = ("Say why you are sending this timesheet back, so the PA knows what to change" if not reason else
               f"The reason must be {MAX_REASON:,} characters or fewer" if len(reason) > MAX_REASON else None)
    if problem:
        scope, sheet, employee = _one(wallet_id, timesheet_id, any_of=(Action.APPROVE_TIMESHEET,))
        if not scope.may_decide_for(sheet.employee_id):
            abort(403)
        return _detail(scope, sheet, employee, errors={"reason": problem}, reason=reason, status=400)
    if not _act(lambda: pas.decide_timesheet(uow(), payroll(), wallet_id, timesheet_id, actor=user_id(),
                                             approve=False, reason=reason),
                "The timesheet has been sent back with your reason. The PA can change it and send it again."):
        return redirect(url_for("wallet_timesheets.timesheet", wallet_id=wallet_id, timesheet_id=timesheet_id))
    return redirect(url_for("wallet_timesheets.timesheets", wallet_id=wallet_id))
