"""HTTP for adapters: one ``requests.Session``, timeouts, retries, tokens, error mapping.

:class:`HttpClient` is what platform adapters and messaging transports use to talk to
vendors. It gives every adapter the same behaviour:

* a timeout on every call;
* retries with exponential backoff and jitter on 429 (honouring ``Retry-After`` given as
  seconds, an HTTP date or an ISO 8601 timestamp; a wait longer than the policy's
  ``max_wait`` is not slept through but raised as :class:`~s3events.errors.RateLimited`,
  and so is every 429 with ``RetryPolicy(wait_rate_limits=False)``, as messaging transports
  use so the dispatcher can pause the whole channel)
  and, for idempotent calls only, on 5xx and connection errors (a connection that could not
  even be opened is retried for every call: nothing reached the vendor);
* a bearer token from a :class:`TokenProvider`, cached, refreshed before it expires, and
  refreshed once more (with one retry) when the vendor answers 401; OAuth token responses
  read and checked by :meth:`TokenProvider.token_from_response`, form-posted token requests
  made by :meth:`TokenProvider.request_token`;
* vendor errors mapped to :mod:`s3events.errors`, with the vendor's message and a hint;
* a ``redact`` hook for secrets that travel in URLs (a bot token in the path): what the
  client raises and logs goes through it.

Adapters take the ``requests.Session`` from the caller when given, so tests mock it with
``responses``; the clock and ``sleep`` are injectable too. A client may be called from
several threads at once (a dispatcher sending concurrently): :meth:`HttpClient.pool` sizes
the connection pool of a session it made. :class:`HttpBacked` gives an
adapter or transport built on one client its ``close()``: the session is closed when the
client made it, and left to the caller who passed it in.
"""

from __future__ import annotations

from .bodies import error_body, error_for_status, json_object
from .client import HttpBacked, HttpClient
from .retry import IDEMPOTENT_METHODS, RetryPolicy, parse_retry_after
from .tokens import Token, TokenProvider

__all__ = [
    "IDEMPOTENT_METHODS",
    "HttpBacked",
    "HttpClient",
    "RetryPolicy",
    "Token",
    "TokenProvider",
    "error_body",
    "error_for_status",
    "json_object",
    "parse_retry_after",
]
