"""Property tests: whatever a series file holds, loading gives a series or a clean error.

Hypothesis writes arbitrary text in YAML's, JSON's and TOML's own characters, arbitrary
bytes, arbitrary data structures, and good series with one field replaced by anything. The
only outcomes allowed are a validated :class:`~s3events.models.Series` or an
:class:`~s3events.errors.InputError` whose problems each say where and what — never another
exception, and never a slow example (the deadline is far above what a real file costs, so
only something that grows without bound can reach it).
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from s3events.errors import InputError, SeriesError
from s3events.loading import load_series_with_warnings, parse_series_data
from s3events.models import Series
from s3events.parsing import parse_text
from tests.fixtures.series import minimal_series_data

FUZZ = settings(max_examples=300, deadline=timedelta(seconds=3),
                suppress_health_check=[HealthCheck.too_slow])

SYNTAX = {
    ".yaml": "abcxyz019 -:,[]{}&*!|>'\"#%@?\n\t\\.",
    ".json": "abc019 -:,[]{}\"\\.eE+tfrunl\n",
    ".toml": "abcxyz019 -=:,.[]{}\"'#\n_TZ",
}


def outcome(load: Any) -> Series | None:
    """Run ``load()``; return the series, or None after checking the error is a clean one."""
    try:
        series = load()
    except InputError as exc:
        problems = exc.problems
        assert problems, f"an InputError without problems: {exc}"
        for problem in problems:
            assert problem.message and problem.file
        assert "Traceback" not in str(exc)
        return None
    assert isinstance(series, Series)
    return series


def from_text(suffix: str, text: str) -> Series | None:
    def load() -> Series:
        path = Path(f"series{suffix}")
        data, lines = parse_text(path, text)
        return parse_series_data(data, file=str(path), lines=lines)[0]

    return outcome(load)


@FUZZ
@given(suffix=st.sampled_from(sorted(SYNTAX)), data=st.data())
@example(suffix=".yaml", data=None)
def test_any_text_in_the_formats_own_characters_loads_or_fails_cleanly(suffix: str,
                                                                      data: Any) -> None:
    if data is None:  # the explicit example: a self-referencing alias
        assert from_text(".yaml", "id: &x [*x]\n") is None
        return
    text = data.draw(st.text(alphabet=SYNTAX[suffix], max_size=300))
    from_text(suffix, text)


@FUZZ
@given(st.text(max_size=300))
def test_any_unicode_text_loads_or_fails_cleanly(text: str) -> None:
    for suffix in SYNTAX:
        from_text(suffix, text)


@settings(max_examples=100, deadline=timedelta(seconds=3))
@given(st.binary(max_size=400), st.sampled_from(sorted(SYNTAX)))
def test_any_bytes_in_a_file_load_or_fail_cleanly(raw: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"series{suffix}"
        path.write_bytes(raw)
        outcome(lambda: load_series_with_warnings(path)[0])


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(max_size=30), st.dates(), st.datetimes(),
    st.sampled_from(["Europe/Brussels", "localtime", "NZ", "en", "es", "s1",
                     "2021-10-28T17:00:00", "PT2H", "javascript:alert(1)",
                     "https://example.org", "a@example.org", "a\r\nBcc: b@example.org"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=25,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a nested structure of dicts and lists."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, (*prefix, i))
    return found


def replaced(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


@FUZZ
@given(VALUES)
def test_any_data_structure_loads_or_fails_cleanly(value: Any) -> None:
    outcome(lambda: parse_series_data(value, file="fuzz.yaml")[0])


@FUZZ
@given(st.data())
def test_a_good_series_with_any_field_replaced_loads_or_fails_cleanly(data: Any) -> None:
    good = minimal_series_data(
        window={"start": date(2021, 10, 1), "end": date(2021, 11, 30)},
        dispatch={"sender": "events@example.org", "base_url": "https://events.example.org"},
        organiser={"name": "Demo", "email": "organiser@example.org",
                   "url": "https://example.org"},
    )
    good["sessions"][0]["documents"] = [{"id": "d", "title": "Agenda",
                                         "url": "https://example.org/a.pdf"}]
    path = data.draw(st.sampled_from(paths(good)))
    value = data.draw(VALUES)
    series = outcome(lambda: parse_series_data(replaced(good, path, value), file="f.yaml")[0])
    if series is not None:  # what validated is usable
        assert all(s.start.tzinfo is not None and s.ends_at > s.start for s in series.sessions)


@FUZZ
@given(st.data())
def test_good_series_written_as_yaml_with_any_field_replaced_round_trip_cleanly(
        data: Any) -> None:
    good = minimal_series_data()
    path = data.draw(st.sampled_from(paths(good)))
    value = data.draw(VALUES)
    text = yaml.safe_dump(replaced(good, path, value), allow_unicode=True)
    series = from_text(".yaml", text)
    if series is not None and path == ("timezone",):
        assert series.timezone == value


def test_the_clean_error_the_properties_accept_names_file_and_line() -> None:
    """What :func:`outcome` accepts, checked once by example: a SeriesError with lines."""
    try:
        parse_text(Path("x.yaml"), "a: &x [*x]\n")
    except SeriesError as exc:
        assert [(p.file, p.line) for p in exc.problems] == [("x.yaml", 1)]
    else:  # pragma: no cover
        raise AssertionError("a self-referencing alias was accepted")
