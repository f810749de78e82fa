"""Calendar files: parsed back by icalendar and by Mozilla's ical.js, instants checked."""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Timezone

from s3events.calendar import (
    event_uid,
    series_calendar,
    session_invitation,
    to_ics,
    vtimezone,
)
from s3events.errors import InputError
from s3events.loading import parse_series_data
from s3events.models import Series
from s3events.timezones import classify_local_time
from tests.fixtures.series import minimal_series_data

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "tests" / "js"
STAMP = datetime(2021, 10, 20, 8, 0, tzinfo=timezone.utc)
JOIN = "https://meet.example.org/s3-latam-2021-day-1"


def santiago_series() -> Series:
    """Sessions in America/Santiago on both sides of its April and September 2022 changes."""
    days = [date(2022, 3, 31), date(2022, 4, 7), date(2022, 9, 8), date(2022, 9, 15),
            date(2022, 11, 3)]
    sessions = [{"id": f"s{i}", "title": {"en": f"Session {i}", "es": f"Sesión {i}"},
                 "start": f"{d}T12:00:00", "end": f"{d}T13:30:00"} for i, d in enumerate(days)]
    data = minimal_series_data(id="santiago", timezone="America/Santiago", sessions=sessions)
    return parse_series_data(data)[0]


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def events(cal: Calendar) -> list[Any]:
    return list(cal.walk("VEVENT"))


def wall_to_utc(vtz: Any, wall: datetime) -> datetime:
    """Read a wall time with a VTIMEZONE by hand: the latest observance started before it."""
    onsets = []
    for observance in vtz.subcomponents:
        start = observance.decoded("dtstart")
        onsets.append((start, observance.decoded("tzoffsetto")))
    started = [o for o in onsets if o[0] <= wall]
    assert started, f"no observance in force at {wall}"
    offset = max(started, key=lambda o: o[0])[1]
    return (wall - offset).replace(tzinfo=timezone.utc)


# -- the feed -------------------------------------------------------------------------------


def test_feed_is_publish_with_one_event_per_session(reference_series: Series) -> None:
    cal = parse(to_ics(series_calendar(reference_series, lang="en", dtstamp=STAMP)))
    assert cal["METHOD"] == "PUBLISH"
    found = events(cal)
    assert [str(e["UID"]) for e in found] == [
        event_uid(reference_series.id, s.id) for s in reference_series.sessions]
    for event, session in zip(found, reference_series.sessions, strict=True):
        assert event["DTSTART"].params["TZID"] == "Europe/Brussels"
        assert event.decoded("DTSTART") == session.start
        assert event.decoded("DTEND") == session.ends_at
        assert event.decoded("DTSTAMP") == STAMP
        assert event["STATUS"] == "CONFIRMED"


def test_feed_texts_are_in_the_requested_language(reference_series: Series) -> None:
    cal = parse(to_ics(series_calendar(reference_series, lang="es", dtstamp=STAMP)))
    first = events(cal)[0]
    assert str(first["SUMMARY"]) == (
        "Día 1: Introducción: ¿qué es la S3? ¿Cómo se puede adaptar a América Latina?")
    description = str(first["DESCRIPTION"])
    assert "Temas:\n- Génesis de la S3 en la UE" in description
    assert "El ejercicio interactivo tendrá como objetivo:\n- Identificar" in description
    assert str(first["LOCATION"]) == "En línea"
    assert "URL" not in first


def test_feed_puts_known_join_links_in_url_location_description_and_conference(
    reference_series: Series,
) -> None:
    cal = parse(to_ics(series_calendar(reference_series, lang="en",
                                       join_urls={"day-1": JOIN}, dtstamp=STAMP)))
    first, second = events(cal)[:2]
    assert str(first["URL"]) == JOIN
    assert str(first["LOCATION"]) == JOIN
    assert f"Join: {JOIN}" in str(first["DESCRIPTION"])
    assert str(first["CONFERENCE"]) == JOIN
    assert first["CONFERENCE"].params["VALUE"] == "URI"
    assert "URL" not in second


def test_cancelled_session_stays_in_the_feed_marked_cancelled() -> None:
    data = minimal_series_data()
    data["sessions"][1]["status"] = "cancelled"
    series = parse_series_data(data)[0]
    found = events(parse(to_ics(series_calendar(series, lang="es", dtstamp=STAMP))))
    assert [str(e["STATUS"]) for e in found] == ["CONFIRMED", "CANCELLED"]
    assert str(found[1]["SUMMARY"]).startswith("Cancelada: ")


def test_uids_are_the_same_on_every_run_and_machine(reference_series: Series) -> None:
    assert event_uid("s3-latam-2021", "day-1") == "3005fa6e-ede0-5fff-828c-34e0c07c7528@s3events"
    code = "from s3events.calendar import event_uid; print(event_uid('s3-latam-2021', 'day-1'))"
    other_run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True, env={"PYTHONHASHSEED": "12345", "PATH": ""})
    assert other_run.stdout.strip() == event_uid("s3-latam-2021", "day-1")
    assert event_uid("s3-latam-2021", "day-2") != event_uid("s3-latam-2021", "day-1")
    assert event_uid("other-series", "day-1") != event_uid("s3-latam-2021", "day-1")


