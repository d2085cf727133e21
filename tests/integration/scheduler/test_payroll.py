"""The scheduler runs the payroll: a year of four-weekly pay runs with a ManualClock and the fake HMRC gateway.

Asha employs Jo, a PA paid four-weekly on Fridays from 24 April 2026 for the four weeks ending two weeks
before. The test plays the people: Jo's timesheet is approved the day after each period ends, and each run the
scheduler calculates is reviewed, approved and finalised by two people. The scheduler calculates, posts, and
submits every FPS (and the EPS claiming Employment Allowance) to the fake gateway, each once.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from hmrc_export.gateway import State
from payroll.model import Address, BankDetails, PayRates, PayRunStatus, Shift
from tests.support.fake_hmrc_gateway import FakeHMRCGateway
from wallet.domain import wallets
from wallet.domain.payroll_posting import pay_run_postings
from wallet.domain.unit_of_work import SYSTEM
from wallet.scheduler import Scheduler, notices
from wallet.scheduler.jobs import Occurrence, default_jobs
from wallet.scheduler.payroll_jobs import payroll_jobs, submit_fps
from wallet.scheduler.store import all_runs
from wallet.scheduler.submissions import DatabaseSubmissionStore, submission_t

from .conftest import TODAY

NINE = time(9, 0, tzinfo=timezone.utc)
FIRST_PAY_DAY = date(2026, 4, 24)
FIRST_PERIOD = (date(2026, 3, 14), date(2026, 4, 10))   # paid two weeks after it ends


@pytest.fixture
def gateway(monkeypatch):
    with FakeHMRCGateway(poll_interval=0) as fake:
        monkeypatch.setenv("WALLET_HMRC_GATEWAY_URL", fake.submission_url)
        monkeypatch.setenv("WALLET_HMRC_SENDER_ID", fake.sender_id)
        monkeypatch.setenv("WALLET_HMRC_PASSWORD", fake.password)
        yield fake


@pytest.fixture
def asha(payroll, world):
    e = payroll.add_employer(name="Asha Khan", kind="budget_holder", hmrc_office_number="120",
                             paye_reference="A120", accounts_office_reference="120PA00012345",
                             claims_employment_allowance=True, address=Address(("14 Elm Road", "Leeds"), "LS6 2AB"),
                             owner_ref=world.wallet.id, actor="payroll-admin")
    wallets.update_wallet(world.uow, world.wallet.id, actor=SYSTEM, payroll_employer_id=e.id)
    jo = payroll.add_employee(
        e.id, payroll_id="PA1", forenames=["Jo"], surname="Smith", birth_date=date(1986, 6, 1),
        start_date=date(2026, 3, 1), frequency="four_weekly", tax_code="1257L", nino="JS102938B", gender="F",
        address=Address(("3 Park Lane", "Leeds"), "LS7 4DE"), starter_declaration="A",
        bank_details=BankDetails("J Smith", "402716", "71234567"), irregular_hours=True, actor="payroll-admin")
    payroll.add_contract(jo.id, starts=date(2026, 3, 1), rates=PayRates(standard=1275, night=1450, weekend=1400,
                                                                        bank_holiday=1915, sleep_in_flat=9500),
                         contracted_hours_per_week=Decimal("28"), actor="payroll-admin")
    payroll.create_pay_run(e.id, period_start=FIRST_PERIOD[0], period_end=FIRST_PERIOD[1],
                           payment_date=FIRST_PAY_DAY, frequency="four_weekly", actor="payroll-admin")
    return e, jo


def _shifts(first: date) -> list[Shift]:
    out = []
    for offset in range(28):
        day = first + timedelta(days=offset)
        if day.weekday() < 5:
            starts = datetime(day.year, day.month, day.day, 8, tzinfo=timezone.utc)
            out.append(Shift(starts, starts + timedelta(hours=5 + offset % 2)))
    return out


def _play_people(payroll, employer_id: str, jo, day: date) -> None:
    """Jo's timesheet the day after each period ends; each calculated run reviewed, approved and finalised."""
    ends = FIRST_PERIOD[1]
    while ends < day:
        if ends + timedelta(days=1) == day:
            sheet = payroll.save_timesheet(jo.id, period_start=ends - timedelta(days=27), period_end=ends,
                                           shifts=_shifts(ends - timedelta(days=27)), actor="jo")
            payroll.submit_timesheet(sheet.id, actor="jo")
            payroll.approve_timesheet(sheet.id, actor="asha")
        ends += timedelta(days=28)
    for run in payroll.list_runs(employer_id, status=PayRunStatus.CALCULATED):
        payroll.review(run.id, actor="payroll-admin")
        payroll.approve(run.id, actor="asha")
        payroll.finalise(run.id, actor="payroll-admin")


