"""A series file's text is bounded once YAML aliases are expanded, not only its values.

One long string anchored once and aliased many times is a small number of values but a
huge document: it is refused with exit 2, its file and line, before any output is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from s3events.errors import SeriesError
from s3events.loading import load_series
from s3events.parsing import MAX_BYTES, MAX_TEXT
from tests.fixtures.series import minimal_series_data
from tests.test_cli_core import run
from tests.test_series_hostile import refused

Writer = Callable[..., Path]


def aliased(length: int, copies: int) -> str:
    """A valid series whose first session's topics are one text of ``length`` characters,
    anchored once and aliased ``copies`` times."""
    data = minimal_series_data()
    data["sessions"][0]["topics"] = "PLACEHOLDER"
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    topics = f'[&t {{en: "{"x" * length}"}}' + ", *t" * copies + "]"
    return text.replace("PLACEHOLDER", topics)


def topic_line(text: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if "&t" in line)


@pytest.mark.parametrize("command", [["validate"], ["agenda"], ["times"], ["calendar"]])
def test_one_long_text_aliased_many_times_is_refused_before_any_output(
        write_series: Writer, tmp_path: Path, command: list[str]) -> None:
    text = aliased(200_000, 100)  # 20 million characters from a 200 kB file
    path = write_series(text)
    output = tmp_path / "out"
    writes = command[0] in {"agenda", "calendar"}
    result = run(*command, str(path), *(["-o", str(output)] if writes else []))
    out = refused(result, path, topic_line(text))
    assert f"more than {MAX_TEXT // (1024 * 1024)} MB of text" in out
    assert "aliases are expanded" in out
    assert "x" * 100 not in result.stdout
    assert not output.exists()


def test_aliases_of_a_mapping_that_holds_long_texts_count_every_character(
        write_series: Writer) -> None:
    head = minimal_series_data()
    text = yaml.safe_dump(head, sort_keys=False) + "platform:\n  options:\n"
    text += f'    a: &a {{one: "{"z" * 300_000}", two: "{"w" * 300_000}"}}\n'
    text += "    b: &b [" + ", ".join(["*a"] * 5) + "]\n"
    text += "    c: [" + ", ".join(["*b"] * 4) + "]\n"  # 20 × 600 000 characters
    path = write_series(text)
    with pytest.raises(SeriesError) as caught:
        load_series(path)
    problem = caught.value.problems[0]
    assert problem.line == len(text.splitlines())
    assert "MB of text once its aliases are expanded" in problem.message


def test_long_texts_aliased_within_the_budget_still_load(write_series: Writer) -> None:
    copies = MAX_TEXT // 1_000_000 - 2  # just under the budget with the rest of the file
    series = load_series(write_series(aliased(1_000_000, copies)))
    topics = series.sessions[0].topics
    assert len(topics) == copies + 1
    assert all(len(str(topic.get("en"))) == 1_000_000 for topic in topics)


def test_a_file_at_the_size_limit_without_aliases_is_within_the_text_budget(
        write_series: Writer) -> None:
    # Without aliases a file cannot hold more text than its own size.
    assert MAX_TEXT >= MAX_BYTES
    long_title = "t" * (MAX_BYTES - 20_000)
    data = minimal_series_data()
    data["platform"] = {"options": {"note": long_title}}
    path = write_series(data)
    assert load_series(path).platform.options["note"] == long_title


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_json_and_toml_cannot_expand_past_their_file_size(tmp_path: Path, suffix: str) -> None:
    # Their escapes only ever shorten the text, so MAX_BYTES bounds their text too.
    data = minimal_series_data()
    data["platform"] = {"options": {"note": "\\u0041" * 10}}
    path = tmp_path / f"series{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(data).replace("\\\\u0041", "\\u0041"), encoding="utf-8")
    else:
        path.write_text(
            'id = "demo"\ntimezone = "Europe/Brussels"\n'
            'title = "Demo"\n[organiser]\nname = "D"\nemail = "o@example.org"\n'
            '[platform.options]\nnote = "' + "\\u0041" * 10 + '"\n'
            '[[sessions]]\nid = "s1"\ntitle = "One"\n'
            'start = "2021-10-28T17:00:00"\nend = "2021-10-28T19:00:00"\n',
            encoding="utf-8")
    note = load_series(path).platform.options["note"]
    assert note == "A" * 10
    assert len(note) < path.stat().st_size