def test_two_runs_write_identical_bytes(reference_series: Series) -> None:
    first = to_ics(series_calendar(reference_series, lang="es", dtstamp=STAMP))
    second = to_ics(series_calendar(reference_series, lang="es", dtstamp=STAMP))
    assert first == second


def test_dtstamp_defaults_to_now(reference_series: Series) -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    cal = parse(to_ics(series_calendar(reference_series, lang="en")))
    assert events(cal)[0].decoded("DTSTAMP") >= before


def test_lines_end_with_crlf_and_are_folded(reference_series: Series) -> None:
    data = to_ics(series_calendar(reference_series, lang="es", dtstamp=STAMP))
    lines = data.split(b"\r\n")
    assert lines[-1] == b""
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)


# -- VTIMEZONE --------------------------------------------------------------------------------


def test_every_tzid_has_a_vtimezone_without_multi_valued_rdate(reference_series: Series) -> None:
    data = to_ics(series_calendar(reference_series, lang="en", dtstamp=STAMP))
    cal = parse(data)
    used = {e["DTSTART"].params["TZID"] for e in events(cal)}
    used |= {e["DTEND"].params["TZID"] for e in events(cal)}
    defined = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    assert used == defined == {"Europe/Brussels"}
    assert b"RDATE" not in data
    for tz in cal.walk("VTIMEZONE"):
        for observance in tz.subcomponents:
            assert observance.name in ("STANDARD", "DAYLIGHT")
            # one value per property (BEGIN and END come on top): no repeated DTSTART or RDATE
            assert len(observance.property_items()) == len(set(observance.keys())) + 2
            assert "RRULE" not in observance


def test_vtimezone_covers_the_october_2021_change(reference_series: Series) -> None:
    cal = parse(to_ics(series_calendar(reference_series, lang="en", dtstamp=STAMP)))
    (vtz,) = cal.walk("VTIMEZONE")
    kinds = [(o.name, o.decoded("dtstart")) for o in vtz.subcomponents]
    assert kinds == [("DAYLIGHT", datetime(2021, 3, 28, 2, 0)),
                     ("STANDARD", datetime(2021, 10, 31, 3, 0)),
                     ("DAYLIGHT", datetime(2022, 3, 27, 2, 0)),
                     ("STANDARD", datetime(2022, 10, 30, 3, 0))]
    for event in events(cal):
        wall = event.decoded("DTSTART").replace(tzinfo=None)
        assert wall_to_utc(vtz, wall) == event.decoded("DTSTART")


@pytest.mark.parametrize("zone", ["America/Santiago", "America/Mexico_City", "America/Lima",
                                  "America/Sao_Paulo", "Asia/Tokyo"])
def test_vtimezone_reads_back_every_hour_as_the_tz_database(zone: str) -> None:
    start = datetime(2021, 9, 1, tzinfo=timezone.utc)
    end = datetime(2022, 12, 31, tzinfo=timezone.utc)
    vtz = Timezone.from_ical(vtimezone(zone, start, end).to_ical())
    tz = ZoneInfo(zone)
    moment, checked = start, 0
    while moment < end:
        wall = moment.astimezone(tz).replace(tzinfo=None)
        if classify_local_time(wall, tz) == "ok":  # a wall time in an overlap has two instants
            assert wall_to_utc(vtz, wall) == moment, (zone, moment)
            checked += 1
        moment += timedelta(hours=7)
    assert checked > 1500


def test_icalendar_reads_the_vtimezone_to_the_same_instants() -> None:
    series = santiago_series()
    cal = parse(to_ics(series_calendar(series, lang="es", dtstamp=STAMP)))
    (vtz,) = cal.walk("VTIMEZONE")
    names = [o.name for o in vtz.subcomponents]
    assert names[:1] == ["DAYLIGHT"] and "STANDARD" in names
    custom = vtz.to_tz()
    for event, session in zip(events(cal), series.sessions, strict=True):
        wall = event.decoded("DTSTART").replace(tzinfo=None)
        assert wall.replace(tzinfo=custom).astimezone(timezone.utc) == session.start


# -- invitations ------------------------------------------------------------------------------


