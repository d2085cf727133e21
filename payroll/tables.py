"""The payroll's tables. ``migrations/versions/0002_payroll.py`` creates them, with the database's own guards
(a finalised pay run and its payslips never change; status history is append-only); these classes describe
the same columns for queries.

Conventions: money is integer pence (BIGINT); hours, rates of pension and other exact fractions are decimal
text (``"37.50"``), never floating point; times are integer microseconds since the Unix epoch (UTC); shift
times are ISO-8601 text with their UTC offset, exactly as given. NI numbers and bank details are stored only
sealed (``payroll.sealed``); ``nino_fingerprint`` is a keyed hash that lets the database refuse duplicates.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, ForeignKey, Index, Integer,
                        String, Text, UniqueConstraint, text)
from sqlmodel import Field, SQLModel

# SQLite auto-numbers only an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
RowId = BigInteger().with_variant(Integer(), "sqlite")

YTD_MONEY = ("gross_pay", "taxable_pay", "tax", "employee_ni", "employer_ni", "ni_earnings", "at_lel",
             "lel_to_pt", "pt_to_uel", "student_loan", "postgraduate_loan", "pension_employee", "pension_employer",
             "pension_net_pay", "pension_relief_at_source", "ssp", "holiday_pay", "net_pay",
             "previous_taxable_pay", "previous_tax")
YTD_DECIMAL = ("holiday_hours_accrued", "holiday_hours_taken")
YTD_TEXT = ("ssp_weeks_paid",)
YTD_FIELDS = YTD_MONEY + YTD_DECIMAL + YTD_TEXT

SUMMARY_MONEY = ("gross_pay", "employer_ni", "employment_allowance_used", "employer_pension", "expenses", "tax",
                 "employee_ni", "student_loans", "net_pay")


def _pk() -> Any:
    return Field(default=None, sa_column=Column(RowId, primary_key=True))


def _money(nullable: bool = False, default: int | None = None) -> Any:
    return Field(default=default, sa_column=Column(BigInteger, nullable=nullable))


def _fk(target: str, nullable: bool = False, index: bool = True) -> Any:
    return Field(default=None, sa_column=Column(BigInteger, ForeignKey(target), nullable=nullable, index=index))


def _json(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


def _date(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(Date, nullable=nullable))


class EmployerRow(SQLModel, table=True):
    __tablename__ = "payroll_employer"
    __table_args__ = (UniqueConstraint("hmrc_office_number", "paye_reference",
                                       name="uq_payroll_employer_paye_reference"),)
    id: Optional[int] = _pk()
    uuid: str = Field(max_length=36, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    hmrc_office_number: str = Field(max_length=3)
    paye_reference: str = Field(max_length=10)
    accounts_office_reference: str = Field(max_length=13)
    claims_employment_allowance: bool = Field(sa_column=Column(Boolean, nullable=False))
    address: Optional[dict] = _json(nullable=True)
    owner_ref: Optional[str] = Field(default=None, max_length=200, index=True)
    created_us: int = _money()
    updated_us: int = _money()


class EmployeeRow(SQLModel, table=True):
    __tablename__ = "payroll_employee"
    __table_args__ = (
        UniqueConstraint("employer_id", "payroll_id", name="uq_payroll_employee_payroll_id"),
        # One current employment per NI number and employer; a leaver may be taken on again.
        Index("uq_payroll_employee_nino", "employer_id", "nino_fingerprint", unique=True,
              sqlite_where=text("nino_fingerprint IS NOT NULL AND leaving_date IS NULL"),
              postgresql_where=text("nino_fingerprint IS NOT NULL AND leaving_date IS NULL")),
    )
    id: Optional[int] = _pk()
    uuid: str = Field(max_length=36, unique=True)
    employer_id: int = _fk("payroll_employer.id")
    payroll_id: str = Field(max_length=35)
    forenames: list = _json()
    surname: str = Field(max_length=100)
    birth_date: date = _date()
    start_date: date = _date()
    frequency: str = Field(max_length=12)
    tax_code: str = Field(max_length=20)          # in force from the start date (later: payroll_tax_code_change)
    non_cumulative: bool = Field(sa_column=Column(Boolean, nullable=False))
    ni_letter: str = Field(max_length=1)
    nino_sealed: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    nino_fingerprint: Optional[str] = Field(default=None, max_length=64)
    gender: Optional[str] = Field(default=None, max_length=1)
    address: Optional[dict] = _json(nullable=True)
    student_loan_plans: list = _json()
    starter_declaration: Optional[str] = Field(default=None, max_length=1)
    previous_taxable_pay: Optional[int] = _money(nullable=True)
    previous_tax: Optional[int] = _money(nullable=True)
    pension_status: str = Field(max_length=16)
    pension_postponed_until: Optional[date] = _date(nullable=True)
    leaving_date: Optional[date] = _date(nullable=True)
    bank_sealed: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    irregular_hours: bool = Field(sa_column=Column(Boolean, nullable=False))
    rolled_up_holiday: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_us: int = _money()
    updated_us: int = _money()


class TaxCodeChangeRow(SQLModel, table=True):
    """A new tax code (from HMRC's P6/P9 notice, say) and the day it applies from: runs paid on or after
    that day use it; runs already calculated keep the code they were calculated with."""

    __tablename__ = "payroll_tax_code_change"
    __table_args__ = (Index("ix_payroll_tax_code_change_employee", "employee_id", "effective_from"),)
    id: Optional[int] = _pk()
    employee_id: int = _fk("payroll_employee.id", index=False)
    tax_code: str = Field(max_length=20)
    non_cumulative: bool = Field(sa_column=Column(Boolean, nullable=False))
    effective_from: date = _date()
    actor: str = Field(max_length=200)
    recorded_us: int = _money()


class PensionEventRow(SQLModel, table=True):
    __tablename__ = "payroll_pension_event"
    id: Optional[int] = _pk()
    employee_id: int = _fk("payroll_employee.id")
    status: str = Field(max_length=16)
    effective: date = _date()
    postponed_until: Optional[date] = _date(nullable=True)
    actor: str = Field(max_length=200)
    recorded_us: int = _money()


class ContractRow(SQLModel, table=True):
    __tablename__ = "payroll_contract"
    __table_args__ = (Index("ix_payroll_contract_employee", "employee_id", "starts"),)
    id: Optional[int] = _pk()
    uuid: str = Field(max_length=36, unique=True)
    employee_id: int = _fk("payroll_employee.id", index=False)
    starts: date = _date()
    ends: Optional[date] = _date(nullable=True)
    rate_standard: int = _money()
    rate_night: Optional[int] = _money(nullable=True)
    rate_weekend: Optional[int] = _money(nullable=True)
    rate_bank_holiday: Optional[int] = _money(nullable=True)
    rate_sleep_in_flat: Optional[int] = _money(nullable=True)
    rate_on_call: Optional[int] = _money(nullable=True)
    contracted_hours_per_week: Optional[str] = Field(default=None, max_length=12)
    pension_employee_rate: str = Field(max_length=12)
    pension_employer_rate: str = Field(max_length=12)
    pension_relief: str = Field(max_length=24)
    qualifying_days: list = _json()               # SSP qualifying days, 0 Monday .. 6 Sunday
    actor: str = Field(max_length=200)
    created_us: int = _money()


class TimesheetRow(SQLModel, table=True):
    __tablename__ = "payroll_timesheet"
    __table_args__ = (Index("ix_payroll_timesheet_employee_period", "employee_id", "period_start"),)
    id: Optional[int] = _pk()
    uuid: str = Field(max_length=36, unique=True)
    employee_id: int = _fk("payroll_employee.id", index=False)
    period_start: date = _date()
    period_end: date = _date()
    expenses: int = _money(default=0)
    status: str = Field(max_length=10)
    rejection_reason: Optional[str] = Field(default=None, max_length=500)
    created_by: str = Field(max_length=200)
    submitted_by: Optional[str] = Field(default=None, max_length=200)
    decided_by: Optional[str] = Field(default=None, max_length=200)
    corrects_run_id: Optional[int] = _fk("payroll_pay_run.id", nullable=True)   # set on corrected timesheets
    created_us: int = _money()
    updated_us: int = _money()
    submitted_us: Optional[int] = _money(nullable=True)
    decided_us: Optional[int] = _money(nullable=True)


class TimesheetReplacementRow(SQLModel, table=True):
    """A timesheet paid by a finalised run and the corrected timesheet an adjustment run paid instead. The
    original row is never touched; this link says it no longer stands."""

    __tablename__ = "payroll_timesheet_replacement"
    replaced_id: int = Field(sa_column=Column(BigInteger, ForeignKey("payroll_timesheet.id"), primary_key=True))
    replacement_id: int = _fk("payroll_timesheet.id")


class ShiftRow(SQLModel, table=True):
    __tablename__ = "payroll_shift"
    __table_args__ = (UniqueConstraint("timesheet_id", "seq", name="uq_payroll_shift_seq"),)
    id: Optional[int] = _pk()
    timesheet_id: int = _fk("payroll_timesheet.id", index=False)
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    starts: str = Field(max_length=40)
    ends: str = Field(max_length=40)
    kind: str = Field(max_length=16)
    note: str = Field(max_length=500)


class AbsenceRow(SQLModel, table=True):
    __tablename__ = "payroll_absence"
    __table_args__ = (UniqueConstraint("timesheet_id", "seq", name="uq_payroll_absence_seq"),)
    id: Optional[int] = _pk()
    timesheet_id: int = _fk("payroll_timesheet.id", index=False)
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    day: date = _date()
    kind: str = Field(max_length=10)
    hours: str = Field(max_length=12)


class PayRunRow(SQLModel, table=True):
    __tablename__ = "payroll_pay_run"
    __table_args__ = (
        # One ordinary run per employer, frequency and tax period; adjustment runs (corrects_id set) are extra.
        Index("uq_payroll_pay_run_period", "employer_id", "frequency", "tax_year", "period", unique=True,
              sqlite_where=text("corrects_id IS NULL"), postgresql_where=text("corrects_id IS NULL")),
        Index("ix_payroll_pay_run_employer_payment", "employer_id", "payment_date"),
    )
    id: Optional[int] = _pk()
    uuid: str = Field(max_length=36, unique=True)
    employer_id: int = _fk("payroll_employer.id", index=False)
    tax_year: str = Field(max_length=7)
    frequency: str = Field(max_length=12)
    period: int = Field(sa_column=Column(Integer, nullable=False))
    period_start: date = _date()
    period_end: date = _date()
    payment_date: date = _date()
    status: str = Field(max_length=10)
    corrects_id: Optional[int] = _fk("payroll_pay_run.id", nullable=True)
    summary_employees: Optional[int] = Field(default=None, sa_column=Column(Integer, nullable=True))
    summary_gross_pay: Optional[int] = _money(nullable=True)
    summary_employer_ni: Optional[int] = _money(nullable=True)
    summary_employment_allowance_used: Optional[int] = _money(nullable=True)
    summary_employer_pension: Optional[int] = _money(nullable=True)
    summary_expenses: Optional[int] = _money(nullable=True)
    summary_tax: Optional[int] = _money(nullable=True)
    summary_employee_ni: Optional[int] = _money(nullable=True)
    summary_student_loans: Optional[int] = _money(nullable=True)
    summary_net_pay: Optional[int] = _money(nullable=True)
    created_us: int = _money()
    updated_us: int = _money()


class PayRunEventRow(SQLModel, table=True):
    """Each status a run reached, who moved it and when: append-only."""

    __tablename__ = "payroll_pay_run_event"
    __table_args__ = (UniqueConstraint("pay_run_id", "seq", name="uq_payroll_pay_run_event_seq"),)
    id: Optional[int] = _pk()
    pay_run_id: int = _fk("payroll_pay_run.id", index=False)
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    status: str = Field(max_length=10)
    actor: str = Field(max_length=200)
    at_us: int = _money()


class PayRunTimesheetRow(SQLModel, table=True):
    """The approved timesheets a run's calculation paid."""

    __tablename__ = "payroll_pay_run_timesheet"
    pay_run_id: int = Field(sa_column=Column(BigInteger, ForeignKey("payroll_pay_run.id"), primary_key=True))
    timesheet_id: int = Field(sa_column=Column(BigInteger, ForeignKey("payroll_timesheet.id"), primary_key=True,
                                               index=True))


class PayslipRow(SQLModel, table=True):
    __tablename__ = "payroll_payslip"
    __table_args__ = (UniqueConstraint("pay_run_id", "employee_id", name="uq_payroll_payslip_run_employee"),
                      Index("ix_payroll_payslip_employee_payment", "employee_id", "payment_date"))
    id: Optional[int] = _pk()
    uuid: str = Field(max_length=36, unique=True)
    pay_run_id: int = _fk("payroll_pay_run.id", index=False)
    employee_id: int = _fk("payroll_employee.id", index=False)
    tax_year: str = Field(max_length=7)
    frequency: str = Field(max_length=12)
    period: int = Field(sa_column=Column(Integer, nullable=False))
    period_start: date = _date()
    period_end: date = _date()
    payment_date: date = _date()
    tax_code: str = Field(max_length=20)
    non_cumulative: bool = Field(sa_column=Column(Boolean, nullable=False))
    ni_letter: str = Field(max_length=1)
    gross_pay: int = _money()
    taxable_pay: int = _money()
    tax: int = _money()
    employee_ni: int = _money()
    employer_ni: int = _money()
    student_loan: int = _money()
    postgraduate_loan: int = _money()
    pension_employee: int = _money()
    pension_employer: int = _money()
    pension_net_pay: int = _money()
    pension_relief_at_source: int = _money()
    ssp: int = _money()
    holiday_pay: int = _money()
    holiday_hours_accrued: str = Field(max_length=20)
    holiday_hours_taken: str = Field(max_length=20)
    expenses: int = _money()
    net_pay: int = _money()
    hours_worked: str = Field(max_length=20)
    warnings: list = _json()
    is_adjustment: bool = Field(sa_column=Column(Boolean, nullable=False))
    leaving: bool = Field(sa_column=Column(Boolean, nullable=False))
    ytd_gross_pay: int = _money()
    ytd_taxable_pay: int = _money()
    ytd_tax: int = _money()
    ytd_employee_ni: int = _money()
    ytd_employer_ni: int = _money()
    ytd_ni_earnings: int = _money()
    ytd_at_lel: int = _money()
    ytd_lel_to_pt: int = _money()
    ytd_pt_to_uel: int = _money()
    ytd_student_loan: int = _money()
    ytd_postgraduate_loan: int = _money()
    ytd_pension_employee: int = _money()
    ytd_pension_employer: int = _money()
    ytd_pension_net_pay: int = _money()
    ytd_pension_relief_at_source: int = _money()
    ytd_ssp: int = _money()
    ytd_holiday_pay: int = _money()
    ytd_net_pay: int = _money()
    ytd_previous_taxable_pay: int = _money()
    ytd_previous_tax: int = _money()
    ytd_holiday_hours_accrued: str = Field(max_length=20)
    ytd_holiday_hours_taken: str = Field(max_length=20)
    ytd_ssp_weeks_paid: str = Field(max_length=20)


class PayslipLineRow(SQLModel, table=True):
    __tablename__ = "payroll_payslip_line"
    __table_args__ = (UniqueConstraint("payslip_id", "seq", name="uq_payroll_payslip_line_seq"),)
    id: Optional[int] = _pk()
    payslip_id: int = _fk("payroll_payslip.id", index=False)
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(max_length=12)
    code: str = Field(max_length=60)
    description: str = Field(max_length=200)
    amount: int = _money()
    hours: Optional[str] = Field(default=None, max_length=20)
    rate: Optional[int] = _money(nullable=True)


class PayslipNIRow(SQLModel, table=True):
    __tablename__ = "payroll_payslip_ni"
    __table_args__ = (UniqueConstraint("payslip_id", "seq", name="uq_payroll_payslip_ni_seq"),)
    id: Optional[int] = _pk()
    payslip_id: int = _fk("payroll_payslip.id", index=False)
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    letter: str = Field(max_length=1)
    gross_earnings: int = _money()
    at_lel: int = _money()
    lel_to_pt: int = _money()
    pt_to_uel: int = _money()
    employee: int = _money()
    employer: int = _money()


class EmployeeYTDRow(SQLModel, table=True):
    """An employee's tax-year figures after their last finalised payment (what the next run starts from, and
    the P45 / P60 figures)."""

    __tablename__ = "payroll_employee_ytd"
    employee_id: int = Field(sa_column=Column(BigInteger, ForeignKey("payroll_employee.id"), primary_key=True))
    tax_year: str = Field(sa_column=Column(String(7), primary_key=True))
    pay_run_id: int = _fk("payroll_pay_run.id", index=False)
    updated_us: int = _money()
    gross_pay: int = _money()
    taxable_pay: int = _money()
    tax: int = _money()
    employee_ni: int = _money()
    employer_ni: int = _money()
    ni_earnings: int = _money()
    at_lel: int = _money()
    lel_to_pt: int = _money()
    pt_to_uel: int = _money()
    student_loan: int = _money()
    postgraduate_loan: int = _money()
    pension_employee: int = _money()
    pension_employer: int = _money()
    pension_net_pay: int = _money()
    pension_relief_at_source: int = _money()
    ssp: int = _money()
    holiday_pay: int = _money()
    net_pay: int = _money()
    previous_taxable_pay: int = _money()
    previous_tax: int = _money()
    holiday_hours_accrued: str = Field(max_length=20)
    holiday_hours_taken: str = Field(max_length=20)
    ssp_weeks_paid: str = Field(max_length=20)


employer_t = EmployerRow.__table__
employee_t = EmployeeRow.__table__
tax_code_change_t = TaxCodeChangeRow.__table__
pension_event_t = PensionEventRow.__table__
contract_t = ContractRow.__table__
timesheet_t = TimesheetRow.__table__
timesheet_replacement_t = TimesheetReplacementRow.__table__
shift_t = ShiftRow.__table__
absence_t = AbsenceRow.__table__
pay_run_t = PayRunRow.__table__
pay_run_event_t = PayRunEventRow.__table__
pay_run_timesheet_t = PayRunTimesheetRow.__table__
payslip_t = PayslipRow.__table__
payslip_line_t = PayslipLineRow.__table__
payslip_ni_t = PayslipNIRow.__table__
employee_ytd_t = EmployeeYTDRow.__table__
