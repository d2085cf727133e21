"""The live feed: on PostgreSQL, a notice on channel ``ledger_book`` when a transaction that added entries to a
book commits (payload ``'<book code> <newest sequence>'``), for the portal's Server-Sent Events
(``wallet/live/hub.py``). One notice per book per transaction, sent by the database at commit and never for a
rollback. SQLite has no notifications: the portal polls the entries table instead, so nothing changes there.

Revision ID: 0005_live
Revises: 0004_web
Create Date: 2026-11-24
"""
from alembic import op

revision = "0005_live"
down_revision = "0004_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""CREATE FUNCTION ledger_book_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('ledger_book', NEW.code || ' ' || NEW.entry_count);
            RETURN NULL;
        END $$""")
    op.execute("""CREATE TRIGGER ledger_book_notify AFTER UPDATE OF entry_count ON ledger_book
        FOR EACH ROW WHEN (NEW.entry_count > OLD.entry_count) EXECUTE FUNCTION ledger_book_notify()""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER ledger_book_notify ON ledger_book")
    op.execute("DROP FUNCTION ledger_book_notify()")
