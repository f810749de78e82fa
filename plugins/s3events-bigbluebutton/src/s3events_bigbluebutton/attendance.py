"""BigBlueButton attendance: the learning-analytics callback, and who is in a running meeting.

BigBlueButton has no API for the attendance of an ended meeting. It has two other ways:

* **The analytics callback.** A meeting created with ``meta_analytics-callback-url`` (and
  ``meetingKeepEvents=true``, so its events are kept even when nothing is recorded) is
  processed after it ends by the server's ``post_events_analytics_callback`` script, which
  POSTs a JSON report to that URL with ``Authorization: Bearer <JWT>``: HS512, signed with
  the server's shared secret (a Scalelite load balancer signs with its own, which is then
  the ``secret`` s3events uses), claims ``{"exp": …}``. The body, keys in snake case::

      {"version": "1.0", "meeting_id": "<our meetingID>", "internal_meeting_id": "…",
       "data": {"metadata": {…}, "duration": 9000, "start": "…", "finish": "…",
                "attendees": [{"ext_user_id": "<the join's userID>", "name": "Zoë",
                               "moderator": false, "joins": ["2021-10-28T15:02:10.000+00:00"],
                               "leaves": ["…"], "duration": 8400,
                               "sessions": [{"joins": [{"timestamp": "…", "userid": "w_…",
                                                        "ext_userid": "…", "event": "join"}],
                                             "lefts": [{"timestamp": "…", …}]}]}, …],
                "files": […], "polls": […]}}

  One attendee per ``ext_user_id``: s3events puts the registration's id there (the join
  link's ``userID``), so matching is exact. Each of ``sessions`` is one connection (a
  browser tab) with its joins and leaves in order; older servers give only the ``joins`` and
  ``leaves`` lists, paired in order. A join without a leave lasts until ``finish``.
  ``duration`` is the server's own total, overlapping connections counted once.
* **Polling.** ``getMeetingInfo`` lists the attendees of a running meeting (``userID``,
  ``fullName``); s3events asks it regularly while the session runs and builds the stays
  from what it sees.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import jwt

from s3events.errors import AuthenticationError, InvalidRequest
from s3events.platforms.base import AttendanceInterval, AttendanceRecord, covered_seconds

from .api import Reply

__all__ = ["analytics_records", "present_records", "verify_callback_token"]

SERVICE = "bigbluebutton"
SIGNATURE_HINT = (
    "BigBlueButton signs its analytics callback with its shared secret: check that the "
    "'secret' option is the server's (bbb-conf --secret) or the load balancer's")
#: What older servers (Ruby's Time#to_json) wrote before ISO 8601.
_RUBY_TIME = "%Y-%m-%d %H:%M:%S %z"


def verify_callback_token(headers: Mapping[str, str], secret: str) -> None:
    """Raise :class:`AuthenticationError` unless the post carries a valid JWT for ``secret``."""
    found = {key.lower(): value for key, value in headers.items()}.get("authorization", "")
    scheme, _, token = found.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("the attendance report carries no BigBlueButton token",
                                  service=SERVICE, status=401, hint=SIGNATURE_HINT)
    try:
        with warnings.catch_warnings():
            # the key is the server's secret, whatever its length: no warning per report
            warnings.filterwarnings("ignore", message=".*HMAC key.*")
            jwt.decode(token.strip(), secret, algorithms=["HS512", "HS384", "HS256"],
                       options={"require": ["exp"]}, leeway=300)
    except jwt.PyJWTError as exc:
        raise AuthenticationError(
            f"the attendance report's token is not valid ({type(exc).__name__})",
            service=SERVICE, status=401, hint=SIGNATURE_HINT) from None


def analytics_records(body: bytes, content_type: str) -> list[AttendanceRecord]:
    """The records of a learning-analytics callback body; InvalidRequest if it is not one."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in ("application/json", "text/json", ""):
        raise InvalidRequest(f"an analytics report is JSON, not {content_type!r}",
                             service=SERVICE, status=415)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the analytics report is not JSON", service=SERVICE,
                             status=400) from None
    data = payload.get("data") if isinstance(payload, dict) else None
    attendees = data.get("attendees") if isinstance(data, dict) else None
    if not isinstance(attendees, list):
        raise InvalidRequest("the analytics report has no data.attendees list",
                             service=SERVICE, status=400)
    finish = _time(data.get("finish")) if isinstance(data, dict) else None
    return [_record(a, finish) for a in attendees if isinstance(a, dict)]


def present_records(reply: Reply) -> list[AttendanceRecord]:
    """Who a getMeetingInfo answer lists as in the meeting (no stays: a snapshot)."""
    if reply.fields.get("running", "true") != "true":
        return []
    return [AttendanceRecord(name=a.get("fullName", "").strip() or "BigBlueButton participant",
                             identity=a.get("userID") or None)
            for a in reply.attendees]


# -- the callback's attendees -----------------------------------------------------------------


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.strptime(text, _RUBY_TIME)
        except ValueError:
            return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else None


def _stamps(events: Any) -> list[datetime]:
    """Times of a list of joins or leaves (plain strings, or ``{"timestamp": …}``)."""
    found = []
    for event in events if isinstance(events, list) else ():
        value = event.get("timestamp") if isinstance(event, dict) else event
        moment = _time(value)
        if moment is not None:
            found.append(moment)
    return sorted(found)


def _paired(joins: list[datetime], leaves: list[datetime],
            finish: datetime | None) -> Iterable[AttendanceInterval]:
    """Each join with the first leave after it; an unmatched join lasts until ``finish``."""
    pending = list(leaves)
    for joined in joins:
        left = next((leave for leave in pending if leave >= joined), None)
        if left is not None:
            pending.remove(left)
        else:
            left = finish if finish is not None and finish >= joined else None
        if left is not None:
            yield AttendanceInterval(joined=joined, left=left)


def _stays(attendee: Mapping[str, Any], finish: datetime | None) -> list[AttendanceInterval]:
    sessions = [s for s in attendee.get("sessions") or () if isinstance(s, dict)]
    if sessions:
        stays = [stay for s in sessions
                 for stay in _paired(_stamps(s.get("joins")), _stamps(s.get("lefts")), finish)]
    else:
        stays = list(_paired(_stamps(attendee.get("joins")), _stamps(attendee.get("leaves")),
                             finish))
    return sorted(stays, key=lambda stay: stay.joined)


def _record(attendee: Mapping[str, Any], finish: datetime | None) -> AttendanceRecord:
    stays = _stays(attendee, finish)
    reported = attendee.get("duration")
    seconds = (int(reported) if isinstance(reported, (int, float)) and reported >= 0
               and not isinstance(reported, bool) else covered_seconds(stays))
    identity = attendee.get("ext_user_id") or attendee.get("ext_userid") or attendee.get("id")
    name = str(attendee.get("name") or "").strip() or "BigBlueButton participant"
    return AttendanceRecord(name=name, identity=str(identity) if identity else None,
                            intervals=tuple(stays), seconds=seconds)
