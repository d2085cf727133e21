"""A job that moves money, for the crash tests: it records one funding receipt with an idempotency key derived
from its run key, as a bank-feed job would. ``then`` runs after the money is recorded (to crash there)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

from wallet.domain import wallets
from wallet.domain.unit_of_work import SYSTEM
from wallet.scheduler import Job, JobContext, Occurrence

DUE = datetime(2026, 4, 6, 6, 0, tzinfo=timezone.utc)
AMOUNT = 5_000


def pay_in_job(wallet_id: str, stream_id: str, then: Callable[[JobContext], None] = lambda ctx: None) -> Job:
    def due(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
        return [Occurrence("pay_in", f"pay_in:{stream_id}:{DUE.date().isoformat()}", DUE,
                           {"wallet": wallet_id, "stream": stream_id})]

    def run(ctx: JobContext, occ: Occurrence) -> str:
        entry = wallets.record_funding(ctx.uow, occ.params["wallet"], occ.params["stream"], AMOUNT, DUE.date(),
                                       actor=SYSTEM, key=ctx.key())
        then(ctx)
        return f"recorded {entry.id}"

    return Job("pay_in", "records a receipt (tests)", due, run, first_lookback=timedelta(days=30))
