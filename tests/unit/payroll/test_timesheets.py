from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from payroll.model import Absence, HourKind, PayRates, Shift, TimesheetStatus
from payroll.timesheets import TimesheetInvalid, TimesheetStatusError, approve, edit, hours_by_kind, \
    hours_for_minimum_wage, reject, sleep_in_nights, submit, timesheet_problems, validate_timesheet
from tests.unit.payroll.test_payrun_builders import LONDON, contract, employee, holiday, shift, sick, timesheet

PA = employee()
FIRST, LAST = date(2026, 4, 6), date(2026, 5, 5)


def draft(shifts=(), absences=(), expenses=0, pa=PA):
    return timesheet(pa, FIRST, LAST, shifts, absences, expenses, status=TimesheetStatus.DRAFT)


def problems(ts, pa=PA, **contract_changes):
    return timesheet_problems(ts, contract(pa, **contract_changes), pa)


def test_a_good_timesheet_passes():
    ts = draft([shift(date(2026, 4, 6)), shift(date(2026, 4, 7), "22:00", "07:00", HourKind.SLEEP_IN)],
               [sick(date(2026, 4, 8)), holiday(date(2026, 4, 9), "7.5")], expenses=1250)
    assert validate_timesheet(ts, contract(PA), PA) is None
    assert problems(ts) == ()


def test_overlapping_shifts_are_named():
    ts = draft([shift(date(2026, 4, 6), "09:00", "17:00"), shift(date(2026, 4, 6), "16:00", "20:00", HourKind.NIGHT)])
    with pytest.raises(TimesheetInvalid) as caught:
        validate_timesheet(ts, contract(PA), PA)
    assert caught.value.problems == (
        "shift 2 (Mon 6 Apr 2026 16:00 to 20:00, night hours) overlaps "
        "shift 1 (Mon 6 Apr 2026 09:00 to 17:00, standard hours)",)
    assert isinstance(caught.value, ValueError)


def test_back_to_back_shifts_do_not_overlap():
    assert problems(draft([shift(date(2026, 4, 6), "09:00", "13:00"), shift(date(2026, 4, 6), "13:00", "17:00")])) == ()


def test_a_shift_inside_a_long_one_overlaps_even_after_a_short_one():
    long = shift(date(2026, 4, 6), "08:00", "20:00")
    found = problems(draft([long, shift(date(2026, 4, 6), "09:00", "10:00"),
                            shift(date(2026, 4, 6), "11:00", "12:00")]))
    assert len(found) == 2 and all("overlaps shift 1" in p for p in found)


def test_work_when_woken_during_a_sleep_in_may_overlap_it_but_two_sleep_ins_may_not():
    night = date(2026, 4, 6)
    woken = draft([shift(night, "22:00", "07:00", HourKind.SLEEP_IN),
                   shift(date(2026, 4, 7), "02:00", "03:30", HourKind.NIGHT)])
    assert problems(woken) == ()
    twice = draft([shift(night, "22:00", "07:00", HourKind.SLEEP_IN),
                   shift(night, "23:00", "06:00", HourKind.SLEEP_IN)])
    assert [p for p in problems(twice) if "overlaps" in p] == [
        "shift 2 (Mon 6 Apr 2026 23:00 to Tue 7 Apr 2026 06:00, a sleep-in) overlaps "
        "shift 1 (Mon 6 Apr 2026 22:00 to Tue 7 Apr 2026 07:00, a sleep-in)"]


def test_impossible_times():
    start = datetime(2026, 4, 6, 9, tzinfo=LONDON)
    ts = draft([Shift(start, start), Shift(start + timedelta(hours=3), start + timedelta(hours=1)),
                Shift(start + timedelta(days=2), start + timedelta(days=3, hours=1))])
    found = problems(ts)
    assert found[0] == "shift 1 (Mon 6 Apr 2026 09:00 to 09:00, standard hours) ends before or when it starts"
    assert found[1].startswith("shift 2") and found[1].endswith("ends before or when it starts")
    assert found[2].endswith("lasts 25.00 hours; no shift can be longer than 24 hours")
    assert len(found) == 3


def test_a_full_24_hours_is_allowed():
    start = datetime(2026, 4, 6, 9, tzinfo=LONDON)
    assert problems(draft([Shift(start, start + timedelta(hours=24))])) == ()


