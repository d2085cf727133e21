"""Pay runs kept in the database: the state machine, duplicates, year to date, corrections and leavers."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from payroll.model import PayRunStatus, Timesheet, TimesheetStatus, YearToDate
from payroll.service import Duplicate, InvalidInput, NotPermitted, WrongStatus
from tests.integration.payroll.conftest import month_dates, shift, weekday_shifts


def test_a_run_goes_from_draft_to_finalised_with_history(setup, service, payroll_clock):
    pa = setup.pa()
    setup.approved_month(pa, 1)
    run = setup.run(1)
    assert run.status is PayRunStatus.DRAFT and (run.tax_year, run.period) == ("2026-27", 1)
    calculated = service.calculate(run.id, actor="admin")
    assert calculated.status is PayRunStatus.CALCULATED
    [slip] = calculated.payslips
    # 22 weekdays from Monday 6 April to Tuesday 5 May 2026, 8 hours at £15.00.
    assert slip.employee_id == pa.id and slip.gross_pay == 22 * 8 * 1500 and 0 < slip.net_pay < slip.gross_pay
    assert calculated.summary.employees == 1 and calculated.summary.gross_pay == slip.gross_pay
    service.review(run.id, actor="admin")
    payroll_clock.advance(hours=1)
    service.approve(run.id, actor="asha")
    final = service.finalise(run.id, actor="admin")
    assert final.status is PayRunStatus.FINALISED
    assert [(status, who) for status, who, _ in final.history] == [
        ("draft", "admin"), ("calculated", "admin"), ("reviewed", "admin"), ("approved", "asha"),
        ("finalised", "admin")]
    assert final.history[3][2] - final.history[2][2] == timedelta(hours=1)
    # What was stored is what was calculated, line by line.
    assert service.get_run(run.id).payslips == calculated.payslips
    assert service.get_payslip(slip.id) == slip
    assert service.year_to_date(pa.id, "2026-27") == slip.year_to_date
    summary = service.employer_cost_summary(run.id)
    assert summary == calculated.summary
    assert summary.total_cost == slip.gross_pay + slip.employer_ni - summary.employment_allowance_used \
        + slip.pension_employer + slip.expenses


def test_every_wrong_move_is_refused(setup, service):
    pa = setup.pa()
    setup.approved_month(pa, 1)
    run = setup.run(1)
    moves = {
        "calculate": lambda: service.calculate(run.id, actor="admin"),
        "review": lambda: service.review(run.id, actor="admin"),
        "approve": lambda: service.approve(run.id, actor="asha"),
        "finalise": lambda: service.finalise(run.id, actor="admin"),
    }
    allowed = {PayRunStatus.DRAFT: {"calculate"}, PayRunStatus.CALCULATED: {"calculate", "review"},
               PayRunStatus.REVIEWED: {"approve"}, PayRunStatus.APPROVED: {"finalise"},
               PayRunStatus.FINALISED: set()}
    path = ["calculate", "review", "approve", "finalise"]
    status = PayRunStatus.DRAFT
    while True:
        for name, move in moves.items():
            if name in allowed[status]:
                continue
            with pytest.raises(WrongStatus, match=f"cannot be|only"):
                move()
            assert service.get_run(run.id, with_payslips=False).status is status   # nothing changed
        if not path:
            break
        status = moves[path.pop(0)]().status
    assert status is PayRunStatus.FINALISED


def test_recalculating_a_calculated_run_replaces_its_payslips(setup, service):
    pa = setup.pa()
    setup.approved_month(pa, 1)
    run = setup.run(1)
    first = service.calculate(run.id, actor="admin")
    again = service.calculate(run.id, actor="admin")
    assert len(again.payslips) == 1 and again.payslips[0].id != first.payslips[0].id
    assert again.payslips[0].gross_pay == first.payslips[0].gross_pay
    assert [s for s, _, _ in again.history] == ["draft", "calculated", "calculated"]


def test_a_duplicate_or_overlapping_run_is_refused(setup, service):
    setup.run(1)
    first, last = month_dates(1)
    with pytest.raises(Duplicate, match="already has a monthly pay run for tax year 2026-27 tax month 1"):
        service.create_pay_run(setup.employer.id, period_start=first, period_end=last,
                               payment_date=date(2026, 5, 1), frequency="monthly", actor="admin")
    with pytest.raises(Duplicate, match="overlaps"):
        service.create_pay_run(setup.employer.id, period_start=date(2026, 5, 1), period_end=date(2026, 5, 31),
                               payment_date=date(2026, 5, 29), frequency="monthly", actor="admin")
    # Another frequency has its own runs.
    weekly = service.create_pay_run(setup.employer.id, period_start=date(2026, 4, 6), period_end=date(2026, 4, 12),
                                    payment_date=date(2026, 4, 10), frequency="weekly", actor="admin")
    assert (weekly.tax_year, weekly.period) == ("2026-27", 1)


def test_run_inputs_are_checked(setup, service):
    with pytest.raises(InvalidInput, match="at most 7 days"):
        service.create_pay_run(setup.employer.id, period_start=date(2026, 4, 6), period_end=date(2026, 4, 20),
                               payment_date=date(2026, 4, 20), frequency="weekly", actor="admin")
    with pytest.raises(InvalidInput, match="pay frequency must be one of"):
        service.create_pay_run(setup.employer.id, period_start=date(2026, 4, 6), period_end=date(2026, 4, 20),
                               payment_date=date(2026, 4, 20), frequency="daily", actor="admin")
    with pytest.raises(InvalidInput, match="no payroll rules for tax year 2030-31"):
        service.create_pay_run(setup.employer.id, period_start=date(2030, 4, 6), period_end=date(2030, 5, 5),
                               payment_date=date(2030, 4, 30), frequency="monthly", actor="admin")
    with pytest.raises(InvalidInput, match="actor"):
        service.create_pay_run(setup.employer.id, period_start=date(2026, 4, 6), period_end=date(2026, 5, 5),
                               payment_date=date(2026, 4, 30), frequency="monthly", actor=" ")


def test_approval_needs_a_second_person(setup, service):
    pa = setup.pa()
    setup.approved_month(pa, 1)
    run = setup.run(1)
    service.calculate(run.id, actor="carol")
    service.review(run.id, actor="dave")
    with pytest.raises(NotPermitted, match="carol calculated this run"):
        service.approve(run.id, actor="Carol ")
    with pytest.raises(NotPermitted, match="dave reviewed this run"):
        service.approve(run.id, actor="dave")
    assert service.approve(run.id, actor="erin").status is PayRunStatus.APPROVED


def test_waiting_or_changed_timesheets_hold_the_run(setup, service):
    first_pa, second_pa = setup.pa("PA1"), setup.pa("PA2", nino="CE123456D", surname="Khan")
    setup.approved_month(first_pa, 1)
    first, last = month_dates(1)
    waiting = service.save_timesheet(second_pa.id, period_start=first, period_end=last,
                                     shifts=weekday_shifts(first, first + timedelta(days=6)), actor="kay")
    service.submit_timesheet(waiting.id, actor="kay")
    run = setup.run(1)
    service.calculate(run.id, actor="admin")
    with pytest.raises(WrongStatus, match=f"timesheet {waiting.id} of Sam Khan .* is submitted and waiting"):
        service.review(run.id, actor="admin")
    service.approve_timesheet(waiting.id, actor="asha")
    with pytest.raises(WrongStatus, match="changed after .* was calculated; calculate it again"):
        service.review(run.id, actor="admin")
    recalculated = service.calculate(run.id, actor="admin")
    assert {p.employee_id for p in recalculated.payslips} == {first_pa.id, second_pa.id}
    service.review(run.id, actor="admin")
    # Once reviewed, the period's timesheets are fixed.
    with pytest.raises(WrongStatus, match="its timesheets can no longer change"):
        service.save_timesheet(first_pa.id, period_start=last, period_end=last, shifts=(shift(last, 9, 4),),
                               actor="sam")


def test_one_run_in_progress_and_in_order(setup, service):
    pa = setup.pa()
    setup.approved_month(pa, 1)
    setup.approved_month(pa, 2)
    april, may = setup.run(1), setup.run(2)
    service.calculate(april.id, actor="admin")
    with pytest.raises(WrongStatus, match=f"finish pay run {april.id} .* first"):
        service.calculate(may.id, actor="admin")
    service.review(april.id, actor="admin")
    service.approve(april.id, actor="asha")
    service.finalise(april.id, actor="admin")
    june = setup.run(3)
    for move, who in (("calculate", "admin"), ("review", "admin"), ("approve", "asha"), ("finalise", "admin")):
        getattr(service, move)(june.id, actor=who)
    # May, paid before June's finalised run, would start from the wrong year-to-date figures.
    with pytest.raises(WrongStatus, match=r"is paid later \(2026-06-30\) and already finalised"):
        service.calculate(may.id, actor="admin")


def test_year_to_date_is_carried_between_runs(setup, service):
    pa = setup.pa()
    setup.approved_month(pa, 1)
    april = setup.finalised_run(1)
    service.update_tax_code(pa.id, "1100L", effective_from=date(2026, 5, 6), actor="admin")
    setup.approved_month(pa, 2, hours=6)
    may = setup.finalised_run(2)
    [a], [m] = april.payslips, may.payslips
    assert (a.tax_code, m.tax_code) == ("1257L", "1100L")
    assert m.year_to_date.gross_pay == a.gross_pay + m.gross_pay
    assert m.year_to_date.tax == a.tax + m.tax
    assert m.year_to_date.taxable_pay == a.taxable_pay + m.taxable_pay
    assert m.year_to_date.employee_ni == a.employee_ni + m.employee_ni
    assert m.year_to_date.net_pay == a.net_pay + m.net_pay
    assert service.year_to_date(pa.id, "2026-27") == m.year_to_date
    assert service.year_to_date(pa.id, "2027-28") == YearToDate()
    assert [p.id for p in service.employee_payslips(pa.id)] == [a.id, m.id]
    # The Employment Allowance used in April counts against May's.
    assert may.summary.employment_allowance_used == min(m.employer_ni, 1_050_000 - a.employer_ni)
    # Past paydays keep the code they were paid with.
    with pytest.raises(InvalidInput, match="last paid in a finalised run on 2026-05-31"):
        service.update_tax_code(pa.id, "BR", effective_from=date(2026, 5, 6), actor="admin")


def test_a_correction_leaves_the_original_intact(setup, service, engine):
    pa = setup.pa()
    original_sheet = setup.approved_month(pa, 1)
    april = setup.finalised_run(1)
    [paid] = april.payslips
    first, last = month_dates(1)
    corrected = Timesheet(id="", employee_id=pa.id, period_start=first, period_end=last,
                          shifts=weekday_shifts(first, last, hours=9))
    adjustment = service.correct(april.id, [corrected], actor="admin", payment_date=date(2026, 5, 29))
    assert adjustment.corrects == april.id and adjustment.status is PayRunStatus.CALCULATED
    assert (adjustment.tax_year, adjustment.period) == ("2026-27", 2)
    [diff] = adjustment.payslips
    assert diff.is_adjustment and diff.gross_pay == 22 * 1 * 1500
    assert diff.net_pay > 0 and diff.tax >= 0
    # The original run and its payslips are exactly as they were.
    assert service.get_run(april.id) == april
    with pytest.raises(Duplicate, match="already corrected"):
        service.correct(april.id, [corrected], actor="admin")
    with pytest.raises(WrongStatus, match="is itself a correction"):
        service.correct(adjustment.id, [corrected], actor="admin")
    # An adjustment run may be calculated again from its corrected timesheets.
    again = service.calculate(adjustment.id, actor="bob")
    assert again.payslips[0].gross_pay == diff.gross_pay and again.payslips[0].id != diff.id
    # The corrected timesheet is approved with the adjustment run, by someone who did not make it.
    service.review(adjustment.id, actor="carol")
    with pytest.raises(NotPermitted, match="admin made the corrected timesheet"):
        service.approve(adjustment.id, actor="admin")
    service.approve(adjustment.id, actor="asha")
    final = service.finalise(adjustment.id, actor="admin")
    assert final.status is PayRunStatus.FINALISED
    assert service.year_to_date(pa.id, "2026-27").gross_pay == paid.gross_pay + diff.gross_pay
    assert final.payslips[0].year_to_date.gross_pay == paid.gross_pay + diff.gross_pay
    standing = service.list_timesheets(employee_id=pa.id)
    assert [t.status for t in standing] == [TimesheetStatus.APPROVED]
    assert standing[0].id != original_sheet.id and standing[0].decided_by == "asha"
    assert service.get_timesheet(original_sheet.id) == original_sheet
    for_hmrc = service.finalised_run(adjustment.id)
    assert for_hmrc.corrected_run == april and set(for_hmrc.employees) == {pa.id}


def test_only_a_finalised_regular_run_is_corrected(setup, service):
    pa = setup.pa()
    setup.approved_month(pa, 1)
    run = setup.run(1)
    first, last = month_dates(1)
    corrected = Timesheet(id="", employee_id=pa.id, period_start=first, period_end=last)
    with pytest.raises(WrongStatus, match="is not finalised"):
        service.correct(run.id, [corrected], actor="admin")
    with pytest.raises(InvalidInput, match="at least one corrected timesheet"):
        service.correct(run.id, [], actor="admin")
    with pytest.raises(InvalidInput, match="more than one corrected timesheet"):
        service.correct(run.id, [corrected, corrected], actor="admin")


def test_a_leaver_gets_a_last_payslip_and_p45_figures(setup, service):
    pa = setup.pa()
    stays = setup.pa("PA2", nino="CE123456D", surname="Khan")
    first, _ = month_dates(1)
    leaving = date(2026, 4, 24)
    sheet = service.save_timesheet(pa.id, period_start=first, period_end=leaving,
                                   shifts=weekday_shifts(first, leaving), actor="sam")
    service.submit_timesheet(sheet.id, actor="sam")
    service.approve_timesheet(sheet.id, actor="asha")
    with pytest.raises(InvalidInput, match="has hours after 2026-04-20"):
        service.record_leaver(pa.id, date(2026, 4, 20), actor="admin")
    record = service.record_leaver(pa.id, leaving, actor="admin")
    assert record.employee.leaving_date == leaving and not record.final_payment_finalised
    assert record.year_to_date == YearToDate()
    with pytest.raises(WrongStatus, match="already recorded as leaving on 2026-04-24"):
        service.record_leaver(pa.id, leaving, actor="admin")
    april = setup.finalised_run(1)
    slips = {p.employee_id: p for p in april.payslips}
    assert slips[pa.id].leaving and not slips[stays.id].leaving
    figures = service.leaver_figures(pa.id)
    assert figures.final_payment_finalised and figures.tax_year == "2026-27"
    assert figures.year_to_date == slips[pa.id].year_to_date
    assert figures.year_to_date.taxable_pay == slips[pa.id].taxable_pay
    # Not paid in the next period; the NI number may be used again for a new employment.
    may = setup.run(2)
    assert {p.employee_id for p in service.calculate(may.id, actor="admin").payslips} == {stays.id}
    assert [e.id for e in service.list_employees(setup.employer.id, include_leavers=False,
                                                 as_of=date(2026, 5, 6))] == [stays.id]
    again = setup.pa("PA1-2", start=date(2026, 6, 1))
    assert again.nino == pa.nino and again.id != pa.id


def test_finalised_run_for_the_hmrc_export(setup, service):
    pa = setup.pa()
    setup.approved_month(pa, 1)
    run = setup.run(1)
    service.calculate(run.id, actor="admin")
    with pytest.raises(WrongStatus, match="only a finalised run is reported to HMRC"):
        service.finalised_run(run.id)
    for move, who in (("review", "admin"), ("approve", "asha"), ("finalise", "admin")):
        getattr(service, move)(run.id, actor=who)
    record = service.finalised_run(run.id)
    assert record.run.status is PayRunStatus.FINALISED and record.employer == setup.employer
    assert record.employees[pa.id].nino == "AB123456C" and record.corrected_run is None
    assert len(record.run.payslips) == 1


def test_a_pa_with_hours_but_no_contract_stops_the_calculation(setup, service):
    pa = setup.pa()
    setup.approved_month(pa, 1)
    [contract] = service.list_contracts(pa.id)
    run = setup.run(2)
    service.end_contract(contract.id, date(2026, 5, 5), actor="admin")
    result = service.calculate(run.id, actor="admin")
    assert result.payslips == ()   # no contract in May, no hours: nobody to pay
    with pytest.raises(Duplicate, match="overlaps"):
        service.add_contract(pa.id, starts=date(2026, 5, 1), rates=contract.rates, actor="admin")


def test_a_failed_calculation_changes_nothing(setup, service):
    from payroll.model import Absence, PayRates

    fine = setup.pa("PA1")
    setup.approved_month(fine, 1)
    sick = service.add_employee(setup.employer.id, payroll_id="PA2", forenames=["Lee"], surname="Ray",
                                birth_date=date(1980, 3, 3), start_date=date(2026, 4, 6), frequency="monthly",
                                tax_code="1257L", actor="admin")
    # No contracted hours: SSP for sickness before the first payday cannot be worked out.
    service.add_contract(sick.id, starts=date(2026, 4, 6), rates=PayRates(standard=1400), actor="admin")
    first, last = month_dates(1)
    sheet = service.save_timesheet(sick.id, period_start=first, period_end=last,
                                   shifts=weekday_shifts(date(2026, 4, 13), date(2026, 4, 17)),
                                   absences=(Absence(date(2026, 4, 7), "sick"), Absence(date(2026, 4, 8), "sick"),
                                             Absence(date(2026, 4, 9), "sick")), actor="lee")
    service.submit_timesheet(sheet.id, actor="lee")
    service.approve_timesheet(sheet.id, actor="asha")
    run = setup.run(1)
    with pytest.raises(InvalidInput) as caught:
        service.calculate(run.id, actor="admin")
    assert len(caught.value.problems) == 1 and "Lee Ray (payroll id PA2)" in caught.value.problems[0]
    assert "contract gives no weekly hours" in caught.value.problems[0]
    unchanged = service.get_run(run.id)
    assert unchanged.status is PayRunStatus.DRAFT and unchanged.payslips == () and unchanged.summary is None
    assert [s for s, _, _ in unchanged.history] == ["draft"]


def test_two_people_creating_the_same_run_at_once(setup, service):
    import threading

    first, last = month_dates(1)
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def create() -> None:
        barrier.wait()
        try:
            outcomes.append(service.create_pay_run(setup.employer.id, period_start=first, period_end=last,
                                                   payment_date=date(2026, 4, 30), frequency="monthly",
                                                   actor="admin"))
        except Duplicate as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["Duplicate", "PayRun"]
    assert len(service.list_runs(setup.employer.id)) == 1
