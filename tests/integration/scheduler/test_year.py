"""A simulated year with a ManualClock: the scheduler ticks each morning at 09:00 from Monday 6 April 2026 to
Tuesday 6 April 2027. Leeds pays on time every four weeks; the holder's own contribution stops after June.
Nothing is spent, so money piles up. An employer pays four-weekly on Fridays from 24 April 2026."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta, timezone

from wallet.domain import alerts, wallets
from wallet.domain.unit_of_work import SYSTEM
from wallet.scheduler import Scheduler, notices
from wallet.scheduler.store import all_runs

import pytest

from .conftest import TODAY

NINE = time(9, 0, tzinfo=timezone.utc)


def _funding_dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=28 * k) for k in range(20) if first + timedelta(days=28 * k) <= last]


@pytest.mark.slow
def test_a_year_of_four_weekly_schedules_runs_each_job_exactly_as_often_as_due(world, payroll, employer):
    s = Scheduler(world.uow, payroll=payroll, holder="leader")
    end = TODAY + timedelta(days=365)                      # 6 April 2027
    council_dates = _funding_dates(TODAY, end)[1:]          # the first was paid when the wallet opened
    own_dates = council_dates[:2]                           # 4 May and 1 June; then it stops
    day = TODAY
    while day <= end:
        world.clock.set(datetime.combine(day, NINE))
        if day in council_dates:
            wallets.record_funding(world.uow, world.wallet.id, world.council.id, 186_000, day, actor=SYSTEM,
                                   key=f"bank-{day}")
        if day in own_dates:
            wallets.record_funding(world.uow, world.wallet.id, world.own.id, 12_000, day, actor=SYSTEM,
                                   key=f"own-{day}")
        report = s.tick()
        assert report.leader and not report.failed
        day += timedelta(days=1)

    runs = all_runs(world.uow.db)
    assert all(r.state == "done" and r.attempts == 1 for r in runs)
    assert len({r.key for r in runs}) == len(runs)
    by_job = Counter(r.job for r in runs)
    assert by_job == {
        "expire_holds": 366,          # one sweep each morning (the 95 missed 15-minute slots coalesce)
        "alert_checks": 366,          # 6 April 2026 to 6 April 2027 inclusive
        "funding_due": 26,            # 13 expected payments a stream whose grace days ended by 6 April 2027
        "pay_run_calculation": 13,    # pay days 24 April 2026 to Good Friday 2027
        "fps_reminder": 13,
        "eps_submission": 11,         # the 19ths of May 2026 to March 2027
        "hmrc_payment_reminder": 11,  # the 22nds of May 2026 to March 2027
        "monthly_statement": 12,      # April 2026 to March 2027
        "monthly_report": 12,         # the same months, each sent to the holder and both appointees
        "data_retention": 12,         # the 1sts of May 2026 to April 2027
    }

    raised = alerts.alerts(world.uow, world.wallet.id, actor=SYSTEM, include_dismissed=True)
    kinds = Counter(a.kind.value for a in raised)
    # own contribution missed from 29 June 2026 to 22 March 2027 (10 dates); a surplus each plan period from
    # 4 May 2026 (13 periods); never low, never overspent
    assert kinds == {"missed_funding": 10, "surplus": 13}
    missed = sorted(a.cause for a in raised if a.kind.value == "missed_funding")
    assert missed[0] == f"missed_funding:{world.own.code}:2026-06-29"
    assert all(f":{world.own.code}:" in c for c in missed)

    # nobody approves the first run here, so the scheduler calculates it and starts no other; pay days that
    # are bank holidays move to the working day before: New Year's Day and Good Friday 2027
    assert len(notices(world.uow.db, kind="pay_run_calculated")) == 1
    assert len(payroll.list_runs(employer.id)) == 1
    pay_notes = notices(world.uow.db, kind="pay_run_calculated") + notices(world.uow.db, kind="pay_run_blocked")
    pay_days = [n.due_on for n in pay_notes]
    assert date(2026, 12, 31) in pay_days and date(2027, 1, 1) not in pay_days
    assert date(2027, 3, 25) in pay_days and date(2027, 3, 26) not in pay_days
    good_friday = next(n for n in pay_notes if n.due_on == date(2027, 3, 25))
    assert "moved from Friday 26 March 2027" in good_friday.message
    reminder = next(r for r in runs if r.key == f"pay_run_calculation:{employer.id}:2027-03-25")
    assert reminder.due_at.date() == date(2027, 3, 18)  # five working days before

    fps = notices(world.uow.db, kind="fps_reminder")
    assert [n.due_on for n in fps][:2] == [date(2026, 4, 24), date(2026, 5, 22)]
    assert "Its pay run is calculated: finalise it" in fps[0].message
    hmrc = {n.details["tax_month"]: n.due_on for n in notices(world.uow.db, kind="hmrc_payment_reminder")}
    assert hmrc[1] == date(2026, 5, 22)                    # a Friday
    assert hmrc[3] == date(2026, 7, 22)
    assert hmrc[5] == date(2026, 9, 22)
    assert hmrc[8] == date(2026, 12, 22)
    assert hmrc[9] == date(2027, 1, 22)
    assert hmrc[10] == date(2027, 2, 22)                   # Monday
    assert hmrc[4] == date(2026, 8, 21)                    # 22 August 2026 is a Saturday: the Friday before
    # every tax month has a pay day and the employer claims no Employment Allowance: no EPS is due
    assert notices(world.uow.db, kind="eps_reminder") == []

    statements = notices(world.uow.db, kind="monthly_statement")
    assert statements[0].details == {"month": "2026-04-01", "in": 198_000, "out": 0, "closing": 198_000}
    assert "£1,980.00 came in" in statements[0].message
    assert len(notices(world.uow.db, kind="data_retention")) == 12
    reports = notices(world.uow.db, kind="monthly_report")
    assert len(reports) == 12 * 3 and reports[0].details["month"] == "2026-04-01"
    assert len(notices(world.uow.db)) == 13 + 13 + 11 + 12 + 12 + 12 * 3

    # ticking again, or restarting, finds nothing new to do
    assert s.tick().done == []
    again = Scheduler(world.uow, payroll=payroll, holder="restarted").tick(world.clock.now() + timedelta(minutes=2))
    assert again.leader and again.done == []
