"""HMRC submissions recorded in the database (migration ``0016_scheduled_payroll``): the scheduler's
``SubmissionStore`` for ``hmrc_export.gateway.GatewayClient``.

Each submission the scheduler sends has a purpose (``fps:<pay run>``, ``eps:<employer>:<tax year>:<month>``),
unique in the table. ``for_purpose`` gives a store whose ``record_submission`` writes that purpose with the
row; the gateway client records a submission before sending it, so a second submission for a purpose fails
on the unique key before anything reaches HMRC. Being in the database (not a folder on one host), the record
follows the lead to whichever scheduler process holds it. Messages are stored as the client hands them over:
with the credentials redacted.
"""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Integer, MetaData, String, Table, Text, and_, or_,
                        select, update)
from sqlalchemy.engine import Connection

from hmrc_export.gateway import State, Submission
from ledger.clock import from_us
from ledger.db import Database

metadata = MetaData()

submission_t = Table(
    "hmrc_submission", metadata,
    Column("id", String(64), primary_key=True),
    Column("purpose_key", String(200), nullable=True, unique=True),
    Column("employer_id", String(64), nullable=True),
    Column("message_class", String(60), nullable=False),
    Column("message", Text, nullable=False),
    Column("irmark", String(64), nullable=True),
    Column("state", String(10), nullable=False),
    Column("correlation_id", String(64), nullable=True),
    Column("response_endpoint", String(500), nullable=True),
    Column("poll_interval", Integer, nullable=True),
    Column("response", Text, nullable=True),
    Column("errors", JSON, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

_CHANGEABLE = {"state", "correlation_id", "response_endpoint", "poll_interval", "response", "errors", "deleted"}


class PurposeTaken(Exception):
    """A submission for this purpose is already recorded: it is not sent again."""


def _submission(row: Any) -> Submission:
    return Submission(
        id=row.id, message_class=row.message_class, message=row.message.encode("utf-8"), irmark=row.irmark,
        state=State(row.state), correlation_id=row.correlation_id, response_endpoint=row.response_endpoint,
        poll_interval=row.poll_interval, response=row.response.encode("utf-8") if row.response is not None else None,
        errors=tuple(row.errors or ()), deleted=bool(row.deleted),
        created_at=from_us(row.created_us).isoformat(timespec="seconds"),
        updated_at=from_us(row.updated_us).isoformat(timespec="seconds"))


class DatabaseSubmissionStore:
    """A ``hmrc_export.gateway.SubmissionStore`` over ``hmrc_submission``. ``now_us`` gives the time to record."""

    def __init__(self, db: Database, now_us: Callable[[], int], *, purpose: str | None = None,
                 employer_id: str | None = None) -> None:
        self.db = db
        self.now_us = now_us
        self.purpose = purpose
        self.employer_id = employer_id

    def for_purpose(self, purpose: str, employer_id: str | None = None) -> "DatabaseSubmissionStore":
        return DatabaseSubmissionStore(self.db, self.now_us, purpose=purpose, employer_id=employer_id)

    # -- the SubmissionStore protocol --------------------------------------------------------------------
    def record_submission(self, submission: Submission) -> None:
        now = self.now_us()

        def work(conn: Connection) -> None:
            if self.purpose is not None:
                taken = conn.execute(select(submission_t.c.id).where(
                    submission_t.c.purpose_key == self.purpose)).first()
                if taken is not None:
                    raise PurposeTaken(f"{self.purpose} was submitted already (submission {taken.id}); it is not "
                                       "sent again")
            conn.execute(submission_t.insert(), dict(
                id=submission.id, purpose_key=self.purpose, employer_id=self.employer_id,
                message_class=submission.message_class, message=submission.message.decode("utf-8"),
                irmark=submission.irmark, state=submission.state.value, correlation_id=submission.correlation_id,
                response_endpoint=submission.response_endpoint, poll_interval=submission.poll_interval,
                response=submission.response.decode("utf-8") if submission.response is not None else None,
                errors=list(submission.errors), deleted=submission.deleted, created_us=now, updated_us=now))

        # the unique purpose_key stops a racing second insert too (an IntegrityError): nothing is sent either way
        self.db.write(work)

    def update_state(self, submission_id: str, **changes: object) -> Submission:
        unknown = set(changes) - _CHANGEABLE
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))} of a recorded submission")
        values: dict[str, object] = dict(changes)
        if "state" in values:
            values["state"] = State(values["state"]).value
        if values.get("response") is not None:
            values["response"] = bytes(values["response"]).decode("utf-8")  # type: ignore[arg-type]
        if "errors" in values:
            values["errors"] = list(values["errors"])  # type: ignore[call-overload]
        values["updated_us"] = self.now_us()

        def work(conn: Connection) -> Any:
            conn.execute(update(submission_t).where(submission_t.c.id == submission_id).values(**values))
            return conn.execute(select(submission_t).where(submission_t.c.id == submission_id)).one()

        return _submission(self.db.write(work))

    def get(self, submission_id: str) -> Submission:
        with self.db.read() as conn:
            row = conn.execute(select(submission_t).where(submission_t.c.id == submission_id)).first()
        if row is None:
            raise KeyError(f"no HMRC submission {submission_id}")
        return _submission(row)

    def find_pending(self) -> list[Submission]:
        """Waiting for HMRC's answer, or answered but HMRC not yet told to delete its copy (this purpose only,
        when the store has one)."""
        q = select(submission_t).where(or_(
            submission_t.c.state == State.PENDING.value,
            and_(submission_t.c.correlation_id.is_not(None), submission_t.c.deleted.is_(False))))
        if self.purpose is not None:
            q = q.where(submission_t.c.purpose_key == self.purpose)
        with self.db.read() as conn:
            return [_submission(r) for r in conn.execute(q.order_by(submission_t.c.created_us, submission_t.c.id))]

    # -- reading by purpose ------------------------------------------------------------------------------
    def by_purpose(self, purpose: str) -> Submission | None:
        with self.db.read() as conn:
            row = conn.execute(select(submission_t).where(submission_t.c.purpose_key == purpose)).first()
        return _submission(row) if row is not None else None

    def purposes(self, prefix: str) -> dict[str, Submission]:
        """Every recorded submission whose purpose starts with ``prefix``, by purpose."""
        with self.db.read() as conn:
            rows = conn.execute(select(submission_t).where(submission_t.c.purpose_key.like(prefix + "%"))).all()
        return {r.purpose_key: _submission(r) for r in rows}

