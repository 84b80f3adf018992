"""Calendar files (.ics, RFC 5545) for a confirmed appointment, written with the icalendar library.

The event carries its start and end in the configured zone with that zone's VTIMEZONE, so a
phone's calendar shows the right local time wherever it is set; the UID is stable per
appointment, so sending the file again updates the entry instead of adding a second one.  Each
file's SEQUENCE is the minute it was made (RFC 5545 3.8.7.4: a later version of the same UID has a
higher one), so a change (a new guide) updates the entry and a cancellation (METHOD:CANCEL,
STATUS:CANCELLED) removes or strikes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from bot.core.types import Attachment

PRODID = "-//Lotse//Lotse appointment//EN"
ALARM_BEFORE = timedelta(hours=1)  # the phone's own alert, besides Lotse's reminders


def _sequence(stamp: datetime) -> int:
    return int(stamp.timestamp() // 60)


def appointment_ics(uid: str, starts_at: datetime, ends_at: datetime, zone: ZoneInfo, *, summary: str,
                    location: str, description: str, stamp: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("sequence", _sequence(stamp))
    event.add("dtstamp", stamp)
    event.add("dtstart", starts_at.astimezone(zone))
    event.add("dtend", ends_at.astimezone(zone))
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", -ALARM_BEFORE)
    event.add_component(alarm)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def cancellation_ics(uid: str, starts_at: datetime, ends_at: datetime, zone: ZoneInfo, *, summary: str,
                     stamp: datetime) -> bytes:
    """The same appointment (same UID), cancelled: a phone's calendar removes or strikes the entry."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL")
    event = Event()
    event.add("uid", uid)
    event.add("sequence", _sequence(stamp))
    event.add("dtstamp", stamp)
    event.add("dtstart", starts_at.astimezone(zone))
    event.add("dtend", ends_at.astimezone(zone))
    event.add("summary", summary)
    event.add("status", "CANCELLED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def attachment(content: bytes, name: str = "appointment.ics") -> Attachment:
    return Attachment(name, content, "text/calendar")
