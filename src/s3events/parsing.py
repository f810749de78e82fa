"""Reading the text of a series file (YAML, JSON, TOML) within fixed bounds, with lines.

A series file may come from anyone, so reading it is bounded before anything is built:

* at most :data:`MAX_BYTES` are read (a video given by mistake, ``/dev/zero``);
* YAML is first read as a stream of events, which costs memory in proportion to the text,
  and refused when it nests deeper than :data:`MAX_DEPTH`, when an alias sits inside its own
  anchor (``id: &x [*x]``, which would never end), or when the document would hold more than
  :data:`MAX_NODES` values once every alias is expanded (the "billion laughs" bomb, where
  eight lines stand for a hundred million strings), or more than :data:`MAX_TEXT`
  characters of text (one long string anchored once and aliased a hundred times);
* JSON and TOML, which have no aliases, are held to the same depth and number of values;
  their text cannot grow past the file's size, which :data:`MAX_BYTES` already bounds.

Every refusal is a :class:`~s3events.errors.SeriesError` naming the file and, for YAML, the
line. :func:`yaml_with_lines` and :func:`toml_lines` also map every field path to its line,
for the messages of the model's validation.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, SeriesError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

__all__ = [
    "FORMATS",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_TEXT",
    "LimitError",
    "Lines",
    "parse_text",
    "read_text",
    "toml_lines",
    "yaml_with_lines",
]

#: File suffixes read as each format; anything else is read as YAML.
FORMATS = {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
#: The largest series file read (a real one is a few kilobytes).
MAX_BYTES = 8 * 1024 * 1024
#: The deepest nesting of lists and mappings (a real series nests about 6 levels).
MAX_DEPTH = 64
#: The most values (scalars, lists, mappings) a file may hold with its aliases expanded.
MAX_NODES = 200_000
#: The most characters of text (keys and values) a file may hold with its aliases expanded:
#: as much as the largest file could hold written out, so only aliasing can go past it.
MAX_TEXT = MAX_BYTES

Lines = dict[tuple[Any, ...], int]


class LimitError(yaml.MarkedYAMLError):
    """A YAML document beyond one of this module's bounds (depth, size, recursion)."""


def _fail(path: Path, message: str, line: int | None = None) -> SeriesError:
    return SeriesError([Problem(message, file=str(path), line=line)], file=str(path))


# -- reading the bytes ------------------------------------------------------------------