def test_invitation_is_a_request_with_organizer_attendees_and_sequence(
    reference_series: Series,
) -> None:
    session = reference_series.sessions[0]
    cal = parse(to_ics(session_invitation(
        reference_series, session, lang="es", sequence=3, join_url=JOIN,
        attendees=[("Ana Pérez", "ana@example.org"), ("Luis Soto", "luis@example.org")],
        dtstamp=STAMP)))
    assert cal["METHOD"] == "REQUEST"
    (event,) = events(cal)
    assert str(event["UID"]) == event_uid(reference_series.id, session.id)
    assert event["SEQUENCE"] == 3
    assert event["STATUS"] == "CONFIRMED"
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:s3-latam@example.org"
    assert organizer.params["CN"] == "Centro Común de Investigación (JRC), Comisión Europea"
    attendees = event["ATTENDEE"]
    assert [str(a) for a in attendees] == ["mailto:ana@example.org", "mailto:luis@example.org"]
    assert [a.params["CN"] for a in attendees] == ["Ana Pérez", "Luis Soto"]
    assert all(a.params["RSVP"] == "TRUE" for a in attendees)
    assert str(event["URL"]) == JOIN


def test_cancel_invitation_is_marked_cancelled(reference_series: Series) -> None:
    session = reference_series.sessions[1]
    cal = parse(to_ics(session_invitation(reference_series, session, lang="en",
                                          method="CANCEL", sequence=4, dtstamp=STAMP)))
    assert cal["METHOD"] == "CANCEL"
    (event,) = events(cal)
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 4
    assert str(event["UID"]) == event_uid(reference_series.id, session.id)


def test_invitation_accepts_a_custom_organizer_and_refuses_other_methods(
    reference_series: Series,
) -> None:
    session = reference_series.sessions[0]
    cal = parse(to_ics(session_invitation(reference_series, session, lang="en",
                                          organizer=("Seminar desk", "desk@example.org"))))
    assert str(events(cal)[0]["ORGANIZER"]) == "mailto:desk@example.org"
    with pytest.raises(InputError, match="REQUEST or CANCEL"):
        session_invitation(reference_series, session, lang="en", method="PUBLISH")  # type: ignore[arg-type]


def test_invitation_has_no_way_in_for_a_host_link(reference_series: Series) -> None:
    parameters = inspect.signature(session_invitation).parameters
    assert not [name for name in parameters if "host" in name or "start_url" in name]
    with pytest.raises(TypeError):
        session_invitation(reference_series, reference_series.sessions[0], lang="en",
                           host_url="https://host.example.org")  # type: ignore[call-arg]


# -- an independent reader: ical.js -----------------------------------------------------------


def _node_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed: the ical.js cross-check needs Node.js"
    if not (JS / "node_modules" / "ical.js").is_dir():
        return "tests/js/node_modules is missing: run `cd tests/js && npm ci`"
    return None


def read_with_icaljs(path: Path) -> list[dict[str, str]]:
    reason = _node_missing()
    if reason:
        pytest.skip(reason)
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run([node, str(JS / "read-ics.mjs"), str(path)], capture_output=True,
                          text=True, cwd=JS, timeout=60)
    assert done.returncode == 0, done.stderr
    result: list[dict[str, str]] = json.loads(done.stdout)
    return result


def utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected_instants(series: Series) -> list[dict[str, str]]:
    return [{"uid": event_uid(series.id, s.id), "tzid": series.timezone,
             "start": utc_text(s.start), "end": utc_text(s.ends_at)} for s in series.sessions]


def icalendar_instants(data: bytes) -> list[dict[str, str]]:
    return [{"uid": str(e["UID"]), "tzid": e["DTSTART"].params["TZID"],
             "start": utc_text(e.decoded("DTSTART")), "end": utc_text(e.decoded("DTEND"))}
            for e in events(parse(data))]


@pytest.mark.node
@pytest.mark.parametrize("which", ["reference", "santiago"])
def test_icaljs_and_icalendar_agree_with_the_model_on_every_instant(
    tmp_path: Path, reference_series: Series, which: str
) -> None:
    series = reference_series if which == "reference" else santiago_series()
    data = to_ics(series_calendar(series, lang="es", dtstamp=STAMP))
    path = tmp_path / "feed.ics"
    path.write_bytes(data)
    expected = expected_instants(series)
    assert icalendar_instants(data) == expected
    assert read_with_icaljs(path) == expected


def test_a_single_invitation_still_carries_standard_and_daylight_time(
    reference_series: Series,
) -> None:
    cal = parse(to_ics(session_invitation(reference_series, reference_series.sessions[0],
                                          lang="en", dtstamp=STAMP)))
    (vtz,) = cal.walk("VTIMEZONE")
    assert {o.name for o in vtz.subcomponents} == {"STANDARD", "DAYLIGHT"}


@pytest.mark.node
def test_icaljs_reads_each_invitation_after_the_october_change(
    tmp_path: Path, reference_series: Series
) -> None:
    for session in reference_series.sessions[:2]:  # before and after 31 October 2021
        path = tmp_path / f"{session.id}.ics"
        path.write_bytes(to_ics(session_invitation(reference_series, session, lang="en",
                                                   join_url=JOIN, dtstamp=STAMP)))
        (event,) = read_with_icaljs(path)
        assert event["start"] == utc_text(session.start)
        assert event["end"] == utc_text(session.ends_at)
