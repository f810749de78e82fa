"""Reading series files (YAML, JSON, TOML) with every problem reported at once.

:func:`load_series` returns a validated :class:`~s3events.models.Series` or raises
:class:`~s3events.errors.SeriesError` listing every problem with its file, line and field
path. When some fields do not validate, the whole-series checks (duplicate ids, overlaps,
local times in a DST gap or overlap, undeclared languages) still run on the parts that did,
so one run shows every kind of problem. Warnings (a session outside the series window) come
back from :func:`load_series_with_warnings`; :func:`load_series` logs them.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ValidationError

from .errors import Problem, SeriesError
from .models import Series, Session, check_whole_series
from .parsing import Lines, parse_text, read_text, toml_lines, yaml_with_lines
from .terminal import shown

if TYPE_CHECKING:
    from pydantic import TypeAdapter

__all__ = [
    "load_series",
    "load_series_with_warnings",
    "parse_series_data",
    "pydantic_problems",
    "toml_lines",
    "yaml_with_lines",
]

log = logging.getLogger(__name__)

# -- messages -------------------------------------------------------------------------------

_PATTERN_MESSAGES = {
    "@": "{input} is not an email address (expected something like name@example.org)",
    "[A-Za-z0-9_.-]": (
        "{input} is not a valid id: use letters, digits, '-', '_' and '.', starting with "
        "a letter or digit, at most 64 characters"
    ),
    "[a-z]{2,3}": "{input} is not a language code such as en, es or pt-BR",
    "[A-Z]{2}": "{input} is not an ISO 3166 country code such as MX, CL or PE",
}

_TYPE_MESSAGES = {
    "missing": "this field is required",
    "extra_forbidden": "unknown field; check the spelling (see `s3events schema`)",
    "string_type": "must be text",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping (key: value)",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
}

#: By the start of pydantic's error type; the longer prefix first ("time_delta" before "time").
_PARSING_MESSAGES = {
    "datetime": "not a date and time such as 2021-10-28T17:00:00",
    "date": "not a date such as 2021-10-28",
    "time_delta": "not an ISO 8601 duration such as PT2H (two hours), PT30M or P1D, nor a "
                  "number of seconds",
    "time": "not a time of day such as 09:00",
}

_TEXT_MESSAGE = (
    "a text must be a string, or a mapping from language code to string "
    "(e.g. {en: ..., es: ...})"
)


def _human_message(err: Any) -> str:
    """A sentence for one pydantic error, in the words of a series file's author."""
    kind, message = err["type"], err["msg"]
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    if kind == "value_error":
        return str(message).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        pattern = str(err.get("ctx", {}).get("pattern", ""))
        for needle, template in _PATTERN_MESSAGES.items():
            if needle in pattern:
                return template.format(input=shown(err.get("input")))
    for prefix, text in _PARSING_MESSAGES.items():
        if kind.startswith(prefix + "_") and ("parsing" in kind or kind.endswith("_type")):
            reason = err.get("ctx", {}).get("error")
            return f"{text} ({reason})" if reason else text
    if kind == "too_short":
        return f"needs at least {err.get('ctx', {}).get('min_length', 1)} item(s)"
    text = str(message)
    for prefix in ("Input should be ", "Value should be "):
        if text.startswith(prefix):  # "must be 'scheduled' or 'cancelled'", "must be ≥ 1" …
            return "must be " + text.removeprefix(prefix)
    return text


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (
        part in {"str", "[key]"} or part.startswith(("dict[", "function-", "nullable["))
    )


def _text_problem(errors: list[Any]) -> str:
    """One message for a localized text that matched neither a string nor a mapping."""
    for err in errors:
        loc = list(err["loc"])
        if "[key]" in loc:
            return f"{shown(err.get('input'))} is not a language code such as en, es or pt-BR"
        tag = next((i for i, p in enumerate(loc) if isinstance(p, str) and p.startswith("dict[")),
                   None)
        if tag is not None and tag < len(loc) - 1:
            return f"the text for language {loc[tag + 1]!r} must be a string"
    return _TEXT_MESSAGE


