"""What both contract suites share: the mocked HTTP world, captured waits, secret scanning,
and the mocks' refusals turned into clear failures."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Union

import pytest
import requests
import responses
from pydantic import BaseModel, SecretStr

from ..errors import (
    AuthenticationError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
)
from .helpers import SleepRecorder, logged_text, mask_secret

if TYPE_CHECKING:
    from .specs import SpecName

__all__ = ["CONNECTION_ERROR", "DEFAULT_ERRORS", "ContractBase", "Route", "contract_failure",
           "raised_by", "status_id"]

#: An HTTP method and a URL (a string, compared without its query, or a compiled pattern).
Route = tuple[str, Union[str, "re.Pattern[str]"]]

#: The ``status`` that stands for "the connection failed" in error checks.
CONNECTION_ERROR = None

#: What a vendor answer maps to, by HTTP status (``None``: the connection failed).
DEFAULT_ERRORS: Mapping[int | None, type[ServiceError]] = {
    400: InvalidRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    429: RateLimited,
    500: ServiceUnavailable,
    503: ServiceUnavailable,
    None: ServiceUnavailable,
}


def status_id(status: int | None) -> str:
    """A readable test id for a status: ``401`` or ``connection-error``."""
    return "connection-error" if status is None else str(status)


def raised_by(action: Callable[[], Any], what: str, expected: type[Exception]) -> Exception:
    """Run ``action``; fail unless it raises ``expected`` (and say what it did instead)."""
    try:
        outcome = action()
    except Exception as exc:  # any exception: a vendor one is a failure worth naming
        assert isinstance(exc, expected), (
            f"{what} raised {type(exc).__name__}, expected {expected.__name__}: {exc}")
        return exc
    raise AssertionError(f"{what} raised nothing (returned {outcome!r}), "
                         f"expected {expected.__name__}")


def _route_matches(route: Route, method: str, url: str) -> bool:
    want_method, want_url = route
    if method.upper() != want_method.upper():
        return False
    if isinstance(want_url, re.Pattern):
        return want_url.search(url) is not None
    if "?" not in want_url:
        url = url.split("?", 1)[0]
    return url.rstrip("/") == want_url.rstrip("/")


def _option_secrets(model: Any) -> set[str]:
    found: set[str] = set()
    if not isinstance(model, BaseModel):
        return found
    for name in type(model).model_fields:
        value = getattr(model, name, None)
        if isinstance(value, SecretStr):
            found.add(value.get_secret_value())
        elif isinstance(value, BaseModel):
            found |= _option_secrets(value)
    return found


class ContractBase:
    """Fixtures and helpers for :class:`PlatformContract` and :class:`TransportContract`.

    Every contract test runs inside a ``responses`` mock (no request reaches a network; an
    unmocked URL fails as a connection error), with ``sleep`` captured in :attr:`sleeps`,
    logging captured at DEBUG, and the network guard on.
    """

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.s3events_no_network]

    #: Options for ``from_options`` (secrets included: the checks look for their values).
    options: ClassVar[Mapping[str, Any]] = {}
    #: More strings that must never show: tokens and host links the mocks hand out.
    secret_values: ClassVar[tuple[str, ...]] = ()
    #: A vendor spec (a file name in the kit's vendor specs folder, or a path to a file of
    #: your own); request bodies sent in round trips are checked against it.
    spec: ClassVar[SpecName | None] = None
    #: The URL the spec's paths are relative to (calls elsewhere, such as tokens, are not checked).
    spec_base_url: ClassVar[str | None] = None
    #: URL paths under :attr:`spec_base_url` that the spec does not describe (a token
    #: endpoint on the API host, for example); their calls are not checked against it.
    spec_unlisted_paths: ClassVar[tuple[str, ...]] = ()
    #: HTTP statuses (``None``: connection error) whose mapping is checked.
    error_statuses: ClassVar[tuple[int | None, ...]] = tuple(DEFAULT_ERRORS)
    #: Expected library error per status; override entries where the vendor means otherwise.
    expected_errors: ClassVar[Mapping[int | None, type[ServiceError]]] = DEFAULT_ERRORS
    #: The ``Retry-After`` seconds sent in the rate-limit check.
    retry_after_seconds: ClassVar[int] = 7

    rsps: responses.RequestsMock
    sleeps: list[float]
    caplog: pytest.LogCaptureFixture
    _extra_secrets: set[str]

    @pytest.fixture(autouse=True)
    def _s3events_contract_env(self, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
        with self._environment(caplog):
            yield

    @contextmanager
    def _environment(self, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
        """The mocked world one check runs in (see the class docstring)."""
        caplog.set_level(logging.DEBUG)
        self.caplog = caplog
        self.sleeps = SleepRecorder()
        self._extra_secrets = set()
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            self.rsps = rsps
            self._start(session=requests.Session(), sleep=self.sleeps)
            try:
                yield
            finally:
                self._stop()

    def _start(self, *, session: requests.Session, sleep: Callable[[float], None]) -> None:
        """Build the adapter under test (the contracts set it as an attribute)."""

    def _stop(self) -> None:
        """Release the adapter under test."""

    # -- hooks shared by both contracts -----------------------------------------------------

    def mock_auth(self, rsps: responses.RequestsMock) -> None:
        """Mock the token endpoint, if the adapter fetches tokens (default: nothing)."""

    def error_body(self, status: int) -> Any:
        """The JSON body of a vendor error answer with ``status`` (vendor-shaped if you like)."""
        return {"message": f"simulated HTTP {status}", "code": status}

    def add_error(self, rsps: responses.RequestsMock, route: Route, *, status: int | None,
                  headers: Mapping[str, str] | None = None) -> None:
        """Register an error answer (or, for ``status=None``, a connection error) on ``route``."""
        method, url = route
        if status is None:
            rsps.add(method, url, body=requests.ConnectionError("connection refused (simulated)"))
            return
        rsps.add(method, url, status=status, json=self.error_body(status),
                 headers=dict(headers or {}))

    # -- helpers ----------------------------------------------------------------------------

    def refused_calls(self) -> list[str]:
        """Why the mocks refused calls so far: one text per call a matcher turned down.

        A mock registered with a matcher (:func:`~s3events.testing.matchers.json_fields`,
        or ``responses``' own) answers a request it does not accept with a connection error;
        the adapter then reports a vendor failure. This gives the matchers' reasons.
        """
        found = []
        for call in self.rsps.calls:
            reasons = _refusal_reasons(call.response)
            if reasons:
                url = str(call.request.url).split("?", 1)[0]
                found.append(f"{call.request.method} {url}: {reasons}")
        return found

    @contextmanager
    def vendor_step(self, what: str) -> Iterator[None]:
        """Run one adapter call; when it fails because a mock refused what it sent, say so.

        The failure becomes an :class:`AssertionError` that quotes the matcher's reasons
        (which field was not sent, or sent with which value), not the vendor error the
        adapter made of the refusal.
        """
        already = len(self.refused_calls())
        try:
            yield
        except Exception as exc:
            refused = self.refused_calls()[already:]
            if refused:
                times = {text: refused.count(text) for text in refused}  # retries: once each
                lines = [text + (f" (×{n})" if n > 1 else "") for text, n in times.items()]
                raise AssertionError(
                    f"{what}: the mocked vendor refused what the adapter sent (did it send "
                    "the meeting's values?):\n" + "\n".join(lines)) from exc
            raise

    def assert_mocks_check(self, registered: list[Any], route: Route, what: str, *,
                           values: str = "start, duration, title and time zone") -> None:
        """Fail unless a mock in ``registered`` for ``route`` checks what it is sent."""
        method = route[0].upper()
        writes = [mock for mock in registered if str(mock.method).upper() == method]
        assert writes, f"{what} registered no {method} answer for {route[1]}"
        accepting = [mock for mock in writes if not mock.match]
        assert not accepting, (
            f"{what} registers a {method} answer that accepts any request: match the values "
            f"that matter ({values}), for example with match=[json_fields({{...}})] from "
            "s3events.testing.matchers, so that the check only passes when they were sent")

    def calls_on(self, route: Route) -> list[Any]:
        """The recorded HTTP calls (``responses`` calls) that hit ``route``."""
        return [call for call in self.rsps.calls
                if _route_matches(route, str(call.request.method), str(call.request.url))]

    def secrets(self, *subjects_options: Any) -> set[str]:
        """Every value that must stay hidden: option secrets, declared ones, host URLs seen."""
        found = {value for value in self.secret_values if value}
        for options in subjects_options:
            found |= _option_secrets(options)
        found |= self._extra_secrets
        return {value for value in found if len(value) >= 6}

    def keep_secret(self, value: str | None) -> None:
        """Add a value (a host URL seen in a test) to what must stay hidden."""
        if value:
            self._extra_secrets.add(value)

    def assert_hidden(self, text: str, where: str, secrets: set[str]) -> None:
        """Fail if any of ``secrets`` occurs in ``text``."""
        leaked = sorted(mask_secret(secret) for secret in secrets if secret in text)
        assert not leaked, f"{where} shows a secret or host URL: {', '.join(leaked)}"

    def log_text(self) -> str:
        """Everything logged during the test, messages and tracebacks."""
        return logged_text(self.caplog)

    def check_spec(self) -> None:
        """Validate the bodies of the calls made so far against :attr:`spec`.

        A spec that cannot be found fails the test (:class:`FileNotFoundError`).
        """
        if not self.spec:
            return
        from .specs import spec_path, validate_prepared_request

        spec_path(self.spec)

        base = (self.spec_base_url or "").rstrip("/")
        for call in self.rsps.calls:
            url = str(call.request.url)
            if base and not url.startswith(base):
                continue
            if any(url.startswith(base + path) for path in self.spec_unlisted_paths):
                continue
            validate_prepared_request(self.spec, call.request, base_url=base or None)

    def check_spec_responses(self, since: int = 0, *, spec: SpecName | None = None,
                             base_url: str | None = None) -> None:
        """Check the calls made so far against :attr:`spec`: each is an operation it lists,
        and each JSON answer the mocks gave with status 200 matches the spec's schema.

        ``since`` skips the calls made before (``len(self.rsps.calls)`` taken earlier);
        ``spec`` and ``base_url`` replace :attr:`spec` and :attr:`spec_base_url` (an API
        beside the main one). Calls outside the base URL (or under
        :attr:`spec_unlisted_paths`) are left alone, as in :meth:`check_spec`. This keeps
        the mocks honest: an adapter tested against answers the vendor would never give
        proves nothing.
        """
        spec = spec or self.spec
        if not spec:
            return
        from urllib.parse import urlsplit

        from .specs import response_schema, validate_response

        base = (base_url or self.spec_base_url or "").rstrip("/")
        prefix = urlsplit(base).path.rstrip("/")
        for call in list(self.rsps.calls)[since:]:
            url = str(call.request.url)
            if (base and not url.startswith(base)) or any(
                    url.startswith(base + path) for path in self.spec_unlisted_paths):
                continue
            response = call.response
            if not isinstance(response, requests.Response) or response.status_code != 200:
                continue
            path = urlsplit(url).path
            path = path[len(prefix):] if prefix and path.startswith(prefix) else path
            method = str(call.request.method)
            response_schema(spec, method=method, path=path, status=200)  # listed at all?
            if "json" in response.headers.get("Content-Type", "") and response.content:
                validate_response(spec, method=method, path=path, status=200,
                                  body=response.content)

    def assert_waited_or_reported(self, error: BaseException | None) -> None:
        """After a 429 with ``Retry-After``: the adapter waited that long, or says so."""
        wanted = float(self.retry_after_seconds)
        if error is not None:
            assert isinstance(error, RateLimited), (
                f"HTTP 429 raised {type(error).__name__}, not RateLimited: {error}")
            assert error.retry_after is not None and abs(error.retry_after - wanted) < 1, (
                f"RateLimited.retry_after is {error.retry_after}, but the vendor said "
                f"Retry-After: {self.retry_after_seconds}")
            return
        assert any(abs(wait - wanted) < 0.01 for wait in self.sleeps), (
            f"the adapter retried after HTTP 429 without waiting the {wanted:g} s of "
            f"Retry-After (waits: {self.sleeps}); accept a `sleep` keyword and use it")


_MISMATCH_PREFIXES = ("Method does not match", "URL does not match")


def _refusal_reasons(response: Any) -> str:
    """The matcher reasons in ``responses``' "no mock matches" error, if that is the answer."""
    if not isinstance(response, requests.ConnectionError):
        return ""
    text = str(response)
    if "doesn't match any registered mock" not in text:
        return ""
    listed = text.split("Available matches:\n", 1)[-1]
    reasons = []
    for line in listed.splitlines():
        parts = line.split(" ", 3)  # "- METHOD URL reason"
        if line.startswith("- ") and len(parts) == 4 and parts[3].strip() and \
                not parts[3].startswith(_MISMATCH_PREFIXES):
            reasons.append(parts[3].strip())
    return "; ".join(reasons)


def contract_failure(contract: type[ContractBase], check: str, *,
                     caplog: pytest.LogCaptureFixture, **attributes: Any) -> AssertionError:
    """Run one check of a contract class with changed class attributes; return its failure.

    Shows that a contract catches a broken adapter: give the broken one as
    ``adapter_class`` (or ``transport_class``), and the check's :class:`AssertionError` is
    returned. Fails when the check passes anyway. ``caplog`` is pytest's fixture (the
    ``contract_failure`` fixture of the testing kit passes it for you)::

        class ZoomForgetsTheNewStart(ZoomAdapter):
            def update_meeting(self, meeting, request):
                return super().update_meeting(meeting, request.model_copy(
                    update={"start": meeting.start}))

        def test_the_contract_catches_a_forgotten_start(contract_failure):
            error = contract_failure(TestZoomContract, "test_update_changes_the_meeting",
                                     adapter_class=ZoomForgetsTheNewStart)
            assert "start_time" in str(error)
    """
    probe = type(f"{contract.__name__}Probe", (contract,), dict(attributes))()
    with probe._environment(caplog):
        try:
            getattr(probe, check)()
        except AssertionError as exc:
            return exc
    changed = ", ".join(f"{name}={value!r}" for name, value in attributes.items())
    raise AssertionError(f"{contract.__name__}.{check} passed with {changed}: it does not "
                         "catch that change")


def describe(value: Any) -> str:
    """A JSON-ish text of a value for secret scanning."""
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)
