"""Reading series files (YAML, JSON, TOML) with every problem reported at once.

:func:`load_series` returns a validated :class:`~s3events.models.Series` or raises
:class:`~s3events.errors.SeriesError` listing every problem with its file, line and field
path. Warnings (a session outside the series window) are returned on the series via
:func:`load_series_with_warnings` or logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import Problem, SeriesError
from .models import Series

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["load_series", "load_series_with_warnings", "parse_series_data"]

log = logging.getLogger(__name__)

Lines = dict[tuple[Any, ...], int]


class _LineLoader(yaml.SafeLoader):
    """A safe YAML loader that also records the line of every mapping key and list item."""


def _yaml_with_lines(text: str) -> tuple[Any, Lines]:
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: Lines = {}
        _index(node, (), lines)
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


def _index(node: yaml.Node, path: tuple[Any, ...], lines: Lines) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _index(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines)


def _toml_lines(text: str, data: Any) -> Lines:
    """Approximate lines for TOML: the first line that mentions each key."""
    lines: Lines = {}
    text_lines = text.splitlines()

    def find(key: str, start: int) -> int:
        pattern = re.compile(rf"^\s*(\[+[^\]]*\b{re.escape(key)}\b[^\]]*\]+|\"?{re.escape(key)}\"?\s*=)")
        for i in range(start, len(text_lines)):
            if pattern.search(text_lines[i]):
                return i + 1
        return start + 1

    def walk(value: Any, path: tuple[Any, ...], start: int) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                line = find(str(key), max(start - 1, 0))
                lines[(*path, key)] = line
                walk(item, (*path, key), line)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                lines[(*path, i)] = start
                walk(item, (*path, i), start)

    walk(data, (), 1)
    return lines


def _parse(path: Path, text: str) -> tuple[Any, Lines]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
            return data, _toml_lines(text, data)
        if suffix == ".json":
            data = json.loads(text)
            try:  # JSON is YAML: reuse the YAML composer to find lines
                return data, _yaml_with_lines(text)[1]
            except yaml.YAMLError:
                return data, {}
        return _yaml_with_lines(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise SeriesError([Problem(f"not valid YAML: {exc.problem}", file=str(path), line=line)],
                          file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise SeriesError([Problem(f"not valid JSON: {exc.msg}", file=str(path),
                                   line=exc.lineno)], file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise SeriesError([Problem(f"not valid TOML: {exc}", file=str(path),
                                   line=int(match.group(1)) if match else None)],
                          file=str(path)) from None


def _line_for(loc: tuple[Any, ...], lines: Lines) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _loc_from_path(path: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in path.split(".") if p)


def _pydantic_problems(exc: ValidationError, file: str, lines: Lines) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and _is_union_tag(p)))
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if err["type"] == "missing":
            message = "this field is required"
        elif err["type"] == "extra_forbidden":
            message = "unknown field; check the spelling (see `s3events schema`)"
        problems.append(Problem(message, file=file, line=_line_for(loc, lines),
                                path=".".join(str(p) for p in loc)))
    return _dedupe(problems)


def _is_union_tag(part: str) -> bool:
    return part in {"str", "dict[str,str]", "function-after[_hhmm(), nullable[time]]"} or (
        part.startswith(("dict[", "function-", "nullable["))
    )


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for p in problems:
        key = (p.path, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def parse_series_data(data: Any, *, file: str = "<data>", lines: Lines | None = None
                      ) -> tuple[Series, list[Problem]]:
    """Validate already-parsed data; return the series and its warnings."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise SeriesError([Problem("a series file must hold a mapping at the top level",
                                   file=file, line=1)], file=file)
    context: dict[str, Any] = {"problems": []}
    try:
        series = Series.model_validate(data, context=context)
    except ValidationError as exc:
        raise SeriesError(_pydantic_problems(exc, file, lines), file=file) from None
    problems = [
        Problem(p.message, file=file, line=_line_for(_loc_from_path(p.path), lines),
                path=p.path, severity=p.severity)
        for p in context["problems"]
    ]
    if any(p.severity == "error" for p in problems):
        raise SeriesError(problems, file=file)
    return series, problems


def load_series_with_warnings(path: str | os.PathLike[str]) -> tuple[Series, list[Problem]]:
    """Load and validate a series file; return it with its warnings."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SeriesError([Problem("file not found", file=str(path))], file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise SeriesError([Problem(f"not UTF-8 text ({exc.reason}); save the file as UTF-8",
                                   file=str(path))], file=str(path)) from None
    except OSError as exc:
        raise SeriesError([Problem(f"cannot read: {exc.strerror}", file=str(path))],
                          file=str(path)) from None
    data, lines = _parse(path, text)
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
