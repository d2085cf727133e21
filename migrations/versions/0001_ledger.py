"""The double-entry ledger: books, accounts, entries, postings, holds and daily balance checkpoints, with
the database's own guards so that a bug above the ledger cannot corrupt the books.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON()


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "ledger_book",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("code", sa.String(200), nullable=False, unique=True),
        sa.Column("head_hash", sa.String(64), nullable=False),
        _money("entry_count"),
        _money("created_us"),
        sa.CheckConstraint("entry_count >= 0", name="ck_ledger_book_count"),
    )
    op.create_table(
        "ledger_account",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("code", sa.String(200), nullable=False, unique=True),
        sa.Column("book_id", sa.BigInteger(), sa.ForeignKey("ledger_book.id"), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("normal_side", sa.String(6), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("floor", nullable=True),
        sa.Column("owner_ref", sa.String(200), nullable=True, index=True),
        sa.Column("meta", JSON, nullable=False),
        sa.Column("status", sa.String(6), nullable=False),
        _money("balance"),
        _money("held"),
        _money("posting_count"),
        sa.Column("last_day", sa.Integer(), nullable=True),
        _money("created_us"),
        _money("closed_us", nullable=True),
        sa.CheckConstraint("type IN ('asset','liability','equity','income','expense')",
                           name="ck_ledger_account_type"),
        sa.CheckConstraint("normal_side IN ('debit','credit')", name="ck_ledger_account_side"),
        sa.CheckConstraint("status IN ('open','closed')", name="ck_ledger_account_status"),
        sa.CheckConstraint("held >= 0", name="ck_ledger_account_held"),
        # The floor: available balance (posted less held) never below it, whatever the code above does.
        sa.CheckConstraint("floor IS NULL OR balance - held >= floor", name="ck_ledger_account_floor"),
    )
    op.create_table(
        "ledger_hold",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("debit_account_id", sa.BigInteger(), sa.ForeignKey("ledger_account.id"), nullable=False),
        sa.Column("credit_account_id", sa.BigInteger(), sa.ForeignKey("ledger_account.id"), nullable=False),
        sa.Column("reserves_debit", sa.Boolean(), nullable=False),
        sa.Column("reserves_credit", sa.Boolean(), nullable=False),
        _money("amount"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        _money("expires_us", nullable=True),
        _money("created_us"),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("meta", JSON, nullable=False),
        _money("resolved_us", nullable=True),
        sa.Column("resolved_key", sa.String(200), nullable=True, unique=True),
        _money("committed_amount", nullable=True),
        sa.CheckConstraint("amount > 0", name="ck_ledger_hold_amount"),
        sa.CheckConstraint("status IN ('pending','committed','released','expired')",
                           name="ck_ledger_hold_status"),
        sa.CheckConstraint("committed_amount IS NULL OR (committed_amount > 0 AND committed_amount <= amount)",
                           name="ck_ledger_hold_committed"),
    )
    op.create_index("ix_ledger_hold_debit_status", "ledger_hold", ["debit_account_id", "status"])
    op.create_index("ix_ledger_hold_credit_status", "ledger_hold", ["credit_account_id", "status"])
    op.create_index("ix_ledger_hold_status_expiry", "ledger_hold", ["status", "expires_us"])
    op.create_table(
        "ledger_entry",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("book_id", sa.BigInteger(), sa.ForeignKey("ledger_book.id"), nullable=False),
        _money("book_seq"),
        _money("effective_us"),
        _money("recorded_us"),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True, index=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("meta", JSON, nullable=False),
        sa.Column("reverses_entry_id", sa.BigInteger(), sa.ForeignKey("ledger_entry.id"), nullable=True,
                  unique=True),
        sa.Column("hold_id", sa.BigInteger(), sa.ForeignKey("ledger_hold.id"), nullable=True, unique=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("book_id", "book_seq", name="uq_ledger_entry_book_seq"),
    )
    op.create_table(
        "ledger_posting",
        sa.Column("id", BigId, primary_key=True),
        # Deferred: postings are written before their entry, whose insert trigger checks they balance.
        sa.Column("entry_id", sa.BigInteger(),
                  sa.ForeignKey("ledger_entry.id", deferrable=True, initially="DEFERRED"),
                  nullable=False, index=True),
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("ledger_account.id"), nullable=False),
        _money("amount"),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("account_seq"),
        _money("balance_after"),
        _money("effective_us"),
        sa.CheckConstraint("amount <> 0", name="ck_ledger_posting_amount"),
        sa.UniqueConstraint("account_id", "account_seq", name="uq_ledger_posting_account_seq"),
    )
    op.create_index("ix_ledger_posting_account_effective", "ledger_posting", ["account_id", "effective_us"])
    op.create_table(
        "ledger_account_day",
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("ledger_account.id"), primary_key=True),
        sa.Column("day", sa.Integer(), primary_key=True, autoincrement=False),
        _money("closing"),
    )
    dialect = op.get_bind().dialect.name
    for statement in (POSTGRES_GUARDS if dialect == "postgresql" else SQLITE_GUARDS):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS ledger_posting_guard() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS ledger_entry_balanced() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS ledger_account_guard() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS ledger_hold_guard() CASCADE")
    for table in ("ledger_account_day", "ledger_posting", "ledger_entry", "ledger_hold",
                  "ledger_account", "ledger_book"):
        op.drop_table(table)


APPEND_ONLY = "ledger entries and postings are append-only: correct a mistake with a reversing entry"

SQLITE_GUARDS = [
    *[
        f"""CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table}
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"""
        for table in ("ledger_entry", "ledger_posting") for verb in ("update", "delete")
    ],
    *[
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, 'ledger rows are never deleted'); END"""
        for table in ("ledger_account", "ledger_hold", "ledger_book")
    ],
    """CREATE TRIGGER ledger_posting_guard BEFORE INSERT ON ledger_posting BEGIN
         SELECT RAISE(ABORT, 'ledger entry is already committed: postings cannot be added to it')
           WHERE EXISTS (SELECT 1 FROM ledger_entry WHERE id = NEW.entry_id);
         SELECT RAISE(ABORT, 'posting refused: account is closed or in another currency')
           WHERE NOT EXISTS (SELECT 1 FROM ledger_account
                             WHERE id = NEW.account_id AND status = 'open' AND currency = NEW.currency);
       END""",
    """CREATE TRIGGER ledger_entry_balanced BEFORE INSERT ON ledger_entry BEGIN
         SELECT RAISE(ABORT, 'journal entry needs at least two postings')
           WHERE (SELECT count(*) FROM ledger_posting WHERE entry_id = NEW.id) < 2;
         SELECT RAISE(ABORT, 'journal entry does not sum to zero')
           WHERE EXISTS (SELECT 1 FROM ledger_posting WHERE entry_id = NEW.id
                         GROUP BY currency HAVING sum(amount) <> 0);
       END""",
    """CREATE TRIGGER ledger_account_guard BEFORE UPDATE ON ledger_account BEGIN
         SELECT RAISE(ABORT, 'an account''s identity, type, side and currency never change')
           WHERE NEW.id IS NOT OLD.id OR NEW.uuid IS NOT OLD.uuid OR NEW.code IS NOT OLD.code
              OR NEW.book_id IS NOT OLD.book_id OR NEW.type IS NOT OLD.type
              OR NEW.normal_side IS NOT OLD.normal_side OR NEW.currency IS NOT OLD.currency;
       END""",
    """CREATE TRIGGER ledger_hold_guard BEFORE UPDATE ON ledger_hold BEGIN
         SELECT RAISE(ABORT, 'a hold is resolved once, and its terms never change')
           WHERE OLD.status <> 'pending' OR NEW.amount IS NOT OLD.amount
              OR NEW.debit_account_id IS NOT OLD.debit_account_id
              OR NEW.credit_account_id IS NOT OLD.credit_account_id
              OR NEW.idempotency_key IS NOT OLD.idempotency_key OR NEW.uuid IS NOT OLD.uuid;
       END""",
]

