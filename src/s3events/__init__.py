# ruff: noqa: F401  (the TYPE_CHECKING imports exist for type checkers and IDEs)
"""s3events: run online seminar series on any video platform, in every time zone and language.

The flat public API. Names are imported lazily so that ``import s3events`` (and the CLI's
``--help``) stays fast: nothing heavy is loaded until it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AttendanceReport": "attendance",
    "AttendanceInterval": "platforms.base",
    "AttendanceRecord": "platforms.base",
    "AuthenticationError": "errors",
    "CertificateFontError": "errors",
    "ConfigurationError": "errors",
    "DispatchSettings": "models",
    "Document": "models",
    "InputError": "errors",
    "InvalidRequest": "errors",
    "Meeting": "platforms.base",
    "MeetingRequest": "platforms.base",
    "MissingStateError": "errors",
    "NotFound": "errors",
    "OutgoingMessage": "transports.base",
    "PermissionDenied": "errors",
    "PlatformAdapter": "platforms.base",
    "PluginError": "errors",
    "Problem": "errors",
    "Registration": "registrations",
    "RateLimited": "errors",
    "S3EventsError": "errors",
    "Series": "models",
    "SeriesError": "errors",
    "ServiceError": "errors",
    "ServiceUnavailable": "errors",
    "Session": "models",
    "SessionStatus": "models",
    "event_uid": "calendar",
    "render_agenda": "agenda",
    "to_ics": "calendar",
    "TimetableRow": "timezones",
    "Transport": "transports.base",
    "attendance_report": "attendance",
    "cancel_registration": "registrations",
    "erase_person": "registrations",
    "export_person": "registrations",
    "fetch_attendance": "attendance.fetching",
    "hookimpl": "hookspecs",
    "import_attendance": "attendance",
    "import_registrations": "registrations",
    "load_series": "loading",
    "localize": "i18n",
    "open_store": "store",
    "register": "registrations",
    "render_message": "render",
    "schedule_messages": "scheduler",
    "series_calendar": "calendar",
    "session_invitation": "calendar",
    "timetable": "timezones",
    "to_zone": "timezones",
    "update_preferences": "registrations",
    "verify_certificate": "certificates",
    "write_certificates": "certificates",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 's3events' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from .agenda import render_agenda
    from .attendance import AttendanceReport, attendance_report, import_attendance
    from .attendance.fetching import fetch_attendance
    from .calendar import event_uid, series_calendar, session_invitation, to_ics
    from .certificates import verify_certificate, write_certificates
    from .errors import (
        AuthenticationError,
        CertificateFontError,
        ConfigurationError,
        InputError,
        InvalidRequest,
        MissingStateError,
        NotFound,
        PermissionDenied,
        PluginError,
        Problem,
        RateLimited,
        S3EventsError,
        SeriesError,
        ServiceError,
        ServiceUnavailable,
    )
    from .hookspecs import hookimpl
    from .i18n import localize
    from .loading import load_series
    from .models import DispatchSettings, Document, Series, Session, SessionStatus
    from .platforms.base import (
        AttendanceInterval,
        AttendanceRecord,
        Meeting,
        MeetingRequest,
        PlatformAdapter,
    )
    from .registrations import (
        Registration,
        cancel_registration,
        erase_person,
        export_person,
        import_registrations,
        register,
        update_preferences,
    )
    from .render import render_message
    from .scheduler import schedule_messages
    from .store import open_store
    from .timezones import TimetableRow, timetable, to_zone
    from .transports.base import OutgoingMessage, Transport
