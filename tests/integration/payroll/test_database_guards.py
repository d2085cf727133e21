"""The database itself refuses to change a finalised pay run, its payslips or its history, and refuses to
move a run's status backwards, whatever the code above it does (SQLite and PostgreSQL triggers)."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from payroll.tables import payslip_t

REFUSED = "never change|moves only forward|append-only|never truncated"


def execute(engine, sql: str, **params) -> int:
    with engine.begin() as conn:
        return conn.execute(text(sql), params).rowcount


@pytest.fixture
def finalised(setup, service):
    pa = setup.pa()
    setup.approved_month(pa, 1)
    return setup.finalised_run(1)


CHANGES = [
    "UPDATE payroll_payslip SET net_pay = net_pay + 100",
    "UPDATE payroll_payslip SET ytd_tax = 0",
    "DELETE FROM payroll_payslip",
    "UPDATE payroll_payslip_line SET amount = amount + 1",
    "DELETE FROM payroll_payslip_line",
    "UPDATE payroll_payslip_ni SET employee = 0",
    "DELETE FROM payroll_payslip_ni",
    "UPDATE payroll_pay_run SET summary_net_pay = 0",
    "UPDATE payroll_pay_run SET status = 'approved'",
    "DELETE FROM payroll_pay_run",
    "DELETE FROM payroll_pay_run_timesheet",
    "UPDATE payroll_pay_run_event SET actor = 'someone else'",
    "DELETE FROM payroll_pay_run_event",
]


def test_a_finalised_run_cannot_be_changed_in_the_database(finalised, service, engine):
    before = service.get_run(finalised.id)
    for sql in CHANGES:
        with pytest.raises(DBAPIError, match=REFUSED):
            execute(engine, sql)
    assert service.get_run(finalised.id) == before


def test_nothing_can_be_added_to_a_finalised_run(finalised, engine):
    # The guards fire before the row is written, so they answer before any unique key would.
    columns = ", ".join(c.name for c in payslip_t.c if c.name not in ("id", "uuid"))
    with pytest.raises(DBAPIError, match=REFUSED):
        execute(engine, f"INSERT INTO payroll_payslip (uuid, {columns}) SELECT 'copy', {columns} FROM payroll_payslip")
    with pytest.raises(DBAPIError, match=REFUSED):
        execute(engine, """INSERT INTO payroll_payslip_line (payslip_id, seq, kind, code, description, amount)
                           SELECT id, 99, 'earning', 'bonus', 'Bonus', 100 FROM payroll_payslip""")
    with pytest.raises(DBAPIError, match=REFUSED):
        execute(engine, "INSERT INTO payroll_pay_run_timesheet SELECT pay_run_id, timesheet_id "
                        "FROM payroll_pay_run_timesheet")


def test_status_never_moves_backwards_and_a_calculated_run_may_still_change(setup, service, engine):
    pa = setup.pa()
    setup.approved_month(pa, 1)
    run = setup.run(1)
    service.calculate(run.id, actor="admin")
    service.review(run.id, actor="admin")
    with pytest.raises(DBAPIError, match="moves only forward"):
        execute(engine, "UPDATE payroll_pay_run SET status = 'calculated'")
    with pytest.raises(DBAPIError, match="moves only forward"):
        execute(engine, "UPDATE payroll_pay_run SET status = 'draft'")
    # Before finalising, payslips are not yet fixed (a recalculation replaces them).
    assert execute(engine, "UPDATE payroll_payslip SET warnings = warnings") == 1


def test_emptying_the_tables_is_refused(finalised, engine):
    """PostgreSQL's TRUNCATE skips row triggers, so it is refused outright; SQLite has no TRUNCATE (its
    DELETE without WHERE, which runs the row triggers, is refused above)."""
    for table in ("payroll_payslip", "payroll_pay_run", "payroll_pay_run_event"):
        sql = f"TRUNCATE {table} CASCADE" if engine.dialect.name == "postgresql" else f"DELETE FROM {table}"
        with pytest.raises(DBAPIError, match=REFUSED):
            execute(engine, sql)