def pydantic_problems(
    exc: ValidationError, *, file: str, line_for: Callable[[tuple[Any, ...]], int | None]
) -> list[Problem]:
    """Turn a pydantic ``ValidationError`` into one :class:`Problem` per field."""
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        cut = next((i for i, p in enumerate(loc) if _is_union_tag(p)), len(loc))
        grouped.setdefault(loc[:cut], []).append(err)
    problems = []
    for loc, errors in grouped.items():
        union = any(len(e["loc"]) > len(loc) for e in errors)
        message = _text_problem(errors) if union else _human_message(errors[0])
        path = ".".join(str(p) for p in loc)
        problems.append(Problem(message, file=file, line=line_for(loc), path=path))
    return problems


# -- reading --------------------------------------------------------------------------------


def _line_for(loc: tuple[Any, ...], lines: Lines) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _loc_from_path(path: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in path.split(".") if p)


def _place(problems: list[Problem], file: str, lines: Lines) -> list[Problem]:
    """The same problems with file and line filled in from their field paths."""
    return [
        Problem(p.message, file=file, line=_line_for(_loc_from_path(p.path), lines),
                path=p.path, severity=p.severity)
        for p in problems
    ]


@functools.cache
def _field_adapter(name: str) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter  # only needed for a file with problems

    info = Series.model_fields[name]
    form: Any = Annotated[info.annotation, info]
    return TypeAdapter(form)


def _partial_checks(data: dict[str, Any]) -> list[Problem]:
    """The whole-series checks, run on the fields and sessions that validate on their own."""
    fields: dict[str, Any] = {}
    failed: set[str] = set()
    for name, info in Series.model_fields.items():
        if name in {"sessions", "timezone"}:
            continue
        if name in data:
            try:
                fields[name] = _field_adapter(name).validate_python(data[name])
            except ValidationError:
                fields[name] = None
                failed.add(name)
        elif info.is_required():
            fields[name] = None
    zone = data.get("timezone")
    fields["timezone"] = zone if isinstance(zone, str) else ""
    sessions, positions = _parsed_sessions(data.get("sessions"))
    series = Series.model_construct(**fields, sessions=sessions)
    check_languages = not failed & {"languages", "default_language"}
    return check_whole_series(series, positions=positions, languages=check_languages)[1]


def _parsed_sessions(raw: Any) -> tuple[list[Session], list[int]]:
    sessions: list[Session] = []
    positions: list[int] = []
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            try:
                sessions.append(Session.model_validate(item))
            except ValidationError:
                continue
            positions.append(i)
    return sessions, positions


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line or 0)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for p in problems:
        key = (p.path, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def parse_series_data(
    data: Any, *, file: str = "<data>", lines: Lines | None = None
) -> tuple[Series, list[Problem]]:
    """Validate already-parsed data; return the series and its warnings.

    Raises :class:`~s3events.errors.SeriesError` with every problem found, field-level and
    whole-series alike; ``lines`` maps field paths to line numbers for the messages.
    """
    lines = lines or {}
    if not isinstance(data, dict):
        raise SeriesError([Problem("a series file must hold a mapping at the top level",
                                   file=file, line=1)], file=file)
    context: dict[str, Any] = {"problems": []}
    try:
        series = Series.model_validate(data, context=context)
    except ValidationError as exc:
        problems = pydantic_problems(exc, file=file, line_for=lambda loc: _line_for(loc, lines))
        problems += _place(_partial_checks(data), file, lines)
        raise SeriesError(_by_line(_dedupe(problems)), file=file) from None
    problems = _by_line(_place(context["problems"], file, lines))
    if any(p.severity == "error" for p in problems):
        raise SeriesError(problems, file=file)
    return series, problems


def load_series_with_warnings(path: str | os.PathLike[str]) -> tuple[Series, list[Problem]]:
    """Load and validate a series file; return it with its warnings."""
    path = Path(path)
    data, lines = parse_text(path, read_text(path))
    series, warnings = parse_series_data(data, file=str(path), lines=lines)
    series._source = path.resolve()
    return series, warnings


def load_series(path: str | os.PathLike[str]) -> Series:
    """Load and validate a series file (YAML, JSON or TOML by extension).

    Raises :class:`~s3events.errors.SeriesError` listing every problem with file, line
    and field. Warnings are logged.
    """
    series, warnings = load_series_with_warnings(path)
    for warning in warnings:
        log.warning("%s", warning)
    return series
