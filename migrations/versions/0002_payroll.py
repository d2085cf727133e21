"""Payroll: employers, employees, contracts, timesheets, pay runs and payslips.

The database guards what must never change: a finalised pay run, its payslips (with their lines and NI
figures) and the timesheets it paid; a run's status only moves forward; status history is append-only.
NI numbers and bank details are stored sealed (encrypted by the application), never in clear.

Revision ID: 0002_payroll
Revises: 0001_ledger
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_payroll"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

YTD_MONEY = ("gross_pay", "taxable_pay", "tax", "employee_ni", "employer_ni", "ni_earnings", "at_lel",
             "lel_to_pt", "pt_to_uel", "student_loan", "postgraduate_loan", "pension_employee", "pension_employer",
             "pension_net_pay", "pension_relief_at_source", "ssp", "holiday_pay", "net_pay",
             "previous_taxable_pay", "previous_tax")
YTD_TEXT = ("holiday_hours_accrued", "holiday_hours_taken", "ssp_weeks_paid")
SUMMARY_MONEY = ("gross_pay", "employer_ni", "employment_allowance_used", "employer_pension", "expenses", "tax",
                 "employee_ni", "student_loans", "net_pay")

FREQUENCIES = "('weekly','fortnightly','four_weekly','monthly')"
RUN_STATUSES = "('draft','calculated','reviewed','approved','finalised')"
TIMESHEET_STATUSES = "('draft','submitted','approved','rejected')"
HOUR_KINDS = "('standard','night','weekend','bank_holiday','sleep_in','on_call')"
PENSION_STATUSES = "('not_assessed','not_eligible','enrolled','opted_in','opted_out','postponed')"
LINE_KINDS = "('earning','statutory','deduction','non_taxable','employer')"


def _id() -> sa.Column:
    return sa.Column("id", RowId, primary_key=True)


def _uuid() -> sa.Column:
    return sa.Column("uuid", sa.String(36), nullable=False, unique=True)


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _fk(name: str, target: str, nullable: bool = False, **kw) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey(target), nullable=nullable, **kw)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "payroll_employer",
        _id(), _uuid(),
        _text("name", 200),
        _text("kind", 20),
        _text("hmrc_office_number", 3),
        _text("paye_reference", 10),
        _text("accounts_office_reference", 13),
        sa.Column("claims_employment_allowance", sa.Boolean(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("owner_ref", sa.String(200), nullable=True, index=True),
        _money("created_us"), _money("updated_us"),
        sa.UniqueConstraint("hmrc_office_number", "paye_reference", name="uq_payroll_employer_paye_reference"),
        sa.CheckConstraint("kind IN ('budget_holder','third_party')", name="ck_payroll_employer_kind"),
    )
    op.create_table(
        "payroll_employee",
        _id(), _uuid(),
        _fk("employer_id", "payroll_employer.id", index=True),
        _text("payroll_id", 35),
        sa.Column("forenames", sa.JSON(), nullable=False),
        _text("surname", 100),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        _text("frequency", 12),
        _text("tax_code", 20),
        sa.Column("non_cumulative", sa.Boolean(), nullable=False),
        _text("ni_letter", 1),
        sa.Column("nino_sealed", sa.Text(), nullable=True),
        _text("nino_fingerprint", 64, nullable=True),
        _text("gender", 1, nullable=True),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("student_loan_plans", sa.JSON(), nullable=False),
        _text("starter_declaration", 1, nullable=True),
        _money("previous_taxable_pay", nullable=True),
        _money("previous_tax", nullable=True),
        _text("pension_status", 16),
        sa.Column("pension_postponed_until", sa.Date(), nullable=True),
        sa.Column("leaving_date", sa.Date(), nullable=True),
        sa.Column("bank_sealed", sa.Text(), nullable=True),
        sa.Column("irregular_hours", sa.Boolean(), nullable=False),
        sa.Column("rolled_up_holiday", sa.Boolean(), nullable=False),
        _money("created_us"), _money("updated_us"),
        sa.UniqueConstraint("employer_id", "payroll_id", name="uq_payroll_employee_payroll_id"),
        sa.CheckConstraint(f"frequency IN {FREQUENCIES}", name="ck_payroll_employee_frequency"),
        sa.CheckConstraint(f"pension_status IN {PENSION_STATUSES}", name="ck_payroll_employee_pension"),
        sa.CheckConstraint("leaving_date IS NULL OR leaving_date >= start_date", name="ck_payroll_employee_leaving"),
        sa.CheckConstraint("(nino_sealed IS NULL) = (nino_fingerprint IS NULL)", name="ck_payroll_employee_nino"),
    )
    op.create_index("uq_payroll_employee_nino", "payroll_employee", ["employer_id", "nino_fingerprint"],
                    unique=True,
                    sqlite_where=sa.text("nino_fingerprint IS NOT NULL AND leaving_date IS NULL"),
                    postgresql_where=sa.text("nino_fingerprint IS NOT NULL AND leaving_date IS NULL"))
    op.create_table(
        "payroll_tax_code_change",
        _id(),
        _fk("employee_id", "payroll_employee.id"),
        _text("tax_code", 20),
        sa.Column("non_cumulative", sa.Boolean(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        _text("actor", 200),
        _money("recorded_us"),
    )
    op.create_index("ix_payroll_tax_code_change_employee", "payroll_tax_code_change",
                    ["employee_id", "effective_from"])
    op.create_table(
        "payroll_pension_event",
        _id(),
        _fk("employee_id", "payroll_employee.id", index=True),
        _text("status", 16),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("postponed_until", sa.Date(), nullable=True),
        _text("actor", 200),
        _money("recorded_us"),
        sa.CheckConstraint(f"status IN {PENSION_STATUSES}", name="ck_payroll_pension_event_status"),
    )
    op.create_table(
        "payroll_contract",
        _id(), _uuid(),
        _fk("employee_id", "payroll_employee.id"),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=True),
        _money("rate_standard"),
        *[_money(f"rate_{kind}", nullable=True)
          for kind in ("night", "weekend", "bank_holiday", "sleep_in_flat", "on_call")],
        _text("contracted_hours_per_week", 12, nullable=True),
        _text("pension_employee_rate", 12),
        _text("pension_employer_rate", 12),
        _text("pension_relief", 24),
        sa.Column("qualifying_days", sa.JSON(), nullable=False),
        _text("actor", 200),
        _money("created_us"),
        sa.CheckConstraint("ends IS NULL OR ends >= starts", name="ck_payroll_contract_dates"),
        sa.CheckConstraint("rate_standard > 0", name="ck_payroll_contract_standard"),
        sa.CheckConstraint(
            " AND ".join(f"(rate_{kind} IS NULL OR rate_{kind} >= 0)"
                         for kind in ("night", "weekend", "bank_holiday", "sleep_in_flat", "on_call")),
            name="ck_payroll_contract_rates"),
        sa.CheckConstraint("pension_relief IN ('relief_at_source','net_pay_arrangement')",
                           name="ck_payroll_contract_relief"),
    )
    op.create_index("ix_payroll_contract_employee", "payroll_contract", ["employee_id", "starts"])
    op.create_table(
        "payroll_pay_run",
        _id(), _uuid(),
        _fk("employer_id", "payroll_employer.id"),
        _text("tax_year", 7),
        _text("frequency", 12),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=False),
        _text("status", 10),
        _fk("corrects_id", "payroll_pay_run.id", nullable=True, index=True),
        sa.Column("summary_employees", sa.Integer(), nullable=True),
        *[_money(f"summary_{name}", nullable=True) for name in SUMMARY_MONEY],
        _money("created_us"), _money("updated_us"),
        sa.CheckConstraint("period_end >= period_start", name="ck_payroll_pay_run_period"),
        sa.CheckConstraint(f"status IN {RUN_STATUSES}", name="ck_payroll_pay_run_status"),
        sa.CheckConstraint(f"frequency IN {FREQUENCIES}", name="ck_payroll_pay_run_frequency"),
    )
    op.create_index("uq_payroll_pay_run_period", "payroll_pay_run", ["employer_id", "frequency", "tax_year", "period"],
                    unique=True, sqlite_where=sa.text("corrects_id IS NULL"),
                    postgresql_where=sa.text("corrects_id IS NULL"))
    op.create_index("ix_payroll_pay_run_employer_payment", "payroll_pay_run", ["employer_id", "payment_date"])
    op.create_table(
        "payroll_timesheet",
        _id(), _uuid(),
        _fk("employee_id", "payroll_employee.id"),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        _money("expenses"),
        _text("status", 10),
        _text("rejection_reason", 500, nullable=True),
        _text("created_by", 200),
        _text("submitted_by", 200, nullable=True),
        _text("decided_by", 200, nullable=True),
        # Set on a corrected timesheet made for an adjustment run: the finalised run it corrects.
        _fk("corrects_run_id", "payroll_pay_run.id", nullable=True, index=True),
        _money("created_us"), _money("updated_us"),
        _money("submitted_us", nullable=True), _money("decided_us", nullable=True),
        sa.CheckConstraint("period_end >= period_start", name="ck_payroll_timesheet_period"),
        sa.CheckConstraint("expenses >= 0", name="ck_payroll_timesheet_expenses"),
        sa.CheckConstraint(f"status IN {TIMESHEET_STATUSES}", name="ck_payroll_timesheet_status"),
    )
    op.create_index("ix_payroll_timesheet_employee_period", "payroll_timesheet", ["employee_id", "period_start"])
    op.create_table(
        "payroll_shift",
        _id(),
        _fk("timesheet_id", "payroll_timesheet.id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _text("starts", 40), _text("ends", 40),
        _text("kind", 16),
        _text("note", 500),
        sa.UniqueConstraint("timesheet_id", "seq", name="uq_payroll_shift_seq"),
        sa.CheckConstraint(f"kind IN {HOUR_KINDS}", name="ck_payroll_shift_kind"),
    )
    op.create_table(
        "payroll_absence",
        _id(),
        _fk("timesheet_id", "payroll_timesheet.id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        _text("kind", 10),
        _text("hours", 12),
        sa.UniqueConstraint("timesheet_id", "seq", name="uq_payroll_absence_seq"),
        sa.CheckConstraint("kind IN ('sick','holiday')", name="ck_payroll_absence_kind"),
    )
    op.create_table(
        "payroll_timesheet_replacement",
        sa.Column("replaced_id", sa.BigInteger(), sa.ForeignKey("payroll_timesheet.id"), primary_key=True),
        _fk("replacement_id", "payroll_timesheet.id", index=True),
        sa.CheckConstraint("replaced_id <> replacement_id", name="ck_payroll_timesheet_replacement"),
    )
    op.create_table(
        "payroll_pay_run_event",
        _id(),
        _fk("pay_run_id", "payroll_pay_run.id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _text("status", 10),
        _text("actor", 200),
        _money("at_us"),
        sa.UniqueConstraint("pay_run_id", "seq", name="uq_payroll_pay_run_event_seq"),
        sa.CheckConstraint(f"status IN {RUN_STATUSES}", name="ck_payroll_pay_run_event_status"),
    )
    op.create_table(
        "payroll_pay_run_timesheet",
        sa.Column("pay_run_id", sa.BigInteger(), sa.ForeignKey("payroll_pay_run.id"), primary_key=True),
        sa.Column("timesheet_id", sa.BigInteger(), sa.ForeignKey("payroll_timesheet.id"), primary_key=True,
                  index=True),
    )
    op.create_table(
        "payroll_payslip",
        _id(), _uuid(),
        _fk("pay_run_id", "payroll_pay_run.id"),
        _fk("employee_id", "payroll_employee.id"),
        _text("tax_year", 7),
        _text("frequency", 12),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=False),
        _text("tax_code", 20),
        sa.Column("non_cumulative", sa.Boolean(), nullable=False),
        _text("ni_letter", 1),
        *[_money(name) for name in (
            "gross_pay", "taxable_pay", "tax", "employee_ni", "employer_ni", "student_loan", "postgraduate_loan",
            "pension_employee", "pension_employer", "pension_net_pay", "pension_relief_at_source", "ssp",
            "holiday_pay")],
        _text("holiday_hours_accrued", 20),
        _text("holiday_hours_taken", 20),
        _money("expenses"),
        _money("net_pay"),
        _text("hours_worked", 20),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("is_adjustment", sa.Boolean(), nullable=False),
        sa.Column("leaving", sa.Boolean(), nullable=False),
        *[_money(f"ytd_{name}") for name in YTD_MONEY],
        *[_text(f"ytd_{name}", 20) for name in YTD_TEXT],
        sa.UniqueConstraint("pay_run_id", "employee_id", name="uq_payroll_payslip_run_employee"),
    )
    op.create_index("ix_payroll_payslip_employee_payment", "payroll_payslip", ["employee_id", "payment_date"])
    op.create_table(
        "payroll_payslip_line",
        _id(),
        _fk("payslip_id", "payroll_payslip.id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _text("kind", 12),
        _text("code", 60),
        _text("description", 200),
        _money("amount"),
        _text("hours", 20, nullable=True),
        _money("rate", nullable=True),
        sa.UniqueConstraint("payslip_id", "seq", name="uq_payroll_payslip_line_seq"),
        sa.CheckConstraint(f"kind IN {LINE_KINDS}", name="ck_payroll_payslip_line_kind"),
    )
    op.create_table(
        "payroll_payslip_ni",
        _id(),
        _fk("payslip_id", "payroll_payslip.id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _text("letter", 1),
        *[_money(name) for name in ("gross_earnings", "at_lel", "lel_to_pt", "pt_to_uel", "employee", "employer")],
        sa.UniqueConstraint("payslip_id", "seq", name="uq_payroll_payslip_ni_seq"),
    )
    op.create_table(
        "payroll_employee_ytd",
        sa.Column("employee_id", sa.BigInteger(), sa.ForeignKey("payroll_employee.id"), primary_key=True),
        sa.Column("tax_year", sa.String(7), primary_key=True),
        _fk("pay_run_id", "payroll_pay_run.id"),
        _money("updated_us"),
        *[_money(name) for name in YTD_MONEY],
        *[_text(name, 20) for name in YTD_TEXT],
    )
    dialect = op.get_bind().dialect.name
    for statement in (POSTGRES_GUARDS if dialect == "postgresql" else SQLITE_GUARDS):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}() CASCADE")
    for table in ("payroll_employee_ytd", "payroll_payslip_ni", "payroll_payslip_line", "payroll_payslip",
                  "payroll_pay_run_timesheet", "payroll_pay_run_event", "payroll_timesheet_replacement",
                  "payroll_absence",
                  "payroll_shift", "payroll_timesheet", "payroll_pay_run", "payroll_contract", "payroll_pension_event",
                  "payroll_tax_code_change", "payroll_employee", "payroll_employer"):
        op.drop_table(table)


FINAL_RUN = "a finalised pay run never changes: correct it with an adjustment run"
FINAL_PAYSLIP = "payslips of a finalised pay run never change: correct them with an adjustment run"
FORWARD_ONLY = "a pay run''s status moves only forward: draft, calculated, reviewed, approved, finalised"
HISTORY = "pay run status history is append-only"

# In parentheses: PL/pgSQL reads an IF condition up to the first THEN outside parentheses.
_RANK = ("(CASE {0}.status WHEN 'draft' THEN 0 WHEN 'calculated' THEN 1 WHEN 'reviewed' THEN 2 "
         "WHEN 'approved' THEN 3 WHEN 'finalised' THEN 4 END)")
_RUN_FINAL = "(SELECT status FROM payroll_pay_run WHERE id = {0}) = 'finalised'"
_SLIP_FINAL = ("EXISTS (SELECT 1 FROM payroll_payslip p JOIN payroll_pay_run r ON r.id = p.pay_run_id "
               "WHERE p.id = {0} AND r.status = 'finalised')")

# Tables whose rows belong to a run (through pay_run_id) or to a payslip (through payslip_id).
_RUN_CHILDREN = ("payroll_payslip", "payroll_pay_run_timesheet")
_SLIP_CHILDREN = ("payroll_payslip_line", "payroll_payslip_ni")


def _sqlite_child_guards() -> list[str]:
    statements = []
    for tables, column, check in ((_RUN_CHILDREN, "pay_run_id", _RUN_FINAL),
                                  (_SLIP_CHILDREN, "payslip_id", _SLIP_FINAL)):
        for table in tables:
            statements += [
                f"""CREATE TRIGGER {table}_final_no_insert BEFORE INSERT ON {table}
                    WHEN {check.format('NEW.' + column)}
                    BEGIN SELECT RAISE(ABORT, '{FINAL_PAYSLIP}'); END""",
                f"""CREATE TRIGGER {table}_final_no_update BEFORE UPDATE ON {table}
                    WHEN {check.format('OLD.' + column)} OR {check.format('NEW.' + column)}
                    BEGIN SELECT RAISE(ABORT, '{FINAL_PAYSLIP}'); END""",
                f"""CREATE TRIGGER {table}_final_no_delete BEFORE DELETE ON {table}
                    WHEN {check.format('OLD.' + column)}
                    BEGIN SELECT RAISE(ABORT, '{FINAL_PAYSLIP}'); END""",
            ]
    return statements


SQLITE_GUARDS = [
    f"""CREATE TRIGGER payroll_pay_run_final_no_update BEFORE UPDATE ON payroll_pay_run
        WHEN OLD.status = 'finalised'
        BEGIN SELECT RAISE(ABORT, '{FINAL_RUN}'); END""",
    f"""CREATE TRIGGER payroll_pay_run_final_no_delete BEFORE DELETE ON payroll_pay_run
        WHEN OLD.status = 'finalised'
        BEGIN SELECT RAISE(ABORT, '{FINAL_RUN}'); END""",
    f"""CREATE TRIGGER payroll_pay_run_forward_only BEFORE UPDATE OF status ON payroll_pay_run
        WHEN {_RANK.format('NEW')} < {_RANK.format('OLD')}
        BEGIN SELECT RAISE(ABORT, '{FORWARD_ONLY}'); END""",
    f"""CREATE TRIGGER payroll_pay_run_event_no_update BEFORE UPDATE ON payroll_pay_run_event
        BEGIN SELECT RAISE(ABORT, '{HISTORY}'); END""",
    f"""CREATE TRIGGER payroll_pay_run_event_no_delete BEFORE DELETE ON payroll_pay_run_event
        BEGIN SELECT RAISE(ABORT, '{HISTORY}'); END""",
    *_sqlite_child_guards(),
]

PG_FUNCTIONS = ("payroll_pay_run_guard", "payroll_run_child_guard", "payroll_slip_child_guard",
                "payroll_history_guard", "payroll_truncate_guard")

POSTGRES_GUARDS = [
    f"""CREATE FUNCTION payroll_pay_run_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.status = 'finalised' THEN
            RAISE EXCEPTION '{FINAL_RUN}';
          END IF;
          IF TG_OP = 'DELETE' THEN
            RETURN OLD;
          END IF;
          IF {_RANK.format('NEW')} < {_RANK.format('OLD')} THEN
            RAISE EXCEPTION '{FORWARD_ONLY}';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER payroll_pay_run_guard BEFORE UPDATE OR DELETE ON payroll_pay_run
       FOR EACH ROW EXECUTE FUNCTION payroll_pay_run_guard()""",
    f"""CREATE FUNCTION payroll_run_child_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            IF {_RUN_FINAL.format('OLD.pay_run_id')} THEN
              RAISE EXCEPTION '{FINAL_PAYSLIP}';
            END IF;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            IF {_RUN_FINAL.format('NEW.pay_run_id')} THEN
              RAISE EXCEPTION '{FINAL_PAYSLIP}';
            END IF;
            RETURN NEW;
          END IF;
          RETURN OLD;
        END $$""",
    f"""CREATE FUNCTION payroll_slip_child_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            IF {_SLIP_FINAL.format('OLD.payslip_id')} THEN
              RAISE EXCEPTION '{FINAL_PAYSLIP}';
            END IF;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            IF {_SLIP_FINAL.format('NEW.payslip_id')} THEN
              RAISE EXCEPTION '{FINAL_PAYSLIP}';
            END IF;
            RETURN NEW;
          END IF;
          RETURN OLD;
        END $$""",
    *[f"""CREATE TRIGGER {table}_final_guard BEFORE INSERT OR UPDATE OR DELETE ON {table}
          FOR EACH ROW EXECUTE FUNCTION payroll_run_child_guard()""" for table in _RUN_CHILDREN],
    *[f"""CREATE TRIGGER {table}_final_guard BEFORE INSERT OR UPDATE OR DELETE ON {table}
          FOR EACH ROW EXECUTE FUNCTION payroll_slip_child_guard()""" for table in _SLIP_CHILDREN],
    f"""CREATE FUNCTION payroll_history_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '{HISTORY}';
        END $$""",
    """CREATE TRIGGER payroll_pay_run_event_append_only BEFORE UPDATE OR DELETE ON payroll_pay_run_event
       FOR EACH ROW EXECUTE FUNCTION payroll_history_guard()""",
    # TRUNCATE skips row triggers: refuse it outright on the tables that hold finalised records.
    """CREATE FUNCTION payroll_truncate_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'payroll records are never truncated';
        END $$""",
    *[f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
          FOR EACH STATEMENT EXECUTE FUNCTION payroll_truncate_guard()"""
      for table in ("payroll_pay_run", "payroll_pay_run_event", *_RUN_CHILDREN, *_SLIP_CHILDREN)],
]
