"""A wallet and a payroll employer with records either side of the retention cutoffs, on SQLite and PostgreSQL.

The database checks an access-log row's age by its own clock (migration 0015_retention), so these tests run the
retention job as of the 1st of the current month (a ManualClock standing at 06:30 UTC that day) and date every
record relative to that day's cutoffs: each kind has one row just past its keeping period and one just inside.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert, select, text

from ledger.clock import ManualClock, seeded_ids, to_us
from payroll.model import BankDetails
from payroll.sealed import FieldCipher
from payroll.service import PayrollService
from wallet import retention
from wallet.domain import wallets
from wallet.domain.unit_of_work import SYSTEM
from wallet.domain.schedules import start_of
from wallet.domain.tables import access_log_t, alert_dismissal_t, alert_t
from wallet.scheduler.tables import notice_t, run_t
from wallet.stripe_gateway.tables import event_t
from tests.integration.wallet.conftest import uow, world  # noqa: F401 (fixtures)

RUN_DAY = datetime.now(timezone.utc).date().replace(day=1)
CUTOFFS = retention.Cutoffs.on(RUN_DAY)
OLD_US = to_us(start_of(CUTOFFS.age)) - 1          # the last moment over six years old
KEPT_US = to_us(start_of(CUTOFFS.age))             # the first moment still kept
RECENT_US = to_us(start_of(RUN_DAY)) - 86_400_000_000


@pytest.fixture
def clock():
    return ManualClock(datetime.combine(RUN_DAY, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=6,
                                                                                                        minutes=30))


@pytest.fixture
def keys(monkeypatch):
    key = Fernet.generate_key()
    monkeypatch.setenv("WALLET_ENCRYPTION_KEYS", key.decode())
    return key


@pytest.fixture
def payroll(uow, clock, keys):  # noqa: F811
    return PayrollService(uow.db.engine, FieldCipher([keys]), clock=clock, new_id=seeded_ids(5))


@dataclass
class Seeded:
    """Ids of the rows that must go (``gone``) and that must stay (``kept``), per table."""

    gone: dict[str, list[int]] = field(default_factory=dict)
    kept: dict[str, list[int]] = field(default_factory=dict)
    erased: list[str] = field(default_factory=list)
    """Payroll employee ids whose sealed details must be erased."""
    intact: list[str] = field(default_factory=list)
    """Payroll employee ids whose sealed details must stay."""


def _bank(n: int) -> BankDetails:
    return BankDetails(f"PA {n}", "200000", f"5500000{n}")


@pytest.fixture
def seeded(world, payroll) -> Seeded:  # noqa: F811
    s = Seeded()
    db = world.uow.db
    wallet_pk = db.read_one(text("SELECT id FROM wallet_wallet WHERE uuid = :u"), {"u": world.wallet.id}).id
    holder_pk = db.read_one(text("SELECT id FROM wallet_user WHERE uuid = :u"), {"u": world.users["holder"]}).id

    def add(conn, t, name: str, keep: bool, **values) -> int:
        pk = conn.execute(insert(t).values(**values)).inserted_primary_key[0]
        (s.kept if keep else s.gone).setdefault(name, []).append(pk)
        return pk

    def work(conn):
        for keep, at in ((False, OLD_US), (False, OLD_US - 10 ** 12), (True, KEPT_US), (True, RECENT_US)):
            add(conn, access_log_t, "wallet_access_log", keep, wallet_id=wallet_pk, actor="someone",
                action="view_balance", outcome="done", detail="", at_us=at)
            alert = add(conn, alert_t, "wallet_alert", keep, uuid=f"alert-{at}", wallet_id=wallet_pk,
                        kind="low_balance", cause=f"low_balance:{at}", message="Low", details={}, raised_us=at)
            # dismissed later than raised: it still goes (or stays) with its alert
            add(conn, alert_dismissal_t, "wallet_alert_dismissal", keep, alert_id=alert, user_id=holder_pk,
                dismissed_us=at + 10 ** 9)
            add(conn, notice_t, "scheduler_notice", keep, notice_key=f"n-{at}", kind="monthly_statement",
                subject=None, due_on=None, message="A statement", details={}, created_us=at)
            add(conn, run_t, "scheduler_run", keep, run_key=f"r-{at}", job="alert_checks", due_us=at, params={},
                state="done", attempts=1, holder="h", generation=1, started_us=at, finished_us=at)
            add(conn, event_t, "stripe_event", keep, event_id=f"evt_{at}", event_type="issuing_authorization.request",
                reply="{}", processed_us=at)
        # a run still marked started is never removed under its worker, however old
        add(conn, run_t, "scheduler_run", True, run_key="r-stuck", job="alert_checks", due_us=OLD_US, params={},
            state="started", attempts=1, holder="h", generation=1, started_us=OLD_US, finished_us=None)

    db.write(work)
    # money received in a tax year past its keeping period: a financial record, kept and only counted
    wallets.record_funding(world.uow, world.wallet.id, world.council.id, 1_000, CUTOFFS.tax_year, actor=SYSTEM,
                           key="old-receipt")

    employer = payroll.add_employer(name="Asha Khan", kind="budget_holder", hmrc_office_number="120",
                                    paye_reference="A120", accounts_office_reference="120PA00012345",
                                    owner_ref=world.wallet.id, actor="payroll-admin")
    last_erased = CUTOFFS.tax_year                          # 5 April: the last day of a tax year past keeping
    for n, (left, erase) in enumerate(((last_erased, True), (last_erased - timedelta(days=400), True),
                                       (last_erased + timedelta(days=1), False), (None, False)), start=1):
        e = payroll.add_employee(employer.id, payroll_id=f"PA{n}", forenames=["Pat"], surname=f"Leaver{n}",
                                 birth_date=date(1980, 1, 1), start_date=date(2012, 4, 6), frequency="monthly",
                                 tax_code="1257L", nino=f"AB12345{n}C", bank_details=_bank(n), actor="payroll-admin")
        if left is not None:
            payroll.record_leaver(e.id, left, actor="payroll-admin")
        (s.erased if erase else s.intact).append(e.id)
    return s


def present(db, table: str, ids: list[int]) -> list[int]:
    t = {"wallet_access_log": access_log_t, "wallet_alert": alert_t, "wallet_alert_dismissal": alert_dismissal_t,
         "scheduler_notice": notice_t, "scheduler_run": run_t, "stripe_event": event_t}[table]
    with db.read() as conn:
        return sorted(r[0] for r in conn.execute(select(t.c.id).where(t.c.id.in_(ids))))


def ledger_rows(db) -> tuple[list, list]:
    with db.read() as conn:
        return (list(conn.execute(text("SELECT * FROM ledger_entry ORDER BY id"))),
                list(conn.execute(text("SELECT * FROM ledger_posting ORDER BY id"))))
