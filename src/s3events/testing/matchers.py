"""``responses`` matchers that check what an adapter sends, and say clearly what differs.

A mock that answers any body with the request's own values cannot tell an adapter that sent
the change from one that forgot it. Register the mock with a matcher instead::

    rsps.add(responses.PATCH, f"{BASE}/meetings/{meeting_id}", status=204, match=[
        json_fields({"start_time": "2030-03-06T17:00:00Z", "duration": 120,
                     "topic": request.topic, "timezone": request.timezone})])

and a request without those values is refused: ``responses`` answers it with a connection
error whose text names each difference (``start_time: sent '2030-03-05T16:00:00Z',
expected '2030-03-06T17:00:00Z'``), and the contract suites turn that refusal into a failure
that quotes it (:meth:`~s3events.testing.contracts.PlatformContract.vendor_step`).

- :func:`json_fields` matches fields of a JSON body: nested mappings are compared as a
  subset (other fields may be sent too); lists and other values must be equal;
- :func:`query_fields` matches parameters of the query string (for GET APIs such as
  BigBlueButton's);
- an expected value may be a predicate (a callable taking the sent value and returning
  ``True`` when it is right; its docstring says what it expects), for values that are right
  in more than one spelling: :func:`same_instant` accepts any ISO 8601 text of one instant,
  :func:`contains` any text that holds given parts (a message's join link).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

__all__ = ["Matcher", "contains", "json_fields", "query_fields", "same_instant"]

#: What ``responses`` takes in ``match=[...]``: (accepted?, why not).
Matcher = Callable[[requests.PreparedRequest], "tuple[bool, str]"]

_MISSING = object()


def json_fields(expected: Mapping[str, Any]) -> Matcher:
    """A matcher accepting a request whose JSON body holds the ``expected`` fields."""
    def match(request: requests.PreparedRequest) -> tuple[bool, str]:
        body = request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        try:
            sent = json.loads(body) if body else _MISSING
        except ValueError:
            return False, f"the body is not JSON: {str(body)[:80]!r}"
        if sent is _MISSING:
            return False, "the request has no body; expected " + _describe(expected)
        return _verdict(_differences(expected, sent, ""))

    return match


def query_fields(expected: Mapping[str, Any]) -> Matcher:
    """A matcher accepting a request whose query string holds the ``expected`` parameters.

    A parameter sent several times is compared by its first value.
    """
    def match(request: requests.PreparedRequest) -> tuple[bool, str]:
        query = parse_qs(urlsplit(str(request.url)).query, keep_blank_values=True)
        sent = {name: values[0] for name, values in query.items()}
        return _verdict(_differences(expected, sent, ""))

    return match


def contains(*parts: str) -> Callable[[Any], bool]:
    """A predicate for :func:`json_fields`: a text holding every one of ``parts``.

    For message bodies whose wording is the transport's but whose link is not:
    ``{"channel": message.recipient, "text": contains(message.facts["link"])}``.
    """
    def check(value: Any) -> bool:
        return isinstance(value, str) and all(part in value for part in parts)

    check.__doc__ = "a text containing " + " and ".join(repr(part) for part in parts)
    return check


def same_instant(moment: datetime) -> Callable[[Any], bool]:
    """A predicate for :func:`json_fields`: an ISO 8601 time (``Z`` or any offset) of ``moment``.

    For APIs that take a time with any offset: ``{"start": {"dateTime":
    same_instant(request.start), "timeZone": request.timezone}}``.
    """
    instant = moment.astimezone(timezone.utc)

    def check(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            sent = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return sent.tzinfo is not None and sent.astimezone(timezone.utc) == instant

    check.__doc__ = f"an ISO 8601 time of {instant:%Y-%m-%dT%H:%M:%SZ}"
    return check


def _verdict(differences: Iterator[str]) -> tuple[bool, str]:
    found = list(differences)
    if not found:
        return True, ""
    return False, "the request does not hold what the mock expects: " + "; ".join(found)


def _differences(expected: Mapping[str, Any], sent: Any, path: str) -> Iterator[str]:
    for key, want in expected.items():
        where = f"{path}.{key}" if path else str(key)
        got = sent.get(key, _MISSING) if isinstance(sent, Mapping) else _MISSING
        if got is _MISSING:
            yield f"{where}: not sent (expected {_describe(want)})"
        elif isinstance(want, Mapping):
            yield from _differences(want, got, where)
        elif callable(want):
            if not want(got):
                yield f"{where}: sent {got!r}, expected {_describe(want)}"
        elif got != want:
            yield f"{where}: sent {got!r}, expected {want!r}"


def _describe(value: Any) -> str:
    if callable(value) and not isinstance(value, type):
        return str(getattr(value, "__doc__", None) or getattr(value, "__name__", "a check"))
    return repr(dict(value)) if isinstance(value, Mapping) else repr(value)
