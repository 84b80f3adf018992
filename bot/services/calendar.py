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


def _event(uid: str, starts_at: datetime, ends_at: datetime, zone: ZoneInfo, summary: str,
           stamp: datetime) -> Event:
    """The appointment as one VEVENT; its SEQUENCE is the minute the file was made."""
    event = Event()
    event.add("uid", uid)
    event.add("sequence", int(stamp.timestamp() // 60))
    event.add("dtstamp", stamp)
    event.add("dtstart", starts_at.astimezone(zone))
    event.add("dtend", ends_at.astimezone(zone))
    event.add("summary", summary)
    return event


def _file(method: str, event: Event) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def appointment_ics(uid: str, starts_at: datetime, ends_at: datetime, zone: ZoneInfo, *, summary: str,
                    location: str, description: str, stamp: datetime) -> bytes:
    event = _event(uid, starts_at, ends_at, zone, summary, stamp)
    event.add("location", location)
    event.add("description", description)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", -ALARM_BEFORE)
    event.add_component(alarm)
    return _file("PUBLISH", event)


def cancellation_ics(uid: str, starts_at: datetime, ends_at: datetime, zone: ZoneInfo, *, summary: str,
                     stamp: datetime) -> bytes:
    """The same appointment (same UID), cancelled: a phone's calendar removes or strikes the entry."""
    event = _event(uid, starts_at, ends_at, zone, summary, stamp)
    event.add("status", "CANCELLED")
    return _file("CANCEL", event)


def attachment(content: bytes, name: str = "appointment.ics") -> Attachment:
    return Attachment(name, content, "text/calendar")
