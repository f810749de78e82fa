"""Checks that need a whole series: ids, DST gaps and overlaps, overlaps, window, languages.

:class:`~s3events.models.Series` runs :func:`check_whole_series` after its fields validate;
the loader runs it on the sessions that did parse when other fields failed, so a file's
problems are all reported at once. :func:`check_language_support` needs more than the file
(the catalogs of s3events' phrases, CLDR's data): ``s3events validate`` runs it after
loading.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .errors import Problem, SeriesError
from .i18n import text_languages
from .timebounds import MAX_SESSION_LENGTH
from .timezones import ZoneNameError, classify_local_time, get_zone

if TYPE_CHECKING:
    from .catalogs import Catalogs
    from .models import Series, Session

__all__ = ["check_language_support", "check_settings", "check_whole_series",
           "missing_catalogs_in_file"]


def check_whole_series(
    series: Series, *, positions: Sequence[int] | None = None, languages: bool = True
) -> tuple[list[Session] | None, list[Problem]]:
    """Run the checks that need the whole series; return anchored sessions and problems.

    The sessions come back with ``start``/``end`` in UTC (``None`` when the zone is not
    usable). ``positions`` gives each session's index in the file, for a loader that checks
    only the sessions that parsed; ``languages=False`` skips the language check (when the
    declared languages themselves are invalid).
    """
    where = list(positions) if positions is not None else list(range(len(series.sessions)))
    problems: list[Problem] = []
    _check_ids(series.sessions, where, problems)
    sessions = _anchor_sessions(series, where, problems)
    if sessions is not None:
        _check_sessions(series, sessions, where, problems)
    if languages:
        _check_languages(series, problems)
    return sessions, problems


def _anchor_sessions(
    series: Series, where: list[int], problems: list[Problem]
) -> list[Session] | None:
    """Attach the series' zone to wall times, recording gaps and overlaps."""
    try:
        zone = get_zone(series.timezone)
    except ZoneNameError:  # already reported by the field validator
        return None
    anchored = []
    for i, session in zip(where, series.sessions, strict=True):
        start = _anchor(session.start, zone, f"sessions.{i}.start", problems)
        end = session.end
        if end is not None:
            end = _anchor(end, zone, f"sessions.{i}.end", problems)
        elif session.duration is not None:
            end = start + session.duration
        anchored.append(session.model_copy(update={"start": start, "end": end}))
    return anchored


_UTC = timezone.utc


def _anchor(moment: datetime, zone: Any, path: str, problems: list[Problem]) -> datetime:
    """The instant of ``moment`` in UTC; a wall time is read in ``zone``."""
    if moment.tzinfo is not None:
        return moment.astimezone(_UTC)
    kind = classify_local_time(moment, zone)
    if kind == "gap":
        problems.append(Problem(
            f"{moment:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks jump forward "
            "over it. Choose another time, or write the time with an explicit UTC offset.",
            path=path,
        ))
    elif kind == "ambiguous":
        problems.append(Problem(
            f"{moment:%Y-%m-%d %H:%M} happens twice in {zone.key}: the clocks go back over "
            "it. Choose another time, or write the time with an explicit UTC offset.",
            path=path,
        ))
    return moment.replace(tzinfo=zone).astimezone(_UTC)


def _check_ids(sessions: list[Session], where: list[int], problems: list[Problem]) -> None:
    seen: dict[str, int] = {}
    for i, session in zip(where, sessions, strict=True):
        if session.id in seen:
            problems.append(Problem(
                f"duplicate session id '{session.id}' (also sessions.{seen[session.id]}); "
                "every session needs its own id",
                path=f"sessions.{i}.id",
            ))
        seen.setdefault(session.id, i)


def _check_sessions(
    series: Series, sessions: list[Session], where: list[int], problems: list[Problem]
) -> None:
    for i, session in zip(where, sessions, strict=True):
        assert session.end is not None
        if session.end <= session.start:
            problems.append(Problem("'end' must be after 'start'", path=f"sessions.{i}.end"))
        elif session.end - session.start > MAX_SESSION_LENGTH:
            problems.append(Problem(
                f"the session lasts more than {MAX_SESSION_LENGTH.days} days; check the dates "
                "of 'start' and 'end' (a session is one meeting)", path=f"sessions.{i}.end"))
        _check_window(series, i, session, problems)
    _check_overlaps(sessions, where, problems)


def _check_overlaps(sessions: list[Session], where: list[int], problems: list[Problem]) -> None:
    ordered = sorted(
        (s.start, s.end, i, s) for i, s in zip(where, sessions, strict=True) if not s.cancelled
    )
    for (_, end_a, i, a), (start_b, _, j, b) in itertools.pairwise(ordered):
        if end_a is not None and start_b < end_a:
            problems.append(Problem(
                f"session '{b.id}' starts before session '{a.id}' (sessions.{i}) ends; "
                "sessions of one series must not overlap",
                path=f"sessions.{j}.start",
            ))


