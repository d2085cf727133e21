"""England and Wales working days: weekends, Easter, substitute days, the 2026 and 2027 bank holidays."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from wallet.calendar import (
    WorkingDays, add_working_days, bank_holidays, is_bank_holiday, is_working_day, next_working_day,
    previous_working_day, working_days_between,
)

REPO = Path(__file__).resolve().parents[2]

# GOV.UK's published list for England and Wales
ENGLAND_AND_WALES_2026 = [date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4), date(2026, 5, 25),
                          date(2026, 8, 31), date(2026, 12, 25), date(2026, 12, 28)]
ENGLAND_AND_WALES_2027 = [date(2027, 1, 1), date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 3), date(2027, 5, 31),
                          date(2027, 8, 30), date(2027, 12, 27), date(2027, 12, 28)]


def weekday_holidays(year: int) -> list[date]:
    return [d for d in bank_holidays(year) if d.weekday() < 5]


def test_2026_bank_holidays_that_stop_work_are_the_published_ones():
    assert weekday_holidays(2026) == ENGLAND_AND_WALES_2026


def test_2027_bank_holidays_that_stop_work_are_the_published_ones():
    assert weekday_holidays(2027) == ENGLAND_AND_WALES_2027


def test_agrees_with_the_gov_uk_list_kept_for_hmrc_due_dates():
    data = json.loads((REPO / "hmrc_export" / "data" / "bank-holidays-england-and-wales.json").read_text())
    published = sorted(date.fromisoformat(d) for d in data["dates"])
    years = sorted({d.year for d in published})
    ours = sorted(d for year in years for d in weekday_holidays(year))
    assert ours == published


@pytest.mark.parametrize("good_friday, easter_monday", [
    (date(2025, 4, 18), date(2025, 4, 21)),
    (date(2026, 4, 3), date(2026, 4, 6)),
    (date(2027, 3, 26), date(2027, 3, 29)),
    (date(2028, 4, 14), date(2028, 4, 17)),
])
def test_easter_moves_every_year_and_both_days_are_holidays(good_friday, easter_monday):
    assert good_friday.weekday() == 4 and easter_monday.weekday() == 0
    assert is_bank_holiday(good_friday) and is_bank_holiday(easter_monday)
    assert not is_working_day(good_friday) and not is_working_day(easter_monday)
    # Maundy Thursday is an ordinary working day; the next working day after it is the Tuesday
    thursday = good_friday - timedelta(days=1)
    assert is_working_day(thursday)
    assert next_working_day(thursday) == easter_monday + timedelta(days=1)


def test_christmas_2027_on_a_weekend_gives_substitute_days_on_monday_and_tuesday():
    assert date(2027, 12, 25).weekday() == 5 and date(2027, 12, 26).weekday() == 6
    assert not is_working_day(date(2027, 12, 27))
    assert not is_working_day(date(2027, 12, 28))
    assert next_working_day(date(2027, 12, 24)) == date(2027, 12, 29)
    assert previous_working_day(date(2027, 12, 29)) == date(2027, 12, 24)


def test_boxing_day_2026_on_a_saturday_moves_to_monday():
    assert date(2026, 12, 26).weekday() == 5
    assert not is_working_day(date(2026, 12, 28))
    assert next_working_day(date(2026, 12, 24)) == date(2026, 12, 29)


def test_new_year_2028_on_a_saturday_moves_to_monday_3_january():
    assert not is_working_day(date(2028, 1, 3))
    assert next_working_day(date(2027, 12, 31)) == date(2028, 1, 4)


def test_weekends_are_not_working_days():
    assert is_working_day(date(2026, 6, 5))  # Friday
    assert not is_working_day(date(2026, 6, 6))
    assert not is_working_day(date(2026, 6, 7))
    assert next_working_day(date(2026, 6, 5)) == date(2026, 6, 8)
    assert previous_working_day(date(2026, 6, 8)) == date(2026, 6, 5)


def test_next_and_previous_are_strictly_after_and_before():
    assert next_working_day(date(2026, 6, 3)) == date(2026, 6, 4)
    assert previous_working_day(date(2026, 6, 3)) == date(2026, 6, 2)


def test_add_working_days_skips_weekends_and_holidays_both_ways():
    # Thursday 2 April 2026 + 1: Good Friday, the weekend and Easter Monday are skipped
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert add_working_days(date(2026, 4, 7), -1) == date(2026, 4, 2)
    assert add_working_days(date(2026, 12, 23), 3) == date(2026, 12, 30)
    assert add_working_days(date(2026, 6, 1), 5) == date(2026, 6, 8)
    assert add_working_days(date(2026, 6, 8), -5) == date(2026, 6, 1)


def test_add_zero_working_days_stays_on_a_working_day_or_moves_to_the_next():
    assert add_working_days(date(2026, 6, 3), 0) == date(2026, 6, 3)
    assert add_working_days(date(2026, 6, 6), 0) == date(2026, 6, 8)
    assert add_working_days(date(2026, 12, 25), 0) == date(2026, 12, 29)


def test_add_from_a_weekend_counts_from_that_day():
    assert add_working_days(date(2026, 6, 6), 1) == date(2026, 6, 8)
    assert add_working_days(date(2026, 6, 6), -1) == date(2026, 6, 5)


def test_working_days_between_counts_days_after_start_up_to_end():
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 7)) == 1
    assert working_days_between(date(2026, 6, 1), date(2026, 6, 8)) == 5
    assert working_days_between(date(2026, 6, 8), date(2026, 6, 1)) == -5
    assert working_days_between(date(2026, 6, 1), date(2026, 6, 1)) == 0


def test_an_extra_holiday_proclaimed_later_can_be_added():
    calendar = WorkingDays(extra_holidays=[date(2026, 6, 12)])
    assert calendar.is_bank_holiday(date(2026, 6, 12))
    assert not calendar.is_working_day(date(2026, 6, 12))
    assert calendar.next_working_day(date(2026, 6, 11)) == date(2026, 6, 15)
    assert date(2026, 6, 12) in calendar.bank_holidays(2026)
    assert is_working_day(date(2026, 6, 12))  # the default calendar is untouched


def test_a_moment_is_not_a_day():
    with pytest.raises(TypeError):
        is_working_day(datetime(2026, 6, 3, 12, 0))
    with pytest.raises(TypeError):
        add_working_days(date(2026, 6, 3), "1")  # type: ignore[arg-type]
