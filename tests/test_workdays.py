"""Working days on the admin-maintained calendar seeded from China's official holidays (chinese-calendar)."""

from datetime import date

import pytest

from tangshan_portal.models import WorkCalendarDay
from tangshan_portal.workdays import add_working_days, is_workday, load_official_calendar

pytestmark = pytest.mark.django_db


def test_the_2026_official_calendar_is_seeded_on_migrate():
    rows = dict(WorkCalendarDay.objects.filter(date__year=2026).values_list("date", "is_workday"))
    # National Day: Thursday 1 to Wednesday 7 October; the weekdays among them are holiday rows.
    for day in (1, 2, 5, 6, 7):
        assert rows[date(2026, 10, day)] is False
    # Weekends need no row: they are not working days anyway.
    assert date(2026, 10, 3) not in rows
    # Make-up working days (调休): Sunday 20 September and Saturday 10 October.
    assert rows[date(2026, 9, 20)] is True
    assert rows[date(2026, 10, 10)] is True
    assert "国庆" in WorkCalendarDay.objects.get(date=date(2026, 10, 1)).name
    assert WorkCalendarDay.objects.get(date=date(2026, 10, 10)).name.endswith("调休")


def test_is_workday_follows_the_calendar_and_falls_back_to_monday_to_friday():
    assert not is_workday(date(2026, 10, 1))  # a Thursday, but National Day
    assert is_workday(date(2026, 10, 10))  # a Saturday, but a make-up working day
    assert is_workday(date(2026, 10, 9))  # an ordinary Friday
    assert not is_workday(date(2026, 10, 17))  # an ordinary Saturday


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Wednesday 30 September: the next working day is Thursday 8 October, after the holiday.
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 2, date(2026, 10, 9)),
        # The third is the make-up Saturday.
        (date(2026, 9, 30), 3, date(2026, 10, 10)),
        (date(2026, 9, 30), 4, date(2026, 10, 12)),
        # Friday 18 September: the make-up Sunday 20 September counts.
        (date(2026, 9, 18), 1, date(2026, 9, 20)),
        # Monday 28 September, the complaint acknowledgement period of 5 working days.
        (date(2026, 9, 28), 5, date(2026, 10, 10)),
        # Starting on a holiday: the start itself is never counted.
        (date(2026, 10, 1), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 0, date(2026, 9, 30)),
    ],
)
def test_add_working_days_over_national_day_and_make_up_days(start, days, expected):
    assert add_working_days(start, days) == expected


def test_a_year_without_calendar_rows_counts_monday_to_friday_without_error():
    assert not WorkCalendarDay.objects.filter(date__year=2031).exists()
    # Wednesday 1 January 2031 (New Year's Day in reality, unknown to the calendar): 5 working days later.
    assert add_working_days(date(2031, 1, 1), 5) == date(2031, 1, 8)
    # Wednesday 1 October 2031: no National Day without rows; Friday 3 → Monday 6.
    assert add_working_days(date(2031, 10, 1), 2) == date(2031, 10, 3)
    assert add_working_days(date(2031, 10, 1), 3) == date(2031, 10, 6)
    assert is_workday(date(2031, 10, 1))
    assert add_working_days(date(2031, 1, 1), 30) == date(2031, 2, 12)


def test_a_period_running_from_a_known_year_into_an_unknown_one():
    # chinese-calendar only knows the years published so far: 2027 has no rows and counts Monday to Friday.
    assert not WorkCalendarDay.objects.filter(date__year=2027).exists()
    # Thursday 31 December 2026 + 3: Friday 1 January 2027 (no row), Monday 4, Tuesday 5.
    assert add_working_days(date(2026, 12, 31), 3) == date(2027, 1, 5)


def test_an_administrators_local_holiday_changes_the_result():
    start = date(2031, 3, 3)  # Monday
    assert add_working_days(start, 1) == date(2031, 3, 4)
    WorkCalendarDay.objects.create(date=date(2031, 3, 4), is_workday=False, name="本地防汛停工日")
    assert add_working_days(start, 1) == date(2031, 3, 5)
    WorkCalendarDay.objects.create(date=date(2031, 3, 8), is_workday=True, name="本地调休")  # a Saturday
    assert add_working_days(start, 4) == date(2031, 3, 8)


def test_an_administrators_correction_of_an_official_day_survives_a_reload():
    # A local extra rest day on 9 October and the make-up Saturday cancelled; reseeding must not undo them.
    WorkCalendarDay.objects.create(date=date(2026, 10, 9), is_workday=False, name="本地补休")
    WorkCalendarDay.objects.filter(date=date(2026, 10, 10)).update(is_workday=False, name="取消调休")
    load_official_calendar()
    assert WorkCalendarDay.objects.get(date=date(2026, 10, 10)).is_workday is False
    assert add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 12)


@pytest.mark.parametrize("days", [1, 5, 30, 200])
def test_add_working_days_makes_one_query(days, django_assert_num_queries):
    with django_assert_num_queries(1):
        add_working_days(date(2026, 9, 30), days)
