"""URLs that carry a password (the state database, the email transport), read and shown safely.

People paste passwords into URLs as they are: ``smtp://bob:s3cr#t@mail.example.org`` or
``postgresql://app:a/b?c@db/s3``. A URL parser stops the user part at the first ``/``, ``?``
or ``#``, so the rest of such a password becomes the host, port or path — and then appears
in the error that says the port is wrong. Here the user part is everything between ``://``
and the *last* ``@``: :func:`with_encoded_credentials` percent-encodes it so any parser
reads user and password whole (a password already written with ``%40`` stays as it is),
and :func:`redact_url` shows a URL with its password replaced by ``***``, for messages,
whatever shape the URL has.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

__all__ = ["redact_url", "split_credentials", "with_encoded_credentials"]


def split_credentials(url: str) -> tuple[str, str | None, str | None, str]:
    """``(scheme, user, password, rest)`` of ``scheme://user:password@rest``, decoded.

    ``user`` and ``password`` are None when the URL has no ``@`` (no user part) or no
    ``:`` in its user part; ``scheme`` is empty when there is no ``://``.
    """
    scheme, sep, after = url.partition("://")
    if not sep:
        return "", None, None, url
    if "@" not in after:
        return scheme, None, None, after
    userinfo, _, rest = after.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return scheme, unquote(user), unquote(password) if colon else None, rest


def with_encoded_credentials(url: str) -> str:
    """``url`` with its user and password percent-encoded, so parsers read them whole."""
    scheme, user, password, rest = split_credentials(url)
    if user is None:
        return url
    userinfo = quote(user, safe="")
    if password is not None:
        userinfo += ":" + quote(password, safe="")
    return f"{scheme}://{userinfo}@{rest}"


def redact_url(url: str) -> str:
    """``url`` with any password shown as ``***`` (safe for messages and logs)."""
    scheme, user, password, rest = split_credentials(url)
    if user is None:
        return url
    shown_user = quote(user, safe="")
    if password is None:
        return f"{scheme}://{shown_user}@{rest}"
    return f"{scheme}://{shown_user}:***@{rest}"
