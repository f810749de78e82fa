"""Email messages as MIME bytes: text, HTML and an RFC 6047 calendar part.

The structure, when the message carries an invitation::

    multipart/mixed
    ├── multipart/alternative
    │   ├── text/plain; charset=UTF-8
    │   ├── text/html; charset=UTF-8
    │   └── text/calendar; charset=UTF-8; method=REQUEST   (or CANCEL: always = METHOD)
    └── application/ics; name="invite.ics"                  (attachment; optional)

and ``multipart/alternative`` of text and HTML alone otherwise. A message's other
attachments (a certificate's PDF) follow in ``multipart/mixed`` too, base64, with their
file name (RFC 2231-encoded when not ASCII). Text parts are
quoted-printable, the attachment base64, so the message is 7-bit clean for any server.
Headers: ``From`` (the series' sender, with the organiser's name), ``To`` (the participant's
name and address, RFC 2047-encoded when not ASCII — "José Peña" survives), ``Reply-To``
when the message has one, a localised
``Subject``, ``Date``, the ``Message-ID`` derived from the ledger key (the same on every
resend), ``Auto-Submitted: auto-generated``, ``Content-Language``, and ``List-Unsubscribe``
when the message has a cancel link.

**Internationalised addresses.** A domain beyond ASCII is written as A-labels (IDNA 2008
with the UTS 46 mapping, the ``idna`` package): ``user@münchen.de`` goes out as
``user@xn--mnchen-3ya.de``, in the envelope and the headers, so any server takes it. A local
part beyond ASCII (``josé@example.org``) cannot be written that way: such a message
(recipient, sender or ``Reply-To``) is an RFC 6532 message, its address headers in UTF-8 as
:data:`email.policy.SMTPUTF8` writes them, and it needs a server that offers SMTPUTF8
(RFC 6531): :func:`message_needs_smtputf8` says so, and the ``smtp`` transport asks for
it. Every other message stays 7-bit.

The builder writes the MIME text itself (checked by the tests against :mod:`email`'s
parser and :mod:`icalendar`): it is what makes thousands of messages a second possible.
Only the address headers of an SMTPUTF8 message go through :mod:`email`'s header classes.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import re
from datetime import datetime, timezone
from email.header import Header
from email.headerregistry import Address
from email.policy import SMTPUTF8
from email.utils import format_datetime, formataddr
from urllib.parse import quote

import idna

from .transports.base import OutgoingMessage

__all__ = ["ascii_domain", "build_email", "encode_address", "envelope_address",
           "message_needs_smtputf8", "needs_smtputf8"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_DEFAULT_SENDER = "s3events@localhost"
#: Headers the builder writes from the message's fields, never from ``message.headers``.
_OWN_HEADERS = ("date", "from", "to", "subject", "message-id", "reply-to")


def _clean(value: str) -> str:
    """A header value on one line (no header injection)."""
    return _CONTROL.sub(" ", value).strip()


@functools.lru_cache(maxsize=4096)
def ascii_domain(domain: str) -> str:
    """``domain`` as the DNS knows it: A-labels (IDNA 2008, UTS 46 mapping) when not ASCII.

    An ASCII domain is returned as it is. One that IDNA 2008 refuses (a symbol such as ☃)
    raises :class:`ValueError` saying why.
    """
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"the domain of the address cannot be written in ASCII under IDNA "
                         f"2008: {exc}") from None


def envelope_address(address: str) -> str:
    """The address for SMTP and headers: the domain as A-labels; the local part as given."""
    local, _, domain = address.strip().rpartition("@")
    return f"{local}@{ascii_domain(domain)}" if local else address.strip()


def needs_smtputf8(address: str) -> bool:
    """True when the address' local part is not ASCII (RFC 6531 SMTPUTF8 needed)."""
    return not address.strip().rpartition("@")[0].isascii()


def _addresses(message: OutgoingMessage) -> list[str]:
    found = [message.recipient, message.sender or _DEFAULT_SENDER]
    return [*found, message.reply_to] if message.reply_to else found


def message_needs_smtputf8(message: OutgoingMessage) -> bool:
    """True when an address of ``message`` (to, from, reply-to) has a local part beyond
    ASCII: the message is then an RFC 6532 one, for a server that offers SMTPUTF8."""
    return any(needs_smtputf8(address) for address in _addresses(message))


@functools.lru_cache(maxsize=4096)
def _encoded_header(value: str) -> str:
    value = _clean(value)
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8", maxlinelen=76).encode()


def encode_address(name: str, address: str) -> str:
    """``"Name" <address>`` for a header; a non-ASCII name is RFC 2047-encoded.

    For addresses whose local part is ASCII (see :func:`needs_smtputf8`); the domain is
    written as A-labels.
    """
    return formataddr((_clean(name), envelope_address(address)), charset="utf-8")


