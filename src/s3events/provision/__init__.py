"""Provisioning as plan and apply: one meeting per session, safe to repeat and to interrupt.

:func:`plan` compares the series with the state database (table ``s3e_meetings``) and, for
platforms that keep meetings, with the platform itself (reads only), and says per session
what :func:`apply` would do: ``create``, ``update``, ``delete``, ``unchanged`` or ``skip``,
with the reason. :func:`apply` does it. Running it twice makes no second write call.

Crash safety: before asking the platform to create a meeting, :func:`apply` writes an
*intent* row carrying the meeting's marker. A run that finds an intent row finishes the
create: adapters with ``idempotent_create`` are simply asked again (the same marker gives
the same meeting); the others are asked :meth:`~s3events.platforms.base.PlatformAdapter.
find_meeting` first, and what they find is adopted instead of creating a second meeting.
Updates and deletes are safe to repeat as they are.

Each row has a ``sequence``: 0 when the meeting is first made, bumped when the session's
time or join link changes and when its meeting is deleted. The dispatch side uses it as the
message revision and the calendar SEQUENCE; read it with :func:`meeting_rows`.

The package's modules: :mod:`~s3events.provision.state` (the rows and the state secret),
:mod:`~s3events.provision.planning` (the plan and the meeting requests) and
:mod:`~s3events.provision.applying` (carrying it out) and :mod:`~s3events.provision.ready`
(meetings made ready just in time for their messages: BigBlueButton's create, personal links).
"""

from __future__ import annotations

from .applying import Progress as Progress
from .applying import apply
from .planning import Action, PlanItem, load_adapter, meeting_request, plan
from .planning import AdapterFactory as AdapterFactory
from .planning import Step as Step
from .ready import ReadyMeetings, prepare_meeting
from .state import MeetingRow, meeting_rows, meeting_sequence, state_secret, stored_meetings
from .state import RowState as RowState

__all__ = [
    "Action",
    "MeetingRow",
    "PlanItem",
    "ReadyMeetings",
    "apply",
    "load_adapter",
    "meeting_request",
    "meeting_rows",
    "meeting_sequence",
    "plan",
    "prepare_meeting",
    "state_secret",
    "stored_meetings",
]
