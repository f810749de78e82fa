"""Calendar files (RFC 5545) for a series: the whole-series feed and per-session invitations.

Built with :mod:`icalendar`. Every event carries ``DTSTART``/``DTEND`` with the ``TZID`` of the
series' zone, and the calendar holds a ``VTIMEZONE`` for every ``TZID`` used, generated here
from the tz database's transitions over the events' span: one ``STANDARD``/``DAYLIGHT``
component per transition, each with a single ``DTSTART`` (no multi-valued ``RDATE``, which
some readers cut to its first value). UIDs are derived from the series and session ids, so
they are the same on every run and machine, and updates replace the earlier event.

Only a participant's join link is ever accepted (``join_url``); a meeting's host link has
no way in. The event text ("Topics:", "Join", "Online" …) is in the calendar's language,
from the series' gettext catalogs (:mod:`s3events.catalogs`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from . import __version__
from .catalogs import series_catalogs
from .errors import InputError
from .models import Series, Session
from .templating import phrases
from .timezones import get_zone

if TYPE_CHECKING:
    from babel.support import NullTranslations

__all__ = [
    "PRODID",
    "event_uid",
    "series_calendar",
    "session_invitation",
    "to_ics",
    "vtimezone",
]

#: The PRODID of every calendar s3events writes.
PRODID = f"-//s3events//s3events {__version__}//EN"

_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://s3events/uid")
_UTC = timezone.utc

Method = Literal["REQUEST", "CANCEL"]


def event_uid(series_id: str, session_id: str) -> str:
    """The stable UID of a session's event: the same on every run and every machine."""
    return f"{uuid.uuid5(_UID_NAMESPACE, f'{series_id}/{session_id}')}@s3events"


def to_ics(cal: Calendar) -> bytes:
    """The calendar as iCalendar bytes (CRLF line ends, long lines folded)."""
    data: bytes = cal.to_ical()
    return data


# -- VTIMEZONE ------------------------------------------------------------------------------


def _state(zone: ZoneInfo, moment: datetime) -> tuple[timedelta | None, timedelta | None, str]:
    local = moment.astimezone(zone)
    return local.utcoffset(), local.dst(), local.tzname() or ""


