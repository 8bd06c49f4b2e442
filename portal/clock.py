"""Time in the portal: stored in UTC, shown and reasoned about in Asia/Ho_Chi_Minh."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HCMC = ZoneInfo("Asia/Ho_Chi_Minh")
DATE_FORMAT = "%d/%m/%Y"
TIME_FORMAT = "%H:%M"


def utcnow() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)


def local(instant: datetime) -> datetime:
    """Return ``instant`` in Ho Chi Minh City time."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: the portal only handles aware datetimes")
    return instant.astimezone(HCMC)


def local_today(now: datetime | None = None) -> date:
    """Return today's date in Ho Chi Minh City."""
    return local(now or utcnow()).date()


def start_of_local_day(day: date) -> datetime:
    """Return the UTC instant at which ``day`` begins in Ho Chi Minh City."""
    return datetime.combine(day, time.min, tzinfo=HCMC).astimezone(UTC)


def end_of_local_day(day: date) -> datetime:
    """Return the UTC instant at which ``day`` ends in Ho Chi Minh City (exclusive bound)."""
    return start_of_local_day(day + timedelta(days=1))


def format_date(value: date | datetime | None) -> str:
    """Format a date as dd/mm/yyyy (a datetime is first moved to HCMC time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value).date()
    return value.strftime(DATE_FORMAT)


def format_iso_date(value: str | None) -> str:
    """Format a date stored as ISO text (in JSON) as dd/mm/yyyy; text that is no date is shown as it is."""
    if not value:
        return ""
    try:
        return format_date(date.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)


def format_datetime(value: datetime | None) -> str:
    """Format an instant as dd/mm/yyyy HH:MM in HCMC time, 24-hour clock."""
    if value is None:
        return ""
    return local(value).strftime(f"{DATE_FORMAT} {TIME_FORMAT}")


def format_time(value: time | datetime | None) -> str:
    """Format a time of day as HH:MM (24-hour)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value).time()
    return value.strftime(TIME_FORMAT)


def parse_date(text: str) -> date:
    """Parse d/m/yyyy (also with '-' or '.'), or ISO yyyy-mm-dd; raise ValueError otherwise."""
    text = text.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return date.fromisoformat(text)
    for separator in "/-.":
        parts = text.split(separator)
        if len(parts) == 3 and all(part.strip().isdigit() for part in parts):
            day, month, year = (int(part) for part in parts)
            if len(parts[2].strip()) != 4:
                break
            return date(year, month, day)
    raise ValueError(f"not a date in dd/mm/yyyy form: {text!r}")
