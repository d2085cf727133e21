"""The retention policy applied: exactly the records past their keeping period go (or lose their sealed personal
fields), everything else and the whole ledger stay, and a second run changes nothing."""
from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import text

from ledger.verify import verify
from wallet import retention
from wallet.scheduler import Scheduler, notices
from wallet.scheduler.jobs import default_jobs
from wallet.scheduler.store import all_runs
from tests.integration.retention.conftest import CUTOFFS, RUN_DAY, ledger_rows, present

PERSONAL = ("wallet_access_log", "wallet_alert", "wallet_alert_dismissal", "scheduler_notice", "scheduler_run",
            "stripe_event")


def _sealed(payroll, employee_id: str):
    e = payroll.get_employee(employee_id)
    return e.nino, e.bank_details


def _assert_applied(world, payroll, seeded) -> None:
    db = world.uow.db
    for table in PERSONAL:
        assert present(db, table, seeded.gone[table]) == [], table
        assert present(db, table, seeded.kept[table]) == sorted(seeded.kept[table]), table
    for employee_id in seeded.erased:
        e = payroll.get_employee(employee_id)
        assert (e.nino, e.bank_details) == (None, None)
        assert e.surname.startswith("Leaver") and e.leaving_date is not None   # the payroll record stays
    for employee_id in seeded.intact:
        nino, bank = _sealed(payroll, employee_id)
        assert nino is not None and bank is not None


def test_the_cutoffs_count_six_years_from_the_date_or_from_the_end_of_the_tax_year():
    assert retention.age_cutoff(date(2033, 5, 1)) == date(2027, 5, 1)
    assert retention.age_cutoff(date(2032, 2, 29)) == date(2026, 2, 28)
    # on 5 April the tax year that ended six years before is still kept; from 6 April it is past
    assert retention.tax_year_cutoff(date(2026, 4, 5)) == date(2019, 4, 5)
    assert retention.tax_year_cutoff(date(2026, 4, 6)) == date(2020, 4, 5)
    assert retention.tax_year_cutoff(date(2027, 1, 1)) == date(2020, 4, 5)


def test_the_policy_keeps_every_financial_record_and_deletes_only_personal_data():
    kinds = {rule.table: rule.action for rule in retention.POLICY}
    for financial in ("ledger_entry", "payroll_pay_run", "payroll_payslip", "wallet_payment_batch",
                      "wallet_evidence"):
        assert kinds[financial] is retention.Action.KEEP
    assert kinds["payroll_employee"] is retention.Action.ERASE
    assert {t for t, a in kinds.items() if a is retention.Action.DELETE} == set(PERSONAL)


def test_the_report_counts_without_changing_anything(world, payroll, seeded):
    found = retention.report(world.uow.db, RUN_DAY)
    counts = {line.rule.kind: line.count for line in found.lines}
    assert counts["access_log"] == 2 and counts["alerts"] == 2 and counts["alert_dismissals"] == 2
    assert counts["notices"] == 2 and counts["scheduler_runs"] == 2 and counts["stripe_events"] == 2
    assert counts["leaver_sealed_details"] == 2 and counts["ledger_entries"] == 1
    assert present(world.uow.db, "wallet_access_log", seeded.gone["wallet_access_log"]) == \
        sorted(seeded.gone["wallet_access_log"])


def test_the_monthly_job_applies_the_policy_once_and_records_what_it_removed(world, payroll, seeded, caplog):
    db = world.uow.db
    books_before = ledger_rows(db)
    assert len(books_before[0]) > 1
    caplog.set_level(logging.INFO, logger="wallet.retention")
    only_retention = [j for j in default_jobs() if j.name == "data_retention"]
    s = Scheduler(world.uow, payroll=payroll, holder="s", jobs=only_retention)
    report = s.tick()
    assert report.done == [f"data_retention:{RUN_DAY:%Y-%m}"], report

    _assert_applied(world, payroll, seeded)
    [run] = [r for r in all_runs(db) if r.job == "data_retention"]
    assert run.state == "done"
    assert f"removed personal data dated before {CUTOFFS.age.isoformat()}: 2 access log entries" in run.summary
    [notice] = notices(db, kind="data_retention")
    assert notice.details["removed"] == {"access_log": 2, "alert_dismissals": 2, "alerts": 2, "notices": 2,
                                         "scheduler_runs": 2, "stripe_events": 2}
    assert notice.details["erased"] == {"leaver_sealed_details": 2}
    assert notice.details["kept"]["ledger_entries"] == 1
    assert notice.details["age_cutoff"] == CUTOFFS.age.isoformat()
    assert notice.details["tax_year_cutoff"] == CUTOFFS.tax_year.isoformat()
    assert "Retention: removed 2 access log entries so far." in caplog.text

    # the books are untouched and still verify
    assert ledger_rows(db) == books_before
    assert verify(db).ok

    # idempotent: the run is not repeated, and applying the policy again changes nothing
    assert s.tick().done == []
    again = retention.apply(db, RUN_DAY, now_us=0)
    assert again.changed == 0 and again.batches == 0
    _assert_applied(world, payroll, seeded)


def test_batches_are_bounded(world, payroll, seeded, caplog):
    caplog.set_level(logging.INFO, logger="wallet.retention")
    result = retention.apply(world.uow.db, RUN_DAY, now_us=0, batch_size=1)
    assert result.removed["access_log"] == 2 and result.changed == 14
    assert result.batches == 14                      # one row a transaction
    assert "Retention: removed 1 access log entries so far." in caplog.text
    _assert_applied(world, payroll, seeded)


def test_the_database_refuses_a_future_date_for_the_access_log(world, payroll, seeded):
    """A clock (or --today) years ahead would reach recent access-log rows: the database's own clock says no."""
    db = world.uow.db
    with pytest.raises(retention.RetentionRefused, match="not yet six years old"):
        retention.apply(db, date(RUN_DAY.year + 7, RUN_DAY.month, 1), now_us=0)
    # the refused batch is rolled back whole: not even the rows the database would have let go are gone
    every = seeded.gone["wallet_access_log"] + seeded.kept["wallet_access_log"]
    assert present(db, "wallet_access_log", every) == sorted(every)
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM wallet_retention_gate")).scalar_one() == 0