def _submissions(db) -> list:
    with db.read() as conn:
        return list(conn.execute(submission_t.select().order_by(submission_t.c.created_us, submission_t.c.id)))


@pytest.mark.slow
def test_a_year_of_pay_runs_is_calculated_posted_and_reported_to_hmrc_once_each(world, payroll, asha, gateway):
    employer, jo = asha
    s = Scheduler(world.uow, payroll=payroll, holder="leader")
    end = TODAY + timedelta(days=365)                      # 6 April 2027
    day = TODAY
    while day <= end:
        world.clock.set(datetime.combine(day, NINE))
        if day == date(2026, 10, 1):                       # restarted mid-year: a new process takes the lead
            s = Scheduler(world.uow, payroll=payroll, holder="restarted")
        report = s.tick()
        assert report.leader and not report.failed, report.failed
        _play_people(payroll, employer.id, jo, day)
        day += timedelta(days=1)

    runs = all_runs(world.uow.db)
    assert all(r.state == "done" and r.attempts == 1 for r in runs)
    by_job = Counter(r.job for r in runs)
    assert {j: by_job[j] for j in ("pay_run_calculation", "payroll_posting", "fps_submission", "fps_reminder",
                                   "eps_submission", "hmrc_payment_reminder")} == {
        "pay_run_calculation": 13, "payroll_posting": 13, "fps_submission": 13, "fps_reminder": 13,
        "eps_submission": 11, "hmrc_payment_reminder": 11}

    pay_runs = payroll.list_runs(employer.id)
    assert len(pay_runs) == 13 and all(r.status is PayRunStatus.FINALISED for r in pay_runs)
    assert [r.payment_date for r in pay_runs][-4:] == [date(2026, 12, 31), date(2027, 1, 29), date(2027, 2, 26),
                                                       date(2027, 3, 25)]   # New Year's Day, Good Friday moved
    assert len({(r.period_start, r.period_end) for r in pay_runs}) == 13
    assert all((r.period_end - r.period_start).days == 27 for r in pay_runs)
    calculated_by = Counter(who for r in pay_runs for status, who, _ in payroll.get_run(r.id).history
                            if status == "calculated")
    assert calculated_by == {"scheduler": 13}

    postings = pay_run_postings(world.uow, world.wallet.id, actor=SYSTEM)
    assert sorted(p.run_id for p in postings) == sorted(r.id for r in pay_runs)
    assert all(p.figures.net_pay > 0 for p in postings)

    subs = _submissions(world.uow.db)
    assert Counter(r.purpose_key.split(":")[0] for r in subs) == {"fps": 13, "eps": 1}
    assert {r.purpose_key for r in subs if r.purpose_key.startswith("fps:")} == {f"fps:{r.id}" for r in pay_runs}
    assert all(r.state == State.ACCEPTED.value and r.deleted for r in subs)
    assert gateway.count("request") == 14                  # 13 FPS and one EPS, each sent once
    assert all(item.deleted for item in gateway.submissions.values())
    assert all(b"JS102938B" in item.message for item in gateway.submissions.values()
               if b"FullPaymentSubmission" in item.message)
    assert all(b"correct horse" not in r.message.encode() for r in subs)   # the password is not stored

    assert notices(world.uow.db, kind="fps_reminder") == []          # every FPS was accepted before its day
    calculated = notices(world.uow.db, kind="pay_run_calculated")
    assert len(calculated) == 13 and "Review it, approve it and finalise it" in calculated[0].message
    assert "waiting for a decision" not in calculated[0].message
    eps_subs = [r for r in subs if r.purpose_key.startswith("eps:")]
    assert eps_subs[0].purpose_key == f"eps:{employer.id}:2026-27:01" and b"EmpAllceInd" in eps_subs[0].message.encode()

    # the payment notices state the P32 amounts: together what the postings owe HMRC for tax months 1 to 11
    pay_notes = notices(world.uow.db, kind="hmrc_payment_reminder")
    assert len(pay_notes) == 11
    owed = sum(p.figures.hmrc for p in postings if p.payment_date < date(2027, 3, 6))
    assert sum(n.details["amount_due"] for n in pay_notes) == owed > 0
    august = next(n for n in pay_notes if n.details["tax_month"] == 4)
    assert august.due_on == date(2026, 8, 21)             # the 22nd is a Saturday
    assert "to reach HMRC by Friday 21 August 2026" in august.message

    # ticking again, or another scheduler once the lease runs out, finds nothing to send
    assert s.tick().done == []
    again = Scheduler(world.uow, payroll=payroll, holder="third").tick(world.clock.now() + timedelta(minutes=2))
    assert again.leader and again.done == []
    assert gateway.count("request") == 14 and len(_submissions(world.uow.db)) == 14