def read_text(path: Path) -> str:
    """The file's text (UTF-8, with or without a byte-order mark), at most MAX_BYTES."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise _fail(path, "file not found") from None
    except IsADirectoryError:
        raise _fail(path, "is a folder; give the series file (YAML, JSON or TOML)") from None
    except OSError as exc:
        raise _fail(path, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise _fail(path, f"larger than {MAX_BYTES // (1024 * 1024)} MB; a series file is "
                          "a short text file (YAML, JSON or TOML)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(path, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be read); "
                          "save the file as UTF-8", line) from None


# -- YAML -------------------------------------------------------------------------------

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader (libyaml's when available), with values that fail turned into marks."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # 2021-02-30, a 5000-digit number
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {_reason(exc)}", node.start_mark) from None


def _without_base_60(loader: Any) -> None:
    """Read ``2:00`` and ``12:00`` as the text written, not as YAML 1.1's base-60 numbers.

    YAML 1.1 reads an unquoted ``2:00`` as 120 and ``12:00`` as 720: a follow-up delay of
    "2:00" would silently be two minutes. As text, a duration field refuses it with the
    ISO 8601 form to use, and a time of day reads it as the time it is.
    """
    resolvers = {first: [(tag, regexp) for tag, regexp in entries
                         if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
                 for first, entries in loader.yaml_implicit_resolvers.items()}
    loader.yaml_implicit_resolvers = resolvers
    loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
        list("-+0123456789"))
    loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))


_without_base_60(_Loader)


def _reason(exc: Exception) -> str:
    text = str(exc)
    return "a number with too many digits" if "digits" in text else text


def _check_events(text: str) -> None:
    """Walk the YAML events once; raise :class:`LimitError` past a bound."""
    frames: list[list[Any]] = []  # per open collection: [values so far, characters, anchor]
    sizes: dict[str, tuple[int, int]] = {}  # anchor → expanded (values, characters)
    total = chars = 0
    loader = _Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            values, length = _added(event, frames, sizes)
            total += values
            chars += length
            if total > MAX_NODES:
                raise _limit(event, f"holds more than {MAX_NODES} values once its aliases "
                                    "are expanded; write the values out instead of aliasing "
                                    "aliases")
            if chars > MAX_TEXT:
                raise _limit(event, f"holds more than {MAX_TEXT // (1024 * 1024)} MB of text "
                                    "once its aliases are expanded; alias short values, or "
                                    "shorten the long text this alias repeats")
    finally:
        loader.dispose()


def _added(event: Any, frames: list[list[Any]],
           sizes: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """The values and characters an event adds (an alias: its anchor's expanded size)."""
    anchor = getattr(event, "anchor", None)
    if isinstance(event, yaml.CollectionStartEvent):
        if len(frames) >= MAX_DEPTH:
            raise _limit(event, f"nested deeper than {MAX_DEPTH} levels")
        frames.append([1, 0, anchor])
        return 1, 0
    if isinstance(event, yaml.CollectionEndEvent):
        values, length, opened = frames.pop()
        if opened is not None:
            sizes[opened] = (values, length)
        if frames:
            frames[-1][0] += values
            frames[-1][1] += length
        return 0, 0
    if isinstance(event, yaml.AliasEvent):
        if any(frame[2] == anchor for frame in frames):
            raise _limit(event, f"the alias *{anchor} is inside its own anchor &{anchor}, so "
                                "its value would never end")
        size = sizes.get(str(anchor), (1, 0))
    elif isinstance(event, yaml.ScalarEvent):
        size = (1, len(event.value))
        if anchor is not None:
            sizes[anchor] = size
    else:
        return 0, 0
    if frames:
        frames[-1][0] += size[0]
        frames[-1][1] += size[1]
    return size


def _limit(event: Any, message: str) -> LimitError:
    return LimitError(problem=message, problem_mark=event.start_mark)


def yaml_with_lines(text: str) -> tuple[Any, Lines]:
    """Parse YAML (or JSON) text; return the data and the line of every key and list item.

    Raises :class:`LimitError` for a document beyond the module's bounds, and PyYAML's
    errors for one that is not YAML.
    """
    _check_events(text)
    loader = _Loader(text)
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
            if not isinstance(key_node, yaml.ScalarNode):  # a list as a key: refused later
                continue
            where = (*path, key_node.value)
            _index(value_node, where, lines)
            lines[where] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines)


# -- JSON and TOML ----------------------------------------------------------------------


def _check_shape(data: Any) -> str | None:
    """Why ``data`` (parsed JSON or TOML, a tree) is beyond the bounds, or None."""
    todo: list[tuple[Any, int]] = [(data, 1)]
    count = 0
    while todo:
        value, depth = todo.pop()
        count += 1
        if count > MAX_NODES:
            return f"holds more than {MAX_NODES} values"
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            items = value.values() if isinstance(value, dict) else value
            todo.extend((item, depth + 1) for item in items)
    return None


_TOML_KEY = r'(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')'
_TOML_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_TOML_KEY}(?:\s*\.\s*{_TOML_KEY})*)\s*\]")
_TOML_ASSIGN = re.compile(rf"^\s*({_TOML_KEY}(?:\s*\.\s*{_TOML_KEY})*)\s*=")
_TOML_STRINGS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\])*"|\'[^\']*\'')


