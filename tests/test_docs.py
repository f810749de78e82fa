"""The documentation site: built strictly, and complete.

Fails when a CLI command or option, a hook, a platform or a transport has no place in the
built site (datasette's test_docs.py does the same for its plugin hooks).
"""

from __future__ import annotations

import html
import importlib.util
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from s3events import hookspecs
from s3events.cli import cli
from s3events.plugins import build_plugin_manager, platforms, transports

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_PLATFORMS = ["jitsi", "static", "zoom", "webex", "msteams", "google-meet",
                    "bigbluebutton"]
PUBLIC_TRANSPORTS = ["smtp", "outbox", "console", "slack", "telegram", "whatsapp", "matrix",
                     "apprise"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[dev]')")
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "--quiet",
         "-d", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr}"
    return out


def page_text(site: Path, page: str) -> str:
    path = site / page / "index.html"
    assert path.exists(), f"the site has no page {page}/"
    text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
    return html.unescape(text)


def all_commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(cli, info_name="s3events")
    found: list[tuple[str, click.Command]] = []

    def walk(group: click.Group, prefix: str, parent: click.Context) -> None:
        for name in group.list_commands(parent):
            command = group.get_command(parent, name)
            assert command is not None
            found.append((f"{prefix} {name}", command))
            if isinstance(command, click.Group):
                walk(command, f"{prefix} {name}", click.Context(command, parent=parent))

    walk(cli, "s3events", ctx)
    return found


def test_every_cli_command_and_option_is_in_the_reference(site: Path) -> None:
    text = page_text(site, "cli")
    for path, command in all_commands():
        assert path in text, f"`{path}` is missing from the CLI reference"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                longest = max(param.opts, key=len)
                assert longest in text, f"`{path} {longest}` is missing from the CLI reference"


def hook_names() -> list[str]:
    return [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
            if name.startswith("s3events_")]


def test_every_hook_has_a_docstring() -> None:
    for name in hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 40, f"hook {name} has no real docstring"


def test_every_hook_is_in_the_hook_reference_and_the_plugin_guide(site: Path) -> None:
    reference = page_text(site, "hooks")
    guide = (ROOT / "docs" / "writing-plugins.md").read_text(encoding="utf-8")
    for name in hook_names():
        assert name in reference, f"hook {name} is missing from the hook reference"
        assert name in guide, f"hook {name} is not explained in docs/writing-plugins.md"


@pytest.mark.parametrize("name", PUBLIC_PLATFORMS)
def test_every_platform_has_a_setup_guide(site: Path, name: str) -> None:
    text = page_text(site, f"platforms/{name}")
    assert name in text
    assert name in page_text(site, "platforms")


@pytest.mark.parametrize("name", PUBLIC_TRANSPORTS)
def test_every_transport_has_a_setup_guide(site: Path, name: str) -> None:
    text = page_text(site, f"transports/{name}")
    assert name.lower() in text.lower()
    assert name in page_text(site, "transports")


def test_installed_platforms_and_transports_are_all_documented(site: Path) -> None:
    pm = build_plugin_manager()
    for name in platforms(pm):
        if name in {"fake"}:
            continue
        page_text(site, f"platforms/{name}")
    for name in transports(pm):
        if name in {"memory"}:
            continue
        page_text(site, f"transports/{name}")


def test_series_file_reference_lists_every_field(site: Path) -> None:
    from s3events.models import Series

    text = page_text(site, "series-file")
    for name, info in Series.model_fields.items():
        field = info.alias or name  # the key written in the file ("import" for import_)
        assert field in text, f"series field {field} is missing from the series-file reference"


@pytest.mark.parametrize(
    "page",
    ["getting-started", "concepts", "api", "delivery", "time-zones", "privacy",
     "writing-plugins", "testing-kit"],
)
def test_guide_pages_exist(site: Path, page: str) -> None:
    assert len(page_text(site, page)) > 500


def test_concepts_page_has_the_timeline_picture(site: Path) -> None:
    source = (site / "concepts" / "index.html").read_text(encoding="utf-8")
    assert "timeline.svg" in source
    assert (site / "img" / "timeline.svg").exists()


# -- the committed reference pages ----------------------------------------------------------


def gen_docs() -> Any:
    """tools/gen_docs.py, which writes docs/cli.md and docs/series-file.md."""
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "tools" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFRESH = "run `python tools/gen_docs.py` (or `make docs-ref`) and commit the pages"


def test_the_generated_reference_pages_are_committed_fresh() -> None:
    stale = gen_docs().stale_pages()
    assert not stale, f"{', '.join(stale)} differ from the code: {REFRESH}"


def test_the_committed_pages_read_in_full_without_a_build() -> None:
    from s3events.models import Series

    cli_page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for path, _ in all_commands():
        assert f"## `{path}`" in cli_page or f"# `{path}`" in cli_page, f"{path}: {REFRESH}"
    assert "<code>--version</code>" in cli_page
    series_page = (ROOT / "docs" / "series-file.md").read_text(encoding="utf-8")
    for name, info in Series.model_fields.items():
        field = info.alias or name  # the key written in the file ("import" for import_)
        assert f"| `{field}` |" in series_page, f"series field {field}: {REFRESH}"


def test_a_command_added_without_regenerating_makes_the_page_stale(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from s3events import cli as cli_module

    monkeypatch.setitem(cli_module.COMMANDS, "zz-new", "s3events.commands.core:schema")
    assert gen_docs().stale_pages() == ["docs/cli.md"]
