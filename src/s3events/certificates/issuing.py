"""Who gets a certificate, what it says, and checking a code.

A person qualifies with at least ``min_sessions`` attended sessions (``--min-sessions``,
else the series' ``dispatch.certificates.min_sessions``, else 1; "attended" as in the
attendance report). Their certificate lists those sessions with their dates in the
person's language and time zone, the series, the organiser and a verification code (see
:mod:`s3events.certificates.codes`). :class:`CertificateMaker` makes them — for
``s3events certificates`` and for the ``certificate`` message — and :func:`verify_certificate`
says whose a code is.

A code stays genuine as long as the attendance it certifies is unchanged: after a
corrected report changes which sessions a person attended, their earlier code no longer
verifies and a new certificate carries a new one. Codes of erased people no longer verify.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..attendance import AttendanceReport, attendance_report
from ..errors import CertificateFontError, ConfigurationError
from ..models import Series, Session
from ..provision import state_secret
from ..render import MessageRenderer
from ..slugs import ascii_slug
from ..store import Store, registrations
from ..timezones import ZoneNameError, get_zone
from .codes import certificate_code, codes_equal, normalise_code
from .pdf import render_pdf

__all__ = ["Certificate", "CertificateMaker", "IssuedCertificate", "Verification",
           "series_fonts", "verify_certificate", "write_certificates"]

TEMPLATE = "certificate"


@dataclass(frozen=True)
class Certificate:
    """One person's certificate: who, which sessions, its code, and the PDF."""

    registration_id: str
    name: str
    email: str
    language: str
    sessions: tuple[Session, ...]
    code: str
    pdf: bytes

    def file_name(self) -> str:
        """``jose-pena-7K3M.pdf``: the name in plain letters, and the code's first group."""
        slug = ascii_slug(self.name, 60)
        stem = f"{slug}-{self.code[:4]}" if slug else f"certificate-{self.code[:9]}"
        return f"{stem}.pdf"


@dataclass(frozen=True)
class _Person:
    id: str
    name: str
    email: str
    language: str
    timezone: str


def _min_sessions(series: Series, given: int | None) -> int:
    if given is not None:
        return given
    settings = series.dispatch.certificates
    return settings.min_sessions if settings is not None else 1