def _utf8_address_line(field: str, name: str, address: str) -> str:
    """``Field: Name <address>`` in UTF-8, as :data:`email.policy.SMTPUTF8` writes it."""
    local, _, domain = envelope_address(_clean(address)).rpartition("@")
    value = Address(display_name=_clean(name), username=local, domain=domain)
    folded: str = SMTPUTF8.fold(field, SMTPUTF8.header_factory(field, value))
    return folded.rstrip("\r\n")


def _address_line(field: str, name: str, address: str, utf8: bool) -> str:
    if utf8:
        return _utf8_address_line(field, name, address)
    return f"{field}: {encode_address(name, address)}"


def _qp(text: str) -> bytes:
    data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)


def _base64(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False)


def _wrap64(data: bytes) -> bytes:
    encoded = _base64(data)
    return b"\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))


def _part(content_type: str, body: bytes, encoding: str, extra: str = "") -> bytes:
    head = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\n{extra}"
    return head.encode("ascii") + b"\r\n" + body


def _multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    sep = f"--{boundary}\r\n".encode()
    body = b"".join(sep + part + b"\r\n" for part in parts)
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'
    return head.encode() + body + f"--{boundary}--\r\n".encode()


def _headers(message: OutgoingMessage, date: datetime | None, utf8: bool) -> list[str]:
    if date is not None or "Date" not in message.headers:
        stamp = format_datetime((date or datetime.now(timezone.utc)).astimezone(timezone.utc))
    else:
        stamp = _clean(message.headers["Date"])
    lines = [
        _address_line("From", message.sender_name or "", message.sender or _DEFAULT_SENDER,
                      utf8),
        _address_line("To", message.recipient_name, message.recipient, utf8),
    ]
    if message.reply_to:
        lines.append(_address_line("Reply-To", "", message.reply_to, utf8))
    lines += [f"Subject: {_encoded_header(message.subject)}", f"Date: {stamp}"]
    if message.message_id:
        lines.append(f"Message-ID: {message.message_id}")
    lines += ["MIME-Version: 1.0", "Auto-Submitted: auto-generated",
              f"Content-Language: {_clean(message.language)}"]
    for name, value in message.headers.items():
        if name.lower() not in _OWN_HEADERS:
            lines.append(f"{_clean(name)}: {_encoded_header(value)}")
    return lines


def _attachment(filename: str, content_type: str, data: bytes) -> bytes:
    name = _clean(filename).replace('"', "").replace("\\", "") or "attachment"
    if name.isascii():
        param = f'name="{name}"'
        disposition = f'filename="{name}"'
    else:
        encoded = quote(name, safe="")
        param = f"name*=utf-8''{encoded}"
        disposition = f"filename*=utf-8''{encoded}"
    kind = _clean(content_type) or "application/octet-stream"
    return _part(f"{kind}; {param}", _wrap64(data), "base64",
                 f"Content-Disposition: attachment; {disposition}\r\n")


def build_email(message: OutgoingMessage, *, date: datetime | None = None,
                attach_ics: bool = True) -> bytes:
    """The complete email for ``message`` as bytes with CRLF line ends.

    ``date`` overrides the ``Date`` in ``message.headers`` (an RFC 5322 date, set by the
    dispatcher); without either it is now. With a calendar part, ``attach_ics`` also
    attaches it as ``invite.ics`` for mail programs that only look at attachments. When
    :func:`message_needs_smtputf8`, the address headers are UTF-8 (RFC 6532); the message is
    7-bit otherwise. Raises :class:`ValueError` for a domain IDNA 2008 cannot encode.
    """
    seed = hashlib.sha256((message.message_id or message.key).encode()).hexdigest()[:24]
    parts = [_part("text/plain; charset=UTF-8", _qp(message.text), "quoted-printable")]
    if message.html:
        parts.append(_part("text/html; charset=UTF-8", _qp(message.html), "quoted-printable"))
    if message.calendar:
        method = (message.calendar_method or "REQUEST").upper()
        parts.append(_part(f"text/calendar; charset=UTF-8; method={method}",
                           _qp(message.calendar), "quoted-printable"))
    body = _multipart("alternative", f"=_alt_{seed}", parts)
    files = []
    if message.calendar and attach_ics:
        files.append(_part(
            'application/ics; name="invite.ics"', _wrap64(message.calendar.encode("utf-8")),
            "base64", 'Content-Disposition: attachment; filename="invite.ics"\r\n'))
    files += [_attachment(a.filename, a.content_type, a.data) for a in message.attachments]
    if files:
        body = _multipart("mixed", f"=_mix_{seed}", [body, *files])
    head = "\r\n".join(_headers(message, date, message_needs_smtputf8(message))) + "\r\n"
    return head.encode("utf-8") + body
