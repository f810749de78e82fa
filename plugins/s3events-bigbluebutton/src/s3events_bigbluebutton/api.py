"""The BigBlueButton API wire format: signed call URLs and XML responses.

Every call is ``{api_base_url}/{call}?{query}&checksum={checksum}`` where the checksum is
``hex(hash(call + query + secret))`` over exactly the query string sent (``quote_plus``
encoding, parameters in the order given, ``meta_*`` ones included). Every answer is XML
whose ``<returncode>`` says whether the call worked; the HTTP status does not.
``getMeetingInfo`` also lists the ``<attendees>`` in the meeting, each as its fields.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode

from s3events.errors import AuthenticationError, InvalidRequest, ServiceUnavailable

__all__ = [
    "MAX_RESPONSE_BYTES",
    "ChecksumAlgorithm",
    "Reply",
    "checksum",
    "parse_reply",
    "raise_for_reply",
    "signed_url",
]

ChecksumAlgorithm = Literal["sha1", "sha256", "sha384", "sha512"]

#: Larger answers are refused: API replies are a few kilobytes, recordings lists aside.
MAX_RESPONSE_BYTES = 1_000_000

CHECKSUM_HINT = (
    "check the 'secret' option (run `bbb-conf --secret` on the BigBlueButton server) and "
    "that the server accepts the checksum_algorithm"
)


def checksum(call: str, query: str, secret: str, algorithm: ChecksumAlgorithm = "sha256") -> str:
    """``hex(hash(call + query + secret))``: the signature of one API call."""
    return hashlib.new(algorithm, f"{call}{query}{secret}".encode()).hexdigest()


def signed_url(
    base_url: str,
    call: str,
    params: Sequence[tuple[str, str]],
    *,
    secret: str,
    algorithm: ChecksumAlgorithm = "sha256",
) -> str:
    """The full URL of ``call`` with ``params`` and the checksum over the exact query sent."""
    query = urlencode(list(params))
    signature = checksum(call, query, secret, algorithm)
    separator = "&" if query else ""
    return f"{base_url.rstrip('/')}/{call}?{query}{separator}checksum={signature}"


@dataclass(frozen=True)
class Reply:
    """A parsed API answer: ``returncode``, ``message_key``, ``message`` and the other fields."""

    returncode: str
    message_key: str | None = None
    message: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    #: Each ``<attendees><attendee>`` of a getMeetingInfo answer: its leaf fields.
    attendees: tuple[dict[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """True when ``returncode`` is SUCCESS (``duplicateWarning`` included)."""
        return self.returncode == "SUCCESS"


def parse_reply(content: bytes, *, call: str) -> Reply:
    """Parse an XML answer; raise ServiceUnavailable when it is too big or not the API's XML."""
    if len(content) > MAX_RESPONSE_BYTES:
        raise ServiceUnavailable(
            f"bigbluebutton answered '{call}' with {len(content)} bytes, more than an API reply",
            service="bigbluebutton", hint="check that api_base_url ends in /bigbluebutton/api",
        )
    try:
        root = ET.fromstring(content)  # noqa: S314 - trusted server, size bounded above
    except ET.ParseError as exc:
        raise ServiceUnavailable(
            f"bigbluebutton answered '{call}' with something that is not XML",
            service="bigbluebutton", hint="check that api_base_url ends in /bigbluebutton/api",
        ) from exc
    fields = {child.tag: (child.text or "").strip() for child in root if len(child) == 0}
    returncode = fields.pop("returncode", "")
    if not returncode:
        raise ServiceUnavailable(
            f"bigbluebutton answered '{call}' without a <returncode>",
            service="bigbluebutton", hint="check that api_base_url ends in /bigbluebutton/api",
        )
    attendees = tuple(
        {leaf.tag: (leaf.text or "").strip() for leaf in attendee if len(leaf) == 0}
        for attendee in root.iterfind("attendees/attendee"))
    return Reply(returncode, fields.pop("messageKey", None), fields.pop("message", None), fields,
                 attendees)


def raise_for_reply(reply: Reply, *, call: str) -> None:
    """Raise the s3events error for a FAILED reply; do nothing on SUCCESS."""
    if reply.ok:
        return
    vendor = f"{reply.message_key}: {reply.message}" if reply.message else reply.message_key
    if reply.message_key == "checksumError":
        raise AuthenticationError(
            f"bigbluebutton refused the checksum of '{call}'",
            service="bigbluebutton", vendor_message=vendor, hint=CHECKSUM_HINT,
        )
    raise InvalidRequest(
        f"bigbluebutton refused '{call}'", service="bigbluebutton", vendor_message=vendor,
    )