def _check_window(series: Series, i: int, session: Session, problems: list[Problem]) -> None:
    window = series.window
    if window is None:
        return
    day = session.start.astimezone(series.zone).date()
    if not window.start <= day <= window.end:
        problems.append(Problem(
            f"session '{session.id}' on {day} is outside the series window "
            f"{window.start} to {window.end}",
            path=f"sessions.{i}.start",
            severity="warning",
        ))


def _check_languages(series: Series, problems: list[Problem]) -> None:
    declared = set(series.languages)
    if series.default_language not in declared:
        problems.append(Problem(
            f"default_language '{series.default_language}' is not in languages "
            f"{sorted(declared)}",
            path="default_language",
        ))
    for path, text in _walk_texts(series):
        for lang in sorted(text_languages([text]) - declared):
            problems.append(Problem(
                f"text in language '{lang}' but the series declares only {sorted(declared)}; "
                f"add '{lang}' to languages or remove the text",
                path=path,
            ))


def _walk_texts(series: Series) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name), f"{path}.{name}" if path else name)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}.{i}")
        elif _is_localized_mapping(value, path):
            found.append((path, value))

    walk(series, "")
    return found


def _is_localized_mapping(value: Any, path: str) -> bool:
    """A language → text mapping (not a free-form options mapping)."""
    if not isinstance(value, dict) or not value:
        return False
    if path.endswith(("options", "transports")) or ".options" in path:
        return False
    return all(
        isinstance(k, str) and isinstance(v, str)
        and re.match(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", k) is not None
        for k, v in value.items()
    )


# -- languages: catalogs, CLDR data, texts ------------------------------------------------
#: How many missing messages a warning quotes before it says how many more there are.
QUOTED_MESSAGES = 6


def check_language_support(series: Series, *, pm: Any = None) -> list[Problem]:
    """What ``validate`` says about the series' languages, beyond the file's own checks.

    Errors: a ``translations`` folder that does not exist, a declared language with no
    catalog (built in, in that folder, or from a plugin), a provided catalog that cannot be
    read or filled in. Warnings: a provided catalog that lacks messages (they would show in
    English), a language CLDR has no data for (dates and zone names in English), texts the
    series lacks in a declared language (they fall back as :func:`s3events.i18n.localize`
    says). Plugins are asked for catalogs (``pm``, default: the installed plugins') only
    when a language has no built-in one.
    """
    from .catalogs import Catalogs, series_folder

    problems: list[Problem] = []
    folder = series_folder(series)
    if folder is not None and not folder.is_dir():
        problems.append(Problem(
            f"folder {folder} does not exist; give the folder of the series' catalogs "
            "(LANG.po files), relative to the series file", path="translations"))
        folder = None
    uncovered = [lang for lang in series.languages if not Catalogs().has(lang)]
    if folder is not None or uncovered:
        problems += _catalog_problems(series, _provided(folder, bool(uncovered), pm))
    problems += _locale_data_problems(series, uncovered) + _text_coverage_problems(series)
    return _with_lines(series, problems)


def check_settings(series: Series, *, pm: Any = None) -> list[Problem]:
    """What ``validate`` says about settings only the installed code can judge.

    Errors: a ``fonts`` file that is not there or is not a font. Warnings: options under
    ``dispatch.transports`` for a transport no installed code provides (a misspelt
    ``smpt``: its options would be ignored), and ``dispatch.certificates.min_sessions``
    above the number of sessions (nobody would get a certificate).
    """
    problems: list[Problem] = []
    if series.fonts:
        problems += _font_problems(series)
    if series.dispatch.transports:
        problems += _transport_problems(series, pm)
    settings = series.dispatch.certificates
    held = sum(1 for s in series.sessions if not s.cancelled)
    if settings is not None and settings.min_sessions > held:
        problems.append(Problem(
            f"min_sessions is {settings.min_sessions} but the series holds {held} session(s): "
            "nobody can attend that many, so no certificate would be sent",
            path="dispatch.certificates.min_sessions", severity="warning"))
    return _with_lines(series, problems)


def _font_problems(series: Series) -> list[Problem]:
    from .certificates.pdf import font_coverage  # fontTools: only for a series with fonts
    from .errors import CertificateFontError

    problems = []
    root = series.source.parent if series.source is not None else Path.cwd()
    for i, name in enumerate(series.fonts):
        path = (root / name).resolve()
        try:
            if not path.is_file():
                raise CertificateFontError(f"no font file at {path}")
            font_coverage(str(path))
        except CertificateFontError as exc:
            problems.append(Problem(f"{exc}: give a .ttf or .otf file, relative to the "
                                    "series file", path=f"fonts.{i}"))
    return problems


def _transport_problems(series: Series, pm: Any) -> list[Problem]:
    from .plugins import transports  # loads the plugins: only when options name transports

    known = set(transports(pm))
    return [Problem(f"no transport named '{name}' (installed: {', '.join(sorted(known))}): "
                    "its options are not used; check the spelling",
                    path=f"dispatch.transports.{name}", severity="warning")
            for name in series.dispatch.transports if name not in known]


def missing_catalogs_in_file(path: Path, *, pm: Any = None) -> list[Problem]:
    """The declared languages of a series file that no catalog serves, read from the file
    itself: for ``validate`` to name them beside the file's other errors, when the file does
    not load. Nothing when the file cannot even be parsed."""
    from .catalogs import Catalogs, MissingCatalog
    from .parsing import parse_text, read_text

    try:
        data, lines = parse_text(path, read_text(path))
    except (SeriesError, OSError):  # the load reports the file's own errors
        return []
    languages = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(languages, list):
        return []
    folder = data.get("translations")
    folders: tuple[Path, ...] = ()
    if isinstance(folder, str) and (path.parent / folder).is_dir():
        folders = ((path.parent / folder).resolve(),)
    builtin, found = Catalogs(), None
    problems = []
    for i, lang in enumerate(languages):
        if not isinstance(lang, str) or builtin.has(lang):
            continue
        found = found or _provided(folders[0] if folders else None, True, pm)
        if not found.has(lang):
            problems.append(Problem(str(MissingCatalog(lang)), file=str(path),
                                    line=lines.get(("languages", i)), path=f"languages.{i}"))
    return problems


def _provided(folder: Path | None, plugins: bool, pm: Any) -> Catalogs:
    from .catalogs import Catalogs, plugin_folders

    folders = (folder,) if folder is not None else ()
    return Catalogs(folders + (plugin_folders(pm) if plugins else ()))


def _catalog_problems(series: Series, catalogs: Catalogs) -> list[Problem]:
    from .catalogs import CatalogError, MissingCatalog, message_ids

    problems: list[Problem] = []
    for i, lang in enumerate(series.languages):
        if not catalogs.has(lang):
            problems.append(Problem(str(MissingCatalog(lang)), path=f"languages.{i}"))
            continue
        try:
            missing = catalogs.missing(lang)
        except CatalogError as exc:
            problems.append(Problem(str(exc), path="translations"))
            continue
        if missing:
            problems.append(Problem(_missing_note(lang, missing, len(message_ids())),
                                    path=f"languages.{i}", severity="warning"))
    return problems


def _missing_note(lang: str, missing: Sequence[str], total: int) -> str:
    quoted = ", ".join(f'"{msgid}"' for msgid in missing[:QUOTED_MESSAGES])
    more = f" and {len(missing) - QUOTED_MESSAGES} more" if len(missing) > QUOTED_MESSAGES \
        else ""
    return (f"the catalog for '{lang}' lacks {len(missing)} of {total} messages, which "
            f"{lang} participants would read in English: {quoted}{more}; `s3events "
            "translations check FOLDER` lists them all")


def _locale_data_problems(series: Series, languages: Sequence[str]) -> list[Problem]:
    """CLDR knows every built-in language: only the others are looked up (Babel loads)."""
    from .i18n import has_locale_data

    return [Problem(f"CLDR has no data for '{lang}': dates, times and zone names would be "
                    "in English; use a language tag CLDR knows (such as 'fi' or 'pt-BR')",
                    path=f"languages.{series.languages.index(lang)}", severity="warning")
            for lang in languages if not has_locale_data(lang)]


def _text_coverage_problems(series: Series) -> list[Problem]:
    from .i18n import base_language

    texts = _walk_texts(series)
    default = series.default_language
    problems = []
    for i, lang in enumerate(series.languages):
        lacking = [(path, text) for path, text in texts
                   if lang not in text and base_language(lang) not in text]
        if not lacking:
            continue
        # the language each of those texts is read in, as localize() picks it
        read_in = dict.fromkeys(_fallback(text, default) for _, text in lacking)
        which = " or ".join(f"'{code}'" for code in read_in)
        role = " (the default language)" if lang == default else ""
        problems.append(Problem(
            f"{len(lacking)} text(s) have no '{lang}' version (first: {lacking[0][0]}); "
            f"{lang} participants{role} read them in {which}",
            path=f"languages.{i}", severity="warning"))
    return problems


def _fallback(text: Any, default: str) -> str:
    """The language a text lacking the participant's is read in (see i18n.localize)."""
    from .i18n import base_language

    for candidate in (default, base_language(default)):
        if candidate in text:
            return str(candidate)
    return str(next(iter(text)))


def _with_lines(series: Series, problems: list[Problem]) -> list[Problem]:
    """The problems with the series file and the line of each field path, when known."""
    if series.source is None or not problems:
        return problems
    from .loading import toml_lines, yaml_with_lines

    try:
        text = series.source.read_text(encoding="utf-8-sig")
        lines = toml_lines(text) if series.source.suffix == ".toml" else yaml_with_lines(text)[1]
    except Exception:  # the file was read once already; without lines the problems still say
        lines = {}
    out = []
    for p in problems:
        loc = tuple(int(x) if x.isdigit() else x for x in p.path.split(".") if x)
        line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
        out.append(Problem(p.message, file=str(series.source), line=line, path=p.path,
                           severity=p.severity))
    return out
