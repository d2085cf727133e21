"""The demo: three wallets with a year of history, payees, a payment waiting, one person per role; twice is once."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import func, select

from cryptography.fernet import Fernet

from ledger.tables import entry_t, hold_t
from payroll.sealed import FieldCipher
from payroll.service import PayrollService
from ledger.verify import verify
from wallet.domain import payments, payroll_posting, plans, wallets
from wallet.domain.demo import load_demo_wallets
from wallet.domain.payments import ApprovalReason, PaymentStatus
from wallet.domain.permissions import Role, allowed
from wallet.domain.schedules import Period
from wallet.domain.tables import metadata
from wallet.domain.unit_of_work import SYSTEM


def counts(db) -> dict[str, int]:
    tables = [t for name, t in metadata.tables.items() if name != "wallet_access_log"] + [entry_t, hold_t]
    with db.read() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def test_the_demo_loads_a_year_once(uow, db):
    payroll = PayrollService(db.engine, FieldCipher([Fernet.generate_key()]))
    demo = load_demo_wallets(uow, payroll)
    first = counts(db)
    assert load_demo_wallets(uow, payroll) == demo
    assert counts(db) == first

    roles = {r.value for r in Role} - {Role.HOLDER.value}
    assert roles <= set(demo.users) and {"asha", "ben", "cara"} <= set(demo.users)
    assert first["wallet_wallet"] == 3 and first["wallet_payment_request"] == 13 * 3 + 7 + 12 + 1
    assert verify(db).ok

    asha = demo.wallets["asha"]
    year = wallets.transactions(uow, asha, actor=demo.users["asha"], start=date(2025, 4, 1), end=date(2026, 4, 6))
    assert year[0].effective_at.date() == date(2025, 4, 7) and year[-1].effective_at.date() >= date(2026, 3, 1)
    assert len({t.effective_at.month for t in year}) == 12
    runs = payroll_posting.pay_run_postings(uow, asha, actor=SYSTEM)
    employer = payroll.list_employers(owner_ref="demo-asha")[0]
    finalised = [payroll.get_run(r.id) for r in payroll.list_runs(employer.id, status="finalised")]
    assert len(runs) == 13 and len(finalised) == 13
    # What the ledger holds for each run is what the payroll calculated for it.
    by_id = {r.id: r for r in finalised}
    assert all(r.figures.net_pay == by_id[r.run_id].summary.net_pay for r in runs)
    assert all(len(r.settlements) == 3 for r in runs)
    jo = payroll.list_employees(employer.id)[0]
    ytd = payroll.year_to_date(jo.id, "2025-26")
    assert ytd.gross_pay == sum(s.gross_pay for r in finalised for s in r.payslips if s.tax_year == "2025-26")
    report = plans.planned_vs_actual(uow, asha, Period(date(2025, 4, 7), date(2025, 5, 5)), actor=SYSTEM)
    assert report.line("transport").actual == 5_500

    pending = payments.get_payment_request(uow, demo.pending_request, actor=SYSTEM)
    assert pending.status is PaymentStatus.AWAITING_APPROVAL and ApprovalReason.ON_BEHALF in pending.approval_reasons
    assert uow.ledger.get_hold(pending.hold_id).amount == 35_000

    officer = demo.users[Role.COUNCIL_OFFICER.value]
    assert allowed(uow, officer, "view_balance", asha) and allowed(uow, officer, "view_balance", demo.wallets["cara"])
    assert not allowed(uow, officer, "view_balance", demo.wallets["ben"])      # the NHS pays Ben's budget
    assert allowed(uow, demo.users[Role.FAMILY_OVERSEER.value], "view_transactions", asha)
    assert allowed(uow, demo.users[Role.APPOINTEE.value], "approve_payment", demo.wallets["ben"])
    assert uow.clock.now() == datetime(2026, 4, 6, 9, tzinfo=timezone.utc)
