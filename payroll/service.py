"""The payroll service: employers, PAs, contracts, timesheets and pay runs kept in the database.

Called the same way from the CLI, the web layer, the scheduler and tests. Every public method is one database
transaction: it all happens, or (with a ``PayrollError`` saying why, in plain English) none of it does. The
calculation itself is pure (``payroll.payrun``); this module gathers its inputs and keeps its results.

Rules this service keeps (beyond the figures):

* Timesheets: draft → submitted → approved, or submitted → rejected → (edited) → submitted again. Each is
  checked with ``validate_timesheet`` against the contract when saved, submitted and approved. Whoever approves
  or rejects a timesheet must not be the person who submitted it. Timesheets of one PA never overlap. Once the
  pay run for a period has been reviewed, the timesheets in that period no longer change (after finalising, a
  correction run pays any change).
* Pay runs move only forward: draft → calculated → reviewed → approved → finalised (the database refuses any
  other move too). One regular run per employer, pay frequency and tax period (a duplicate is refused), and
  regular runs of one employer never overlap in dates. A calculated run may be calculated again (its payslips
  are replaced); after review it may not.
* One run per employer is in progress (calculated, reviewed or approved) at a time, and a run is never
  calculated after a later payday of the same tax year was finalised: each run starts from the year-to-date
  figures of the finalised run before it.
* Review and approval are refused while a timesheet in the period waits for a decision (submitted), or when the
  approved timesheets are not the ones the run was calculated with (calculate again). Drafts never submitted
  do not hold a run up and are not paid.
* The approver must be someone other than the person who last calculated the run and the person who reviewed
  it (two people at least). Each move records who made it and when.
* Finalising writes each PA's year-to-date figures and makes the run and its payslips unchangeable (database
  triggers). A mistake found later is corrected by ``correct``: an adjustment run paying the differences; the
  original run is never touched. A regular run is corrected once, with all its changes.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from payroll import timesheets as ts_rules
from payroll.model import (Absence, Address, BankDetails, Contract, Employee, EmployerCostSummary, Employer,
                           EmployerKind, PayRates, PayRun, PayRunMember, PayRunStatus, Payslip, PensionStatus,
                           PreviousEmployment, Shift, SicknessRecord, Timesheet, TimesheetStatus, YearToDate)
from payroll.payrun import PayRunError, PayRunFailed, calculate_adjustment, calculate_pay_run
from payroll.rules.errors import PayrollRuleError
from payroll.rules.national_insurance import letter_rates
from payroll.rules.periods import Frequency, tax_period, tax_year_of
from payroll.rules.student_loans import LoanPlan
from payroll.rules.tax_codes import parse_tax_code
from payroll.rules.yearly_rates import check_tax_year, known_tax_years
from payroll.sealed import FieldCipher
from payroll.store import PayrollStore, to_us

log = logging.getLogger(__name__)
T = TypeVar("T")
UK = ZoneInfo("Europe/London")

Progress = Callable[[str, int, int], None]   # (what is happening, done, total)


# ---------------------------------------------------------------------------------------------------------
# Errors: one family, each with a message a payroll administrator can act on


class PayrollError(Exception):
    """Why the payroll refused; ``str(error)`` is plain English."""


class NotFound(PayrollError):
    pass


class InvalidInput(PayrollError, ValueError):
    """Input that cannot be accepted; ``problems`` lists each one when there are several."""

    def __init__(self, message: str, problems: Sequence[str] = ()):
        super().__init__(message)
        self.problems: tuple[str, ...] = tuple(problems) or (message,)


class WrongStatus(PayrollError):
    """A move the current status does not allow."""


class Duplicate(PayrollError):
    pass


class NotPermitted(PayrollError):
    """The right move by the wrong person (e.g. approving one's own timesheet)."""


# ---------------------------------------------------------------------------------------------------------
# Results that are more than one model value


@dataclass(frozen=True)
class LeaverRecord:
    """A leaver and the figures for their P45: the year to date after the last finalised payment."""
    employee: Employee
    tax_year: str
    year_to_date: YearToDate
    final_payment_finalised: bool   # False while the run paying up to the leaving date is still to come


@dataclass(frozen=True)
class FinalisedPayRun:
    """What the HMRC export reads: a finalised run with its payslips, its employer and the employees paid."""
    run: PayRun
    employer: Employer
    employees: Mapping[str, Employee]   # by employee id, as on the payday (NI numbers opened)
    corrected_run: PayRun | None = None  # for an adjustment run: the finalised run it corrects


class Clock(Protocol):
    def now(self) -> datetime: ...


class _SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


def _random_id() -> str:
    return str(uuid.uuid4())


# ---------------------------------------------------------------------------------------------------------
# Input checks

_NINO = re.compile(r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]")
_SORT_CODE = re.compile(r"[0-9]{6}")
_ACCOUNT_NUMBER = re.compile(r"[0-9]{8}")
_OFFICE_NUMBER = re.compile(r"[0-9]{3}")
_PAYE_REFERENCE = re.compile(r"[0-9A-Z]{1,10}")
_ACCOUNTS_OFFICE_REFERENCE = re.compile(r"[0-9]{3}P[A-Z][0-9]{7}[0-9X]")
_PERIOD_DAYS = {Frequency.WEEKLY: 7, Frequency.FORTNIGHTLY: 14, Frequency.FOUR_WEEKLY: 28, Frequency.MONTHLY: 31}
_IN_PROGRESS = (PayRunStatus.CALCULATED, PayRunStatus.REVIEWED, PayRunStatus.APPROVED)
_LOCKING = (PayRunStatus.REVIEWED, PayRunStatus.APPROVED, PayRunStatus.FINALISED)
_RETRYABLE_PG = {"40001", "40P01", "23505"}   # serialization failure, deadlock, unique race (re-checked on retry)
_SSP_LOOKBACK = timedelta(days=3 * 366 + 8 * 7)   # a linked series of sickness lasts at most three years


def normalise_nino(text: object) -> str:
    """'qq 12 34 56 c' → 'QQ123456C', or InvalidInput saying what an NI number looks like. The number itself is
    never put in the message."""
    if not isinstance(text, str):
        raise InvalidInput("the NI number must be text such as \"AB 12 34 56 C\"")
    cleaned = "".join(text.split()).upper()
    if not _NINO.fullmatch(cleaned):
        raise InvalidInput("that is not a valid National Insurance number: it is two letters, six digits and a "
                           "final letter A to D, such as \"AB 12 34 56 C\" (temporary numbers are not accepted)")
    return cleaned


def check_bank_details(bank: BankDetails) -> BankDetails:
    """Sort code six digits and account number eight (dashes and spaces dropped); never echoes the numbers."""
    problems = []
    sort_code = re.sub(r"[\s-]", "", bank.sort_code or "")
    account = re.sub(r"\s", "", bank.account_number or "")
    if not _SORT_CODE.fullmatch(sort_code):
        problems.append("the sort code must be six digits, such as 12-34-56")
    if not _ACCOUNT_NUMBER.fullmatch(account):
        problems.append("the account number must be eight digits")
    name = (bank.account_name or "").strip()
    if not name:
        problems.append("the name on the bank account is missing")
    elif len(name) > 70:
        problems.append("the name on the bank account is longer than 70 characters")
    roll = (bank.building_society_roll or "").strip() or None
    if roll is not None and len(roll) > 18:
        problems.append("the building society roll number is longer than 18 characters")
    if problems:
        raise InvalidInput("bank details: " + "; ".join(problems), problems)
    return BankDetails(name, sort_code, account, roll)


def _text(value: object, what: str, *, max_length: int, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{what} is missing")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {type(value).__name__}")
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInput(f"{what} is longer than {max_length} characters")
    return value


def _actor(actor: object) -> str:
    return _text(actor, "who is doing this (the actor)", max_length=200)  # type: ignore[return-value]


def _day(value: object, what: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(f"{what} must be a date, not {value!r}")
    return value


def _same_person(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


def _frequency(value: object) -> Frequency:
    try:
        return Frequency.parse(value)
    except PayrollRuleError as exc:
        raise InvalidInput(str(exc)) from None


def _pence(value: object, what: str, *, allow_negative: bool = False, allow_zero: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be a whole number of pence, not {value!r}")
    if value < 0 and not allow_negative:
        raise InvalidInput(f"{what} cannot be negative")
    if value == 0 and not allow_zero:
        raise InvalidInput(f"{what} must be more than zero")
    return value


def _fraction(value: object, what: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value)) if isinstance(value, (int, str)) \
            and not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not Decimal(0) <= number <= Decimal(1):
        raise InvalidInput(f"{what} must be a decimal fraction from 0 to 1, such as 0.05 for 5%")
    return number


def _tax_code(text: object) -> tuple[str, bool]:
    """('S1257L', True) for 'S1257L M1': the code as HMRC writes it, and whether it is week 1 / month 1."""
    try:
        code = parse_tax_code(text)
    except PayrollRuleError as exc:
        raise InvalidInput(str(exc)) from None
    return f"{code.regime.prefix}{code.code}", code.non_cumulative


def _ni_letter(letter: object) -> str:
    try:
        letter_rates(known_tax_years()[-1], letter)
    except PayrollRuleError as exc:
        raise InvalidInput(str(exc)) from None
    return str(letter).strip().upper()


def _period_words(start: date, end: date) -> str:
    return f"{start:%d %b %Y} to {end:%d %b %Y}"


def _run_words(row: Row) -> str:
    kind = "adjustment run" if row.corrects_id is not None else "pay run"
    return f"{kind} {row.uuid} ({row.frequency.replace('_', '-')}, {_period_words(row.period_start, row.period_end)}, " \
           f"{row.status})"


# ---------------------------------------------------------------------------------------------------------


class PayrollService:
    """Payroll kept in a SQL database (SQLite or PostgreSQL, migrated by ``migrations/``)."""

    def __init__(self, engine: Engine, cipher: FieldCipher, clock: Clock | None = None,
                 new_id: Callable[[], str] | None = None, *, attempts: int = 8):
        self.engine = engine
        self.cipher = cipher
        self.clock = clock or _SystemClock()
        self.new_id = new_id or _random_id
        self.attempts = attempts

    # -----------------------------------------------------------------------------------------------------
    # Transactions

    def _write(self, work: Callable[[PayrollStore], T]) -> T:
        """``work`` in one write transaction, retried from the start on a lock conflict.

        Engines made by the wallet (``ledger.db.make_engine``) start a SQLite transaction with BEGIN IMMEDIATE
        when the connection carries the ``ledger_write`` execution option, so two writers never deadlock on a
        lock upgrade; other engines ignore the option.
        """
        for attempt in range(self.attempts):
            try:
                with self.engine.connect().execution_options(ledger_write=True) as conn:
                    with conn.begin():
                        return work(PayrollStore(conn, self.cipher))
            except (OperationalError, IntegrityError) as exc:
                if attempt == self.attempts - 1 or not self._retryable(exc):
                    raise
        raise AssertionError("unreachable")

    def _read(self, work: Callable[[PayrollStore], T]) -> T:
        with self.engine.connect() as conn:
            with conn.begin():
                return work(PayrollStore(conn, self.cipher))

    def _retryable(self, exc: DBAPIError) -> bool:
        if self.engine.dialect.name == "postgresql":
            return getattr(exc.orig, "sqlstate", None) in _RETRYABLE_PG
        return "database is locked" in str(exc.orig)

    def _now_us(self) -> int:
        return to_us(self.clock.now())

    def today(self) -> date:
        return self.clock.now().astimezone(UK).date()

    # -----------------------------------------------------------------------------------------------------
    # Lookups shared by the methods below

    @staticmethod
    def _employer(store: PayrollStore, employer_id: str) -> tuple[int, Employer]:
        found = store.employer(employer_id) if isinstance(employer_id, str) else None
        if found is None:
            raise NotFound(f"no employer with id {employer_id!r}")
        return found

    def _employee(self, store: PayrollStore, employee_id: str, as_of: date | None = None) -> tuple[int, Employee]:
        found = store.employee(employee_id, as_of or self.today()) if isinstance(employee_id, str) else None
        if found is None:
            raise NotFound(f"no employee with id {employee_id!r}")
        return found

    @staticmethod
    def _run_row(store: PayrollStore, run_id: str) -> Row:
        row = store.run_row(run_id) if isinstance(run_id, str) else None
        if row is None:
            raise NotFound(f"no pay run with id {run_id!r}")
        return row

    @staticmethod
    def _timesheet(store: PayrollStore, timesheet_id: str) -> tuple[Row, Timesheet]:
        found = store.timesheet(timesheet_id) if isinstance(timesheet_id, str) else None
        if found is None:
            raise NotFound(f"no timesheet with id {timesheet_id!r}")
        return found

    # -----------------------------------------------------------------------------------------------------
    # Employers

    def add_employer(self, *, name: str, kind: EmployerKind | str, hmrc_office_number: str, paye_reference: str,
                     accounts_office_reference: str, claims_employment_allowance: bool = False,
                     address: Address | None = None, owner_ref: str | None = None, actor: str) -> Employer:
        actor = _actor(actor)
        employer = self._checked_employer(Employer(
            id=self.new_id(), name=name, kind=kind, hmrc_office_number=hmrc_office_number,  # type: ignore[arg-type]
            paye_reference=paye_reference, accounts_office_reference=accounts_office_reference,
            claims_employment_allowance=claims_employment_allowance, address=address, owner_ref=owner_ref))

        def work(store: PayrollStore) -> Employer:
            existing = store.employer_with_reference(employer.hmrc_office_number, employer.paye_reference)
            if existing is not None:
                raise Duplicate(f"employer PAYE reference {employer.employer_paye_reference} is already used by "
                                f"employer {existing}")
            store.insert_employer(employer, self._now_us())
            log.info("payroll employer %s added by %s", employer.id, actor)
            return employer

        return self._write(work)

    def update_employer(self, employer_id: str, *, actor: str, **changes: Any) -> Employer:
        """Change any of: name, kind, hmrc_office_number, paye_reference, accounts_office_reference,
        claims_employment_allowance, address, owner_ref."""
        actor = _actor(actor)
        allowed = {"name", "kind", "hmrc_office_number", "paye_reference", "accounts_office_reference",
                   "claims_employment_allowance", "address", "owner_ref"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise InvalidInput(f"an employer has no {', '.join(unknown)} to change "
                               f"(it has: {', '.join(sorted(allowed))})")

        def work(store: PayrollStore) -> Employer:
            pk, current = self._employer(store, employer_id)
            store.lock_employer(pk)
            updated = self._checked_employer(replace(current, **changes))
            existing = store.employer_with_reference(updated.hmrc_office_number, updated.paye_reference)
            if existing is not None and existing != updated.id:
                raise Duplicate(f"employer PAYE reference {updated.employer_paye_reference} is already used by "
                                f"employer {existing}")
            store.update_employer(pk, updated, self._now_us())
            log.info("payroll employer %s updated by %s", employer_id, actor)
            return updated

        return self._write(work)

    @staticmethod
    def _checked_employer(employer: Employer) -> Employer:
        problems = []
        try:
            kind = EmployerKind(employer.kind)
        except ValueError:
            problems.append(f"the employer kind must be one of {', '.join(k.value for k in EmployerKind)}")
            kind = EmployerKind.BUDGET_HOLDER
        try:
            name = _text(employer.name, "the employer's name", max_length=200)
        except InvalidInput as exc:
            problems.append(str(exc))
            name = ""
        office = (employer.hmrc_office_number or "").strip() if isinstance(employer.hmrc_office_number, str) else ""
        reference = (employer.paye_reference or "").strip().upper() if isinstance(employer.paye_reference, str) else ""
        accounts = (employer.accounts_office_reference or "").strip().upper() \
            if isinstance(employer.accounts_office_reference, str) else ""
        if not _OFFICE_NUMBER.fullmatch(office):
            problems.append("the HMRC office number is the three digits before the slash of the employer PAYE "
                            "reference, such as 120")
        if not _PAYE_REFERENCE.fullmatch(reference):
            problems.append("the PAYE reference is the part after the slash, up to ten letters and digits, "
                            "such as A120")
        if not _ACCOUNTS_OFFICE_REFERENCE.fullmatch(accounts):
            problems.append("the Accounts Office reference is 13 characters such as 120PA00012345")
        if not isinstance(employer.claims_employment_allowance, bool):
            problems.append("claims_employment_allowance must be true or false")
        if employer.address is not None and not isinstance(employer.address, Address):
            problems.append("the address must be an Address")
        try:
            owner = _text(employer.owner_ref, "the owner reference", max_length=200, required=False)
        except InvalidInput as exc:
            problems.append(str(exc))
            owner = None
        if problems:
            raise InvalidInput("the employer cannot be saved: " + "; ".join(problems), problems)
        return replace(employer, name=name, kind=kind, hmrc_office_number=office, paye_reference=reference,
                       accounts_office_reference=accounts, owner_ref=owner)

    def get_employer(self, employer_id: str) -> Employer:
        return self._read(lambda store: self._employer(store, employer_id)[1])

    def list_employers(self, owner_ref: str | None = None) -> list[Employer]:
        return self._read(lambda store: store.employers(owner_ref))

    # -----------------------------------------------------------------------------------------------------
    # Employees

    def add_employee(self, employer_id: str, *, payroll_id: str, forenames: Sequence[str], surname: str,
                     birth_date: date, start_date: date, frequency: Frequency | str, tax_code: str,
                     ni_letter: str = "A", nino: str | None = None, gender: str | None = None,
                     address: Address | None = None, student_loan_plans: Sequence[str] = (),
                     starter_declaration: str | None = None, previous_employment: PreviousEmployment | None = None,
                     bank_details: BankDetails | None = None, irregular_hours: bool = False,
                     rolled_up_holiday: bool = False, actor: str) -> Employee:
        actor = _actor(actor)
        problems: list[str] = []

        def check(step: Callable[[], T]) -> T | None:
            try:
                return step()
            except InvalidInput as exc:
                problems.extend(exc.problems)
                return None

        pid = check(lambda: _text(payroll_id, "the payroll id", max_length=35))
        if isinstance(forenames, str):
            forenames = forenames.split()
        names = tuple(n for n in (check(lambda n=n: _text(n, "a forename", max_length=35))
                                  for n in (forenames or ())) if n)
        if not names:
            problems.append("at least one forename is needed")
        last = check(lambda: _text(surname, "the surname", max_length=35))
        birth = check(lambda: _day(birth_date, "the birth date"))
        start = check(lambda: _day(start_date, "the start date"))
        if birth and start:
            age_at_start = start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
            if age_at_start < 13:
                problems.append(f"the birth date makes the PA {max(age_at_start, 0)} at the start date; no one "
                                f"under 13 can be employed")
        freq = check(lambda: _frequency(frequency))
        code = check(lambda: _tax_code(tax_code))
        letter = check(lambda: _ni_letter(ni_letter))
        clean_nino = check(lambda: normalise_nino(nino)) if nino not in (None, "") else None
        if gender not in (None, "M", "F"):
            problems.append("gender must be \"M\" or \"F\" (as the FPS records it), or left out")
        plans: list[str] = []
        for plan in student_loan_plans or ():
            try:
                value = LoanPlan.parse(plan).value
            except PayrollRuleError as exc:
                problems.append(str(exc))
                continue
            if value in plans:
                problems.append(f"student loan plan {value} is listed twice")
            plans.append(value)
        if starter_declaration not in (None, "A", "B", "C"):
            problems.append("the starter declaration must be \"A\", \"B\" or \"C\" from the starter checklist")
        if previous_employment is not None:
            check(lambda: _pence(previous_employment.taxable_pay, "the P45 taxable pay"))
            check(lambda: _pence(previous_employment.tax, "the P45 tax", allow_negative=True))
        bank = check(lambda: check_bank_details(bank_details)) if bank_details is not None else None
        if address is not None and not isinstance(address, Address):
            problems.append("the address must be an Address")
        if not isinstance(irregular_hours, bool) or not isinstance(rolled_up_holiday, bool):
            problems.append("irregular_hours and rolled_up_holiday must be true or false")
        elif rolled_up_holiday and not irregular_hours:
            problems.append("rolled-up holiday pay is allowed only for irregular-hours PAs")
        if problems:
            raise InvalidInput("the employee cannot be added: " + "; ".join(problems), problems)

        def work(store: PayrollStore) -> Employee:
            employer_pk, employer = self._employer(store, employer_id)
            store.lock_employer(employer_pk)
            if store.employee_pk_with_payroll_id(employer_pk, pid) is not None:
                raise Duplicate(f"{employer.name} already has an employee with payroll id {pid!r}")
            if clean_nino is not None and store.current_employee_with_nino(employer_pk, clean_nino):
                raise Duplicate(f"{employer.name} already employs someone with that NI number "
                                f"(employee {store.current_employee_with_nino(employer_pk, clean_nino)})")
            employee = Employee(
                id=self.new_id(), employer_id=employer.id, payroll_id=pid, forenames=names, surname=last,
                birth_date=birth, start_date=start, frequency=freq.value, tax_code=code[0],
                non_cumulative=code[1], ni_letter=letter, nino=clean_nino, gender=gender, address=address,
                student_loan_plans=tuple(plans), starter_declaration=starter_declaration,
                previous_employment=previous_employment, bank_details=bank, irregular_hours=irregular_hours,
                rolled_up_holiday=rolled_up_holiday)
            store.insert_employee(employee, employer_pk, self._now_us())
            log.info("payroll employee %s added to employer %s by %s", employee.id, employer.id, actor)
            return employee

        return self._write(work)

    def update_bank_details(self, employee_id: str, bank_details: BankDetails, *, actor: str) -> Employee:
        actor = _actor(actor)
        bank = check_bank_details(bank_details)

        def work(store: PayrollStore) -> Employee:
            pk, employee = self._employee(store, employee_id)
            store.update_employee(pk, self._now_us(), **store.sealed_bank(bank))
            log.info("payroll employee %s bank details changed by %s", employee_id, actor)
            return replace(employee, bank_details=bank)

        return self._write(work)

    def update_tax_code(self, employee_id: str, tax_code: str, *, effective_from: date, actor: str) -> Employee:
        """A new tax code from ``effective_from``: runs paid on or after that day use it. Runs already
        finalised are never recalculated, so the day must be after the last finalised payday."""
        actor = _actor(actor)
        code, non_cumulative = _tax_code(tax_code)
        effective_from = _day(effective_from, "the date the tax code applies from")

        def work(store: PayrollStore) -> Employee:
            pk, employee = self._employee(store, employee_id)
            store.lock_employee(pk)
            if effective_from < employee.start_date:
                raise InvalidInput(f"the new tax code cannot apply before {employee.full_name} started on "
                                   f"{employee.start_date}")
            last_paid = self._last_finalised_payday(store, pk)
            if last_paid is not None and effective_from <= last_paid:
                raise InvalidInput(f"{employee.full_name} was last paid in a finalised run on {last_paid}; a new "
                                   f"tax code applies from a later day (it takes effect in the next run)")
            store.insert_tax_code_change(pk, code, non_cumulative, effective_from, actor, self._now_us())
            log.info("payroll employee %s tax code changed by %s", employee_id, actor)
            return store.employee(employee_id, max(self.today(), effective_from))[1]

        return self._write(work)

    @staticmethod
    def _last_finalised_payday(store: PayrollStore, employee_pk: int) -> date | None:
        return max((p[1] for p in store.finalised_payments(employee_pk)), default=None)

    def record_leaver(self, employee_id: str, leaving_date: date, *, actor: str) -> LeaverRecord:
        """Record the last day of employment. The P45 figures are the year to date after the final payment
        (``leaver_figures`` reads them again once the run paying up to the leaving date is finalised)."""
        actor = _actor(actor)
        leaving_date = _day(leaving_date, "the leaving date")

        def work(store: PayrollStore) -> LeaverRecord:
            pk, employee = self._employee(store, employee_id)
            store.lock_employee(pk)
            if employee.leaving_date is not None:
                raise WrongStatus(f"{employee.full_name} is already recorded as leaving on {employee.leaving_date}")
            if leaving_date < employee.start_date:
                raise InvalidInput(f"the leaving date {leaving_date} is before {employee.full_name} started on "
                                   f"{employee.start_date}")
            later = [t for _, t in store.timesheets(employee_pks=[pk])
                     if any(s.starts.date() > leaving_date for s in t.shifts)
                     and t.status in (TimesheetStatus.SUBMITTED, TimesheetStatus.APPROVED)]
            if later:
                raise InvalidInput(f"{employee.full_name} has hours after {leaving_date} on timesheet "
                                   f"{later[0].id}; correct the timesheet or the leaving date")
            store.update_employee(pk, self._now_us(), leaving_date=leaving_date)
            log.info("payroll employee %s recorded as leaver by %s", employee_id, actor)
            return self._leaver(store, pk, replace(employee, leaving_date=leaving_date))

        return self._write(work)

    def leaver_figures(self, employee_id: str) -> LeaverRecord:
        def work(store: PayrollStore) -> LeaverRecord:
            pk, employee = self._employee(store, employee_id)
            if employee.leaving_date is None:
                raise WrongStatus(f"{employee.full_name} has no leaving date recorded")
            return self._leaver(store, pk, employee)

        return self._read(work)

    @staticmethod
    def _leaver(store: PayrollStore, pk: int, employee: Employee) -> LeaverRecord:
        assert employee.leaving_date is not None
        tax_year = tax_year_of(employee.leaving_date)
        ytd = store.year_to_date([pk], tax_year).get(pk, YearToDate())
        covered = any(period_end >= employee.leaving_date for period_end, _ in store.finalised_payments(pk))
        return LeaverRecord(employee, tax_year, ytd, covered)

    def get_employee(self, employee_id: str, *, as_of: date | None = None) -> Employee:
        """The employee with the tax code in force on ``as_of`` (default today)."""
        return self._read(lambda store: self._employee(store, employee_id, as_of)[1])

    def list_employees(self, employer_id: str, *, include_leavers: bool = True,
                       as_of: date | None = None) -> list[Employee]:
        def work(store: PayrollStore) -> list[Employee]:
            employer_pk, _ = self._employer(store, employer_id)
            employees = list(store.employees_of(employer_pk, as_of or self.today()).values())
            if not include_leavers:
                today = as_of or self.today()
                employees = [e for e in employees if e.leaving_date is None or e.leaving_date >= today]
            return employees

        return self._read(work)

    def year_to_date(self, employee_id: str, tax_year: str) -> YearToDate:
        """The figures after the employee's last finalised payment in ``tax_year`` (zero if none)."""
        def work(store: PayrollStore) -> YearToDate:
            pk, _ = self._employee(store, employee_id)
            return store.year_to_date([pk], tax_year).get(pk, YearToDate())

        return self._read(work)

    # Pensions ---------------------------------------------------------------------------------------------

    _PENSION_MOVES: dict[PensionStatus, tuple[PensionStatus, ...]] = {
        PensionStatus.NOT_ELIGIBLE: (PensionStatus.NOT_ASSESSED, PensionStatus.NOT_ELIGIBLE),
        PensionStatus.ENROLLED: (PensionStatus.NOT_ASSESSED, PensionStatus.NOT_ELIGIBLE, PensionStatus.POSTPONED,
                                 PensionStatus.OPTED_OUT),   # from opted out: re-enrolment every three years
        PensionStatus.OPTED_IN: (PensionStatus.NOT_ASSESSED, PensionStatus.NOT_ELIGIBLE, PensionStatus.POSTPONED,
                                 PensionStatus.OPTED_OUT),
        PensionStatus.OPTED_OUT: (PensionStatus.ENROLLED, PensionStatus.OPTED_IN),
        PensionStatus.POSTPONED: (PensionStatus.NOT_ASSESSED, PensionStatus.NOT_ELIGIBLE),
    }

    def change_pension_status(self, employee_id: str, status: PensionStatus | str, *, actor: str,
                              effective: date | None = None, postponed_until: date | None = None) -> Employee:
        """Auto-enrolment moves: enrol (eligible jobholder), opt in, opt out (from enrolled or opted in),
        postpone (up to three months, before enrolment), or record an assessment as not eligible."""
        actor = _actor(actor)
        try:
            target = PensionStatus(status)
        except ValueError:
            raise InvalidInput(f"pension status must be one of {', '.join(s.value for s in PensionStatus)}") from None
        if target not in self._PENSION_MOVES:
            raise InvalidInput(f"a PA cannot be moved to {target.value}")
        effective = _day(effective, "the date of the change") if effective is not None else self.today()
        if target is PensionStatus.POSTPONED:
            postponed_until = _day(postponed_until, "the end of the postponement")
            if not effective < postponed_until <= effective + timedelta(days=92):
                raise InvalidInput("a postponement ends after the day it is given and within three months of it")
        elif postponed_until is not None:
            raise InvalidInput("only a postponement has an end date")

        def work(store: PayrollStore) -> Employee:
            pk, employee = self._employee(store, employee_id)
            store.lock_employee(pk)
            if employee.pension_status not in self._PENSION_MOVES[target]:
                allowed = ", ".join(s.value for s in self._PENSION_MOVES[target])
                raise WrongStatus(f"{employee.full_name}'s pension status is {employee.pension_status.value}; only "
                                  f"from {allowed} can it become {target.value}")
            if effective < employee.start_date:
                raise InvalidInput(f"the change cannot take effect before {employee.full_name} started on "
                                   f"{employee.start_date}")
            now = self._now_us()
            store.update_employee(pk, now, pension_status=target.value, pension_postponed_until=postponed_until)
            store.insert_pension_event(pk, target, effective, postponed_until, actor, now)
            log.info("payroll employee %s pension status %s by %s", employee_id, target.value, actor)
            return replace(employee, pension_status=target, pension_postponed_until=postponed_until)

        return self._write(work)

    def enrol_pension(self, employee_id: str, *, actor: str, effective: date | None = None) -> Employee:
        return self.change_pension_status(employee_id, PensionStatus.ENROLLED, actor=actor, effective=effective)

    def opt_in_pension(self, employee_id: str, *, actor: str, effective: date | None = None) -> Employee:
        return self.change_pension_status(employee_id, PensionStatus.OPTED_IN, actor=actor, effective=effective)

    def opt_out_pension(self, employee_id: str, *, actor: str, effective: date | None = None) -> Employee:
        return self.change_pension_status(employee_id, PensionStatus.OPTED_OUT, actor=actor, effective=effective)

    def postpone_pension(self, employee_id: str, until: date, *, actor: str,
                         effective: date | None = None) -> Employee:
        return self.change_pension_status(employee_id, PensionStatus.POSTPONED, actor=actor, effective=effective,
                                          postponed_until=until)

    def pension_history(self, employee_id: str) -> list[tuple[PensionStatus, date, str]]:
        return self._read(lambda store: store.pension_history(self._employee(store, employee_id)[0]))

    # Encryption keys --------------------------------------------------------------------------------------

    def rotate_encryption(self, *, actor: str) -> int:
        """Re-seal every NI number and set of bank details under the newest key (and refresh the NI number
        fingerprints), so older keys can then be removed from the configuration. Returns the rows changed."""
        actor = _actor(actor)

        def work(store: PayrollStore) -> int:
            changed = 0
            now = self._now_us()
            for row in store.sealed_employee_fields():
                values: dict[str, Any] = {}
                if row.nino_sealed is not None:
                    values["nino_sealed"] = self.cipher.rotate(row.nino_sealed)
                    values["nino_fingerprint"] = self.cipher.fingerprint(self.cipher.open(row.nino_sealed))
                if row.bank_sealed is not None:
                    values["bank_sealed"] = self.cipher.rotate(row.bank_sealed)
                if values:
                    store.update_employee(row.id, now, **values)
                    changed += 1
            log.info("payroll sealed fields of %d employees re-sealed by %s", changed, actor)
            return changed

        return self._write(work)

    def sealed_with_older_keys(self) -> int:
        """How many sealed NI numbers and sets of bank details still need a key other than the newest."""
        def work(store: PayrollStore) -> int:
            return sum(1 for row in store.sealed_employee_fields()
                       for token in (row.nino_sealed, row.bank_sealed)
                       if token is not None and not self.cipher.sealed_with_newest(token))

        return self._read(work)

    # -----------------------------------------------------------------------------------------------------
    # Contracts

    def add_contract(self, employee_id: str, *, starts: date, rates: PayRates, ends: date | None = None,
                     contracted_hours_per_week: Decimal | str | None = None,
                     pension_employee_rate: Decimal | str = Decimal("0.05"),
                     pension_employer_rate: Decimal | str = Decimal("0.03"),
                     pension_relief: str = "relief_at_source",
                     qualifying_days: Sequence[int] = (0, 1, 2, 3, 4, 5, 6), actor: str) -> Contract:
        """A contract with its rates; an employee's contracts never overlap (end the current one first)."""
        actor = _actor(actor)
        starts = _day(starts, "the contract start")
        if ends is not None:
            ends = _day(ends, "the contract end")
            if ends < starts:
                raise InvalidInput(f"the contract ends ({ends}) before it starts ({starts})")
        rates = self._checked_rates(rates)
        hours = None
        if contracted_hours_per_week is not None:
            try:
                hours = Decimal(str(contracted_hours_per_week))
            except InvalidOperation:
                hours = None
            if hours is None or not hours.is_finite() or not Decimal(0) < hours <= 168:
                raise InvalidInput("contracted hours a week must be a number above 0 and at most 168")
        employee_rate = _fraction(pension_employee_rate, "the employee's pension rate")
        employer_rate = _fraction(pension_employer_rate, "the employer's pension rate")
        if pension_relief not in ("relief_at_source", "net_pay_arrangement"):
            raise InvalidInput("pension relief must be \"relief_at_source\" or \"net_pay_arrangement\"")
        days = tuple(sorted(set(qualifying_days)))
        if not days or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            raise InvalidInput("qualifying days are weekday numbers from 0 (Monday) to 6 (Sunday), at least one")

        def work(store: PayrollStore) -> Contract:
            pk, employee = self._employee(store, employee_id)
            store.lock_employee(pk)
            if starts < employee.start_date:
                raise InvalidInput(f"the contract cannot start before {employee.full_name} started on "
                                   f"{employee.start_date}")
            for other in store.contracts_of([pk])[pk]:
                if other.starts <= (ends or date.max) and starts <= (other.ends or date.max):
                    until = f"to {other.ends}" if other.ends else "with no end date"
                    raise Duplicate(f"{employee.full_name} already has contract {other.id} from {other.starts} "
                                    f"{until}, which overlaps; end it first")
            contract = Contract(id=self.new_id(), employee_id=employee.id, starts=starts, rates=rates, ends=ends,
                                contracted_hours_per_week=hours, pension_employee_rate=employee_rate,
                                pension_employer_rate=employer_rate, pension_relief=pension_relief,
                                qualifying_days=days)
            store.insert_contract(contract, pk, actor, self._now_us())
            log.info("payroll contract %s added for employee %s by %s", contract.id, employee.id, actor)
            return contract

        return self._write(work)

    def end_contract(self, contract_id: str, ends: date, *, actor: str) -> Contract:
        actor = _actor(actor)
        ends = _day(ends, "the contract end")

        def work(store: PayrollStore) -> Contract:
            keys = store.contract_keys(contract_id) if isinstance(contract_id, str) else None
            if keys is None:
                raise NotFound(f"no contract with id {contract_id!r}")
            store.lock_employee(keys[1])
            contract = next(c for c in store.contracts_of([keys[1]])[keys[1]] if c.id == contract_id)
            if ends < contract.starts:
                raise InvalidInput(f"the contract cannot end ({ends}) before it starts ({contract.starts})")
            if contract.ends is not None and contract.ends <= ends:
                raise WrongStatus(f"contract {contract_id} already ends on {contract.ends}")
            store.end_contract(contract_id, ends)
            log.info("payroll contract %s ended by %s", contract_id, actor)
            return replace(contract, ends=ends)

        return self._write(work)

    @staticmethod
    def _checked_rates(rates: PayRates) -> PayRates:
        if not isinstance(rates, PayRates):
            raise InvalidInput("rates must be PayRates (pence per hour for each kind of hour)")
        _pence(rates.standard, "the standard hourly rate", allow_zero=False)
        for name in ("night", "weekend", "bank_holiday", "sleep_in_flat", "on_call"):
            value = getattr(rates, name)
            if value is not None:
                _pence(value, f"the {name.replace('_', ' ')} rate")
        return rates

    def list_contracts(self, employee_id: str) -> list[Contract]:
        def work(store: PayrollStore) -> list[Contract]:
            pk, _ = self._employee(store, employee_id)
            return store.contracts_of([pk])[pk]

        return self._read(work)

    @staticmethod
    def _contract_for(contracts: Sequence[Contract], start: date, end: date) -> Contract | None:
        """The contract for a period: of those overlapping it, the one starting last."""
        overlapping = [c for c in contracts if c.starts <= end and (c.ends is None or c.ends >= start)]
        return max(overlapping, key=lambda c: c.starts, default=None)

    # -----------------------------------------------------------------------------------------------------
    # Timesheets

    def save_timesheet(self, employee_id: str, *, period_start: date, period_end: date,
                       shifts: Sequence[Shift] = (), absences: Sequence[Absence] = (), expenses: int = 0,
                       actor: str) -> Timesheet:
        """A new draft timesheet, checked against the contract."""
        actor = _actor(actor)
        period_start = _day(period_start, "the first day of the timesheet")
        period_end = _day(period_end, "the last day of the timesheet")
        if period_end < period_start:
            raise InvalidInput(f"the timesheet ends ({period_end}) before it starts ({period_start})")
        if (period_end - period_start).days >= 31:
            raise InvalidInput("a timesheet covers at most 31 days; split it by pay period")
        shifts, absences = self._checked_entries(shifts, absences)

        def work(store: PayrollStore) -> Timesheet:
            pk, employee = self._employee(store, employee_id, period_end)
            store.lock_employee(pk)
            self._check_period_open(store, pk, employee, period_start, period_end)
            other = store.overlapping_timesheet(pk, period_start, period_end, None)
            if other is not None:
                raise Duplicate(f"{employee.full_name} already has timesheet {other.uuid} for "
                                f"{_period_words(other.period_start, other.period_end)}, which overlaps; edit "
                                f"that one instead")
            timesheet = Timesheet(id=self.new_id(), employee_id=employee.id, period_start=period_start,
                                  period_end=period_end, shifts=shifts, absences=absences, expenses=expenses)
            self._validate(store, pk, employee, timesheet)
            store.insert_timesheet(timesheet, pk, actor, self._now_us())
            log.info("payroll timesheet %s saved for employee %s by %s", timesheet.id, employee.id, actor)
            return timesheet

        return self._write(work)

    def edit_timesheet(self, timesheet_id: str, *, shifts: Sequence[Shift] | None = None,
                       absences: Sequence[Absence] | None = None, expenses: int | None = None,
                       actor: str) -> Timesheet:
        """New hours for a draft or rejected timesheet (then submit it again)."""
        actor = _actor(actor)
        checked_shifts, checked_absences = self._checked_entries(shifts or (), absences or ())

        def work(store: PayrollStore) -> Timesheet:
            row, timesheet = self._timesheet(store, timesheet_id)
            pk, employee = self._employee(store, timesheet.employee_id, timesheet.period_end)
            store.lock_employee(pk)
            self._check_not_correction(row)
            self._check_period_open(store, pk, employee, timesheet.period_start, timesheet.period_end)
            try:
                edited = ts_rules.edit(timesheet, shifts=None if shifts is None else checked_shifts,
                                       absences=None if absences is None else checked_absences, expenses=expenses)
            except ts_rules.TimesheetStatusError as exc:
                raise WrongStatus(str(exc)) from None
            self._validate(store, pk, employee, edited)
            store.replace_timesheet_content(row.id, edited, self._now_us())
            log.info("payroll timesheet %s edited by %s", timesheet_id, actor)
            return edited

        return self._write(work)

    def submit_timesheet(self, timesheet_id: str, *, actor: str) -> Timesheet:
        return self._move_timesheet(timesheet_id, actor, "submit")

    def approve_timesheet(self, timesheet_id: str, *, actor: str) -> Timesheet:
        """Submitted → approved, by someone other than whoever submitted it."""
        return self._move_timesheet(timesheet_id, actor, "approve")

    def reject_timesheet(self, timesheet_id: str, *, actor: str, reason: str) -> Timesheet:
        """Submitted → rejected with the reason the PA will read, by someone other than the submitter."""
        return self._move_timesheet(timesheet_id, actor, "reject", reason)

    def _move_timesheet(self, timesheet_id: str, actor: str, move: str, reason: str | None = None) -> Timesheet:
        actor = _actor(actor)

        def work(store: PayrollStore) -> Timesheet:
            row, timesheet = self._timesheet(store, timesheet_id)
            pk, employee = self._employee(store, timesheet.employee_id, timesheet.period_end)
            store.lock_employee(pk)
            self._check_not_correction(row)
            self._check_period_open(store, pk, employee, timesheet.period_start, timesheet.period_end)
            if move in ("approve", "reject") and _same_person(actor, timesheet.submitted_by):
                raise NotPermitted(f"{timesheet.submitted_by} submitted timesheet {timesheet.id}, so someone else must "
                                   f"{move} it")
            try:
                if move == "submit":
                    moved = ts_rules.submit(timesheet, actor)
                elif move == "approve":
                    moved = ts_rules.approve(timesheet, actor)
                else:
                    moved = ts_rules.reject(timesheet, actor, reason or "")
            except ts_rules.TimesheetStatusError as exc:
                raise WrongStatus(str(exc)) from None
            if move in ("submit", "approve"):
                self._validate(store, pk, employee, moved)
            store.update_timesheet_status(row.id, moved, self._now_us())
            log.info("payroll timesheet %s %s by %s", timesheet.id, moved.status.value, actor)
            return moved

        return self._write(work)

    def get_timesheet(self, timesheet_id: str) -> Timesheet:
        return self._read(lambda store: self._timesheet(store, timesheet_id)[1])

    def list_timesheets(self, *, employee_id: str | None = None, employer_id: str | None = None,
                        status: TimesheetStatus | str | None = None,
                        overlapping: tuple[date, date] | None = None) -> list[Timesheet]:
        """Timesheets still standing (those replaced by a correction are left out), in PA and date order."""
        statuses = None if status is None else [TimesheetStatus(status)]

        def work(store: PayrollStore) -> list[Timesheet]:
            pks: list[int] | None = None
            if employee_id is not None:
                pks = [self._employee(store, employee_id)[0]]
            elif employer_id is not None:
                employer_pk, _ = self._employer(store, employer_id)
                pks = list(store.employees_of(employer_pk, self.today()))
            return [t for _, t in store.timesheets(employee_pks=pks, statuses=statuses, overlapping=overlapping)]

        return self._read(work)

    @staticmethod
    def _checked_entries(shifts: Sequence[Shift], absences: Sequence[Absence],
                         ) -> tuple[tuple[Shift, ...], tuple[Absence, ...]]:
        problems = []
        for number, shift in enumerate(shifts, start=1):
            if not isinstance(shift, Shift):
                problems.append(f"shift {number} is not a Shift")
            elif not all(isinstance(t, datetime) and t.tzinfo is not None and t.utcoffset() is not None
                         for t in (shift.starts, shift.ends)):
                problems.append(f"shift {number} needs start and end times with their time zone")
            elif len(shift.note or "") > 500:
                problems.append(f"shift {number}'s note is longer than 500 characters")
        for number, absence in enumerate(absences, start=1):
            if not isinstance(absence, Absence):
                problems.append(f"absence {number} is not an Absence")
        if problems:
            raise InvalidInput("the timesheet cannot be saved: " + "; ".join(problems), problems)
        return tuple(shifts), tuple(absences)

    def _validate(self, store: PayrollStore, employee_pk: int, employee: Employee, timesheet: Timesheet) -> None:
        contract = self._contract_for(store.contracts_of([employee_pk])[employee_pk], timesheet.period_start,
                                      timesheet.period_end)
        if contract is None:
            raise InvalidInput(f"{employee.full_name} has no contract covering "
                               f"{_period_words(timesheet.period_start, timesheet.period_end)}; add one first")
        try:
            ts_rules.validate_timesheet(timesheet, contract, employee)
        except ts_rules.TimesheetInvalid as exc:
            raise InvalidInput(f"timesheet for {employee.full_name} cannot be accepted: {exc}", exc.problems) \
                from None

    @staticmethod
    def _check_period_open(store: PayrollStore, employee_pk: int, employee: Employee, start: date, end: date) -> None:
        employer_pk = store.employee_keys(employee.id)[1]  # type: ignore[index]
        locked = store.runs_covering(employer_pk, employee.frequency, start, end, _LOCKING)
        if locked:
            row = locked[0]
            then = ("correct it with a correction run" if row.status == PayRunStatus.FINALISED.value
                    else "its timesheets can no longer change")
            raise WrongStatus(f"the {_run_words(row)} covers {_period_words(start, end)}; {then}")

    @staticmethod
    def _check_not_correction(row: Row) -> None:
        if row.corrects_run_id is not None:
            raise WrongStatus(f"timesheet {row.uuid} is a correction; it is approved with its adjustment run")

    # -----------------------------------------------------------------------------------------------------
    # Pay runs

    def create_pay_run(self, employer_id: str, *, period_start: date, period_end: date, payment_date: date,
                       frequency: Frequency | str, actor: str) -> PayRun:
        """A draft run for one pay period; its tax period is the one the payday falls in."""
        actor = _actor(actor)
        freq = _frequency(frequency)
        period_start = _day(period_start, "the first day of the pay period")
        period_end = _day(period_end, "the last day of the pay period")
        payment_date = _day(payment_date, "the payday")
        if period_end < period_start:
            raise InvalidInput(f"the pay period ends ({period_end}) before it starts ({period_start})")
        if (period_end - period_start).days + 1 > _PERIOD_DAYS[freq]:
            raise InvalidInput(f"a {freq.value.replace('_', '-')} pay period is at most {_PERIOD_DAYS[freq]} days, "
                               f"not {(period_end - period_start).days + 1}")
        if payment_date < period_start:
            raise InvalidInput(f"the payday ({payment_date}) is before the pay period starts ({period_start})")
        due = tax_period(payment_date, freq)
        try:
            check_tax_year(due.tax_year)
        except PayrollRuleError as exc:
            raise InvalidInput(f"a payday on {payment_date} is in tax year {due.tax_year}: {exc}") from None

        def work(store: PayrollStore) -> PayRun:
            employer_pk, employer = self._employer(store, employer_id)
            store.lock_employer(employer_pk)
            same = store.ordinary_run_for_period(employer_pk, freq.value, due.tax_year, due.period)
            if same is not None:
                unit = "month" if freq is Frequency.MONTHLY else "week"
                raise Duplicate(f"{employer.name} already has a {freq.value.replace('_', '-')} pay run for tax year "
                                f"{due.tax_year} tax {unit} {due.period}: {_run_words(same)}")
            overlapping = store.ordinary_runs_overlapping(employer_pk, freq.value, period_start, period_end)
            if overlapping:
                raise Duplicate(f"{employer.name}'s {_run_words(overlapping[0])} overlaps "
                                f"{_period_words(period_start, period_end)}")
            run = PayRun(id=self.new_id(), employer_id=employer.id, tax_year=due.tax_year, frequency=freq.value,
                         period=due.period, period_start=period_start, period_end=period_end,
                         payment_date=payment_date)
            now = self._now_us()
            run_pk = store.insert_run(run, employer_pk, None, now)
            store.add_run_event(run_pk, PayRunStatus.DRAFT, actor, now)
            log.info("payroll run %s created by %s", run.id, actor)
            return store.run(store.run_row_by_pk(run_pk))

        return self._write(work)

    def calculate(self, run_id: str, *, actor: str, progress: Progress | None = None) -> PayRun:
        """Work out every PA's payslip: approved timesheets, the contract, the year to date after the last
        finalised run, sickness history and the Employment Allowance used so far this year. A draft or
        calculated run only; calculating again replaces the payslips."""
        actor = _actor(actor)

        def work(store: PayrollStore) -> PayRun:
            row = self._run_row(store, run_id)
            store.lock_employer(row.employer_id)
            row = store.run_row_by_pk(row.id)
            if PayRunStatus(row.status) not in (PayRunStatus.DRAFT, PayRunStatus.CALCULATED):
                raise WrongStatus(f"{_run_words(row)} cannot be calculated: only a draft or calculated run can be")
            self._check_one_in_progress(store, row)
            self._check_order(store, row)
            if row.corrects_id is not None:
                original = store.run_row_by_pk(row.corrects_id)
                linked = store.timesheets(pks=sorted(store.linked_timesheet_pks(row.id)), include_replaced=True)
                return self._adjust(store, original, row, [t for _, t in linked], actor, None, progress)
            return self._calculate_regular(store, row, actor, progress)

        return self._write(work)

    def _calculate_regular(self, store: PayrollStore, row: Row, actor: str, progress: Progress | None) -> PayRun:
        employer = store.employer_by_pk(row.employer_id)
        start, end = row.period_start, row.period_end
        employees = store.employees_of(row.employer_id, row.payment_date, row.frequency)
        pks = list(employees)
        # Approved timesheets must sit inside one pay period to be paid.
        approved = store.timesheets(employee_pks=pks, overlapping=(start, end), statuses=[TimesheetStatus.APPROVED])
        straddling = [t for _, t in approved if t.period_start < start or t.period_end > end]
        if straddling:
            problems = [f"timesheet {t.id} ({_period_words(t.period_start, t.period_end)}) of "
                        f"{employees[store.employee_pks([t.employee_id])[t.employee_id]].full_name} crosses the edge "
                        f"of the pay period {_period_words(start, end)}; split it" for t in straddling]
            raise InvalidInput("; ".join(problems), problems)
        by_employee: dict[int, list[tuple[Row, Timesheet]]] = {}
        for ts_row, timesheet in approved:
            by_employee.setdefault(ts_row.employee_id, []).append((ts_row, timesheet))
        contracts = store.contracts_of(pks)
        members_pks: list[int] = []
        chosen: dict[int, Contract] = {}
        problems: list[str] = []
        for pk, employee in employees.items():
            in_employment = employee.start_date <= end and (employee.leaving_date is None
                                                            or employee.leaving_date >= start)
            if not in_employment and pk not in by_employee:
                continue
            contract = self._contract_for(contracts[pk], start, end)
            if contract is None:
                if pk in by_employee:
                    problems.append(f"{employee.full_name} (payroll id {employee.payroll_id}) has approved hours "
                                    f"in {_period_words(start, end)} but no contract covering it")
                continue
            members_pks.append(pk)
            chosen[pk] = contract
        if problems:
            raise InvalidInput("the pay run cannot be calculated: " + "; ".join(problems), problems)
        members = self._members(store, members_pks, employees, chosen,
                                {pk: [t for _, t in by_employee.get(pk, [])] for pk in members_pks},
                                row.tax_year, start, row.payment_date, progress)
        run = store.run(row, with_payslips=False)
        run = replace(run, payslips=(), summary=None)
        if progress:
            progress("calculating", 0, len(members))
        try:
            calculated = calculate_pay_run(
                run, employer, members,
                employment_allowance_used_before=store.employment_allowance_used(row.employer_id, row.tax_year),
                new_id=self.new_id)
        except PayRunFailed as exc:
            raise InvalidInput(str(exc), [reason for _, reason in exc.failures]) from None
        except (PayRunError, PayrollRuleError) as exc:
            raise InvalidInput(str(exc)) from None
        if progress:
            progress("calculating", len(members), len(members))
        paid_timesheets = [ts_row.id for pk in members_pks for ts_row, _ in by_employee.get(pk, [])]
        return self._store_calculation(store, row, calculated, paid_timesheets, actor, progress)

    def _members(self, store: PayrollStore, pks: Sequence[int], employees: Mapping[int, Employee],
                 contracts: Mapping[int, Contract], timesheets: Mapping[int, list[Timesheet]], tax_year: str,
                 period_start: date, payment_date: date, progress: Progress | None) -> list[PayRunMember]:
        ytd = store.year_to_date(pks, tax_year)
        sick_before = store.sick_days_before(pks, period_start, period_start - _SSP_LOOKBACK)
        # Normal weekly earnings are needed only for a PA with sickness on this run's timesheets.
        sick_now = [pk for pk in pks if any(a.kind == "sick" for t in timesheets.get(pk, []) for a in t.absences)]
        earnings = store.earnings_before(sick_now, payment_date, period_start - _SSP_LOOKBACK) if sick_now else {}
        members = []
        for done, pk in enumerate(pks, start=1):
            members.append(PayRunMember(
                employee=employees[pk], contract=contracts[pk], timesheet=self._merged(timesheets.get(pk, [])),
                year_to_date=ytd.get(pk, YearToDate()),
                sickness=SicknessRecord(sick_days=tuple(sick_before.get(pk, ())),
                                        earnings_before=tuple(earnings.get(pk, ())))))
            if progress and (done % 200 == 0 or done == len(pks)):
                progress("gathering", done, len(pks))
        return members

    @staticmethod
    def _merged(timesheets: Sequence[Timesheet]) -> Timesheet | None:
        """One timesheet for the period: several approved ones (weekly sheets in a monthly run) are paid as one,
        their shifts, absences and expenses together."""
        if not timesheets:
            return None
        if len(timesheets) == 1:
            return timesheets[0]
        first = timesheets[0]
        return replace(first, period_start=min(t.period_start for t in timesheets),
                       period_end=max(t.period_end for t in timesheets),
                       shifts=tuple(s for t in timesheets for s in t.shifts),
                       absences=tuple(a for t in timesheets for a in t.absences),
                       expenses=sum(t.expenses for t in timesheets))

    def _store_calculation(self, store: PayrollStore, row: Row, calculated: PayRun, timesheet_pks: Iterable[int],
                           actor: str, progress: Progress | None) -> PayRun:
        store.delete_payslips(row.id)
        store.unlink_timesheets(row.id)
        employee_pks = store.employee_pks(p.employee_id for p in calculated.payslips)
        store.insert_payslips(row.id, calculated.payslips, employee_pks,
                              progress=(lambda done, total: progress("saving payslips", done, total))
                              if progress else None)
        store.link_timesheets(row.id, timesheet_pks)
        store.set_run_status(row.id, PayRunStatus.CALCULATED, actor, self._now_us(), summary=calculated.summary)
        log.info("payroll run %s calculated by %s: %d payslips", row.uuid, actor, len(calculated.payslips))
        return store.run(store.run_row_by_pk(row.id))

    def _check_one_in_progress(self, store: PayrollStore, row: Row) -> None:
        busy = [r for r in store.runs_of(row.employer_id, statuses=_IN_PROGRESS) if r.id != row.id]
        if busy:
            raise WrongStatus(f"finish {_run_words(busy[0])} first: one pay run per employer is in progress at a "
                              f"time, so that each starts from the year-to-date figures of the one before")

    @staticmethod
    def _check_order(store: PayrollStore, row: Row) -> None:
        later = [r for r in store.runs_of(row.employer_id, statuses=[PayRunStatus.FINALISED], tax_year=row.tax_year,
                                          frequency=row.frequency)
                 if r.payment_date > row.payment_date]
        if later:
            raise WrongStatus(f"{_run_words(later[0])} is paid later ({later[0].payment_date}) and already "
                              f"finalised; this run, paid on {row.payment_date}, would be out of order")

    def review(self, run_id: str, *, actor: str) -> PayRun:
        """Calculated → reviewed: the figures have been checked. No timesheet in the period may be waiting."""
        actor = _actor(actor)

        def work(store: PayrollStore) -> PayRun:
            row = self._locked_run(store, run_id, PayRunStatus.CALCULATED, "reviewed")
            self._check_timesheets_settled(store, row)
            store.set_run_status(row.id, PayRunStatus.REVIEWED, actor, self._now_us())
            log.info("payroll run %s reviewed by %s", row.uuid, actor)
            return store.run(store.run_row_by_pk(row.id))

        return self._write(work)

    def approve(self, run_id: str, *, actor: str) -> PayRun:
        """Reviewed → approved, by someone who neither calculated nor reviewed the run. An adjustment run's
        corrected timesheets are approved with it."""
        actor = _actor(actor)

        def work(store: PayrollStore) -> PayRun:
            row = self._locked_run(store, run_id, PayRunStatus.REVIEWED, "approved")
            history = store.history(row.id)
            calculator = next((who for status, who, _ in reversed(history) if status == "calculated"), None)
            reviewer = next((who for status, who, _ in reversed(history) if status == "reviewed"), None)
            for role, person in (("calculated", calculator), ("reviewed", reviewer)):
                if _same_person(actor, person):
                    raise NotPermitted(f"{person} {role} this run, so someone else must approve it")
            self._check_timesheets_settled(store, row)
            now = self._now_us()
            if row.corrects_id is not None:
                corrected = store.timesheets(pks=sorted(store.linked_timesheet_pks(row.id)), include_replaced=True)
                for _, timesheet in corrected:
                    if _same_person(actor, timesheet.submitted_by):
                        raise NotPermitted(f"{timesheet.submitted_by} made the corrected timesheet {timesheet.id}, "
                                           f"so someone else must approve this run")
                for ts_row, timesheet in corrected:
                    if timesheet.status is TimesheetStatus.SUBMITTED:
                        store.update_timesheet_status(ts_row.id, ts_rules.approve(timesheet, actor), now)
            store.set_run_status(row.id, PayRunStatus.APPROVED, actor, now)
            log.info("payroll run %s approved by %s", row.uuid, actor)
            return store.run(store.run_row_by_pk(row.id))

        return self._write(work)

    def finalise(self, run_id: str, *, actor: str, progress: Progress | None = None) -> PayRun:
        """Approved → finalised: each PA's year to date is written and the run can never change again."""
        actor = _actor(actor)

        def work(store: PayrollStore) -> PayRun:
            row = self._locked_run(store, run_id, PayRunStatus.APPROVED, "finalised")
            payslips = store.payslips(run_pk=row.id)
            employee_pks = store.employee_pks(p.employee_id for p in payslips)
            now = self._now_us()
            for done, payslip in enumerate(payslips, start=1):
                store.save_year_to_date(employee_pks[payslip.employee_id], payslip.tax_year, payslip.year_to_date,
                                        row.id, now)
                if progress and (done % 200 == 0 or done == len(payslips)):
                    progress("year to date", done, len(payslips))
            store.set_run_status(row.id, PayRunStatus.FINALISED, actor, now)
            log.info("payroll run %s finalised by %s", row.uuid, actor)
            return store.run(store.run_row_by_pk(row.id))

        return self._write(work)

    def _locked_run(self, store: PayrollStore, run_id: str, needed: PayRunStatus, move: str) -> Row:
        row = self._run_row(store, run_id)
        store.lock_employer(row.employer_id)
        row = store.run_row_by_pk(row.id)
        if row.status != needed.value:
            article = "an" if needed.value[0] in "aeiou" else "a"
            raise WrongStatus(f"{_run_words(row)} cannot be {move}: only {article} {needed.value} run can be")
        return row

    def _check_timesheets_settled(self, store: PayrollStore, row: Row) -> None:
        """No timesheet in the period waiting for a decision, and the approved ones are those calculated."""
        if row.corrects_id is not None:
            return
        employees = store.employees_of(row.employer_id, row.payment_date, row.frequency)
        pks = list(employees)
        standing = store.timesheets(employee_pks=pks, overlapping=(row.period_start, row.period_end))
        waiting = [(r, t) for r, t in standing if t.status is TimesheetStatus.SUBMITTED and r.corrects_run_id is None]
        if waiting:
            problems = [f"timesheet {t.id} of {employees[r.employee_id].full_name} "
                        f"({_period_words(t.period_start, t.period_end)}) is submitted and waiting"
                        for r, t in waiting]
            raise WrongStatus("approve or reject the waiting timesheets first: " + "; ".join(problems))
        approved = {r.id for r, t in standing if t.status is TimesheetStatus.APPROVED and r.corrects_run_id is None}
        if approved != store.linked_timesheet_pks(row.id):
            raise WrongStatus(f"timesheets in {_period_words(row.period_start, row.period_end)} changed after "
                              f"{_run_words(row)} was calculated; calculate it again")

    # Corrections ------------------------------------------------------------------------------------------

    def correct(self, run_id: str, corrected_timesheets: Sequence[Timesheet], *, actor: str,
                payment_date: date | None = None, progress: Progress | None = None) -> PayRun:
        """An adjustment run for a finalised regular run: each corrected timesheet (one per PA paid in it,
        inside its pay period) replaces what that PA's pay was based on, and the adjustment pays the
        differences on ``payment_date`` (default: today, or the original payday if later). The original run is
        not changed. The corrected timesheets are approved when the adjustment run is approved."""
        actor = _actor(actor)
        if not corrected_timesheets:
            raise InvalidInput("give at least one corrected timesheet")
        problems = []
        seen: set[str] = set()
        for number, timesheet in enumerate(corrected_timesheets, start=1):
            if not isinstance(timesheet, Timesheet):
                problems.append(f"corrected timesheet {number} is not a Timesheet")
                continue
            if timesheet.employee_id in seen:
                problems.append(f"employee {timesheet.employee_id} has more than one corrected timesheet; give "
                                f"one with all their hours")
            seen.add(timesheet.employee_id)
            try:
                self._checked_entries(timesheet.shifts, timesheet.absences)
            except InvalidInput as exc:
                problems += [f"corrected timesheet {number}: {p}" for p in exc.problems]
        if problems:
            raise InvalidInput("the correction cannot be made: " + "; ".join(problems), problems)
        if payment_date is not None:
            payment_date = _day(payment_date, "the payday of the correction")

        def work(store: PayrollStore) -> PayRun:
            original = self._run_row(store, run_id)
            store.lock_employer(original.employer_id)
            original = store.run_row_by_pk(original.id)
            if original.corrects_id is not None:
                raise WrongStatus(f"{_run_words(original)} is itself a correction; correct the regular run it "
                                  f"corrects, with all the changes at once")
            if original.status != PayRunStatus.FINALISED.value:
                raise WrongStatus(f"{_run_words(original)} is not finalised: calculate it again instead of "
                                  f"correcting it")
            earlier = [r for r in store.runs_of(original.employer_id) if r.corrects_id == original.id]
            if earlier:
                raise Duplicate(f"{_run_words(original)} was already corrected by {_run_words(earlier[0])}; a run "
                                f"is corrected once, with all its changes")
            payday = payment_date or max(self.today(), original.payment_date)
            if payday < original.payment_date:
                raise InvalidInput(f"a correction is paid on or after the original payday {original.payment_date}")
            due = tax_period(payday, Frequency.parse(original.frequency))
            run = PayRun(id=self.new_id(), employer_id=store.employer_by_pk(original.employer_id).id,
                         tax_year=due.tax_year, frequency=original.frequency, period=due.period,
                         period_start=original.period_start, period_end=original.period_end, payment_date=payday,
                         corrects=original.uuid)
            now = self._now_us()
            run_pk = store.insert_run(run, original.employer_id, original.id, now)
            store.add_run_event(run_pk, PayRunStatus.DRAFT, actor, now)
            adjustment = store.run_row_by_pk(run_pk)
            self._check_one_in_progress(store, adjustment)
            prepared = []
            for timesheet in corrected_timesheets:
                keys = store.employee_keys(timesheet.employee_id) if isinstance(timesheet.employee_id, str) else None
                if keys is None or keys[1] != original.employer_id:
                    raise InvalidInput(f"employee {timesheet.employee_id!r} is not employed by this run's employer")
                prepared.append(replace(timesheet, id=self.new_id(), status=TimesheetStatus.SUBMITTED,
                                        submitted_by=actor, decided_by=None, rejection_reason=None))
            return self._adjust(store, original, adjustment, prepared, actor, now, progress)

        return self._write(work)

    def _adjust(self, store: PayrollStore, original: Row, row: Row, corrected: Sequence[Timesheet], actor: str,
                new_timesheets_at: int | None, progress: Progress | None) -> PayRun:
        """Calculate an adjustment run from its corrected timesheets; ``new_timesheets_at`` set means the
        timesheets are new and are stored (with what they replace) as well."""
        employer = store.employer_by_pk(row.employer_id)
        original_run = store.run(original)
        employee_pks = store.employee_pks(t.employee_id for t in corrected)
        pks = [employee_pks[t.employee_id] for t in corrected]
        employees = store.employees_by_pk(pks, original.payment_date)
        contracts = store.contracts_of(pks)
        chosen: dict[int, Contract] = {}
        problems = []
        for timesheet, pk in zip(corrected, pks):
            if timesheet.period_start < original.period_start or timesheet.period_end > original.period_end:
                problems.append(f"the corrected timesheet of {employees[pk].full_name} "
                                f"({_period_words(timesheet.period_start, timesheet.period_end)}) is not within the "
                                f"pay period {_period_words(original.period_start, original.period_end)}")
            contract = self._contract_for(contracts[pk], original.period_start, original.period_end)
            if contract is None:
                problems.append(f"{employees[pk].full_name} has no contract covering the pay period")
            else:
                chosen[pk] = contract
        if problems:
            raise InvalidInput("the correction cannot be calculated: " + "; ".join(problems), problems)
        # Calculated as approved: the adjustment run's approval is their approval.
        as_paid = {pk: [replace(t, status=TimesheetStatus.APPROVED)] for t, pk in zip(corrected, pks)}
        members = self._members(store, pks, employees, chosen, as_paid, original.tax_year, original.period_start,
                                original.payment_date, progress)
        # The year to date now, which the adjustment moves by the difference.
        current = store.year_to_date(pks, original.tax_year)
        members = [replace(m, year_to_date=current.get(pk, YearToDate())) for m, pk in zip(members, pks)]
        run = replace(store.run(row, with_payslips=False), payslips=(), summary=None)
        try:
            calculated = calculate_adjustment(
                original_run, members, run=run, employer=employer,
                employment_allowance_used_before=store.employment_allowance_used(row.employer_id, row.tax_year),
                new_id=self.new_id)
        except PayRunFailed as exc:
            raise InvalidInput(str(exc), [reason for _, reason in exc.failures]) from None
        except (PayRunError, PayrollRuleError) as exc:
            raise InvalidInput(str(exc)) from None
        if new_timesheets_at is not None:
            # The corrected timesheets are kept, each saying which paid timesheets it stands in for.
            paid_before = store.timesheets(pks=sorted(store.linked_timesheet_pks(original.id)), include_replaced=True)
            for timesheet, pk in zip(corrected, pks):
                ts_pk = store.insert_timesheet(timesheet, pk, actor, new_timesheets_at, corrects_run_pk=original.id)
                store.record_replacements(ts_pk, [r.id for r, _ in paid_before if r.employee_id == pk])
                store.link_timesheets(row.id, [ts_pk])
        store.delete_payslips(row.id)
        employee_pk_by_id = store.employee_pks(p.employee_id for p in calculated.payslips)
        store.insert_payslips(row.id, calculated.payslips, employee_pk_by_id,
                              progress=(lambda done, total: progress("saving payslips", done, total))
                              if progress else None)
        store.set_run_status(row.id, PayRunStatus.CALCULATED, actor, self._now_us(), summary=calculated.summary)
        log.info("payroll adjustment run %s for run %s calculated by %s", row.uuid, original.uuid, actor)
        return store.run(store.run_row_by_pk(row.id))

    # Reading runs -----------------------------------------------------------------------------------------

    def get_run(self, run_id: str, *, with_payslips: bool = True) -> PayRun:
        return self._read(lambda store: store.run(self._run_row(store, run_id), with_payslips=with_payslips))

    def list_runs(self, employer_id: str, *, status: PayRunStatus | str | None = None) -> list[PayRun]:
        """The employer's runs, by payday, without payslips."""
        statuses = None if status is None else [PayRunStatus(status)]

        def work(store: PayrollStore) -> list[PayRun]:
            employer_pk, _ = self._employer(store, employer_id)
            return [store.run(row, with_payslips=False) for row in store.runs_of(employer_pk, statuses=statuses)]

        return self._read(work)

    def payslips(self, run_id: str) -> tuple[Payslip, ...]:
        return self._read(lambda store: store.payslips(run_pk=self._run_row(store, run_id).id))

    def get_payslip(self, payslip_id: str) -> Payslip:
        def work(store: PayrollStore) -> Payslip:
            found = store.payslips(payslip_id=payslip_id) if isinstance(payslip_id, str) else ()
            if not found:
                raise NotFound(f"no payslip with id {payslip_id!r}")
            return found[0]

        return self._read(work)

    def employee_payslips(self, employee_id: str) -> tuple[Payslip, ...]:
        """Every payslip of the employee, by payday (adjustments included)."""
        return self._read(lambda store: store.payslips(employee_pk=self._employee(store, employee_id)[0]))

    def employer_cost_summary(self, run_id: str) -> EmployerCostSummary:
        def work(store: PayrollStore) -> EmployerCostSummary:
            row = self._run_row(store, run_id)
            summary = store.run(row, with_payslips=False).summary
            if summary is None:
                raise WrongStatus(f"{_run_words(row)} has not been calculated, so it has no cost summary yet")
            return summary

        return self._read(work)

    def finalised_run(self, run_id: str) -> FinalisedPayRun:
        """Everything the HMRC export needs about a finalised run, read in one transaction."""
        def work(store: PayrollStore) -> FinalisedPayRun:
            row = self._run_row(store, run_id)
            if row.status != PayRunStatus.FINALISED.value:
                raise WrongStatus(f"{_run_words(row)} is not finalised; only a finalised run is reported to HMRC")
            run = store.run(row)
            employer = store.employer_by_pk(row.employer_id)
            pks = store.employee_pks(p.employee_id for p in run.payslips)
            employees = store.employees_by_pk(list(pks.values()), row.payment_date)
            corrected = store.run(store.run_row_by_pk(row.corrects_id)) if row.corrects_id is not None else None
            return FinalisedPayRun(run, employer, {e.id: e for e in employees.values()}, corrected)

        return self._read(work)


__all__ = ["Duplicate", "FinalisedPayRun", "InvalidInput", "LeaverRecord", "NotFound", "NotPermitted",
           "PayrollError", "PayrollService", "Progress", "WrongStatus", "check_bank_details", "normalise_nino"]
