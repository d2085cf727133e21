"""Migration ``0007_stripe`` and ``wallet.stripe_gateway.tables`` describe the same tables, on both engines."""
from __future__ import annotations

from sqlalchemy import inspect

from ledger.db import make_engine
from wallet.stripe_gateway.tables import metadata


def test_migrated_tables_match_the_table_definitions(database_url):
    engine = make_engine(database_url)
    try:
        found = inspect(engine)
        assert {t for t in found.get_table_names() if t.startswith("stripe_")} == set(metadata.tables)
        for name, table in metadata.tables.items():
            columns = {c["name"]: c for c in found.get_columns(name)}
            assert set(columns) == {c.name for c in table.columns}, name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, f"{name}.{column.name}"
            fks = {(fk["constrained_columns"][0], fk["referred_table"]) for fk in found.get_foreign_keys(name)}
            # the wallet tables these point at live in another MetaData: compare by name
            assert fks == {(fk.parent.name, fk.target_fullname.split(".")[0]) for fk in table.foreign_keys}, name
            indexes = {i["name"] for i in found.get_indexes(name)}
            assert {i.name for i in table.indexes} <= indexes, name
    finally:
        engine.dispose()
