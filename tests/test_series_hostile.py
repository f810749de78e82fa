"""Hostile series files: each is refused with exit 2, a message with file and line, and no
traceback, and nothing is written.

Alias bombs and self-referencing aliases, deep nesting, unreadable values, URLs that are not
web addresses, line breaks in what goes into email headers, and files that cannot be read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from s3events.errors import SeriesError
from s3events.loading import load_series, load_series_with_warnings
from s3events.parsing import MAX_BYTES, MAX_DEPTH
from tests.fixtures.series import minimal_series_data
from tests.test_cli_core import Run, run

Writer = Callable[..., Path]

#: A valid series head, then the bomb's lines under `platform.options`, which accepts any
#: mapping, so only the loader's bounds can stop it.
HEAD = yaml.safe_dump(minimal_series_data(), sort_keys=False) + "platform:\n  options:\n"


def bomb(levels: int) -> str:
    """The "billion laughs" in ``levels`` lines: each line holds nine of the one before."""
    lines = ['    a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"    a{i}: &a{i} [{refs}]")
    return HEAD + "\n".join(lines) + "\n"


def refused(result: Run, path: Path, line: int | None = None) -> str:
    """The error output, after checking exit 2, the file (and line) and no traceback."""
    assert result.code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr.split("\n")[0][:6]
    where = f"{path}:{line}:" if line is not None else f"{path}"
    assert where in result.stderr, result.stderr
    return result.stderr


def line_count(text: str) -> int:
    return text.count("\n")


# -- aliases, recursion and nesting ---------------------------------------------------------


@pytest.mark.parametrize("levels", [7, 8])
def test_alias_bombs_are_refused_at_the_line_that_goes_too_far(write_series: Writer,
                                                               levels: int) -> None:
    text = bomb(levels)
    path = write_series(text)
    out = refused(run("validate", str(path)), path)
    assert "values once its aliases are expanded" in out
    first_bomb_line = line_count(HEAD) + 1
    problem_line = int(out.split(f"{path}:")[2].split(":")[0])
    assert first_bomb_line < problem_line <= first_bomb_line + levels


def test_an_alias_bomb_writes_no_calendar(write_series: Writer, tmp_path: Path) -> None:
    path = write_series(bomb(8))
    output = tmp_path / "out.ics"
    refused(run("calendar", str(path), "-o", str(output)), path)
    assert not output.exists()


@pytest.mark.parametrize(("text", "line"), [
    ("id: &x [*x]\n", 1),
    ("id: demo\nplatform:\n  options: &o\n    again: *o\n", 4),
    ("id: demo\nplatform:\n  options:\n    a: &a\n      - b: &b\n          c: [*a]\n", 6),
])
def test_an_alias_inside_its_own_anchor_is_refused_not_a_recursion_error(
        write_series: Writer, text: str, line: int) -> None:
    path = write_series(text)
    out = refused(run("validate", str(path)), path, line)
    assert "inside its own anchor" in out
    assert "RecursionError" not in out


def test_aliases_within_bounds_still_work(write_series: Writer) -> None:
    shared = HEAD + "    a: &t {en: Shared}\n    b: *t\n    c: [*t, *t]\n"
    options = load_series(write_series(shared)).platform.options
    assert options["b"] == options["c"][1] == {"en": "Shared"}


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_nesting_beyond_the_bound_is_refused_in_every_format(tmp_path: Path,
                                                             suffix: str) -> None:
    depth = MAX_DEPTH + 5
    nested = "[" * depth + "]" * depth
    text = {".yaml": f"id: {nested}\n", ".json": f'{{"id": {nested}}}',
            ".toml": f"id = {nested}\n"}[suffix]
    path = tmp_path / f"series{suffix}"
    path.write_text(text, encoding="utf-8")
    out = refused(run("validate", str(path)), path)
    assert f"nested deeper than {MAX_DEPTH} levels" in out


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_very_deep_nesting_is_refused_without_a_recursion_error(tmp_path: Path,
                                                               suffix: str) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    text = {".yaml": f"id: {nested}\n", ".json": f'{{"id": {nested}}}',
            ".toml": f"id = {nested}\n"}[suffix]
    path = tmp_path / f"series{suffix}"
    path.write_text(text, encoding="utf-8")
    out = refused(run("validate", str(path)), path)
    assert "RecursionError" not in out and "recursion" not in out.lower()


@pytest.mark.parametrize(("text", "expected"), [
    ("id: demo\nwindow: {start: 2021-02-30, end: 2021-03-01}\n", "day is out of range"),
    ("id: demo\nplatform: {options: {n: " + "9" * 5000 + "}}\n", "too many digits"),
    ("id: demo\ntitle: !!binary /w==\n", "title:"),
    ("id: demo\n? [a, b]\n: c\n", "not valid YAML"),
    ("id: demo\ntitle: !!python/object:os.system {}\n", "not valid YAML"),
])
def test_values_the_yaml_reader_cannot_build_are_reported_with_their_line(
        write_series: Writer, text: str, expected: str) -> None:
    path = write_series(text)
    out = refused(run("validate", str(path)), path)
    assert expected in out


# -- URLs, header fields and addresses ------------------------------------------------------

HOSTILE_URLS = ["javascript:alert(document.cookie)", "JavaScript:alert(1)",
                "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
                "vbscript:msgbox(1)", "file:///etc/passwd", "//evil.example/x",
                "https://", "http://[::1", "https://example.org/a b",
                "https://example.org/\r\nSet-Cookie: x=1",
                'https://example.org/"><script>alert(1)</script>', "https://example.org/{id}"]


def with_url(where: str, url: str) -> dict[str, Any]:
    data = minimal_series_data()
    if where == "organiser.url":
        data["organiser"]["url"] = url
    elif where == "documents.url":
        data["sessions"][0]["documents"] = [{"id": "agenda", "title": "Agenda", "url": url}]
    elif where == "dispatch.base_url":
        data["dispatch"] = {"base_url": url}
    else:
        data["platform"] = {"name": "static"}
        data["sessions"][0]["join_url"] = url
        data["sessions"][1]["join_url"] = "https://meet.example.org/s2"
    return data


@pytest.mark.parametrize("url", HOSTILE_URLS)
@pytest.mark.parametrize("where", ["organiser.url", "documents.url", "dispatch.base_url",
                                   "join_url"])
def test_urls_must_be_web_addresses(write_series: Writer, where: str, url: str) -> None:
    path = write_series(with_url(where, url))
    with pytest.raises(SeriesError) as caught:
        load_series_with_warnings(path)
    problem = caught.value.errors[0]
    assert problem.path.endswith(where.rsplit(".", 1)[-1])
    assert problem.line is not None
    assert "\r" not in str(caught.value) and "\n  " not in problem.message


def test_a_javascript_url_never_reaches_the_site(write_series: Writer, tmp_path: Path) -> None:
    path = write_series(with_url("organiser.url", "javascript:alert(1)"))
    out = tmp_path / "site"
    result = run("site", str(path), "-o", str(out))
    assert "only http:// and https:// addresses are allowed" in refused(result, path)
    assert not out.exists()


@pytest.mark.parametrize("url", ["https://example.org/s3", "HTTP://EXAMPLE.ORG",
                                 "https://[2001:db8::1]:8443/events", "https://bücher.example/x"])
def test_web_addresses_of_every_ordinary_shape_load(write_series: Writer, url: str) -> None:
    series = load_series(write_series(with_url("organiser.url", url)))
    assert series.organiser.url == url


@pytest.mark.parametrize("url", ["javascript:alert(1)//", 'https://x.example/"><b>',
                                 "https://x.example/\r\nBcc: a@example.net"])
@pytest.mark.parametrize("how", ["option", "environment"])
def test_the_base_url_option_is_a_web_address_too(write_series: Writer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  url: str, how: str) -> None:
    path = write_series(minimal_series_data())
    state, outbox = tmp_path / "state.db", tmp_path / "outbox"
    assert run("provision", str(path), "--state", str(state)).code == 0
    args = ["dispatch", str(path), "--state", str(state), "--transport", f"outbox:{outbox}"]
    if how == "option":
        args += ["--base-url", url]
    else:
        monkeypatch.setenv("S3EVENTS_BASE_URL", url)
    result = run(*args)
    assert result.code == 2 and "Traceback" not in result.stderr
    assert "is not a web address" in result.stderr
    assert (how == "environment") == ("$S3EVENTS_BASE_URL" in result.stderr)
    assert not outbox.exists()


INJECTIONS = ["events@example.org\r\nBcc: everyone@example.net",
              "events@example.org\nBcc: everyone@example.net", "Events\r\nBcc: x@example.net"]


@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize("field", ["dispatch.sender", "organiser.email", "organiser.name",
                                   "title", "sessions.0.title", "sessions.0.label",
                                   "title.es"])
def test_header_fields_refuse_line_breaks(write_series: Writer, field: str, value: str) -> None:
    data = minimal_series_data(dispatch={})
    *parents, last = field.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    path = write_series(data)
    with pytest.raises(SeriesError) as caught:
        load_series_with_warnings(path)
    assert [p.path for p in caught.value.errors] == [field.removesuffix(".es")]
    assert "\r" not in str(caught.value)


def test_a_folded_title_loses_its_final_newline_and_loads(write_series: Writer) -> None:
    text = yaml.safe_dump(minimal_series_data(), sort_keys=False).replace(
        "title:\n  en: Demo series", "title:\n  en: >\n    Demo series", 1)
    assert load_series(write_series(text)).title["en"] == "Demo series"


@pytest.mark.parametrize("sender", ["nobody", "a@b", "Events <events@example.org>",
                                    "events@@example.org", "events@localhost"])
def test_the_sender_must_be_one_valid_address(write_series: Writer, sender: str) -> None:
    path = write_series(minimal_series_data(dispatch={"sender": sender}))
    result = run("validate", str(path))
    out = refused(result, path)
    assert "dispatch.sender:" in out and "is not an email address" in out


def test_an_internationalised_sender_is_a_valid_address(write_series: Writer) -> None:
    data = minimal_series_data(dispatch={"sender": "señales@correo.münchen.de"})
    assert load_series(write_series(data)).dispatch.sender == "señales@correo.münchen.de"


# -- files that cannot be read --------------------------------------------------------------


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "series.yaml"
    path.write_bytes("id: demo\ntitle: Sesión\n".encode("latin-1"))
    out = refused(run("validate", str(path)), path, 2)
    assert "not UTF-8 text" in out and "save the file as UTF-8" in out


def test_a_folder_given_as_the_series_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "series.yaml"
    folder.mkdir()
    result = run("validate", str(folder))
    assert result.code == 2 and "is a directory" in result.stderr
    with pytest.raises(SeriesError, match="is a folder; give the series file"):
        load_series(folder)


def test_a_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        path = tmp_path / "series.yaml"
        path.write_text("id: demo\n", encoding="utf-8")
        path.chmod(0)
    else:  # root reads any file: take one the kernel itself refuses to read
        path = Path("/proc/self/mem")
    out = refused(run("validate", str(path)), path)
    assert "cannot read:" in out


def test_an_endless_or_huge_file_is_refused_after_a_bounded_read(tmp_path: Path) -> None:
    path = tmp_path / "series.yaml"
    with path.open("wb") as stream:
        stream.truncate(MAX_BYTES + 1)
    assert "a series file is a short text file" in refused(run("validate", str(path)), path)
    if Path("/dev/zero").exists():
        zero = Path("/dev/zero")
        assert "larger than" in refused(run("validate", str(zero)), zero)