def test_naive_times_are_refused():
    ts = draft([Shift(datetime(2026, 4, 6, 9), datetime(2026, 4, 6, 17))])
    assert problems(ts) == ("shift 1 (Mon 6 Apr 2026 09:00 to 17:00, standard hours) has a time without a time zone; "
                            "record times with their zone (e.g. Europe/London)",)


def test_dates_outside_the_period():
    ts = draft([shift(date(2026, 5, 6)), shift(date(2026, 5, 5), "22:00", "07:00", HourKind.SLEEP_IN)],
               [sick(date(2026, 4, 5))])
    found = problems(ts)
    # A night shift starting on the last day belongs to the period even though it ends after it.
    assert found == (
        "shift 1 (Wed 6 May 2026 09:00 to 17:00, standard hours) starts on Wed 6 May 2026, outside this "
        "timesheet's period Mon 6 Apr 2026 to Tue 5 May 2026",
        "the absence on Sun 5 Apr 2026 (sick) is outside this timesheet's period Mon 6 Apr 2026 to Tue 5 May 2026")


def test_a_kind_of_hour_the_contract_does_not_price():
    found = problems(draft([shift(date(2026, 4, 11), kind=HourKind.WEEKEND)]),
                     rates=PayRates(standard=1300))
    assert found == ("shift 1 (Sat 11 Apr 2026 09:00 to 17:00, weekend hours) is weekend hours, but the contract "
                     "has no rate for weekend hours",)


def test_expenses_and_absence_hours():
    ts = draft(absences=[Absence(date(2026, 4, 7), "holiday", D("-1")), Absence(date(2026, 4, 8), "holiday", D("25")),
                         Absence(date(2026, 4, 9), "holiday"), Absence(date(2026, 4, 10), "jury service")],
               expenses=-500)
    assert problems(ts) == (
        "expenses cannot be negative (-£5.00)",
        "the absence on Tue 7 Apr 2026 (holiday) has negative hours (-1)",
        "the absence on Wed 8 Apr 2026 (holiday) has 25 hours; a day has 24",
        "the absence on Thu 9 Apr 2026 (holiday) needs the hours of holiday taken",
        "the absence on Fri 10 Apr 2026 (jury service) must be \"sick\" or \"holiday\", not 'jury service'")


def test_sick_and_holiday_on_the_same_day():
    ts = draft(absences=[sick(date(2026, 4, 7)), holiday(date(2026, 4, 7), "4")])
    assert problems(ts) == ("Tue 7 Apr 2026 is recorded as both a sick day and a holiday; it can only be one",)


def test_work_before_starting_or_after_leaving():
    pa = employee(start_date=date(2026, 4, 10), leaving_date=date(2026, 4, 30))
    ts = draft([shift(date(2026, 4, 9)), shift(date(2026, 4, 10)), shift(date(2026, 4, 30)), shift(date(2026, 5, 1))],
               [sick(date(2026, 5, 4))], pa=pa)
    assert problems(ts, pa) == (
        "shift 1 (Thu 9 Apr 2026 09:00 to 17:00, standard hours) is before Sam Carer1 started on Fri 10 Apr 2026",
        "shift 1 (Thu 9 Apr 2026 09:00 to 17:00, standard hours) is outside the contract (from Fri 10 Apr 2026)",
        "shift 4 (Fri 1 May 2026 09:00 to 17:00, standard hours) is after Sam Carer1 left on Thu 30 Apr 2026",
        "the absence on Mon 4 May 2026 (sick) is after Sam Carer1 left on Thu 30 Apr 2026")


def test_every_problem_is_reported_at_once():
    ts = draft([shift(date(2026, 4, 6)), shift(date(2026, 4, 6), "10:00", "11:00")], [sick(date(2026, 4, 7)),
               holiday(date(2026, 4, 7), "3")], expenses=-1)
    with pytest.raises(TimesheetInvalid) as caught:
        validate_timesheet(ts, contract(PA), PA)
    assert len(caught.value.problems) == 3
    assert str(caught.value) == "; ".join(caught.value.problems)


def test_someone_elses_timesheet():
    other = employee(2)
    assert problems(draft(pa=other)) == ("this timesheet belongs to employee pa-2, not Sam Carer1",)


# Status moves ---------------------------------------------------------------------------------------------

