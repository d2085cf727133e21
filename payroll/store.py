"""The payroll repository: rows in ``payroll.tables`` to and from the dataclasses of ``payroll.model``.

A ``PayrollStore`` works inside one connection (one transaction, opened by ``payroll.service``); it never
commits. Public ids (UUID text) are what the dataclasses carry; integer keys stay in here. NI numbers and bank
details are sealed on the way in and opened on the way out with the ``FieldCipher`` it is given.
"""
from __future__ import annotations

import json
from dataclasses import fields
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from payroll.model import (Absence, Address, BankDetails, Contract, Employee, EmployerCostSummary, Employer,
                           EmployerKind, HourKind, LineKind, NIFigures, PayRates, PayRun, PayRunStatus, Payslip,
                           PayslipLine, PensionStatus, PreviousEmployment, Shift, Timesheet, TimesheetStatus,
                           YearToDate)
from payroll.sealed import FieldCipher
from payroll.tables import (SUMMARY_MONEY, YTD_DECIMAL, YTD_FIELDS, absence_t, contract_t, employee_t, employee_ytd_t,
                            employer_t, pay_run_event_t, pay_run_t, pay_run_timesheet_t, payslip_line_t,
                            payslip_ni_t, payslip_t, pension_event_t, shift_t, tax_code_change_t, timesheet_replacement_t,
                            timesheet_t)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CHUNK = 500   # ids per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits

# Payslip fields stored in a column of the same name; the rest are mapped by hand below.
_PAYSLIP_MONEY = ("gross_pay", "taxable_pay", "tax", "employee_ni", "employer_ni", "student_loan",
                  "postgraduate_loan", "pension_employee", "pension_employer", "pension_net_pay",
                  "pension_relief_at_source", "ssp", "holiday_pay", "expenses", "net_pay")
_PAYSLIP_PLAIN = ("tax_year", "frequency", "period", "period_start", "period_end", "payment_date", "tax_code",
                  "non_cumulative", "ni_letter", "is_adjustment", "leaving")
_PAYSLIP_DECIMAL = ("holiday_hours_accrued", "holiday_hours_taken", "hours_worked")
_PAYSLIP_BY_HAND = ("id", "pay_run_id", "employee_id", "lines", "ni", "year_to_date", "warnings")
if set(_PAYSLIP_MONEY + _PAYSLIP_PLAIN + _PAYSLIP_DECIMAL + _PAYSLIP_BY_HAND) != {f.name for f in fields(Payslip)}:
    raise RuntimeError("payroll.store does not say how every Payslip field is stored")   # a field added to the model
if set(YTD_FIELDS) != {f.name for f in fields(YearToDate)}:
    raise RuntimeError("payroll.store does not say how every YearToDate field is stored")
# The other types, field by field as stored below: a field added to the model must be stored too.
_STORED_FIELDS = {
    Employer: {"id", "name", "kind", "hmrc_office_number", "paye_reference", "accounts_office_reference",
               "claims_employment_allowance", "address", "owner_ref"},
    Employee: {"id", "employer_id", "payroll_id", "forenames", "surname", "birth_date", "start_date", "frequency",
               "tax_code", "non_cumulative", "ni_letter", "nino", "gender", "address", "student_loan_plans",
               "starter_declaration", "previous_employment", "pension_status", "pension_postponed_until",
               "leaving_date", "bank_details", "irregular_hours", "rolled_up_holiday"},
    Contract: {"id", "employee_id", "starts", "rates", "ends", "contracted_hours_per_week", "pension_employee_rate",
               "pension_employer_rate", "pension_relief", "qualifying_days"},
    Timesheet: {"id", "employee_id", "period_start", "period_end", "shifts", "absences", "expenses", "status",
                "rejection_reason", "submitted_by", "decided_by"},
    Shift: {"starts", "ends", "kind", "note"},
    Absence: {"day", "kind", "hours"},
    PayslipLine: {"kind", "code", "description", "amount", "hours", "rate"},
    NIFigures: {"letter", "gross_earnings", "at_lel", "lel_to_pt", "pt_to_uel", "employee", "employer"},
    PayRates: {"standard", "night", "weekend", "bank_holiday", "sleep_in_flat", "on_call"},
}
for _type, _names in _STORED_FIELDS.items():
    if {f.name for f in fields(_type)} != _names:
        raise RuntimeError(f"payroll.store does not say how every {_type.__name__} field is stored")


