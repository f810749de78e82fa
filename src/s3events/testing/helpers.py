"""Plumbing plugin tests need again and again: recorded waits, a vendor mock, secret checks.

- :class:`SleepRecorder` is a ``sleep`` that waits for nothing and remembers every wait
  (the ``recorded_sleep`` fixture gives a fresh one per test);
- :func:`vendor_mock` is a ``responses`` mock of one vendor API that, when the test is
  over, checks every request body sent to that API against the vendor's own spec;
- :func:`assert_not_logged` fails when a secret shows in the captured log (or in reprs and
  error texts the test collected);
- :func:`forgetting_the_link` makes a transport that loses the join link, to show that the
  transport's contract notices.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import responses

from ..platforms.base import MeetingRequest
from . import specs

__all__ = [
    "SleepRecorder",
    "VendorMock",
    "assert_not_logged",
    "forgetting_the_link",
    "logged_text",
    "mask_secret",
    "request_json",
    "vendor_mock",
    "vendor_mock_fixture",
]


class SleepRecorder(list[float]):
    """A ``sleep`` that waits for nothing and records each wait: pass it as ``sleep=``.

    It is the list of the waits, so a test asserts ``recorded_sleep == [7.0]``, or
    ``assert recorded_sleep`` for "it waited". Being a list, it is false while empty: a
    helper that takes an optional ``sleep`` must test ``sleep is None``, not ``sleep or …``.
    """

    def __call__(self, seconds: float) -> None:
        """Record a wait of ``seconds``."""
        self.append(seconds)


def request_json(request: requests.PreparedRequest) -> Any:
    """The decoded JSON body of a sent request (fails when it has none)."""
    assert request.body is not None, f"{request.method} {request.url} was sent without a body"
    return json.loads(request.body)


class VendorMock(responses.RequestsMock):
    """A ``responses`` mock of one vendor API, with what a plugin test asks of it.

    ``base_url`` is where the API lives; calls elsewhere (a token endpoint on another host)
    are not API calls, and neither are calls under ``base_url`` + one of ``excluded_paths``
    (a token endpoint on the API host). ``spec`` is a file in the vendor specs folder, or the
    path of a spec file elsewhere (see :mod:`s3events.testing.specs`), that every API request
    body is checked against.
    """

    def __init__(self, *, spec: specs.SpecName | None = None, base_url: str | None = None,
                 excluded_paths: Iterable[str] = (),
                 assert_all_requests_are_fired: bool = False) -> None:
        super().__init__(assert_all_requests_are_fired=assert_all_requests_are_fired)
        self.spec = spec
        self.base_url = base_url.rstrip("/") if base_url else None
        self.excluded_paths = tuple(excluded_paths)

    def api_calls(self, method: str | None = None) -> list[requests.PreparedRequest]:
        """The API requests sent (every request, without ``base_url``), oldest first.

        With ``method``, only those of that HTTP method.
        """
        sent = [call.request for call in self.calls]
        return [request for request in sent if self._is_api(str(request.url))
                and (method is None or request.method == method.upper())]

    def sent_json(self, index: int = -1, *, method: str | None = None) -> Any:
        """The decoded JSON body of API call number ``index`` (of ``method`` calls, if given)."""
        return request_json(self.api_calls(method)[index])

    def check_bodies(self) -> int:
        """Check every API request body sent so far against :attr:`spec`; return how many.

        A spec that cannot be found fails (:class:`FileNotFoundError`), even when no body
        was sent: a misspelt name never turns the check off.
        """
        bodies = [request for request in self.api_calls() if request.body]
        if self.spec is None:
            return len(bodies)
        specs.spec_path(self.spec)
        for request in bodies:
            specs.validate_prepared_request(self.spec, request, base_url=self.base_url)
        return len(bodies)

    def _is_api(self, url: str) -> bool:
        if self.base_url is None:
            return True
        return url.startswith(self.base_url) and not any(
            url.startswith(self.base_url + path) for path in self.excluded_paths)


@contextmanager
def vendor_mock(*, spec: specs.SpecName | None = None, base_url: str | None = None,
                excluded_paths: Iterable[str] = (),
                assert_all_requests_are_fired: bool = False) -> Iterator[VendorMock]:
    """A started :class:`VendorMock`; when the block ends, the bodies sent are checked.

    The check runs when the block ends without an exception — in a fixture, that is at the
    test's teardown, whatever the test did::

        @pytest.fixture
        def rsps():
            with vendor_mock(spec="zoom-api-v2-openapi-2018.json",
                             base_url="https://api.zoom.us/v2") as mock:
                yield mock
    """
    mock = VendorMock(spec=spec, base_url=base_url, excluded_paths=excluded_paths,
                      assert_all_requests_are_fired=assert_all_requests_are_fired)
    with mock:
        yield mock
        mock.check_bodies()


def vendor_mock_fixture(
    *, name: str = "rsps", spec: specs.SpecName | None = None, base_url: str | None = None,
    excluded_paths: Iterable[str] = (), assert_all_requests_are_fired: bool = False,
) -> Callable[[], Iterator[VendorMock]]:
    """A pytest fixture (named ``name``) that gives each test a :func:`vendor_mock`.

    Assign it in a test module or ``conftest.py``; the bodies are checked at teardown::

        rsps = vendor_mock_fixture(spec="webex-meeting.json", base_url="https://webexapis.com/v1")
    """
    excluded = tuple(excluded_paths)

    def mocked_vendor() -> Iterator[VendorMock]:
        with vendor_mock(spec=spec, base_url=base_url, excluded_paths=excluded,
                         assert_all_requests_are_fired=assert_all_requests_are_fired) as mock:
            yield mock

    mocked_vendor.__doc__ = f"The mocked {base_url or 'vendor'}; bodies checked against {spec}."
    return pytest.fixture(name=name)(mocked_vendor)


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    """Everything captured in the log: each message with its arguments, then tracebacks."""
    return "\n".join(
        record.getMessage() + (f"\n{record.exc_text}" if record.exc_text else "")
        for record in caplog.records
    ) + "\n" + caplog.text


def assert_not_logged(caplog: pytest.LogCaptureFixture, *secrets: str,
                      shown: Iterable[str] = ()) -> None:
    """Fail if one of ``secrets`` is in the captured log or in one of the texts in ``shown``.

    ``shown`` collects what else a person could see: reprs, error messages, tracebacks.
    Set the level the test needs first (``caplog.set_level(logging.DEBUG)``). The failure
    names the secret by its first characters only.
    """
    places = {"the log": logged_text(caplog)}
    places.update((f"shown text #{number}", text) for number, text in enumerate(shown, 1))
    leaks = [f"{mask_secret(secret)} in {where}" for secret in secrets if secret
             for where, text in places.items() if secret in text]
    assert not leaks, "a secret shows: " + "; ".join(leaks)


def mask_secret(secret: str) -> str:
    """A secret as a failure message may show it: its first characters and its length."""
    return f"{secret[:4]}… ({len(secret)} characters)"


def reference_request(**changes: Any) -> MeetingRequest:
    """The meeting asked for day 1 of the reference series; keyword arguments replace fields.

    17:00–19:30 in Brussels on 28 October 2021 (15:00 UTC, the day before Europe left summer
    time), so a plugin's tests start from the same realistic request.
    """
    data: dict[str, Any] = {
        "series_id": "s3-latam-2021",
        "session_id": "day-1",
        "topic": "Introduction: what is S3? How is it adaptable to Latin America?",
        "start": datetime(2021, 10, 28, 15, 0, tzinfo=timezone.utc),
        "timezone": "Europe/Brussels",
        "duration": timedelta(hours=2, minutes=30),
    }
    data.update(changes)
    return MeetingRequest.model_validate(data)


def forgetting_the_link(transport_class: type[Any]) -> type[Any]:
    """A subclass of ``transport_class`` whose ``send`` drops the join link, from the text and
    from the facts: its ``TransportContract`` must fail, which shows the contract checks
    that the link arrives."""
    base: Any = transport_class

    class ForgetsTheLink(base):  # type: ignore[misc]
        def send(self, message: Any) -> Any:
            link = message.facts["link"]
            facts = {name: value for name, value in message.facts.items() if name != "link"}
            return super().send(message.model_copy(
                update={"text": message.text.replace(link, "(link)"), "facts": facts}))

    ForgetsTheLink.__name__ = ForgetsTheLink.__qualname__ = \
        f"{transport_class.__name__}ForgetsTheLink"
    return ForgetsTheLink