def _transition(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first instant (to the second) in ``(before, after]`` with ``after``'s state."""
    target = _state(zone, after)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        if _state(zone, middle) == target:
            after = middle
        else:
            before = middle
    return after.replace(microsecond=0)


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The instants in ``(start, end]`` where the zone's offset, DST or name changes."""
    found = []
    step = timedelta(days=1)
    moment = start
    while moment < end:
        following = min(moment + step, end)
        if _state(zone, moment) != _state(zone, following):
            found.append(_transition(zone, moment, following))
        moment = following
    return found


def _observance(
    zone: ZoneInfo, at: datetime, previous: datetime
) -> TimezoneStandard | TimezoneDaylight:
    """The STANDARD or DAYLIGHT component for the rules in force from ``at``."""
    offset_from, _, _ = _state(zone, previous)
    offset_to, dst, name = _state(zone, at)
    component: TimezoneStandard | TimezoneDaylight = (
        TimezoneDaylight() if dst else TimezoneStandard()
    )
    assert offset_from is not None and offset_to is not None
    # DTSTART is the local wall time of the change, read with the offset before it.
    component.add("dtstart", (at + offset_from).replace(tzinfo=None))
    component.add("tzoffsetfrom", offset_from)
    component.add("tzoffsetto", offset_to)
    if name:
        component.add("tzname", name)
    return component


def vtimezone(zone_name: str, start: datetime, end: datetime) -> Timezone:
    """A VTIMEZONE for ``zone_name`` that is right for every instant from ``start`` to ``end``.

    One observance per transition from ``start`` to a year after ``end`` (so a reader that
    derives the zone's yearly rule sees both its standard and its daylight time), plus the
    one in force at ``start``: the last change within a year before it or, for a zone
    without changes there, one that starts a year before ``start`` with the offset then in
    force.
    """
    zone = get_zone(zone_name)
    year = timedelta(days=366)
    lookback = start.astimezone(_UTC) - year
    changes = _transitions(zone, lookback, end.astimezone(_UTC) + year)
    earlier = [c for c in changes if c <= start]
    kept = [earlier[-1] if earlier else lookback] + [c for c in changes if c > start]
    tz = Timezone()
    tz.add("tzid", zone_name)
    for at in kept:
        previous = at - timedelta(seconds=1) if at is not lookback else at
        tz.add_component(_observance(zone, at, previous))
    return tz


# -- events ---------------------------------------------------------------------------------


def _summary(series: Series, session: Session, lang: str, tr: NullTranslations) -> str:
    title = series.text(session.title, lang)
    label = series.text(session.label, lang) if session.label else ""
    _ = phrases(tr)
    summary = _("%(label)s: %(title)s", label=label, title=title) if label else title
    if session.cancelled:
        summary = _("Cancelled: %(session)s", session=summary)
    return summary


def _description(series: Series, session: Session, lang: str, join_url: str | None,
                 tr: NullTranslations) -> str:
    _ = phrases(tr)
    parts: list[str] = [series.text(series.title, lang)]
    if join_url:
        parts.append(_("Join: %(link)s", link=join_url))
    if session.topics:
        parts.append(_bullets(_("Topics:"), [series.text(t, lang) for t in session.topics]))
    if session.exercises:
        parts.append(_bullets(_("Interactive exercise will aim at:"),
                              [series.text(t, lang) for t in session.exercises]))
    documents = [_("%(document)s: %(link)s", document=series.text(d.title, lang), link=d.url)
                 for d in session.documents if d.url]
    if documents:
        parts.append(_bullets(_("Documents:"), documents))
    return "\n\n".join(parts)


def _bullets(heading: str, items: Sequence[str]) -> str:
    return "\n".join([heading, *(f"- {item}" for item in items)])


def _event(series: Series, session: Session, *, lang: str, join_url: str | None,
           dtstamp: datetime, sequence: int, status: str, pm: Any = None) -> Event:
    """One session's VEVENT, its text in ``lang``."""
    tr = series_catalogs(series, pm=pm).translations(lang)
    _ = phrases(tr)
    zone = series.zone
    assert session.end is not None
    event = Event()
    event.add("uid", event_uid(series.id, session.id))
    event.add("dtstamp", dtstamp.astimezone(_UTC))
    event.add("sequence", sequence)
    event.add("dtstart", session.start.astimezone(zone))
    event.add("dtend", session.end.astimezone(zone))
    event.add("summary", _summary(series, session, lang, tr))
    event.add("description", _description(series, session, lang, join_url, tr))
    event.add("status", status)
    event.add("transp", "OPAQUE")
    # Translators: how the sessions take place (a calendar event's location, a heading).
    event.add("location", join_url or _("Online"))
    if join_url:
        event.add("url", join_url)
        event.add("conference", join_url,
                  parameters={"VALUE": "URI", "FEATURE": "VIDEO",
                              "LABEL": _("Join")})
    return event


def _calendar(series: Series, method: str, events: Iterable[Event], lang: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    cal.add("x-wr-calname", series.text(series.title, lang))
    cal.add("x-wr-timezone", series.timezone)
    events = list(events)
    if events:
        cal.add_component(_span_vtimezone(series.timezone, events))
    for event in events:
        cal.add_component(event)
    return cal


def _span_vtimezone(zone_name: str, events: Sequence[Event]) -> Timezone:
    starts = [e.decoded("dtstart") for e in events]
    ends = [e.decoded("dtend") for e in events]
    return vtimezone(zone_name, min(starts), max(ends))


def _now(dtstamp: datetime | None) -> datetime:
    return dtstamp if dtstamp is not None else datetime.now(_UTC)


def series_calendar(
    series: Series,
    *,
    lang: str,
    join_urls: Mapping[str, str] | None = None,
    dtstamp: datetime | None = None,
    pm: Any = None,
) -> Calendar:
    """The whole series as a ``METHOD:PUBLISH`` feed, one event per session.

    Cancelled sessions stay in the feed with ``STATUS:CANCELLED`` so subscribed calendars
    drop them. ``join_urls`` maps session ids to participant join links, when known.
    ``pm`` is the plugin manager whose catalogs count (default: the installed plugins').
    """
    join_urls = join_urls or {}
    stamp = _now(dtstamp)
    events = [
        _event(series, session, lang=lang, join_url=join_urls.get(session.id), dtstamp=stamp,
               sequence=0, status="CANCELLED" if session.cancelled else "CONFIRMED", pm=pm)
        for session in series.sessions
    ]
    return _calendar(series, "PUBLISH", events, lang)


def session_invitation(
    series: Series,
    session: Session,
    *,
    lang: str,
    method: Method = "REQUEST",
    sequence: int = 0,
    join_url: str | None = None,
    attendees: Iterable[tuple[str, str]] = (),
    organizer: tuple[str, str] | None = None,
    dtstamp: datetime | None = None,
    pm: Any = None,
) -> Calendar:
    """One session as an invitation: ``METHOD:REQUEST``, or ``METHOD:CANCEL`` to withdraw it.

    ``attendees`` are ``(name, email)`` pairs (RSVP requested); ``organizer`` is a
    ``(name, email)`` pair, by default the series' organiser with its name in ``lang``.
    ``sequence`` must grow with every change the caller sends for the same session.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise InputError(f"method must be REQUEST or CANCEL, not {method!r}")
    status = "CANCELLED" if method == "CANCEL" else "CONFIRMED"
    event = _event(series, session, lang=lang, join_url=join_url, dtstamp=_now(dtstamp),
                   sequence=sequence, status=status, pm=pm)
    name, email = organizer or (series.text(series.organiser.name, lang), series.organiser.email)
    event.add("organizer", _address(name, email))
    for attendee_name, attendee_email in attendees:
        event.add("attendee", _address(attendee_name, attendee_email, attendee=True))
    return _calendar(series, method, [event], lang)


def _address(name: str, email: str, *, attendee: bool = False) -> Any:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    if attendee:
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
    return address
