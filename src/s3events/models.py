"""The series model: what organisers write in a series file, as typed pydantic models.

:class:`Series` is the root. It is validated as a whole: besides each field's own rules,
the sessions must not overlap, ids must be unique, local start times must exist exactly once
in the series' time zone, and every language used in a text must be declared. After
validation every session's ``start`` and ``end`` are aware datetimes in UTC (compare and
add to them safely; convert with :func:`s3events.to_zone` for display).

When a ``problems`` list is passed in the validation context
(``Series.model_validate(data, context={"problems": [...]})``) the whole-series checks append
:class:`~s3events.errors.Problem` objects there instead of raising, so a loader can report
every problem of a file at once; :func:`s3events.load_series` does this.
"""

from __future__ import annotations

import warnings
from datetime import datetime, time, timedelta
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .checks import check_whole_series
from .errors import InputError, Problem
from .i18n import LanguageCode, LocalizedText, localize
from .timebounds import FollowupDelay, RetryBackoff, SeriesDate, SeriesDateTime, SessionLength
from .timezones import ZoneNameError, check_zone_name, get_zone
from .values import EmailAddress, OneLineText, WebAddress

__all__ = [
    "AttendanceSettings",
    "CertificateSettings",
    "DateWindow",
    "DispatchSettings",
    "Document",
    "FollowupSettings",
    "ImportSettings",
    "InfoSection",
    "Material",
    "MeetingOptions",
    "Organiser",
    "PlatformSettings",
    "RegistrationSettings",
    "ReleaseRule",
    "Series",
    "Session",
    "SessionStatus",
    "check_whole_series",
]

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="Letters, digits, '-', '_' and '.'; stable: it keys meetings and messages.",
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class SessionStatus(str, Enum):
    """Whether a session takes place."""

    scheduled = "scheduled"
    cancelled = "cancelled"


class Organiser(_Model):
    """Who runs the series; the ORGANIZER of calendar invitations and sender of messages."""

    name: OneLineText = Field(description="Organisation or person, as participants see it.")
    email: EmailAddress = Field(
        description="Address used as ORGANIZER in invitations and as the default sender.",
    )
    url: WebAddress | None = Field(
        default=None, description="Web page of the organiser or series (http or https).")


class Document(_Model):
    """A document attached to a session, such as the full agenda in one language."""

    id: Identifier
    title: OneLineText
    language: LanguageCode | None = Field(
        default=None, description="Language of the document itself, if it has one."
    )
    url: WebAddress | None = Field(
        default=None, description="Where the document is published (http or https).")
    path: str | None = Field(
        default=None, description="A file next to the series file (relative path)."
    )


def _web_address(value: str | None) -> str | None:
    """``value`` if it is an http(s) address without spaces; ``ValueError`` otherwise."""
    if value is not None and (not value.startswith(("https://", "http://"))
                              or len(value.split()) != 1 or len(value) < 11):
        raise ValueError("must be an http:// or https:// address, such as "
                         "https://example.org/slides.pdf")
    return value


class Material(_Model):
    """Something to read or watch after a session: slides, a report, a reading list."""

    title: LocalizedText
    url: str = Field(description="Where it is published (http:// or https://).")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        checked = _web_address(value)
        assert checked is not None
        return checked


