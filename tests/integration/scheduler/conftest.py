"""Fixtures for the scheduler tests: the wallet tests' standard ``world`` (one wallet, two four-weekly funding
streams, a plan), a payroll service on the same database, and an employer paid four-weekly on Fridays."""
from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet

from ledger.clock import seeded_ids
from payroll.sealed import FieldCipher
from payroll.service import PayrollService
from tests.integration.wallet.conftest import TODAY, World, uow, world  # noqa: F401 (fixtures)

FIRST_PAY_DAY = date(2026, 4, 24)   # a Friday; every 28 days after, 1 January 2027 and Good Friday among them


@pytest.fixture
def payroll(uow, clock):  # noqa: F811
    return PayrollService(uow.db.engine, FieldCipher([Fernet.generate_key()]), clock=clock, new_id=seeded_ids(5))


@pytest.fixture
def employer(payroll, world):  # noqa: F811
    e = payroll.add_employer(name="Asha Khan", kind="budget_holder", hmrc_office_number="120",
                             paye_reference="A120", accounts_office_reference="120PA00012345",
                             owner_ref=world.wallet.id, actor="payroll-admin")
    payroll.create_pay_run(e.id, period_start=date(2026, 3, 28), period_end=FIRST_PAY_DAY,
                           payment_date=FIRST_PAY_DAY, frequency="four_weekly", actor="payroll-admin")
    return e
