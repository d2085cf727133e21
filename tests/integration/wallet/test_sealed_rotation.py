"""The wallet's sealed bank accounts (suppliers paid by bank, payment batch lines) are re-sealed under the newest
key by ``wallet keys rotate`` and counted by ``check``, on SQLite and PostgreSQL, losing nothing."""
from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import select

from payroll.sealed import FieldCipher
from tests.integration.wallet.test_supplier_batches import approved
from wallet.domain import payment_batches as pb
from wallet.domain import sealed_columns, supplier_payables
from wallet.domain.tables import payee_bank_account_t, payment_batch_line_t
from wallet.domain.unit_of_work import SYSTEM


def tokens(world) -> list[str]:
    def read(tx):
        return [*tx.conn.execute(select(payee_bank_account_t.c.account_sealed)).scalars(),
                *tx.conn.execute(select(payment_batch_line_t.c.account_sealed)).scalars()]
    return world.uow.read(read)


def test_rotation_reseals_supplier_accounts_and_batch_lines(world):
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    old = FieldCipher([old_key])
    supplier_payables.set_bank_account(world.uow, world.wallet.id, world.agency.id, actor=world.users["holder"],
                                       cipher=old, sort_code="11-22-33", account_number="44556677",
                                       reference="asha-0042")
    approved(world)
    pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees={}, cipher=old)
    engine = world.uow.db.engine
    both = FieldCipher([new_key, old_key])
    assert sealed_columns.sealed_with_older_keys(engine, both) == 2

    assert sealed_columns.rotate_sealed(engine, both) == {"supplier bank accounts": 1, "payment batch lines": 1}
    assert sealed_columns.sealed_with_older_keys(engine, both) == 0
    newest_only = FieldCipher([new_key])
    assert [newest_only.open(t) for t in tokens(world)] == ["112233:44556677", "112233:44556677"]
    assert sealed_columns.rotate_sealed(engine, both) == {"supplier bank accounts": 1, "payment batch lines": 1}
    assert sealed_columns.sealed_with_older_keys(engine, newest_only) == 0