class Session(_Model):
    """One seminar of the series: a meeting, with its own link, on one date."""

    id: Identifier = Field(description="Unique in the series; never change it once published.")
    label: OneLineText | None = Field(default=None, description='Short label, e.g. "Day 1".')
    title: OneLineText
    start: SeriesDateTime = Field(
        description=(
            "Start. A wall time without offset (2021-10-28T17:00:00) is read in the series' "
            "time zone and must exist exactly once there; a time with an offset is taken as is. "
            "Years 1900 to 2999."
        )
    )
    end: SeriesDateTime | None = Field(default=None, description="End; give this or `duration`.")
    duration: SessionLength | None = Field(
        default=None, description="Length (ISO 8601 such as PT2H30M, or seconds; at most 7 days)."
    )
    topics: list[LocalizedText] = Field(default_factory=list, description="Topic bullets.")
    exercises: list[LocalizedText] = Field(
        default_factory=list, description="What the interactive exercise will aim at."
    )
    documents: list[Document] = Field(default_factory=list)
    status: SessionStatus = SessionStatus.scheduled
    join_url: WebAddress | None = Field(
        default=None, description="Fixed join link, for the `static` platform (http or https)."
    )
    passcode: SecretStr | None = Field(
        default=None, description="Passcode for the fixed join link (`static` platform)."
    )
    materials: list[Material] = Field(
        default_factory=list,
        description="Slides and other material, sent after the session in the follow-up "
        "messages (`dispatch.followup`).",
    )
    recording_url: str | None = Field(
        default=None, description="Where the recording is published (http:// or https://); "
        "sent after the session in the follow-up messages.",
    )

    @field_validator("recording_url")
    @classmethod
    def _recording(cls, value: str | None) -> str | None:
        return _web_address(value)

    @model_validator(mode="after")
    def _end_or_duration(self) -> Session:
        if self.end is None and self.duration is None:
            raise ValueError("give either 'end' or 'duration'")
        if (
            self.end is not None
            and self.duration is not None
            and self.start.tzinfo is None
            and self.end.tzinfo is None
            and self.start + self.duration != self.end
        ):
            raise ValueError("'end' and 'duration' disagree; give only one")
        return self

    @property
    def ends_at(self) -> datetime:
        """The end: ``end``, or ``start + duration`` (aware UTC once the series validated)."""
        if self.end is not None:
            return self.end
        return self.start + (self.duration or timedelta(0))

    @property
    def cancelled(self) -> bool:
        """True when the session will not take place."""
        return self.status is SessionStatus.cancelled

    def texts(self) -> list[Any]:
        """Every human text of the session (for language checks)."""
        docs = [d.title for d in self.documents]
        materials = [m.title for m in self.materials]
        return [self.label, self.title, *self.topics, *self.exercises, *docs, *materials]


class DateWindow(_Model):
    """The dates the series runs, as announced (inclusive)."""

    start: SeriesDate
    end: SeriesDate

    @model_validator(mode="after")
    def _ordered(self) -> DateWindow:
        if self.end < self.start:
            raise ValueError("the window ends before it starts")
        return self


class InfoSection(_Model):
    """A titled block of text on the event page, such as "What is Smart Specialisation?"."""

    id: Identifier
    title: OneLineText
    body: LocalizedText


class RegistrationSettings(_Model):
    """How people register."""

    open: bool = Field(default=True, description="Whether registration is open.")
    capacity: int | None = Field(
        default=None, ge=1, description="Seats; later registrations go to a waiting list."
    )
    double_opt_in: bool = Field(
        default=True,
        description="Online registrations count once the emailed confirmation link is followed.",
    )
    note: LocalizedText | None = Field(
        default=None, description="Shown next to the form, e.g. when the link is sent."
    )
    required_consent: list[str] = Field(
        default_factory=list,
        description="Consent flags every registration must carry, e.g. [data_processing]; "
        "rows and form posts without them are refused.",
    )


class ImportSettings(_Model):
    """How registration files are read: columns the import does not know by itself."""

    columns: dict[str, str] = Field(
        default_factory=dict,
        description='Source column → field, e.g. {"Correo institucional": email, '
        '"Ciudad de residencia": city, "Comentarios": ignore}; `--map` takes precedence.',
    )

    @field_validator("columns")
    @classmethod
    def _fields(cls, value: dict[str, str]) -> dict[str, str]:
        from .registrations.columns import field_name, field_names

        unknown = [f for f in value.values() if field_name(f) is None]
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(map(repr, unknown))}; the fields "
                             f"are {field_names()}")
        return value


