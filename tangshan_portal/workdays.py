"""Working-day arithmetic on the admin-maintained calendar (WorkCalendarDay)."""

from datetime import timedelta


def _exceptions(start, end):
    from .models import WorkCalendarDay

    return dict(WorkCalendarDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "is_workday"))


def is_workday(day, exceptions=None):
    exceptions = _exceptions(day, day) if exceptions is None else exceptions
    return exceptions.get(day, day.weekday() < 5)


def add_working_days(start, days):
    """The date `days` working days after `start` (start itself not counted). One query, whatever `days`;
    a year the calendar does not know falls back to Monday–Friday instead of failing."""
    # Long holidays (Spring Festival, National Day) add at most ~8 days per 5 working days.
    horizon = start + timedelta(days=days * 2 + 14)
    exceptions = _exceptions(start, horizon)
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_workday(day, exceptions):
            counted += 1
    return day


# The pilot started in 2024; older holidays never matter for a deadline here.
FIRST_YEAR = 2024


def load_official_calendar(apps=None):
    """Add the official holidays and make-up working days known to `chinese-calendar`; rows the
    administrator has added or corrected are left as they are."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    WorkCalendarDay = apps.get_model("portal", "WorkCalendarDay")
    from chinese_calendar.constants import Holiday, holidays, workdays

    def chinese(name):
        return Holiday(name).chinese

    rows = [
        WorkCalendarDay(date=day, is_workday=False, name=chinese(name))
        for day, name in holidays.items()
        if day.weekday() < 5 and day.year >= FIRST_YEAR
    ]
    rows += [
        WorkCalendarDay(date=day, is_workday=True, name=f"{chinese(name)}调休")
        for day, name in workdays.items()
        if day.year >= FIRST_YEAR
    ]
    WorkCalendarDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
