"""The access log: who looked at or did what to a wallet, and when, including what they were refused.

Rows are written by the services themselves (``Tx.audit`` and ``permissions.require``), with the work when it
is done, or on their own when it is refused. The table is append-only (database triggers refuse updates and
deletes). The holder and appointees may read it; reading it is itself logged.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ledger.clock import from_us, to_us
from wallet.domain.permissions import Action, require
from wallet.domain.tables import access_log_t
from wallet.domain.unit_of_work import Tx, UnitOfWork


@dataclass(frozen=True)
class AccessRecord:
    at: datetime
    actor: str
    action: str
    outcome: str
    """done, denied (not allowed), or refused (allowed, but the service said no: not enough money...)."""
    detail: str


def access_log(uow: UnitOfWork, wallet_id: str, *, actor: str, since: datetime | None = None,
               limit: int = 500) -> list[AccessRecord]:
    """The wallet's access log, newest first."""

    def work(tx: Tx) -> list[AccessRecord]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_ACCESS_LOG, row, "access log")
        # This view's own row is written when the transaction ends, so it shows up from the next read.
        q = select(access_log_t).where(access_log_t.c.wallet_id == row.id)
        if since is not None:
            q = q.where(access_log_t.c.at_us >= to_us(since))
        rows = tx.conn.execute(q.order_by(access_log_t.c.id.desc()).limit(limit))
        return [AccessRecord(from_us(r.at_us), r.actor, r.action, r.outcome, r.detail) for r in rows]

    return uow.write(work)