def _to_finalised_first_run(world, payroll, asha):
    employer, jo = asha
    world.clock.set(datetime(2026, 4, 11, 9, 0, tzinfo=timezone.utc))
    _play_people(payroll, employer.id, jo, date(2026, 4, 11))     # the timesheet for the first period
    run = payroll.list_runs(employer.id)[0]
    payroll.calculate(run.id, actor="payroll-admin")
    payroll.review(run.id, actor="reviewer")
    payroll.approve(run.id, actor="asha")
    return payroll.finalise(run.id, actor="payroll-admin")


def test_a_crash_between_submitting_and_polling_is_resumed_by_polling_never_resent(world, payroll, asha, gateway):
    run = _to_finalised_first_run(world, payroll, asha)
    crashes = []

    def crash_before_first_poll(seconds) -> None:
        if not crashes:
            crashes.append(seconds)
            raise ConnectionResetError("the scheduler's host went down")

    jobs = [j for j in payroll_jobs(sleep=crash_before_first_poll) if j.name == "fps_submission"]
    s = Scheduler(world.uow, payroll=payroll, jobs=jobs, holder="s")
    first = s.tick()
    assert first.failed == [f"fps_submission:{run.id}"]
    [sub] = _submissions(world.uow.db)
    assert sub.state == "pending" and sub.correlation_id       # acknowledged by HMRC, answer not yet fetched
    assert gateway.count("request") == 1 and gateway.count("poll", "submit") == 0

    world.clock.advance(minutes=1)
    second = s.tick()
    assert second.done == [f"fps_submission:{run.id}"]
    [sub] = _submissions(world.uow.db)
    assert (sub.state, sub.deleted) == ("accepted", True)
    assert gateway.count("request") == 1 and gateway.count("poll", "submit") >= 1   # polled, never sent again
    [run_record] = all_runs(world.uow.db)
    assert (run_record.state, run_record.attempts) == ("done", 2)
    world.clock.advance(minutes=1)
    assert s.tick().done == [] and gateway.count("request") == 1