class ReleaseRule(_Model):
    """When a message is released, relative to the session start.

    With ``local_time`` the message goes out at that wall time in the participant's zone,
    ``days_before`` days before the session's date there (the default: the day before at
    09:00). Without it, the message goes out ``days_before`` days plus ``hours_before`` hours
    before the start.
    """

    days_before: int = Field(default=1, ge=0, le=60)
    hours_before: float = Field(default=0, ge=0, le=24 * 60)
    local_time: time | None = Field(default=time(9, 0))

    @field_validator("local_time", mode="before")
    @classmethod
    def _hhmm(cls, value: Any) -> Any:
        if isinstance(value, int) and 0 <= value < 24 * 60:  # YAML 1.1 reads 09:00 as 540
            return time(value // 60, value % 60)
        return value


class FollowupSettings(_Model):
    """Messages after each session: ``followup`` to those who came, ``missed`` to the others."""

    after: FollowupDelay = Field(
        default=timedelta(hours=2),
        description="How long after the session's end they go out (ISO 8601, e.g. PT2H; at "
        "most a year), once its attendance is known.",
    )


class CertificateSettings(_Model):
    """Certificates of attendance, sent by email once the last session's attendance is known."""

    min_sessions: int = Field(
        default=1, ge=1, description="Sessions a person must have attended to get one."
    )


class AttendanceSettings(_Model):
    """How attendance reports are read."""

    min_minutes: int = Field(
        default=10, ge=0, le=24 * 60,
        description="Minutes in a session (overlapping stays merged) from which a person "
        "counts as having attended it.",
    )


class DispatchSettings(_Model):
    """What is sent, when, and through which channels and transports."""

    channels: list[str] = Field(
        default_factory=lambda: ["email"],
        description="Channels in use, in order of preference: email, whatsapp, telegram, …",
    )
    link: ReleaseRule = Field(default_factory=ReleaseRule, description="When links go out.")
    reminder: ReleaseRule | None = Field(
        default=None, description="An optional reminder, e.g. {hours_before: 1, local_time: null}."
    )
    sender: EmailAddress | None = Field(
        default=None, description="From address of emails; default the organiser's."
    )
    transport: str | None = Field(
        default=None,
        description="Email transport URL: smtp://…, smtps://…, outbox:PATH or console:.",
    )
    base_url: WebAddress | None = Field(
        default=None,
        description="Public URL of the event page; cancel and opt-in links in messages start "
        "with it",
    )
    transports: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Options per transport (slack, telegram, smtp …); `concurrency` and "
        "`rate_limit` there set them for that transport's channel",
    )
    templates: str | None = Field(
        default=None, description="Folder of template overrides, relative to the series file."
    )
    max_attempts: int = Field(default=5, ge=1, le=100)
    retry_backoff: RetryBackoff = Field(
        default=timedelta(minutes=1),
        description="First retry delay (ISO 8601, e.g. PT1M; at most a day); doubles each "
        "attempt.",
    )
    rate_limit: float | None = Field(
        default=None, gt=0,
        description="At most this many messages per second on each channel, over all its "
        "connections and every dispatch worker sharing the state database",
    )
    concurrency: int | None = Field(
        default=None, ge=1, le=256,
        description="Messages in flight at once on each channel (default per transport: 4 "
        "for smtp and the chat APIs, 1 for outbox and console); --concurrency wins",
    )
    followup: FollowupSettings | None = Field(
        default=None,
        description="Send `followup` and `missed` messages after each session, e.g. "
        "{after: PT2H}; without this section none are sent.",
    )
    certificates: CertificateSettings | None = Field(
        default=None,
        description="Email a certificate of attendance (PDF) to each person who attended at "
        "least `min_sessions` sessions, e.g. {min_sessions: 3}.",
    )

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one channel is needed, e.g. [email]")
        if len(set(value)) != len(value):
            raise ValueError("a channel is listed twice")
        return value

    @field_validator("transports")
    @classmethod
    def _channel_settings(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, options in value.items():
            concurrency = options.get("concurrency")
            if concurrency is not None and not (
                    isinstance(concurrency, int) and not isinstance(concurrency, bool)
                    and 1 <= concurrency <= 256):
                raise ValueError(f"{name}.concurrency must be a whole number from 1 to 256")
            rate = options.get("rate_limit")
            if rate is not None and not (isinstance(rate, (int, float))
                                         and not isinstance(rate, bool) and rate > 0):
                raise ValueError(f"{name}.rate_limit must be a number of messages per "
                                 "second above 0")
        return value


class MeetingOptions(_Model):
    """Meeting settings asked of the platform, where it supports them."""

    waiting_room: bool = False
    auto_recording: Literal["none", "local", "cloud"] = "none"
    join_before_host: bool = False
    mute_on_entry: bool = True


class PlatformSettings(_Model):
    """The video platform for the sessions and its options (secrets may come from env)."""

    name: str = Field(default="jitsi", description="jitsi, static, zoom, webex, msteams, …")
    options: dict[str, Any] = Field(default_factory=dict)
    meeting: MeetingOptions = Field(default_factory=MeetingOptions)


class Series(_Model):
    """A seminar series: its texts, its sessions, and how meetings and messages are handled."""

    id: Identifier = Field(description="Stable id; keys the state database and calendar UIDs.")
    title: OneLineText
    subtitle: OneLineText | None = None
    organiser: Organiser
    languages: list[LanguageCode] = Field(default_factory=lambda: ["en"], min_length=1)
    default_language: LanguageCode = "en"
    translations: str | None = Field(
        default=None,
        description="Folder of gettext catalogs of s3events' phrases (LANG.po or "
        "LANG/LC_MESSAGES/s3events.po), relative to the series file: for a language "
        "s3events has no catalog for, or to change some of its phrases.",
    )
    fonts: list[str] = Field(
        default_factory=list,
        description="Font files (.ttf or .otf), relative to the series file, for letters the "
        "built-in certificate font (DejaVu Serif: Latin, Greek, Cyrillic) lacks, such as "
        "Noto Naskh Arabic or Noto Serif JP: certificates use them for names and texts in "
        "other scripts.",
    )
    timezone: str = Field(description="Reference IANA time zone, e.g. Europe/Brussels.")
    window: DateWindow | None = None
    focus_countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(
        default_factory=list, description="ISO 3166 alpha-2 codes."
    )
    audience: LocalizedText | None = None
    summary: LocalizedText | None = None
    description: LocalizedText | None = None
    sections: list[InfoSection] = Field(default_factory=list)
    practical_information: LocalizedText | None = None
    registration: RegistrationSettings = Field(default_factory=RegistrationSettings)
    import_: ImportSettings = Field(default_factory=ImportSettings, alias="import")
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    attendance: AttendanceSettings = Field(default_factory=AttendanceSettings)
    sessions: list[Session] = Field(min_length=1)

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            return check_zone_name(value)
        except ZoneNameError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _whole_series(self, info: ValidationInfo) -> Series:
        sessions, problems = check_whole_series(self)
        if sessions is not None:
            object.__setattr__(self, "sessions", sessions)
        return _report(self, problems, info)

    # -- convenience -------------------------------------------------------------------
    @property
    def zone(self) -> Any:
        """The series' zone as a :class:`zoneinfo.ZoneInfo`."""
        return get_zone(self.timezone)

    @property
    def source(self) -> Path | None:
        """The file the series was loaded from, if any."""
        return self._source

    def text(self, value: Any, lang: str | None = None) -> str:
        """``value`` in ``lang`` with the series' fallback rule (see :mod:`s3events.i18n`)."""
        return localize(value, lang or self.default_language, self.default_language)

    def session(self, session_id: str) -> Session:
        """The session with id ``session_id``; ``KeyError`` if there is none."""
        for session in self.sessions:
            if session.id == session_id:
                return session
        raise KeyError(session_id)

    def require_session(self, session_id: str, *, option: str = "",
                        held: bool = False) -> Session:
        """The session with id ``session_id``; an :class:`~s3events.errors.InputError` that
        lists the series' sessions if there is none, or (``held``) if it is cancelled.
        ``option`` (e.g. ``--session``) leads the message."""
        lead = f"{option}: " if option else ""
        try:
            session = self.session(session_id)
        except KeyError:
            known = ", ".join(s.id for s in self.sessions)
            raise InputError(f"{lead}no session '{session_id}' in {self.id}; sessions: {known}"
                             ) from None
        if held and session.cancelled:
            raise InputError(f"{lead}session '{session_id}' is cancelled")
        return session

    def texts(self) -> list[Any]:
        """Every human text of the series and its sessions."""
        texts: list[Any] = [
            self.title, self.subtitle, self.organiser.name, self.audience, self.summary,
            self.description, self.practical_information, self.registration.note,
        ]
        for section in self.sections:
            texts += [section.title, section.body]
        for session in self.sessions:
            texts += session.texts()
        return texts




def _report(series: Series, problems: list[Problem], info: ValidationInfo) -> Series:
    context = info.context if isinstance(info.context, dict) else None
    if context is not None and isinstance(context.get("problems"), list):
        context["problems"].extend(problems)
        return series
    for problem in problems:
        if problem.severity == "warning":
            warnings.warn(str(problem), stacklevel=2)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ValueError("; ".join(f"{p.path}: {p.message}" for p in errors))
    return series