def to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch (UTC), exactly."""
    delta = moment.astimezone(timezone.utc) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _decimal_text(value: Decimal | int | None) -> str | None:
    return None if value is None else str(value)


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _address_json(address: Address | None) -> dict | None:
    return None if address is None else {"lines": list(address.lines), "postcode": address.postcode}


def _address(data: Mapping | None) -> Address | None:
    return None if data is None else Address(tuple(data.get("lines") or ()), data.get("postcode"))


class PayrollStore:
    """Reads and writes payroll rows inside one open transaction."""

    def __init__(self, conn: Connection, cipher: FieldCipher):
        self.conn = conn
        self.cipher = cipher
        self.is_postgres = conn.dialect.name == "postgresql"

    # -----------------------------------------------------------------------------------------------------
    # Locks: PostgreSQL rows are locked for the rest of the transaction; SQLite writes hold the database lock.

    def lock_employer(self, employer_pk: int) -> None:
        if self.is_postgres:
            self.conn.execute(select(employer_t.c.id).where(employer_t.c.id == employer_pk).with_for_update())

    def lock_employee(self, employee_pk: int) -> None:
        if self.is_postgres:
            self.conn.execute(select(employee_t.c.id).where(employee_t.c.id == employee_pk).with_for_update())

    # -----------------------------------------------------------------------------------------------------
    # Employers

    def insert_employer(self, employer: Employer, now_us: int) -> int:
        values = self._employer_values(employer)
        return self.conn.execute(insert(employer_t).values(uuid=employer.id, created_us=now_us, updated_us=now_us,
                                                            **values).returning(employer_t.c.id)).scalar_one()

    def update_employer(self, employer_pk: int, employer: Employer, now_us: int) -> None:
        self.conn.execute(update(employer_t).where(employer_t.c.id == employer_pk)
                          .values(updated_us=now_us, **self._employer_values(employer)))

    @staticmethod
    def _employer_values(employer: Employer) -> dict[str, Any]:
        return dict(name=employer.name, kind=employer.kind.value, hmrc_office_number=employer.hmrc_office_number,
                    paye_reference=employer.paye_reference,
                    accounts_office_reference=employer.accounts_office_reference,
                    claims_employment_allowance=employer.claims_employment_allowance,
                    address=_address_json(employer.address), owner_ref=employer.owner_ref)

    def employer_pk(self, employer_id: str) -> int | None:
        return self.conn.execute(select(employer_t.c.id).where(employer_t.c.uuid == employer_id)).scalar()

    def employer(self, employer_id: str) -> tuple[int, Employer] | None:
        row = self.conn.execute(select(employer_t).where(employer_t.c.uuid == employer_id)).first()
        return None if row is None else (row.id, self._employer(row))

    def employer_by_pk(self, employer_pk: int) -> Employer:
        return self._employer(self.conn.execute(select(employer_t).where(employer_t.c.id == employer_pk)).one())

    def employer_with_reference(self, office: str, reference: str) -> str | None:
        return self.conn.execute(select(employer_t.c.uuid).where(
            employer_t.c.hmrc_office_number == office, employer_t.c.paye_reference == reference)).scalar()

    def employers(self, owner_ref: str | None = None) -> list[Employer]:
        query = select(employer_t).order_by(employer_t.c.name, employer_t.c.id)
        if owner_ref is not None:
            query = query.where(employer_t.c.owner_ref == owner_ref)
        return [self._employer(row) for row in self.conn.execute(query)]

    @staticmethod
    def _employer(row: Row) -> Employer:
        return Employer(id=row.uuid, name=row.name, kind=EmployerKind(row.kind),
                        hmrc_office_number=row.hmrc_office_number, paye_reference=row.paye_reference,
                        accounts_office_reference=row.accounts_office_reference,
                        claims_employment_allowance=bool(row.claims_employment_allowance),
                        address=_address(row.address), owner_ref=row.owner_ref)

    # -----------------------------------------------------------------------------------------------------
    # Employees

    def insert_employee(self, employee: Employee, employer_pk: int, now_us: int) -> int:
        return self.conn.execute(insert(employee_t).values(
            uuid=employee.id, employer_id=employer_pk, created_us=now_us, updated_us=now_us,
            **self._employee_values(employee)).returning(employee_t.c.id)).scalar_one()

    def update_employee(self, employee_pk: int, now_us: int, **values: Any) -> None:
        self.conn.execute(update(employee_t).where(employee_t.c.id == employee_pk).values(updated_us=now_us,
                                                                                           **values))

    def _employee_values(self, employee: Employee) -> dict[str, Any]:
        previous = employee.previous_employment
        return dict(
            payroll_id=employee.payroll_id, forenames=list(employee.forenames), surname=employee.surname,
            birth_date=employee.birth_date, start_date=employee.start_date, frequency=employee.frequency,
            tax_code=employee.tax_code, non_cumulative=employee.non_cumulative, ni_letter=employee.ni_letter,
            gender=employee.gender, address=_address_json(employee.address),
            student_loan_plans=list(employee.student_loan_plans), starter_declaration=employee.starter_declaration,
            previous_taxable_pay=None if previous is None else previous.taxable_pay,
            previous_tax=None if previous is None else previous.tax,
            pension_status=employee.pension_status.value, pension_postponed_until=employee.pension_postponed_until,
            leaving_date=employee.leaving_date, irregular_hours=employee.irregular_hours,
            rolled_up_holiday=employee.rolled_up_holiday,
            **self.sealed_nino(employee.nino), **self.sealed_bank(employee.bank_details))

    def sealed_nino(self, nino: str | None) -> dict[str, str | None]:
        if nino is None:
            return {"nino_sealed": None, "nino_fingerprint": None}
        return {"nino_sealed": self.cipher.seal(nino), "nino_fingerprint": self.cipher.fingerprint(nino)}

    def sealed_bank(self, bank: BankDetails | None) -> dict[str, str | None]:
        if bank is None:
            return {"bank_sealed": None}
        return {"bank_sealed": self.cipher.seal(json.dumps({
            "account_name": bank.account_name, "sort_code": bank.sort_code, "account_number": bank.account_number,
            "building_society_roll": bank.building_society_roll}))}

    def current_employee_with_nino(self, employer_pk: int, nino: str) -> str | None:
        """The id of a current (not left) employee of this employer with this NI number, under any key."""
        return self.conn.execute(select(employee_t.c.uuid).where(
            employee_t.c.employer_id == employer_pk, employee_t.c.leaving_date.is_(None),
            employee_t.c.nino_fingerprint.in_(self.cipher.fingerprints(nino)))).scalar()

    def employee_pk_with_payroll_id(self, employer_pk: int, payroll_id: str) -> int | None:
        return self.conn.execute(select(employee_t.c.id).where(
            employee_t.c.employer_id == employer_pk, employee_t.c.payroll_id == payroll_id)).scalar()

    def employee_keys(self, employee_id: str) -> tuple[int, int] | None:
        """(employee pk, employer pk) for a public employee id."""
        row = self.conn.execute(select(employee_t.c.id, employee_t.c.employer_id)
                                .where(employee_t.c.uuid == employee_id)).first()
        return None if row is None else (row.id, row.employer_id)

    def employee(self, employee_id: str, as_of: date) -> tuple[int, Employee] | None:
        rows = self.conn.execute(select(employee_t).where(employee_t.c.uuid == employee_id)).all()
        if not rows:
            return None
        return rows[0].id, self._employees(rows, as_of)[rows[0].id]

    def employees_of(self, employer_pk: int, as_of: date, frequency: str | None = None) -> dict[int, Employee]:
        query = select(employee_t).where(employee_t.c.employer_id == employer_pk)
        if frequency is not None:
            query = query.where(employee_t.c.frequency == frequency)
        return self._employees(self.conn.execute(query.order_by(employee_t.c.payroll_id, employee_t.c.id)).all(),
                               as_of)

    def employees_by_pk(self, pks: Sequence[int], as_of: date) -> dict[int, Employee]:
        rows: list[Row] = []
        for part in chunks(list(pks)):
            rows += self.conn.execute(select(employee_t).where(employee_t.c.id.in_(part))).all()
        return self._employees(rows, as_of)

    def employee_uuids(self, pks: Iterable[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for part in chunks(sorted(set(pks))):
            out.update(self.conn.execute(select(employee_t.c.id, employee_t.c.uuid)
                                         .where(employee_t.c.id.in_(part))).all())
        return out

    def employee_pks(self, uuids: Iterable[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in chunks(sorted(set(uuids))):
            out.update(self.conn.execute(select(employee_t.c.uuid, employee_t.c.id)
                                         .where(employee_t.c.uuid.in_(part))).all())
        return out

    def _employees(self, rows: Sequence[Row], as_of: date) -> dict[int, Employee]:
        """Employees with the tax code in force on ``as_of``."""
        employer_uuids = dict(self.conn.execute(select(employer_t.c.id, employer_t.c.uuid).where(
            employer_t.c.id.in_({row.employer_id for row in rows}))).all()) if rows else {}
        codes = self.tax_codes_on([row.id for row in rows], as_of)
        out: dict[int, Employee] = {}
        for row in rows:
            code, non_cumulative = codes.get(row.id, (row.tax_code, bool(row.non_cumulative)))
            previous = None
            if row.previous_taxable_pay is not None or row.previous_tax is not None:
                previous = PreviousEmployment(row.previous_taxable_pay or 0, row.previous_tax or 0)
            out[row.id] = Employee(
                id=row.uuid, employer_id=employer_uuids[row.employer_id], payroll_id=row.payroll_id,
                forenames=tuple(row.forenames), surname=row.surname, birth_date=row.birth_date,
                start_date=row.start_date, frequency=row.frequency, tax_code=code, non_cumulative=non_cumulative,
                ni_letter=row.ni_letter,
                nino=None if row.nino_sealed is None else self.cipher.open(row.nino_sealed),
                gender=row.gender, address=_address(row.address), student_loan_plans=tuple(row.student_loan_plans),
                starter_declaration=row.starter_declaration, previous_employment=previous,
                pension_status=PensionStatus(row.pension_status),
                pension_postponed_until=row.pension_postponed_until, leaving_date=row.leaving_date,
                bank_details=self._bank(row.bank_sealed), irregular_hours=bool(row.irregular_hours),
                rolled_up_holiday=bool(row.rolled_up_holiday))
        return out

    def _bank(self, sealed: str | None) -> BankDetails | None:
        if sealed is None:
            return None
        data = json.loads(self.cipher.open(sealed))
        return BankDetails(data["account_name"], data["sort_code"], data["account_number"],
                           data.get("building_society_roll"))

    def sealed_employee_fields(self) -> list[Row]:
        return self.conn.execute(select(employee_t.c.id, employee_t.c.nino_sealed, employee_t.c.bank_sealed)
                                 .order_by(employee_t.c.id)).all()

    # Tax codes --------------------------------------------------------------------------------------------

    def insert_tax_code_change(self, employee_pk: int, tax_code: str, non_cumulative: bool, effective_from: date,
                               actor: str, now_us: int) -> None:
        self.conn.execute(insert(tax_code_change_t).values(
            employee_id=employee_pk, tax_code=tax_code, non_cumulative=non_cumulative,
            effective_from=effective_from, actor=actor, recorded_us=now_us))

    def tax_codes_on(self, employee_pks: Sequence[int], day: date) -> dict[int, tuple[str, bool]]:
        """The latest change in force on ``day`` for each employee that has one (later records win ties)."""
        out: dict[int, tuple[str, bool]] = {}
        for part in chunks(list(employee_pks)):
            rows = self.conn.execute(
                select(tax_code_change_t).where(tax_code_change_t.c.employee_id.in_(part),
                                                tax_code_change_t.c.effective_from <= day)
                .order_by(tax_code_change_t.c.employee_id, tax_code_change_t.c.effective_from,
                          tax_code_change_t.c.id))
            for row in rows:
                out[row.employee_id] = (row.tax_code, bool(row.non_cumulative))
        return out

    # Pensions ---------------------------------------------------------------------------------------------

    def insert_pension_event(self, employee_pk: int, status: PensionStatus, effective: date,
                             postponed_until: date | None, actor: str, now_us: int) -> None:
        self.conn.execute(insert(pension_event_t).values(
            employee_id=employee_pk, status=status.value, effective=effective, postponed_until=postponed_until,
            actor=actor, recorded_us=now_us))

    def pension_history(self, employee_pk: int) -> list[tuple[PensionStatus, date, str]]:
        rows = self.conn.execute(select(pension_event_t).where(pension_event_t.c.employee_id == employee_pk)
                                 .order_by(pension_event_t.c.id))
        return [(PensionStatus(row.status), row.effective, row.actor) for row in rows]

    # -----------------------------------------------------------------------------------------------------
    # Contracts

    def insert_contract(self, contract: Contract, employee_pk: int, actor: str, now_us: int) -> None:
        rates = contract.rates
        self.conn.execute(insert(contract_t).values(
            uuid=contract.id, employee_id=employee_pk, starts=contract.starts, ends=contract.ends,
            rate_standard=rates.standard, rate_night=rates.night, rate_weekend=rates.weekend,
            rate_bank_holiday=rates.bank_holiday, rate_sleep_in_flat=rates.sleep_in_flat,
            rate_on_call=rates.on_call,
            contracted_hours_per_week=_decimal_text(contract.contracted_hours_per_week),
            pension_employee_rate=str(contract.pension_employee_rate),
            pension_employer_rate=str(contract.pension_employer_rate), pension_relief=contract.pension_relief,
            qualifying_days=sorted(contract.qualifying_days), actor=actor, created_us=now_us))

    def end_contract(self, contract_id: str, ends: date) -> None:
        self.conn.execute(update(contract_t).where(contract_t.c.uuid == contract_id).values(ends=ends))

    def contract_keys(self, contract_id: str) -> tuple[int, int] | None:
        row = self.conn.execute(select(contract_t.c.id, contract_t.c.employee_id)
                                .where(contract_t.c.uuid == contract_id)).first()
        return None if row is None else (row.id, row.employee_id)

    def contracts_of(self, employee_pks: Sequence[int]) -> dict[int, list[Contract]]:
        """Each employee's contracts, earliest first."""
        uuids = self.employee_uuids(employee_pks)
        out: dict[int, list[Contract]] = {pk: [] for pk in employee_pks}
        for part in chunks(list(employee_pks)):
            for row in self.conn.execute(select(contract_t).where(contract_t.c.employee_id.in_(part))
                                         .order_by(contract_t.c.starts, contract_t.c.id)):
                out[row.employee_id].append(Contract(
                    id=row.uuid, employee_id=uuids[row.employee_id], starts=row.starts, ends=row.ends,
                    rates=PayRates(standard=row.rate_standard, night=row.rate_night, weekend=row.rate_weekend,
                                   bank_holiday=row.rate_bank_holiday, sleep_in_flat=row.rate_sleep_in_flat,
                                   on_call=row.rate_on_call),
                    contracted_hours_per_week=_decimal(row.contracted_hours_per_week),
                    pension_employee_rate=Decimal(row.pension_employee_rate),
                    pension_employer_rate=Decimal(row.pension_employer_rate),
                    pension_relief=row.pension_relief, qualifying_days=tuple(row.qualifying_days)))
        return out

    # -----------------------------------------------------------------------------------------------------
    # Timesheets

    def insert_timesheet(self, timesheet: Timesheet, employee_pk: int, actor: str, now_us: int,
                         corrects_run_pk: int | None = None) -> int:
        pk = self.conn.execute(insert(timesheet_t).values(
            uuid=timesheet.id, employee_id=employee_pk, period_start=timesheet.period_start,
            period_end=timesheet.period_end, expenses=timesheet.expenses, status=timesheet.status.value,
            rejection_reason=timesheet.rejection_reason, created_by=actor, submitted_by=timesheet.submitted_by,
            decided_by=timesheet.decided_by, corrects_run_id=corrects_run_pk, created_us=now_us, updated_us=now_us,
            submitted_us=now_us if timesheet.submitted_by else None,
            decided_us=now_us if timesheet.decided_by else None).returning(timesheet_t.c.id)).scalar_one()
        self._insert_timesheet_content(pk, timesheet)
        return pk

    def replace_timesheet_content(self, timesheet_pk: int, timesheet: Timesheet, now_us: int) -> None:
        self.conn.execute(delete(shift_t).where(shift_t.c.timesheet_id == timesheet_pk))
        self.conn.execute(delete(absence_t).where(absence_t.c.timesheet_id == timesheet_pk))
        self.conn.execute(update(timesheet_t).where(timesheet_t.c.id == timesheet_pk).values(
            expenses=timesheet.expenses, updated_us=now_us))
        self._insert_timesheet_content(timesheet_pk, timesheet)

    def _insert_timesheet_content(self, timesheet_pk: int, timesheet: Timesheet) -> None:
        if timesheet.shifts:
            self.conn.execute(insert(shift_t), [
                dict(timesheet_id=timesheet_pk, seq=seq, starts=shift.starts.isoformat(),
                     ends=shift.ends.isoformat(), kind=shift.kind.value, note=shift.note)
                for seq, shift in enumerate(timesheet.shifts, start=1)])
        if timesheet.absences:
            self.conn.execute(insert(absence_t), [
                dict(timesheet_id=timesheet_pk, seq=seq, day=absence.day, kind=absence.kind,
                     hours=str(absence.hours))
                for seq, absence in enumerate(timesheet.absences, start=1)])

    def update_timesheet_status(self, timesheet_pk: int, timesheet: Timesheet, now_us: int) -> None:
        values: dict[str, Any] = dict(status=timesheet.status.value, rejection_reason=timesheet.rejection_reason,
                                      submitted_by=timesheet.submitted_by, decided_by=timesheet.decided_by,
                                      updated_us=now_us)
        if timesheet.status is TimesheetStatus.SUBMITTED:
            values.update(submitted_us=now_us, decided_us=None)
        elif timesheet.status in (TimesheetStatus.APPROVED, TimesheetStatus.REJECTED):
            values.update(decided_us=now_us)
        self.conn.execute(update(timesheet_t).where(timesheet_t.c.id == timesheet_pk).values(**values))

    def timesheet(self, timesheet_id: str) -> tuple[Row, Timesheet] | None:
        row = self.conn.execute(select(timesheet_t).where(timesheet_t.c.uuid == timesheet_id)).first()
        if row is None:
            return None
        return row, self._timesheets([row])[row.id]

    def timesheets(self, *, employee_pks: Sequence[int] | None = None, overlapping: tuple[date, date] | None = None,
                   within: tuple[date, date] | None = None, statuses: Iterable[TimesheetStatus] | None = None,
                   pks: Sequence[int] | None = None, include_replaced: bool = False,
                   ) -> list[tuple[Row, Timesheet]]:
        """Timesheets matching every condition given, in employee and period order. Unless asked, a timesheet
        that a correction replaced is left out (its replacement stands for it)."""
        conditions = []
        if overlapping is not None:
            conditions += [timesheet_t.c.period_start <= overlapping[1], timesheet_t.c.period_end >= overlapping[0]]
        if within is not None:
            conditions += [timesheet_t.c.period_start >= within[0], timesheet_t.c.period_end <= within[1]]
        if statuses is not None:
            conditions.append(timesheet_t.c.status.in_([s.value for s in statuses]))
        if not include_replaced:
            conditions.append(timesheet_t.c.id.not_in(select(timesheet_replacement_t.c.replaced_id)))
        order = (timesheet_t.c.employee_id, timesheet_t.c.period_start, timesheet_t.c.id)
        rows: list[Row] = []
        if employee_pks is None and pks is None:
            rows = self.conn.execute(select(timesheet_t).where(*conditions).order_by(*order)).all()
        elif pks is not None:
            for part in chunks(list(pks)):
                rows += self.conn.execute(select(timesheet_t).where(timesheet_t.c.id.in_(part), *conditions)).all()
        else:
            for part in chunks(list(employee_pks or ())):
                rows += self.conn.execute(select(timesheet_t).where(timesheet_t.c.employee_id.in_(part),
                                                                    *conditions)).all()
        rows.sort(key=lambda r: (r.employee_id, r.period_start, r.id))
        built = self._timesheets(rows)
        return [(row, built[row.id]) for row in rows]

    def _timesheets(self, rows: Sequence[Row]) -> dict[int, Timesheet]:
        pks = [row.id for row in rows]
        shifts: dict[int, list[Shift]] = {pk: [] for pk in pks}
        absences: dict[int, list[Absence]] = {pk: [] for pk in pks}
        for part in chunks(pks):
            for s in self.conn.execute(select(shift_t).where(shift_t.c.timesheet_id.in_(part))
                                       .order_by(shift_t.c.timesheet_id, shift_t.c.seq)):
                shifts[s.timesheet_id].append(Shift(datetime.fromisoformat(s.starts), datetime.fromisoformat(s.ends),
                                                    HourKind(s.kind), s.note))
            for a in self.conn.execute(select(absence_t).where(absence_t.c.timesheet_id.in_(part))
                                       .order_by(absence_t.c.timesheet_id, absence_t.c.seq)):
                absences[a.timesheet_id].append(Absence(a.day, a.kind, Decimal(a.hours)))
        uuids = self.employee_uuids(row.employee_id for row in rows)
        return {row.id: Timesheet(
            id=row.uuid, employee_id=uuids[row.employee_id], period_start=row.period_start,
            period_end=row.period_end, shifts=tuple(shifts[row.id]), absences=tuple(absences[row.id]),
            expenses=row.expenses, status=TimesheetStatus(row.status), rejection_reason=row.rejection_reason,
            submitted_by=row.submitted_by, decided_by=row.decided_by) for row in rows}

    def record_replacements(self, replacement_pk: int, replaced_pks: Iterable[int]) -> None:
        values = [dict(replaced_id=pk, replacement_id=replacement_pk) for pk in sorted(set(replaced_pks))]
        if values:
            self.conn.execute(insert(timesheet_replacement_t), values)

    def sick_days_before(self, employee_pks: Sequence[int], before: date, since: date) -> dict[int, list[date]]:
        """Days of sickness on approved timesheets from ``since`` up to the day before ``before``."""
        out: dict[int, set[date]] = {pk: set() for pk in employee_pks}
        replaced = select(timesheet_replacement_t.c.replaced_id)
        for part in chunks(list(employee_pks)):
            rows = self.conn.execute(
                select(timesheet_t.c.employee_id, absence_t.c.day)
                .join(absence_t, absence_t.c.timesheet_id == timesheet_t.c.id)
                .where(timesheet_t.c.employee_id.in_(part), timesheet_t.c.status == TimesheetStatus.APPROVED.value,
                       timesheet_t.c.id.not_in(replaced), absence_t.c.kind == "sick",
                       absence_t.c.day < before, absence_t.c.day >= since))
            for employee_pk, day in rows:
                out[employee_pk].add(day)
        return {pk: sorted(days) for pk, days in out.items()}

    # -----------------------------------------------------------------------------------------------------
    # Pay runs

    def insert_run(self, run: PayRun, employer_pk: int, corrects_pk: int | None, now_us: int) -> int:
        return self.conn.execute(insert(pay_run_t).values(
            uuid=run.id, employer_id=employer_pk, tax_year=run.tax_year, frequency=run.frequency, period=run.period,
            period_start=run.period_start, period_end=run.period_end, payment_date=run.payment_date,
            status=run.status.value, corrects_id=corrects_pk, created_us=now_us,
            updated_us=now_us).returning(pay_run_t.c.id)).scalar_one()

    def set_run_status(self, run_pk: int, status: PayRunStatus, actor: str, now_us: int,
                       summary: EmployerCostSummary | None = None, clear_summary: bool = False) -> None:
        values: dict[str, Any] = dict(status=status.value, updated_us=now_us)
        if summary is not None:
            values["summary_employees"] = summary.employees
            values.update({f"summary_{name}": getattr(summary, name) for name in SUMMARY_MONEY})
        elif clear_summary:
            values["summary_employees"] = None
            values.update({f"summary_{name}": None for name in SUMMARY_MONEY})
        self.conn.execute(update(pay_run_t).where(pay_run_t.c.id == run_pk).values(**values))
        self.add_run_event(run_pk, status, actor, now_us)

    def add_run_event(self, run_pk: int, status: PayRunStatus, actor: str, now_us: int) -> None:
        seq = self.conn.execute(select(func.coalesce(func.max(pay_run_event_t.c.seq), 0))
                                .where(pay_run_event_t.c.pay_run_id == run_pk)).scalar_one() + 1
        self.conn.execute(insert(pay_run_event_t).values(pay_run_id=run_pk, seq=seq, status=status.value,
                                                         actor=actor, at_us=now_us))

    def run_row(self, run_id: str) -> Row | None:
        return self.conn.execute(select(pay_run_t).where(pay_run_t.c.uuid == run_id)).first()

    def run_row_by_pk(self, run_pk: int) -> Row:
        return self.conn.execute(select(pay_run_t).where(pay_run_t.c.id == run_pk)).one()

    def runs_of(self, employer_pk: int, *, statuses: Iterable[PayRunStatus] | None = None,
                frequency: str | None = None, tax_year: str | None = None,
                ordinary_only: bool = False) -> list[Row]:
        query = select(pay_run_t).where(pay_run_t.c.employer_id == employer_pk)
        if statuses is not None:
            query = query.where(pay_run_t.c.status.in_([s.value for s in statuses]))
        if frequency is not None:
            query = query.where(pay_run_t.c.frequency == frequency)
        if tax_year is not None:
            query = query.where(pay_run_t.c.tax_year == tax_year)
        if ordinary_only:
            query = query.where(pay_run_t.c.corrects_id.is_(None))
        return self.conn.execute(query.order_by(pay_run_t.c.payment_date, pay_run_t.c.id)).all()

    def ordinary_run_for_period(self, employer_pk: int, frequency: str, tax_year: str, period: int) -> Row | None:
        return self.conn.execute(select(pay_run_t).where(
            pay_run_t.c.employer_id == employer_pk, pay_run_t.c.frequency == frequency,
            pay_run_t.c.tax_year == tax_year, pay_run_t.c.period == period,
            pay_run_t.c.corrects_id.is_(None))).first()

    def ordinary_runs_overlapping(self, employer_pk: int, frequency: str, start: date, end: date) -> list[Row]:
        return self.conn.execute(select(pay_run_t).where(
            pay_run_t.c.employer_id == employer_pk, pay_run_t.c.frequency == frequency,
            pay_run_t.c.corrects_id.is_(None), pay_run_t.c.period_start <= end,
            pay_run_t.c.period_end >= start).order_by(pay_run_t.c.period_start)).all()

    def history(self, run_pk: int) -> tuple[tuple[str, str, datetime], ...]:
        rows = self.conn.execute(select(pay_run_event_t).where(pay_run_event_t.c.pay_run_id == run_pk)
                                 .order_by(pay_run_event_t.c.seq))
        return tuple((row.status, row.actor, from_us(row.at_us)) for row in rows)

    def run(self, row: Row, *, with_payslips: bool = True) -> PayRun:
        employer_uuid = self.conn.execute(select(employer_t.c.uuid)
                                          .where(employer_t.c.id == row.employer_id)).scalar_one()
        corrects = None
        if row.corrects_id is not None:
            corrects = self.conn.execute(select(pay_run_t.c.uuid)
                                         .where(pay_run_t.c.id == row.corrects_id)).scalar_one()
        summary = None
        if row.summary_employees is not None:
            summary = EmployerCostSummary(employees=row.summary_employees,
                                          **{name: getattr(row, f"summary_{name}") for name in SUMMARY_MONEY})
        return PayRun(id=row.uuid, employer_id=employer_uuid, tax_year=row.tax_year, frequency=row.frequency,
                      period=row.period, period_start=row.period_start, period_end=row.period_end,
                      payment_date=row.payment_date, status=PayRunStatus(row.status),
                      payslips=self.payslips(run_pk=row.id) if with_payslips else (), summary=summary,
                      corrects=corrects, history=self.history(row.id))

    def link_timesheets(self, run_pk: int, timesheet_pks: Iterable[int]) -> None:
        values = [dict(pay_run_id=run_pk, timesheet_id=pk) for pk in sorted(set(timesheet_pks))]
        if values:
            self.conn.execute(insert(pay_run_timesheet_t), values)

    def unlink_timesheets(self, run_pk: int) -> None:
        self.conn.execute(delete(pay_run_timesheet_t).where(pay_run_timesheet_t.c.pay_run_id == run_pk))

    def linked_timesheet_pks(self, run_pk: int) -> set[int]:
        return set(self.conn.execute(select(pay_run_timesheet_t.c.timesheet_id)
                                     .where(pay_run_timesheet_t.c.pay_run_id == run_pk)).scalars())

    def runs_linking(self, timesheet_pk: int) -> list[Row]:
        return self.conn.execute(select(pay_run_t).join(
            pay_run_timesheet_t, pay_run_timesheet_t.c.pay_run_id == pay_run_t.c.id).where(
            pay_run_timesheet_t.c.timesheet_id == timesheet_pk)).all()

    def employment_allowance_used(self, employer_pk: int, tax_year: str) -> int:
        total = self.conn.execute(select(func.coalesce(func.sum(pay_run_t.c.summary_employment_allowance_used), 0))
                                  .where(pay_run_t.c.employer_id == employer_pk, pay_run_t.c.tax_year == tax_year,
                                         pay_run_t.c.status == PayRunStatus.FINALISED.value)).scalar_one()
        return int(total)   # PostgreSQL sums BIGINT as NUMERIC: a whole number either way

    # -----------------------------------------------------------------------------------------------------
    # Payslips

    def insert_payslips(self, run_pk: int, payslips: Sequence[Payslip], employee_pks: Mapping[str, int],
                        progress: Any = None) -> None:
        done = 0
        for part in chunks(list(payslips), 200):
            rows = [self._payslip_values(p, run_pk, employee_pks[p.employee_id]) for p in part]
            pks = self.conn.execute(insert(payslip_t).returning(payslip_t.c.id, sort_by_parameter_order=True),
                                    rows).scalars().all()
            lines, nis = [], []
            for pk, payslip in zip(pks, part):
                lines += [dict(payslip_id=pk, seq=seq, kind=line.kind.value, code=line.code,
                               description=line.description, amount=line.amount,
                               hours=_decimal_text(line.hours), rate=line.rate)
                          for seq, line in enumerate(payslip.lines, start=1)]
                nis += [dict(payslip_id=pk, seq=seq, letter=n.letter, gross_earnings=n.gross_earnings,
                             at_lel=n.at_lel, lel_to_pt=n.lel_to_pt, pt_to_uel=n.pt_to_uel, employee=n.employee,
                             employer=n.employer)
                        for seq, n in enumerate(payslip.ni, start=1)]
            if lines:
                self.conn.execute(insert(payslip_line_t), lines)
            if nis:
                self.conn.execute(insert(payslip_ni_t), nis)
            done += len(part)
            if progress is not None:
                progress(done, len(payslips))

    @staticmethod
    def _payslip_values(payslip: Payslip, run_pk: int, employee_pk: int) -> dict[str, Any]:
        values: dict[str, Any] = dict(uuid=payslip.id, pay_run_id=run_pk, employee_id=employee_pk,
                                      warnings=list(payslip.warnings))
        values.update({name: getattr(payslip, name) for name in _PAYSLIP_MONEY + _PAYSLIP_PLAIN})
        values.update({name: str(getattr(payslip, name)) for name in _PAYSLIP_DECIMAL})
        values.update({f"ytd_{name}": value for name, value in _ytd_values(payslip.year_to_date).items()})
        return values

    def delete_payslips(self, run_pk: int) -> None:
        slips = select(payslip_t.c.id).where(payslip_t.c.pay_run_id == run_pk)
        self.conn.execute(delete(payslip_line_t).where(payslip_line_t.c.payslip_id.in_(slips)))
        self.conn.execute(delete(payslip_ni_t).where(payslip_ni_t.c.payslip_id.in_(slips)))
        self.conn.execute(delete(payslip_t).where(payslip_t.c.pay_run_id == run_pk))

    def payslips(self, *, run_pk: int | None = None, payslip_id: str | None = None,
                 employee_pk: int | None = None) -> tuple[Payslip, ...]:
        query = select(payslip_t, pay_run_t.c.uuid.label("run_uuid")).join(
            pay_run_t, pay_run_t.c.id == payslip_t.c.pay_run_id)
        if run_pk is not None:
            query = query.where(payslip_t.c.pay_run_id == run_pk)
        if payslip_id is not None:
            query = query.where(payslip_t.c.uuid == payslip_id)
        if employee_pk is not None:
            query = query.where(payslip_t.c.employee_id == employee_pk)
        rows = self.conn.execute(query.order_by(payslip_t.c.payment_date, payslip_t.c.id)).all()
        pks = [row.id for row in rows]
        lines: dict[int, list[PayslipLine]] = {pk: [] for pk in pks}
        nis: dict[int, list[NIFigures]] = {pk: [] for pk in pks}
        for part in chunks(pks):
            for line in self.conn.execute(select(payslip_line_t).where(payslip_line_t.c.payslip_id.in_(part))
                                          .order_by(payslip_line_t.c.payslip_id, payslip_line_t.c.seq)):
                lines[line.payslip_id].append(PayslipLine(LineKind(line.kind), line.code, line.description,
                                                          line.amount, _decimal(line.hours), line.rate))
            for n in self.conn.execute(select(payslip_ni_t).where(payslip_ni_t.c.payslip_id.in_(part))
                                       .order_by(payslip_ni_t.c.payslip_id, payslip_ni_t.c.seq)):
                nis[n.payslip_id].append(NIFigures(n.letter, n.gross_earnings, n.at_lel, n.lel_to_pt, n.pt_to_uel,
                                                   n.employee, n.employer))
        uuids = self.employee_uuids(row.employee_id for row in rows)
        out = []
        for row in rows:
            values: dict[str, Any] = {name: getattr(row, name) for name in _PAYSLIP_MONEY + _PAYSLIP_PLAIN}
            values.update({name: Decimal(getattr(row, name)) for name in _PAYSLIP_DECIMAL})
            values["non_cumulative"] = bool(row.non_cumulative)
            values["is_adjustment"] = bool(row.is_adjustment)
            values["leaving"] = bool(row.leaving)
            out.append(Payslip(id=row.uuid, pay_run_id=row.run_uuid, employee_id=uuids[row.employee_id],
                               lines=tuple(lines[row.id]), ni=tuple(nis[row.id]), warnings=tuple(row.warnings),
                               year_to_date=_ytd_from(row, "ytd_"), **values))
        return tuple(out)

    def payslip_employee_pk(self, payslip_id: str) -> int | None:
        return self.conn.execute(select(payslip_t.c.employee_id).where(payslip_t.c.uuid == payslip_id)).scalar()

    def finalised_payments(self, employee_pk: int) -> list[tuple[date, date]]:
        """(period end, payday) of each of the employee's payslips in finalised runs."""
        return [tuple(r) for r in self.conn.execute(
            select(payslip_t.c.period_end, payslip_t.c.payment_date)
            .join(pay_run_t, pay_run_t.c.id == payslip_t.c.pay_run_id)
            .where(payslip_t.c.employee_id == employee_pk, pay_run_t.c.status == PayRunStatus.FINALISED.value)
            .order_by(payslip_t.c.payment_date))]

    def earnings_before(self, employee_pks: Sequence[int], before: date, since: date,
                        ) -> dict[int, list[tuple[date, int]]]:
        """(payment date, gross pay) of each employee's finalised payments paid from ``since`` up to the day
        before ``before``, adjustments included (they carry their own payment date)."""
        out: dict[int, list[tuple[date, int]]] = {pk: [] for pk in employee_pks}
        for part in chunks(list(employee_pks)):
            rows = self.conn.execute(
                select(payslip_t.c.employee_id, payslip_t.c.payment_date, payslip_t.c.gross_pay)
                .join(pay_run_t, pay_run_t.c.id == payslip_t.c.pay_run_id)
                .where(payslip_t.c.employee_id.in_(part), pay_run_t.c.status == PayRunStatus.FINALISED.value,
                       payslip_t.c.payment_date < before, payslip_t.c.payment_date >= since)
                .order_by(payslip_t.c.payment_date, payslip_t.c.id))
            for employee_pk, paid, gross in rows:
                out[employee_pk].append((paid, gross))
        return out

    # -----------------------------------------------------------------------------------------------------
    # Year to date

    def year_to_date(self, employee_pks: Sequence[int], tax_year: str) -> dict[int, YearToDate]:
        out: dict[int, YearToDate] = {}
        for part in chunks(list(employee_pks)):
            for row in self.conn.execute(select(employee_ytd_t).where(employee_ytd_t.c.employee_id.in_(part),
                                                                      employee_ytd_t.c.tax_year == tax_year)):
                out[row.employee_id] = _ytd_from(row, "")
        return out

    def save_year_to_date(self, employee_pk: int, tax_year: str, ytd: YearToDate, run_pk: int, now_us: int) -> None:
        values = dict(pay_run_id=run_pk, updated_us=now_us, **_ytd_values(ytd))
        changed = self.conn.execute(update(employee_ytd_t).where(
            employee_ytd_t.c.employee_id == employee_pk, employee_ytd_t.c.tax_year == tax_year).values(**values))
        if changed.rowcount == 0:
            self.conn.execute(insert(employee_ytd_t).values(employee_id=employee_pk, tax_year=tax_year, **values))

    # -----------------------------------------------------------------------------------------------------
    # Queries used by the rules about what may change

    def runs_covering(self, employer_pk: int, frequency: str, start: date, end: date,
                      statuses: Iterable[PayRunStatus]) -> list[Row]:
        """Ordinary runs of this employer and frequency whose period overlaps ``start``..``end``."""
        return self.conn.execute(select(pay_run_t).where(
            pay_run_t.c.employer_id == employer_pk, pay_run_t.c.frequency == frequency,
            pay_run_t.c.corrects_id.is_(None), pay_run_t.c.period_start <= end, pay_run_t.c.period_end >= start,
            pay_run_t.c.status.in_([s.value for s in statuses]))).all()

    def overlapping_timesheet(self, employee_pk: int, start: date, end: date, except_pk: int | None) -> Row | None:
        conditions = [timesheet_t.c.employee_id == employee_pk, timesheet_t.c.period_start <= end,
                      timesheet_t.c.period_end >= start,
                      timesheet_t.c.id.not_in(select(timesheet_replacement_t.c.replaced_id)),
                      timesheet_t.c.corrects_run_id.is_(None)]
        if except_pk is not None:
            conditions.append(timesheet_t.c.id != except_pk)
        return self.conn.execute(select(timesheet_t).where(and_(*conditions)).limit(1)).first()


def _ytd_values(ytd: YearToDate) -> dict[str, Any]:
    return {name: (str(value) if isinstance(value, Decimal) else value)
            for name, value in ((name, getattr(ytd, name)) for name in YTD_FIELDS)}


def _ytd_from(row: Row, prefix: str) -> YearToDate:
    values: dict[str, Any] = {}
    for f in fields(YearToDate):
        raw = getattr(row, prefix + f.name)
        values[f.name] = Decimal(raw) if f.name in YTD_DECIMAL else raw
    return YearToDate(**values)


__all__ = ["PayrollStore", "chunks", "from_us", "to_us"]
