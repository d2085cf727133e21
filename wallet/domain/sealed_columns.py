"""The wallet's own sealed columns (bank accounts of suppliers paid by bank, and of payment batch lines), so
``wallet keys rotate`` re-seals them with the payroll's and sign-in's, and ``check`` counts them."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from payroll.sealed import FieldCipher
from wallet.domain.tables import payee_bank_account_t, payment_batch_line_t

SEALED = ((payee_bank_account_t, "account_sealed", "supplier bank accounts"),
          (payment_batch_line_t, "account_sealed", "payment batch lines"))


def rotate_sealed(engine: Engine, cipher: FieldCipher) -> dict[str, int]:
    """Re-seal every token under the newest key, in one transaction: all or none. Returns counts per kind."""
    done: dict[str, int] = {}
    # ledger_write: on SQLite the transaction takes the write lock at BEGIN, as every writer here does
    with engine.connect().execution_options(ledger_write=True) as conn, conn.begin():
        for table, name, words in SEALED:
            col = table.c[name]
            rows = conn.execute(select(table.c.id, col)).all()
            for row in rows:
                conn.execute(table.update().where(table.c.id == row.id).values({name: cipher.rotate(row[1])}))
            done[words] = len(rows)
    return done


def sealed_with_older_keys(engine: Engine, cipher: FieldCipher) -> int:
    """How many of the wallet's sealed values still need a key other than the newest."""
    with engine.connect() as conn:
        return sum(1 for table, name, _ in SEALED
                   for token in conn.execute(select(table.c[name])).scalars()
                   if not cipher.sealed_with_newest(token))
