"""The scheduler's tables (prefix ``scheduler_``), as migration ``0006_scheduler`` creates them.

Times are integer microseconds since the Unix epoch (UTC), as everywhere else in the wallet.
"""
from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Date, Integer, MetaData, String, Table, Text

BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

lease_t = Table(
    "scheduler_lease", metadata,
    Column("name", String(60), primary_key=True),
    Column("holder", String(120), nullable=True),
    Column("expires_us", BigInteger, nullable=False),
    Column("generation", BigInteger, nullable=False),
    Column("acquired_us", BigInteger, nullable=True),
    Column("renewed_us", BigInteger, nullable=True),
)

run_t = Table(
    "scheduler_run", metadata,
    Column("id", BigId, primary_key=True),
    Column("run_key", String(200), nullable=False, unique=True),
    Column("job", String(60), nullable=False),
    Column("due_us", BigInteger, nullable=False),
    Column("params", JSON, nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("holder", String(120), nullable=False),
    Column("generation", BigInteger, nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("finished_us", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    Column("summary", Text, nullable=True),
)

job_t = Table(
    "scheduler_job", metadata,
    Column("name", String(60), primary_key=True),
    Column("checked_through_us", BigInteger, nullable=False),
)

notice_t = Table(
    "scheduler_notice", metadata,
    Column("id", BigId, primary_key=True),
    Column("notice_key", String(200), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("subject", String(120), nullable=True),
    Column("due_on", Date, nullable=True),
    Column("message", Text, nullable=False),
    Column("details", JSON, nullable=False),
    Column("created_us", BigInteger, nullable=False),
)
