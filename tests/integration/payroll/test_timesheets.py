"""Timesheets through the service: checked against the contract, moved by the right people, never overlapping."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from payroll.model import Absence, HourKind, Shift, TimesheetStatus
from payroll.service import Duplicate, InvalidInput, NotFound, NotPermitted, WrongStatus
from tests.integration.payroll.conftest import UK, month_dates, shift, weekday_shifts


@pytest.fixture
def pa(setup):
    return setup.pa()


def draft(service, pa, **extra):
    first, last = month_dates(1)
    return service.save_timesheet(pa.id, period_start=first, period_end=last,
                                  shifts=extra.pop("shifts", weekday_shifts(first, first + timedelta(days=4))),
                                  actor="sam", **extra)


def test_submit_approve_and_the_four_eyes_rule(service, pa):
    sheet = draft(service, pa)
    assert sheet.status is TimesheetStatus.DRAFT
    with pytest.raises(WrongStatus, match="only a submitted timesheet can be approved"):
        service.approve_timesheet(sheet.id, actor="asha")
    submitted = service.submit_timesheet(sheet.id, actor="sam")
    assert submitted.status is TimesheetStatus.SUBMITTED and submitted.submitted_by == "sam"
    with pytest.raises(NotPermitted, match="sam submitted timesheet .* someone else must approve it"):
        service.approve_timesheet(sheet.id, actor=" SAM")
    with pytest.raises(NotPermitted, match="someone else must reject it"):
        service.reject_timesheet(sheet.id, actor="sam", reason="typo")
    approved = service.approve_timesheet(sheet.id, actor="asha")
    assert approved.status is TimesheetStatus.APPROVED and approved.decided_by == "asha"
    assert service.get_timesheet(sheet.id) == approved
    for move in (lambda: service.submit_timesheet(sheet.id, actor="sam"),
                 lambda: service.approve_timesheet(sheet.id, actor="bob"),
                 lambda: service.reject_timesheet(sheet.id, actor="bob", reason="late"),
                 lambda: service.edit_timesheet(sheet.id, shifts=(), actor="sam")):
        with pytest.raises(WrongStatus):
            move()


def test_rejected_then_edited_and_resubmitted(service, pa):
    sheet = draft(service, pa)
    service.submit_timesheet(sheet.id, actor="sam")
    with pytest.raises(WrongStatus, match="say why"):
        service.reject_timesheet(sheet.id, actor="asha", reason="  ")
    rejected = service.reject_timesheet(sheet.id, actor="asha", reason="Friday was a day off")
    assert rejected.status is TimesheetStatus.REJECTED and rejected.rejection_reason == "Friday was a day off"
    first, _ = month_dates(1)
    edited = service.edit_timesheet(sheet.id, shifts=weekday_shifts(first, first + timedelta(days=3)), actor="sam")
    assert len(edited.shifts) == 4 and edited.status is TimesheetStatus.REJECTED
    again = service.submit_timesheet(sheet.id, actor="sam")
    assert again.status is TimesheetStatus.SUBMITTED and again.rejection_reason is None
    assert len(service.get_timesheet(sheet.id).shifts) == 4


def test_invalid_timesheets_are_refused_with_every_problem(service, pa):
    first, last = month_dates(1)
    outside = shift(last + timedelta(days=2), 9, 8)
    no_rate = shift(first, 22, 8, HourKind.SLEEP_IN)     # the contract has no sleep-in rate
    backwards = Shift(datetime(2026, 4, 7, 17, tzinfo=UK), datetime(2026, 4, 7, 9, tzinfo=UK))
    with pytest.raises(InvalidInput) as caught:
        service.save_timesheet(pa.id, period_start=first, period_end=last, shifts=(outside, no_rate, backwards),
                               absences=(Absence(date(2026, 4, 8), "holiday"),), actor="sam")
    problems = caught.value.problems
    assert any("outside this timesheet's period" in p for p in problems)
    assert any("no rate for a sleep-in" in p for p in problems)
    assert any("ends before or when it starts" in p for p in problems)
    assert any("needs the hours of holiday taken" in p for p in problems)
    assert service.list_timesheets(employee_id=pa.id) == []   # nothing half-written
    naive = Shift(datetime(2026, 4, 7, 9), datetime(2026, 4, 7, 17))
    with pytest.raises(InvalidInput, match="time zone"):
        service.save_timesheet(pa.id, period_start=first, period_end=last, shifts=(naive,), actor="sam")
    with pytest.raises(InvalidInput, match="at most 31 days"):
        service.save_timesheet(pa.id, period_start=first, period_end=first + timedelta(days=40), actor="sam")


def test_timesheets_of_one_pa_never_overlap(service, pa):
    sheet = draft(service, pa)
    with pytest.raises(Duplicate, match=f"already has timesheet {sheet.id}"):
        service.save_timesheet(pa.id, period_start=date(2026, 4, 20), period_end=date(2026, 4, 26),
                               shifts=(shift(date(2026, 4, 20), 9, 8),), actor="sam")


def test_no_contract_no_timesheet(setup, service):
    pa = setup.service.add_employee(setup.employer.id, payroll_id="N1", forenames=["No"], surname="Contract",
                                    birth_date=date(1990, 1, 1), start_date=date(2026, 4, 6), frequency="monthly",
                                    tax_code="1257L", actor="admin")
    with pytest.raises(InvalidInput, match="has no contract covering"):
        draft(service, pa)
    with pytest.raises(NotFound, match="no employee with id 'nobody'"):
        service.save_timesheet("nobody", period_start=date(2026, 4, 6), period_end=date(2026, 4, 6), actor="sam")
    with pytest.raises(NotFound, match="no timesheet"):
        service.submit_timesheet("nothing", actor="sam")


def test_listing_by_employer_and_status(setup, service, pa):
    other = setup.pa("PA2", nino="CE123456D", surname="Khan")
    a, b = draft(service, pa), draft(service, other)
    service.submit_timesheet(b.id, actor="kay")
    assert [t.id for t in service.list_timesheets(employer_id=setup.employer.id)] == [a.id, b.id]
    assert [t.id for t in service.list_timesheets(employer_id=setup.employer.id, status="submitted")] == [b.id]
