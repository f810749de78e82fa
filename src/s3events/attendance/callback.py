"""Attendance reports a platform posts to the event page, at a secret signed address.

When the series has an event page (``dispatch.base_url``), provisioning gives each
session's meeting the address ``{base_url}/callbacks/attendance/{session}/{signature}``
(:attr:`MeetingRequest.attendance_callback_url
<s3events.platforms.base.MeetingRequest.attendance_callback_url>`); BigBlueButton posts
its learning-analytics report there when the meeting ends. The signature is an HMAC of the
series, the session and the meeting's generation under a key derived from the state
database's random secret: it cannot be guessed, and an address of a meeting made anew no
longer works. :func:`receive_report` checks it in constant time, refuses an unknown
session, a wrong signature and a second report for a session already reported (a replay),
then lets the platform's adapter read the body and stores the participants as the
session's attendance (replacing what polling saw).

The address is a secret: ``s3events serve`` never logs its signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime

from pydantic import SecretStr

from ..errors import ConfigurationError, InvalidRequest, S3EventsError
from ..models import Series
from ..platforms.base import PlatformAdapter
from ..provision.state import meeting_rows, state_secret
from ..store import Store
from .records import Attendee
from .storage import save_attendance, session_states

__all__ = ["CallbackRefused", "callback_signature", "callback_url", "receive_report"]

CALLBACK_PATH = "callbacks/attendance"


class CallbackRefused(S3EventsError):
    """A posted report was refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def _key(secret: SecretStr) -> bytes:
    return hmac.new(secret.get_secret_value().encode(), b"s3events-attendance-callback",
                    hashlib.sha256).digest()


def callback_signature(secret: SecretStr, series_id: str, session_id: str,
                       generation: int) -> str:
    """The signature of a session's callback address (32 URL-safe characters)."""
    message = f"{series_id}\x00{session_id}\x00{generation}".encode()
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def callback_url(base_url: str, secret: SecretStr, series_id: str, session_id: str,
                 generation: int) -> str:
    """The signed address where the platform may post the session's attendance report."""
    signature = callback_signature(secret, series_id, session_id, generation)
    return f"{base_url.rstrip('/')}/{CALLBACK_PATH}/{session_id}/{signature}"


def receive_report(store: Store, series: Series, session_id: str, signature: str,
                   body: bytes, content_type: str, *, now: datetime,
                   adapter_factory: Callable[[str], PlatformAdapter]) -> int:
    """Check and store a posted report; return how many participants it named.

    Raises :class:`CallbackRefused` (404 unknown session, 403 wrong signature, 409 a
    session already reported by its platform, 400 a body the adapter cannot read).
    """
    row = meeting_rows(store, series.id).get(session_id)
    secret = state_secret(store)
    if row is None or row.meeting is None or secret is None or not _session(series, session_id):
        raise CallbackRefused("unknown session", status=404)
    expected = callback_signature(secret, series.id, session_id, row.generation)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise CallbackRefused("wrong signature", status=403)
    state = session_states(store, series.id).get(session_id)
    if state is not None and state.known and state.source == "callback":
        raise CallbackRefused("this session's report was already received", status=409)
    adapter = adapter_factory(row.meeting.platform)
    try:
        records = adapter.attendance_from_callback(body, content_type)
    except (InvalidRequest, ConfigurationError) as exc:
        raise CallbackRefused(f"report not readable: {exc}", status=400) from exc
    finally:
        adapter.close()
    attendees = [Attendee.from_record(r) for r in records]
    save_attendance(store, series.id, session_id, attendees, source="callback", now=now)
    return len(attendees)


def _session(series: Series, session_id: str) -> bool:
    return any(s.id == session_id and not s.cancelled for s in series.sessions)