POSTGRES_GUARDS = [
    f"""CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_TABLE_NAME IN ('ledger_entry', 'ledger_posting') THEN
            RAISE EXCEPTION '{APPEND_ONLY}';
          END IF;
          RAISE EXCEPTION 'ledger rows are never deleted';
        END $$""",
    *[
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"""
        for table in ("ledger_entry", "ledger_posting")
    ],
    *[
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"""
        for table in ("ledger_account", "ledger_hold", "ledger_book")
    ],
    *[
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"""
        for table in ("ledger_entry", "ledger_posting", "ledger_account", "ledger_hold", "ledger_book")
    ],
    """CREATE FUNCTION ledger_posting_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM ledger_entry WHERE id = NEW.entry_id) THEN
            RAISE EXCEPTION 'ledger entry is already committed: postings cannot be added to it';
          END IF;
          IF NOT EXISTS (SELECT 1 FROM ledger_account
                         WHERE id = NEW.account_id AND status = 'open' AND currency = NEW.currency) THEN
            RAISE EXCEPTION 'posting refused: account is closed or in another currency';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER ledger_posting_guard BEFORE INSERT ON ledger_posting
       FOR EACH ROW EXECUTE FUNCTION ledger_posting_guard()""",
    """CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF (SELECT count(*) FROM ledger_posting WHERE entry_id = NEW.id) < 2 THEN
            RAISE EXCEPTION 'journal entry needs at least two postings';
          END IF;
          IF EXISTS (SELECT 1 FROM ledger_posting WHERE entry_id = NEW.id
                     GROUP BY currency HAVING sum(amount) <> 0) THEN
            RAISE EXCEPTION 'journal entry does not sum to zero';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER ledger_entry_balanced BEFORE INSERT ON ledger_entry
       FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced()""",
    """CREATE FUNCTION ledger_account_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF (NEW.id, NEW.uuid, NEW.code, NEW.book_id, NEW.type, NEW.normal_side, NEW.currency)
             IS DISTINCT FROM
             (OLD.id, OLD.uuid, OLD.code, OLD.book_id, OLD.type, OLD.normal_side, OLD.currency) THEN
            RAISE EXCEPTION 'an account''s identity, type, side and currency never change';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER ledger_account_guard BEFORE UPDATE ON ledger_account
       FOR EACH ROW EXECUTE FUNCTION ledger_account_guard()""",
    """CREATE FUNCTION ledger_hold_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.status <> 'pending'
             OR (NEW.uuid, NEW.idempotency_key, NEW.amount, NEW.debit_account_id, NEW.credit_account_id)
                IS DISTINCT FROM
                (OLD.uuid, OLD.idempotency_key, OLD.amount, OLD.debit_account_id, OLD.credit_account_id) THEN
            RAISE EXCEPTION 'a hold is resolved once, and its terms never change';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER ledger_hold_guard BEFORE UPDATE ON ledger_hold
       FOR EACH ROW EXECUTE FUNCTION ledger_hold_guard()""",
]