def test_submit_approve():
    ts = submit(draft([shift(FIRST)]), by="pa-1")
    assert (ts.status, ts.submitted_by, ts.decided_by) == (TimesheetStatus.SUBMITTED, "pa-1", None)
    done = approve(ts, by="holder")
    assert (done.status, done.decided_by) == (TimesheetStatus.APPROVED, "holder")
    assert ts.status is TimesheetStatus.SUBMITTED   # values, not edited in place


def test_reject_needs_a_reason_then_edit_and_resubmit():
    ts = submit(draft([shift(FIRST)]), by="pa-1")
    with pytest.raises(TimesheetStatusError, match="say why"):
        reject(ts, by="holder", reason="  ")
    rejected = reject(ts, by="holder", reason="Tuesday was a holiday")
    assert (rejected.status, rejected.rejection_reason, rejected.decided_by) == (
        TimesheetStatus.REJECTED, "Tuesday was a holiday", "holder")
    fixed = edit(rejected, absences=(holiday(date(2026, 4, 7), "8"),))
    assert fixed.status is TimesheetStatus.REJECTED and fixed.rejection_reason == "Tuesday was a holiday"
    again = submit(fixed, by="pa-1")
    assert (again.status, again.rejection_reason, again.decided_by) == (TimesheetStatus.SUBMITTED, None, None)
    assert approve(again, by="holder").absences == (holiday(date(2026, 4, 7), "8"),)


@pytest.mark.parametrize("status, move", [
    (TimesheetStatus.DRAFT, lambda t: approve(t, by="x")),
    (TimesheetStatus.DRAFT, lambda t: reject(t, by="x", reason="no")),
    (TimesheetStatus.APPROVED, lambda t: reject(t, by="x", reason="no")),
    (TimesheetStatus.APPROVED, lambda t: approve(t, by="x")),
    (TimesheetStatus.APPROVED, lambda t: submit(t, by="x")),
    (TimesheetStatus.SUBMITTED, lambda t: submit(t, by="x")),
    (TimesheetStatus.SUBMITTED, lambda t: edit(t, expenses=5)),
    (TimesheetStatus.APPROVED, lambda t: edit(t, expenses=5)),
])
def test_wrong_moves_are_refused(status, move):
    with pytest.raises(TimesheetStatusError, match=f"timesheet .* is {status.value}; only a"):
        move(replace(draft(), status=status))


def test_someone_must_act():
    with pytest.raises(TimesheetStatusError, match="say who submits"):
        submit(draft(), by="")


# Hours ----------------------------------------------------------------------------------------------------

def test_hours_by_kind_sum_exactly_then_round_half_up():
    twenty_minutes = [shift(date(2026, 4, 6 + n), "09:00", "09:20") for n in range(3)]
    hours = hours_by_kind(draft([*twenty_minutes, shift(date(2026, 4, 10), "09:00", "09:10", HourKind.NIGHT),
                                 shift(date(2026, 4, 11), "09:00", "09:00:18", HourKind.WEEKEND)]))
    assert hours == {HourKind.STANDARD: D("1.00"),   # 3 x 0.333... summed first, not 3 x 0.33
                     HourKind.NIGHT: D("0.17"),       # 0.1666...
                     HourKind.WEEKEND: D("0.01")}     # 18 seconds = 0.005 hours, half up


def test_hours_across_the_clock_change_are_real_hours():
    # Clocks go back at 02:00 BST on Sunday 25 October 2026: 22:00 to 07:00 that night is 10 hours.
    ts = timesheet(PA, date(2026, 10, 6), date(2026, 11, 5),
                   [shift(date(2026, 10, 24), "22:00", "07:00", HourKind.NIGHT)])
    assert hours_by_kind(ts) == {HourKind.NIGHT: D("10.00")}
    # ... and the same instant written in another zone is the same shift.
    utc = ts.shifts[0].starts.astimezone(timezone.utc)
    assert problems(replace(ts, shifts=(Shift(utc, ts.shifts[0].ends),))) == ()


def test_a_sleep_in_is_one_night_and_its_hours_do_not_count_for_the_minimum_wage():
    ts = draft([shift(date(2026, 4, 6), "21:00", "08:00", HourKind.SLEEP_IN),
                shift(date(2026, 4, 7), "23:00", "06:00", HourKind.SLEEP_IN), shift(date(2026, 4, 8))])
    hours = hours_by_kind(ts)
    assert hours == {HourKind.SLEEP_IN: D("18.00"), HourKind.STANDARD: D("8.00")}
    assert sleep_in_nights(ts) == 2
    assert hours_for_minimum_wage(hours) == D("8.00")
