"""Due dates count mainland China working days, holidays and make-up workdays included."""

from datetime import date

from sandbox.governance.workdays import add_working_days


def test_request_just_before_national_day_2026():
    # 2026: 1–7 October off; Saturday 10 October is a make-up workday.
    due = add_working_days(date(2026, 9, 30), 5)
    assert due.due_on == date(2026, 10, 13) and due.exact


def test_request_just_before_national_day_2025():
    # 2025: 1–8 October off (National Day + Mid-Autumn); Saturday 11 October is a make-up workday.
    assert add_working_days(date(2025, 9, 30), 5).due_on == date(2025, 10, 14)


def test_ordinary_week_skips_the_weekend():
    assert add_working_days(date(2026, 11, 20), 5).due_on == date(2026, 11, 27)  # Friday → next Friday


def test_year_without_published_schedule_falls_back_and_says_so():
    due = add_working_days(date(2027, 3, 1), 5)
    assert due.due_on == date(2027, 3, 8) and due.exact is False