class CertificateMaker:
    """Makes the certificates of one series from its attendance (read once)."""

    def __init__(self, store: Store, series: Series, *, renderer: MessageRenderer | None = None,
                 report: AttendanceReport | None = None, create_secret: bool = True) -> None:
        secret = state_secret(store, create=create_secret)
        if secret is None:
            raise ConfigurationError("the state database has no secret yet, so no "
                                     "certificate of this series has been signed")
        self.series, self.secret = series, secret
        self.renderer = renderer or MessageRenderer(series)
        self.report = report or attendance_report(store, series)
        query = select(registrations.c.id, registrations.c.name, registrations.c.email,
                       registrations.c.language, registrations.c.timezone).where(
            registrations.c.series_id == series.id)
        with store.connect() as conn:
            self.people = {r.id: _Person(r.id, r.name, r.email, r.language, r.timezone)
                           for r in conn.execute(query)}

    @functools.cached_property
    def fonts(self) -> list[Path]:
        """The series' extra fonts (checked when the first certificate is made)."""
        return series_fonts(self.series)

    def attended(self, registration_id: str) -> list[Session]:
        """The sessions the person attended, in series order."""
        person = self.report.person(registration_id)
        ids = set(person.attended()) if person is not None else set()
        return [s for s in self.series.sessions if s.id in ids]

    def code(self, registration_id: str, sessions: Sequence[Session]) -> str:
        """The verification code of a certificate listing ``sessions``."""
        return certificate_code(self.secret, self.series.id, registration_id,
                                [s.id for s in sessions])

    def qualifying(self, min_sessions: int | None = None) -> list[str]:
        """Registration ids of everyone with enough attended sessions, in report order."""
        needed = _min_sessions(self.series, min_sessions)
        return [p.id for p in self.report.people
                if p.id in self.people and len(p.attended()) >= needed]

    def make(self, registration_id: str, *, min_sessions: int | None = None
             ) -> Certificate | None:
        """The person's certificate, or ``None`` when they do not qualify."""
        person = self.people.get(registration_id)
        sessions = self.attended(registration_id)
        if person is None or len(sessions) < _min_sessions(self.series, min_sessions):
            return None
        lang = self.renderer.language(person.language)
        code = self.code(person.id, sessions)
        text = self.text(person, lang, sessions, code)
        title = self.series.text(self.series.title, lang)
        pdf = render_pdf(text, title=title, language=lang, fonts=self.fonts,
                         author=self.series.text(self.series.organiser.name, lang))
        return Certificate(person.id, person.name, person.email, lang, tuple(sessions), code,
                           pdf)

    def text(self, person: _Person, lang: str, sessions: Sequence[Session], code: str) -> str:
        """The page's text, from the ``certificate.pdf.txt`` template."""
        try:
            zone = get_zone(person.timezone)
        except ZoneNameError:
            zone = self.series.zone
        context: dict[str, Any] = self.renderer.context(TEMPLATE, lang=lang, zone=zone,
                                                        session=None, sessions=sessions)
        context.update(name=person.name, email=person.email, code=code)
        template = self.renderer.environment(lang).select_template(
            [f"{TEMPLATE}.{lang}.pdf.txt", f"{TEMPLATE}.pdf.txt"])
        return template.render(context)


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate written to a file (the ``certificates --json`` entries)."""

    email: str
    file: str
    code: str

    def as_json(self) -> dict[str, str]:
        """``{"email", "file", "code"}``."""
        return {"email": self.email, "file": self.file, "code": self.code}


def write_certificates(store: Store, series: Series, folder: str | Path, *,
                       min_sessions: int | None = None) -> list[IssuedCertificate]:
    """Write one PDF per qualifying person into ``folder``; return what was written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    maker = CertificateMaker(store, series)
    written: list[IssuedCertificate] = []
    unprintable: list[tuple[str, tuple[str, ...]]] = []
    for registration_id in maker.qualifying(min_sessions):
        try:
            certificate = maker.make(registration_id, min_sessions=min_sessions)
        except CertificateFontError as exc:
            unprintable.append((maker.people[registration_id].email, exc.scripts))
            continue
        assert certificate is not None
        path = out / certificate.file_name()
        path.write_bytes(certificate.pdf)
        written.append(IssuedCertificate(certificate.email, str(path), certificate.code))
    if unprintable:
        scripts = tuple(sorted({s for _, found in unprintable for s in found}))
        raise CertificateFontError(
            f"no certificate for {len(unprintable)} person(s) whose certificate needs "
            f"{', '.join(scripts)} letters that no certificate font has "
            f"({', '.join(email for email, _ in unprintable)}): add a font file that has "
            "them to the series' `fonts` (for example Noto Naskh Arabic or Noto Serif JP, "
            "from fonts.google.com/noto) and run again; the other "
            f"{len(written)} certificate(s) were written", scripts=scripts, written=written)
    return written


def series_fonts(series: Series) -> list[Path]:
    """The series' ``fonts``, resolved against its file's folder; each must exist."""
    root = series.source.parent if series.source is not None else Path.cwd()
    found = []
    for i, name in enumerate(series.fonts):
        path = (root / name).resolve()
        if not path.is_file():
            raise ConfigurationError(f"fonts.{i}: no font file at {path}: give the path of "
                                     "a .ttf or .otf file, relative to the series file")
        found.append(path)
    return found


@dataclass(frozen=True)
class Verification:
    """Whose a genuine code is: the person, the series and the sessions it lists."""

    code: str
    name: str
    email: str
    series_id: str
    sessions: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The ``certificates verify --json`` document."""
        return {"genuine": True, "code": self.code, "name": self.name, "email": self.email,
                "series": self.series_id, "sessions": list(self.sessions)}


def verify_certificate(store: Store, series: Series, code: str) -> Verification | None:
    """Whose certificate ``code`` is, or ``None`` when it is not genuine for this series.

    Raises :class:`~s3events.errors.InputError` for text that cannot be a code at all.
    """
    wanted = normalise_code(code)
    if state_secret(store) is None:  # nothing was ever signed with this database
        return None
    maker = CertificateMaker(store, series, create_secret=False)
    for person in maker.report.people:
        sessions = maker.attended(person.id)
        if sessions and person.id in maker.people and codes_equal(
                maker.code(person.id, sessions), wanted):
            return Verification(wanted, person.name, person.email, series.id,
                                tuple(s.id for s in sessions))
    return None