def test_two_schedulers_doing_the_same_fps_send_it_once(world, payroll, asha, gateway):
    run = _to_finalised_first_run(world, payroll, asha)
    [occ] = [o for o in next(j for j in default_jobs() if j.name == "fps_submission")
             .due(_context(world, payroll), world.clock.now() - timedelta(days=1), world.clock.now())]
    assert occ.params["run"] == run.id
    first = submit_fps(_context(world, payroll, occ.key), occ)
    second = submit_fps(_context(world, payroll, occ.key), occ)    # a second process, unaware of the first
    assert "accepted by HMRC" in first and "accepted by HMRC" in second
    assert gateway.count("request") == 1
    assert DatabaseSubmissionStore(world.uow.db, lambda: 0).by_purpose(f"fps:{run.id}").state is State.ACCEPTED


def test_without_credentials_a_person_is_reminded_and_nothing_is_sent(world, payroll, asha, monkeypatch):
    monkeypatch.delenv("WALLET_HMRC_GATEWAY_URL", raising=False)
    employer, _ = asha
    run = _to_finalised_first_run(world, payroll, asha)
    s = Scheduler(world.uow, payroll=payroll, holder="s")
    world.clock.set(datetime(2026, 4, 23, 9, 0, tzinfo=timezone.utc))   # the working day before pay day
    report = s.tick()
    assert not report.failed
    assert f"payroll_posting:{run.id}" in report.done                 # posted all the same
    assert not any(k.startswith("fps_submission") for k in report.done)
    [reminder] = notices(world.uow.db, kind="fps_reminder")
    assert reminder.due_on == date(2026, 4, 24) and "a person sends it" in reminder.message
    assert _submissions(world.uow.db) == []


def test_a_crash_after_creating_a_run_calculates_that_run_never_a_second(world, payroll, asha):
    employer, jo = asha
    _to_finalised_first_run(world, payroll, asha)
    [job] = [j for j in payroll_jobs() if j.name == "pay_run_calculation"]
    ctx = _context(world, payroll)
    [occ] = [o for o in job.due(ctx, datetime(2026, 5, 1, tzinfo=timezone.utc),
                                datetime(2026, 5, 20, tzinfo=timezone.utc))]
    assert occ.params["pay_day"] == "2026-05-22"
    # the first attempt created the draft and died before calculating it
    payroll.create_pay_run(employer.id, period_start=date(2026, 4, 11), period_end=date(2026, 5, 8),
                           payment_date=date(2026, 5, 22), frequency="four_weekly", actor="scheduler")
    world.clock.set(datetime(2026, 5, 15, 9, 0, tzinfo=timezone.utc))
    said = job.run(_context(world, payroll, occ.key), occ)
    assert "is calculated" in said and "Jo Smith's timesheet" not in said
    regular = payroll.list_runs(employer.id)
    assert len(regular) == 2 and regular[1].status is PayRunStatus.CALCULATED
    job.run(_context(world, payroll, occ.key), occ)          # and a repeat of the run changes nothing
    assert len(notices(world.uow.db, kind="pay_run_calculated")) == 1
    assert len(payroll.list_runs(employer.id)) == 2


def _context(world, payroll, key: str = ""):
    from wallet.scheduler.jobs import JobContext

    ctx = JobContext(world.uow, world.clock, payroll, now=world.clock.now())
    ctx.run_key = key
    return ctx


def test_an_occurrence_for_a_missing_period_is_blocked_while_an_earlier_run_is_unfinished(world, payroll, asha):
    employer, _ = asha
    [job] = [j for j in payroll_jobs() if j.name == "pay_run_calculation"]
    occ = Occurrence("pay_run_calculation", "pay_run_calculation:x:2026-05-22", world.clock.now(), {
        "employer": employer.id, "employer_name": employer.name, "frequency": "four_weekly",
        "pay_day": "2026-05-22", "nominal": "2026-05-22"})
    said = job.run(_context(world, payroll, occ.key), occ)
    assert "was not started" in said and "is still draft" in said
    assert len(payroll.list_runs(employer.id)) == 1
