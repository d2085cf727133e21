"""The scheduler's monthly report job: on the 1st, for each wallet that existed before it, the report of the
month before is kept as sent and a notice left for the holder and each appointee (``monthly.send_monthly_report``,
once per wallet and month however often the run is retried)."""
from __future__ import annotations

from datetime import date, datetime

from wallet.reports.monthly import send_monthly_report
from wallet.scheduler.jobs import Job, JobContext, Occurrence, _statements_due


def _reports_due(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
    # The same runs as the monthly statement (the 1st, each wallet opened before it, the month before).
    return [Occurrence("monthly_report", f"monthly_report:{o.params['wallet']}:{o.params['month'][:7]}", o.due_at,
                       dict(o.params)) for o in _statements_due(ctx, after, upto)]


def _send(ctx: JobContext, occ: Occurrence) -> str:
    month = date.fromisoformat(occ.params["month"])
    sent = send_monthly_report(ctx.uow, occ.params["wallet"], month)
    return (f"monthly report for {month:%B %Y} of wallet {occ.params['wallet']}: sent to {len(sent)} "
            f"{'person' if len(sent) == 1 else 'people'}")


def monthly_report_job() -> Job:
    return Job("monthly_report", "Send each wallet's monthly report to its holder and appointees (on the 1st).",
               _reports_due, _send)