def _toml_keys(dotted: str) -> list[str]:
    parts = re.findall(_TOML_KEY, dotted)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def toml_lines(text: str) -> Lines:
    """The line of every table, array-of-tables item and key of a TOML document.

    Tables (``[a.b]``), arrays of tables (``[[sessions]]``, counted per parent item) and
    dotted keys are followed; keys inside inline tables and multi-line values take the line
    of the key that holds them.
    """
    lines: Lines = {}
    counters: dict[tuple[Any, ...], int] = {}
    current: tuple[Any, ...] = ()
    depth = 0  # open brackets/braces of a multi-line value
    body = _TOML_STRINGS.sub(lambda m: '""' + "\n" * m.group(0).count("\n"), text)
    for number, line in enumerate(body.splitlines(), start=1):
        code = line.split("#", 1)[0]
        if depth == 0:
            current = _toml_line(code, number, current, counters, lines)
        depth = max(0, depth + code.count("[") + code.count("{")
                    - code.count("]") - code.count("}"))
        if depth and _TOML_HEADER.match(code):
            depth = 0
    return lines


def _toml_line(code: str, number: int, current: tuple[Any, ...],
               counters: dict[tuple[Any, ...], int], lines: Lines) -> tuple[Any, ...]:
    header = _TOML_HEADER.match(code)
    if header:
        keys = _toml_keys(header.group(2))
        table = _toml_resolve(keys, counters)
        if header.group(1) == "[[":
            counters[table] = counters.get(table, -1) + 1
            lines.setdefault(table, number)
            table = (*table, counters[table])
        lines.setdefault(table, number)
        return table
    assign = _TOML_ASSIGN.match(code)
    if assign:
        where = (*current, *_toml_keys(assign.group(1)))
        lines[where] = number
    return current


def _toml_resolve(keys: list[str], counters: dict[tuple[Any, ...], int]) -> tuple[Any, ...]:
    """A header's path, with the current index of every array of tables on the way."""
    path: tuple[Any, ...] = ()
    for i, key in enumerate(keys):
        path = (*path, key)
        if i < len(keys) - 1 and path in counters:
            path = (*path, counters[path])
    return path


# -- one entry point --------------------------------------------------------------------


def parse_text(path: Path, text: str) -> tuple[Any, Lines]:
    """The data of a series file's text (format by suffix) and the line of every field.

    Raises :class:`~s3events.errors.SeriesError` with file and line when the text is not
    valid in its format or goes beyond the bounds.
    """
    kind = FORMATS.get(path.suffix.lower(), "yaml")
    try:
        if kind == "yaml":
            return yaml_with_lines(text)
        data = json.loads(text) if kind == "json" else tomllib.loads(text)
    except LimitError as exc:
        raise _fail(path, str(exc.problem), _mark_line(exc)) from None
    except yaml.MarkedYAMLError as exc:
        raise _fail(path, f"not valid YAML: {exc.problem}", _mark_line(exc)) from None
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, exc) from None
    except RecursionError:
        raise _fail(path, f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # a number of thousands of digits
        raise _fail(path, f"not valid {kind.upper()}: {_reason(exc)}") from None
    reason = _check_shape(data)
    if reason is not None:
        raise _fail(path, reason)
    return data, _lines_of(kind, text)


def _lines_of(kind: str, text: str) -> Lines:
    if kind == "toml":
        return toml_lines(text)
    try:  # JSON is YAML: reuse the YAML composer to find lines
        return yaml_with_lines(text)[1]
    except yaml.YAMLError:
        return {}


def _mark_line(exc: yaml.MarkedYAMLError) -> int | None:
    mark = exc.problem_mark
    return mark.line + 1 if mark is not None else None


def _toml_error(path: Path, exc: Exception) -> SeriesError:
    line = getattr(exc, "lineno", None)
    if line is None:  # Pythons before 3.14 only put the line in the message
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
    message = getattr(exc, "msg", None) or str(exc)
    return _fail(path, f"not valid TOML: {message}", line)
