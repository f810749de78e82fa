"""The attendance checks of :class:`~s3events.testing.contracts.PlatformContract`.

An adapter that sets ``supports_attendance`` must report who attended an ended meeting
(:meth:`~s3events.platforms.base.PlatformAdapter.get_attendance`); one that sets
``polls_attendance`` must say who is in a running meeting
(:meth:`~s3events.platforms.base.PlatformAdapter.attendance_now`). The plugin's contract
subclass provides the vendor's answers through :meth:`AttendanceChecks.mock_attendance` and
:meth:`AttendanceChecks.mock_attendance_now`; the checks then ask the adapter and look at
what it reports: one record per participant, every page read, each stay in aware UTC near
the session, totals that add up, addresses that are addresses, errors in the library's tree,
``Retry-After`` honoured, nothing secret logged. Adapters without the capability must refuse
with a message that names ``s3events attendance import``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
import responses

from ..errors import ConfigurationError, ServiceError
from ..platforms.base import AttendanceRecord, Meeting, MeetingRequest, PlatformAdapter
from ._contract_support import DEFAULT_ERRORS, ContractBase, Route, raised_by, status_id

if TYPE_CHECKING:
    from .specs import SpecName

__all__ = ["ATTENDANCE_MARGIN", "AttendanceChecks"]

#: How far before the start and after the end of a session a stay may lie and still count
#: as sensible (hosts open early, people linger; a year off is a unit or epoch mistake).
ATTENDANCE_MARGIN = timedelta(days=1)
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: How many seconds a reported total may exceed the stays it is made of (rounding).
_TOTAL_SLACK = 60


def _overrides(adapter: PlatformAdapter, method: str) -> bool:
    return getattr(type(adapter), method) is not getattr(PlatformAdapter, method)


class AttendanceChecks(ContractBase):
    """Attendance hooks and checks, mixed into :class:`PlatformContract`."""

    adapter: PlatformAdapter
    #: The spec the attendance answers are checked against, when the platform reports
    #: attendance through another API than its meetings (Google Meet beside Calendar);
    #: default :attr:`spec`.
    attendance_spec: ClassVar[SpecName | None] = None
    #: The URL :attr:`attendance_spec`'s paths are relative to.
    attendance_spec_base_url: ClassVar[str | None] = None

    if TYPE_CHECKING:  # provided by PlatformContract
        def make_request(self, **changes: Any) -> MeetingRequest: ...
        def route(self, operation: str, meeting_id: str) -> Route: ...
        def mock_error(self, rsps: responses.RequestsMock, operation: str, meeting_id: str, *,
                       status: int | None, headers: Mapping[str, str] | None = None) -> None: ...
        def vendor_calls(self, operation: str, meeting_id: str) -> int: ...
        def _create(self, request: MeetingRequest | None = None) -> Meeting: ...
        def _secrets(self) -> set[str]: ...

    # -- hooks the plugin's test provides ---------------------------------------------------

    def mock_attendance(self, rsps: responses.RequestsMock, meeting: Meeting,
                        request: MeetingRequest) -> Sequence[str]:
        """Register the vendor's report of who attended ``meeting``, held as ``request`` asked.

        Needed when the adapter sets ``supports_attendance``. The answer must list at least
        three people over at least two pages, one of whom left and came back (two stays),
        at times around ``request.start``. Return the display names of the people in it:
        the adapter must report each of them exactly once. ``"attendance"`` is the
        operation name :meth:`route` and :meth:`mock_error` get for the first call.
        """
        raise TypeError(f"{type(self).__name__} must define mock_attendance() because "
                        f"{type(self.adapter).__name__} sets supports_attendance")

    def mock_attendance_now(self, rsps: responses.RequestsMock, meeting: Meeting,
                            request: MeetingRequest, *, running: bool) -> Sequence[str]:
        """Register the vendor's answer to "who is in ``meeting`` now?".

        Needed when the adapter sets ``polls_attendance``. With ``running`` the meeting is
        in progress with at least two people in; return their display names. Without it,
        register the vendor's answer for a meeting that is not running and return ``[]``.
        """
        raise TypeError(f"{type(self).__name__} must define mock_attendance_now() because "
                        f"{type(self.adapter).__name__} sets polls_attendance")

    # -- what every report must look like -----------------------------------------------------

    def assert_sensible_records(self, records: Any, request: MeetingRequest, *,
                                intervals: bool = True) -> None:
        """Fail unless ``records`` is a list of well-formed :class:`AttendanceRecord`.

        Each stay is in aware UTC, ordered, and within :data:`ATTENDANCE_MARGIN` of the
        session; a total is never negative nor more than its stays add up to; an email is
        ``None`` or an address; a name is not blank; no identity is reported twice.
        """
        assert isinstance(records, list), f"attendance is a {type(records).__name__}, not a list"
        earliest, latest = request.start - ATTENDANCE_MARGIN, request.end + ATTENDANCE_MARGIN
        for record in records:
            assert isinstance(record, AttendanceRecord), f"not an AttendanceRecord: {record!r}"
            assert record.name.strip(), f"a participant has no name: {record!r}"
            assert record.email is None or _ADDRESS.fullmatch(record.email), (
                f"{record.name!r}: email {record.email!r} is not an address (give None when "
                "the platform reports none)")
            assert record.seconds >= 0, f"{record.name!r}: negative total {record.seconds}"
            for stay in record.intervals:
                for moment in (stay.joined, stay.left):
                    assert moment.utcoffset() == timedelta(0), (
                        f"{record.name!r}: {moment!r} is not in UTC")
                    assert earliest <= moment <= latest, (
                        f"{record.name!r}: {moment.isoformat()} is far from the session "
                        f"({request.start.isoformat()}): a unit or time-zone mistake?")
                assert stay.joined <= stay.left, f"{record.name!r}: left before joining"
            if intervals and record.intervals:
                spent = sum(stay.seconds for stay in record.intervals)
                assert record.seconds <= spent + _TOTAL_SLACK, (
                    f"{record.name!r}: total {record.seconds} s exceeds its stays ({spent} s)")
        identities = Counter(r.identity for r in records if r.identity is not None)
        twice = sorted(identity for identity, count in identities.items() if count > 1)
        assert not twice, f"one participant reported as several records: {twice}"

    @staticmethod
    def assert_names(records: Sequence[AttendanceRecord], expected: Sequence[str]) -> None:
        """Fail unless ``records`` report exactly the people named ``expected``, each once."""
        got = Counter(record.name for record in records)
        want = Counter(expected)
        missing, extra = sorted((want - got).elements()), sorted((got - want).elements())
        assert not missing and not extra, (
            f"attendance reported {sorted(got.elements())}, expected {sorted(want.elements())}"
            f" (missing: {missing}; unexpected or duplicated: {extra}); are all pages read "
            "and each person's joins merged into one record?")

    # -- the checks -------------------------------------------------------------------------

    def _attending(self) -> tuple[Meeting, MeetingRequest]:
        if not self.adapter.supports_attendance:
            pytest.skip(f"{type(self.adapter).__name__} does not report attendance")
        request = self.make_request()
        return self._create(request), request

    def test_attendance_capability_is_declared_with_its_method(self) -> None:
        for flag, method in (("supports_attendance", "get_attendance"),
                             ("polls_attendance", "attendance_now")):
            if getattr(self.adapter, flag):
                assert _overrides(self.adapter, method), (
                    f"{type(self.adapter).__name__} sets {flag} but does not implement {method}")

    def test_attendance_refusal_names_the_import_command(self) -> None:
        if self.adapter.supports_attendance:
            pytest.skip("the adapter reports attendance")
        meeting = self._create()
        error = raised_by(lambda: self.adapter.get_attendance(meeting),
                        "get_attendance without supports_attendance", ConfigurationError)
        assert "s3events attendance import" in str(error), (
            f"the refusal does not name `s3events attendance import`: {error}")

    def test_attendance_reports_everyone_once_with_their_stays(self) -> None:
        meeting, request = self._attending()
        expected = self.mock_attendance(self.rsps, meeting, request)
        assert len(expected) >= 3, "mock_attendance must name at least three participants"
        before = len(self.rsps.calls)
        records = self.adapter.get_attendance(meeting)
        self.assert_sensible_records(records, request)
        self.assert_names(records, expected)
        assert any(len(r.intervals) >= 2 for r in records), (
            "nobody has two stays, but the mocked answer has someone who left and came back")
        assert self.vendor_calls("attendance", meeting.meeting_id) >= 1, (
            "get_attendance returned without calling the platform (see vendor_calls)")
        self.check_spec()
        self.check_spec_responses(since=before, spec=self.attendance_spec,
                                  base_url=self.attendance_spec_base_url)
        self.assert_hidden(self.log_text() + repr(records), "the log (DEBUG) or the records",
                           self._secrets())

    @pytest.mark.parametrize("status", [401, 500, None], ids=status_id)
    def test_attendance_errors_map_to_library_errors(self, status: int | None) -> None:
        meeting, _request = self._attending()
        self.mock_error(self.rsps, "attendance", meeting.meeting_id, status=status)
        expected = self.expected_errors.get(status, DEFAULT_ERRORS[status])
        error = raised_by(lambda: self.adapter.get_attendance(meeting),
                        f"get_attendance answered with {status_id(status)}", expected)
        self.assert_hidden(f"{error!s} {error!r}", "the error", self._secrets())

    def test_attendance_retry_after_is_honoured(self) -> None:
        meeting, request = self._attending()
        self.mock_error(self.rsps, "attendance", meeting.meeting_id, status=429,
                        headers={"Retry-After": str(self.retry_after_seconds)})
        self.mock_attendance(self.rsps, meeting, request)
        error: BaseException | None = None
        try:
            self.adapter.get_attendance(meeting)
        except ServiceError as exc:
            error = exc
        self.assert_waited_or_reported(error)

    def _polling(self) -> tuple[Meeting, MeetingRequest]:
        if not self.adapter.polls_attendance:
            pytest.skip(f"{type(self.adapter).__name__} is not polled for attendance")
        request = self.make_request()
        return self._create(request), request

    def test_attendance_now_lists_who_is_in(self) -> None:
        meeting, request = self._polling()
        expected = self.mock_attendance_now(self.rsps, meeting, request, running=True)
        assert len(expected) >= 2, "mock_attendance_now must name at least two people"
        present = self.adapter.attendance_now(meeting)
        self.assert_sensible_records(present, request, intervals=False)
        self.assert_names(present, expected)
        self.assert_hidden(self.log_text(), "the log (DEBUG)", self._secrets())

    def test_attendance_now_of_a_meeting_not_running_is_empty(self) -> None:
        meeting, request = self._polling()
        self.mock_attendance_now(self.rsps, meeting, request, running=False)
        present = self.adapter.attendance_now(meeting)
        assert present == [], f"a meeting that is not running has people in it: {present!r}"
