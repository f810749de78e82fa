"""The built-in ``jitsi`` platform: one unguessable, stable room per session, optional JWT.

Jitsi Meet has no API to create meetings: a room exists while someone is in it, and its
link is ``https://{domain}/{room}`` (or ``https://{domain}/{tenant}/{room}``). So this
adapter only builds links, and never talks to the network.

Room names are ``{series}-{session}-{20 characters}``: a readable prefix (lower-cased, cut
short) and 100 bits from an HMAC-SHA256 of the session's marker, keyed by a room secret.
The room secret is the ``room_secret`` option when it is set, otherwise a random secret that
s3events generates once and keeps in the state database (so every run, and every machine
sharing the state, finds the same rooms, and nobody without the secret can guess them).

With ``app_id`` and ``app_secret`` the adapter signs a JWT (HS256) for servers with token
authentication, one per participant (``?jwt=…`` on the link): claims ``iss``, ``aud``,
``sub``, ``room``, ``nbf``, ``exp`` and ``context.user`` ``{id, name, email}``, all strings.
Participants never get a moderator token: only the organiser's host link
(:attr:`Meeting.host_url <s3events.platforms.base.Meeting.host_url>`, a secret) or
:meth:`JitsiAdapter.moderator_url` carry one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta
from typing import Any, ClassVar

import jwt
from pydantic import Field, SecretStr, field_validator, model_validator

from ..errors import ConfigurationError
from ..hookspecs import hookimpl
from ..slugs import ascii_slug
from .base import Meeting, MeetingRequest, Participant, PlatformAdapter, PlatformOptions

__all__ = ["JitsiAdapter", "JitsiOptions", "room_name"]

_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
_TENANT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class JitsiOptions(PlatformOptions):
    """Options of the ``jitsi`` platform (environment: ``S3EVENTS_JITSI_<OPTION>``)."""

    domain: str = Field(default="meet.jit.si", description="Host name of the Jitsi server.")
    tenant: str | None = Field(
        default=None, description="Tenant path segment (JaaS: vpaas-magic-cookie-…)."
    )
    room_secret: SecretStr | None = Field(
        default=None,
        description="Key for room names; default: a random one kept in the state database.",
    )
    app_id: str | None = Field(default=None, description="JWT issuer (prosody app_id).")
    app_secret: SecretStr | None = Field(default=None, description="JWT HS256 key.")
    audience: str = Field(default="jitsi", description="JWT aud claim.")
    subject: str | None = Field(
        default=None, description="JWT sub claim; default the tenant, else the domain."
    )
    token_lifetime: timedelta = Field(
        default=timedelta(hours=2),
        description="Tokens are accepted from this long before the start to this long after "
        "the end of the session.",
    )

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        value = value.strip().lower()
        if not _HOST.match(value):
            raise ValueError(f"'{value}' is not a host name; give it without https:// or a "
                             "path, e.g. meet.example.org")
        return value

    @field_validator("tenant")
    @classmethod
    def _tenant(cls, value: str | None) -> str | None:
        if value is None or not value.strip("/"):
            return None
        value = value.strip("/").lower()
        if not _TENANT.match(value):
            raise ValueError("a tenant is lower-case letters, digits, '-' and '_'")
        return value

    @field_validator("token_lifetime")
    @classmethod
    def _lifetime(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("token_lifetime cannot be negative")
        return value

    @model_validator(mode="after")
    def _jwt_pair(self) -> JitsiOptions:
        if (self.app_id is None) != (self.app_secret is None):
            raise ValueError("JWT needs both app_id and app_secret (or neither)")
        return self

    @property
    def uses_jwt(self) -> bool:
        """True when links carry a signed token."""
        return self.app_id is not None and self.app_secret is not None


def room_name(series_id: str, session_id: str, marker: str, secret: str) -> str:
    """The room for one session: readable prefix plus 100 bits of HMAC of the marker.

    Only ``[a-z0-9-]``, at least 21 characters; the same inputs always give the same room.
    """
    mac = hmac.new(secret.encode(), f"jitsi-room\x00{marker}".encode(), hashlib.sha256)
    token = base64.b32encode(mac.digest()).decode().lower()[:20]
    prefix = "-".join(p for p in (ascii_slug(series_id, 24), ascii_slug(session_id, 24)) if p)
    return f"{prefix}-{token}" if prefix else f"s3e-{token}"


class JitsiAdapter(PlatformAdapter):
    """Links to Jitsi Meet rooms: nothing is created remotely, so nothing can go wrong there."""

    name: ClassVar[str] = "jitsi"
    options_model: ClassVar[type[PlatformOptions]] = JitsiOptions
    idempotent_create: ClassVar[bool] = True
    stores_meetings: ClassVar[bool] = False
    description: ClassVar[str] = "Jitsi Meet rooms (meet.jit.si or self-hosted, optional JWT)"

    options: JitsiOptions

    def __init__(self, options: PlatformOptions | None = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        if not isinstance(self.options, JitsiOptions):
            self.options = JitsiOptions.model_validate(self.options.model_dump())

    # -- links ---------------------------------------------------------------------------
    def room_url(self, room: str) -> str:
        """``https://{domain}[/{tenant}]/{room}``."""
        path = f"{self.options.tenant}/{room}" if self.options.tenant else room
        return f"https://{self.options.domain}/{path}"

    def _secret(self, request: MeetingRequest) -> str:
        secret = self.options.room_secret or request.secret
        if secret is None:
            raise ConfigurationError(
                "platform 'jitsi' has no room secret: set the room_secret option (or "
                "S3EVENTS_JITSI_ROOM_SECRET), or provision with `s3events provision`, which "
                "keeps a random one in the state database")
        return secret.get_secret_value()

    def _meeting(self, room: str, request: MeetingRequest | None) -> Meeting:
        start = request.start if request else None
        duration = request.duration if request else None
        host = None
        if self.options.uses_jwt and start is not None and duration is not None:
            host = SecretStr(self._signed_url(room, start, duration, _ORGANISER, True))
        return Meeting(
            platform=self.name, meeting_id=room, join_url=self.room_url(room), host_url=host,
            start=start, duration=duration, topic=request.topic if request else None,
            marker=request.marker if request else None,
            per_participant_links=self.options.uses_jwt,
            extra={"domain": self.options.domain, "tenant": self.options.tenant},
        )

    # -- tokens --------------------------------------------------------------------------
    def token(self, room: str, *, start: datetime, duration: timedelta,
              participant: Participant, moderator: bool = False) -> str:
        """A signed JWT admitting ``participant`` to ``room`` around the session's time."""
        assert self.options.app_id is not None and self.options.app_secret is not None
        margin = self.options.token_lifetime
        user = {"id": participant.id, "name": participant.name}
        if participant.email:
            user["email"] = participant.email
        if moderator:
            user["moderator"] = "true"
        claims = {
            "iss": self.options.app_id,
            "aud": self.options.audience,
            "sub": self.options.subject or self.options.tenant or self.options.domain,
            "room": room,
            "nbf": int((start - margin).timestamp()),
            "exp": int((start + duration + margin).timestamp()),
            "context": {"user": {k: str(v) for k, v in user.items()}},
        }
        return jwt.encode(claims, self.options.app_secret.get_secret_value(), algorithm="HS256")

    def _signed_url(self, room: str, start: datetime, duration: timedelta,
                    participant: Participant, moderator: bool) -> str:
        token = self.token(room, start=start, duration=duration, participant=participant,
                           moderator=moderator)
        return f"{self.room_url(room)}?jwt={token}"

    def _times(self, meeting: Meeting) -> tuple[datetime, timedelta]:
        if meeting.start is None or meeting.duration is None:
            raise ConfigurationError(
                f"jitsi room {meeting.meeting_id} has no start time recorded; run "
                "`s3events provision` before sending links")
        return meeting.start, meeting.duration

    def join_url_for(self, meeting: Meeting, participant: Participant) -> str:
        """The participant's link: with JWT, their own token (never a moderator one)."""
        if not self.options.uses_jwt:
            return meeting.join_url
        start, duration = self._times(meeting)
        plain = participant.model_copy(update={"moderator": False})
        return self._signed_url(meeting.meeting_id, start, duration, plain, False)

    def moderator_url(self, meeting: Meeting, *, name: str, email: str | None = None) -> SecretStr:
        """A moderator link for the organiser (a secret: never send it to participants)."""
        if not self.options.uses_jwt:
            return SecretStr(self.room_url(meeting.meeting_id))
        start, duration = self._times(meeting)
        who = Participant(id="organiser", name=name, email=email, moderator=True)
        return SecretStr(self._signed_url(meeting.meeting_id, start, duration, who, True))

    # -- the four meeting methods ----------------------------------------------------------
    def fingerprint(self, request: MeetingRequest) -> str:
        """The request's fingerprint plus the server settings that shape the links."""
        opts = self.options
        data = [request.fingerprint(), opts.domain, opts.tenant, opts.uses_jwt,
                opts.audience, opts.subject, opts.token_lifetime.total_seconds()]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:16]

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        """The session's room (always the same for the same secret and marker)."""
        room = room_name(request.series_id, request.session_id, request.marker,
                         self._secret(request))
        return self._meeting(room, request)

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """The same room, with links rebuilt from the current options and times."""
        return self._meeting(meeting.meeting_id, request)

    def delete_meeting(self, meeting: Meeting) -> None:
        """Nothing to delete: a Jitsi room disappears when it is empty."""

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        """The room's meeting (a room always exists; times are not known here)."""
        return self._meeting(meeting_id, None)


_ORGANISER = Participant(id="organiser", name="Organiser", moderator=True)


@hookimpl
def s3events_register_platforms() -> list[type[PlatformAdapter]]:
    """Register the built-in ``jitsi`` platform."""
    return [JitsiAdapter]
