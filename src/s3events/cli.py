"""The ``s3events`` command line: a thin layer over the Python API.

Commands are loaded lazily (``--help`` imports none of them). Errors are printed as one
clear message: exit status 2 for bad input (series file, registrations file, option
values, configuration), 1 for every other failure; never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import click

from . import __version__

__all__ = ["COMMANDS", "LazyGroup", "cli", "main", "now_option", "parse_now", "series_argument",
           "state_option"]

#: Command name → "module:attribute". Plugins add more through s3events_register_commands.
COMMANDS: dict[str, str] = {
    "agenda": "s3events.commands.core:agenda",
    "attendance": "s3events.commands.attendance:attendance",
    "calendar": "s3events.commands.core:calendar",
    "certificates": "s3events.commands.certificates:certificates",
    "dispatch": "s3events.commands.dispatch:dispatch",
    "meetings": "s3events.commands.provision:meetings",
    "plan": "s3events.commands.provision:plan",
    "plugins": "s3events.commands.provision:plugins",
    "preview": "s3events.commands.dispatch:preview",
    "provision": "s3events.commands.provision:provision",
    "registrations": "s3events.commands.registrations:registrations",
    "retry": "s3events.commands.retry:retry",
    "schema": "s3events.commands.core:schema",
    "serve": "s3events.commands.web:serve",
    "site": "s3events.commands.web:site",
    "status": "s3events.commands.dispatch:status",
    "times": "s3events.commands.core:times",
    "translations": "s3events.commands.translations:translations",
    "validate": "s3events.commands.core:validate",
}

#: One-line help per command, so ``--help`` needs no command module.
SHORT_HELP: dict[str, str] = {
    "agenda": "Write the full agenda of a series as Markdown or HTML.",
    "attendance": "Fetch, import and report who attended each session.",
    "calendar": "Write the series as an iCalendar feed (.ics).",
    "certificates": "Write certificates of attendance (PDF) and check their codes.",
    "dispatch": "Send every message that is due (safe to run from cron).",
    "meetings": "List each session's meeting and join link.",
    "plan": "Show what provisioning would change, without changing anything.",
    "plugins": "List installed plugins, platforms and transports.",
    "preview": "Render one message without sending it.",
    "provision": "Create, update or delete the sessions' meetings.",
    "registrations": "Import, list, cancel, export and erase registrations.",
    "retry": "Put failed messages back to pending for the next dispatch.",
    "schema": "Print the JSON Schema of series files.",
    "serve": "Serve the event page with online registration.",
    "site": "Build the static event page of a series.",
    "status": "Count messages per session, kind and state.",
    "times": "Show each session's time in several time zones.",
    "translations": "Start, check and update catalogs of s3events' phrases.",
    "validate": "Check a series file and report every problem.",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported only when run or asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        # Built-in commands only: listing plugin commands would import every plugin, and
        # --help must stay fast. `s3events plugins` lists what plugins add.
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None:
            return found
        target = COMMANDS.get(cmd_name)
        if target is None:
            return _plugin_commands().get(cmd_name)
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _plugin_commands() -> dict[str, click.Command]:
    """Commands added by plugins (loads plugins only when the command is not built in)."""
    from .plugins import get_plugin_manager

    group = click.Group()
    try:
        get_plugin_manager().hook.s3events_register_commands(cli=group)
    except Exception as exc:  # reported by `s3events plugins`; never break --help
        click.echo(f"warning: plugin commands unavailable: {exc}", err=True)
    return dict(group.commands)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="s3events")
def cli() -> None:
    """Run online seminar series: meetings on any platform, registrations, and each
    participant's join link, in their language and time zone, sent exactly once.

    Start with `s3events validate SERIES` and `s3events times SERIES --tz ZONE`.
    Installed plugins may add commands; `s3events plugins` lists them.
    """


def parse_now(value: str | None) -> datetime:
    """``--now`` as an aware UTC datetime; naive values are read as UTC."""
    if not value:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not an ISO 8601 time such as 2021-10-27T07:00:00Z",
            param_hint="--now") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def now_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--now ISO-8601``: the clock for clock-dependent commands (replay past series)."""
    return click.option(
        "--now", "now", metavar="ISO-8601", default=None,
        help="Act as if it were this time (default: the real clock). Naive times are UTC.",
    )(func)


def state_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--state PATH|URL``: the state database."""
    return click.option(
        "--state", "state", metavar="PATH|URL", default=None, envvar="S3EVENTS_STATE",
        help="State database: a SQLite path or postgresql:// URL "
             "(default: $S3EVENTS_STATE, else .s3events/state.db).",
    )(func)


def series_argument(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``SERIES`` argument: a series file (YAML, JSON or TOML)."""
    return click.argument("series_path", metavar="SERIES",
                          type=click.Path(dir_okay=False, path_type=str))(func)


def web_address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback: an option that must be an absolute http(s) address, if given.

    Links in messages and pages start with it, so ``javascript:…``, a quote or a line break
    is refused here, as in the series file (:func:`s3events.values.check_web_address`).
    """
    from .values import check_web_address

    if value is None or value == "":
        return None
    try:
        return check_web_address(value)
    except ValueError as exc:
        source = param.envvar if ctx.get_parameter_source(param.name or "") \
            == click.core.ParameterSource.ENVIRONMENT else None
        raise click.BadParameter(f"{exc}" + (f" (from ${source})" if source else "")) from None


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``s3events`` console script."""
    from .errors import InputError, S3EventsError
    from .terminal import clean

    try:
        code = cli.main(args=argv, prog_name="s3events", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except InputError as exc:  # messages may quote what people typed: no control characters
        click.echo(f"error: {clean(exc, keep_newlines=True)}", err=True)
        sys.exit(2)
    except S3EventsError as exc:
        click.echo(f"error: {clean(exc, keep_newlines=True)}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except OSError as exc:
        where = clean(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        click.echo(f"error: {where}", err=True)
        sys.exit(1)
    # with standalone_mode=False, ctx.exit(n) comes back as the return value
    sys.exit(code if isinstance(code, int) else 0)
