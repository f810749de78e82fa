"""The plugin interface of s3events: every hook, typed and documented, in one place.

Plugins are modules or objects with functions marked ``@hookimpl`` and named like the hooks
below. They are found through the ``s3events`` entry-point group::

    # pyproject.toml of a plugin distribution
    [project.entry-points.s3events]
    zoom = "s3events_zoom"

The built-in platforms (``jitsi``, ``static``) and transports (``smtp``, ``outbox``,
``console``) register through these same hooks.

Hooks register *adapter classes*; the adapters do the I/O. A hook never creates a meeting
or sends a message itself: s3events picks one adapter by name and calls its methods.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    import jinja2

    from .platforms.base import PlatformAdapter
    from .transports.base import Transport

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "s3events"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Decorator for hook implementations in plugins: ``@s3events.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# Hook specifications have no body: mypy's empty-body check does not apply to them.


@hookspec
def s3events_register_platforms() -> Iterable[type[PlatformAdapter]]:  # type: ignore[empty-body]
    """Return the video-platform adapter classes this plugin provides.

    Each class has a unique ``name`` (the string used in series files and ``--platform``),
    an ``options_model`` describing its options, and implements ``create_meeting``,
    ``update_meeting``, ``delete_meeting`` and ``get_meeting``. An adapter may also offer
    attendance: it sets ``supports_attendance = True`` and implements ``get_attendance``
    (who attended an ended meeting, as ``AttendanceRecord`` objects); the testing kit's
    ``PlatformContract`` then checks it. Called once when the plugin
    manager is built; results of all plugins are collected. Two classes with the same
    ``name`` are an error that names both plugins.
    """


@hookspec
def s3events_register_transports() -> Iterable[type[Transport]]:  # type: ignore[empty-body]
    """Return the message transport classes this plugin provides.

    Each class has a unique ``name`` (``smtp``, ``slack`` …), the ``channel`` it serves
    (``email``, ``slack`` …), an ``options_model``, and implements ``send``. Collected from
    all plugins, like :func:`s3events_register_platforms`.
    """


@hookspec
def s3events_register_commands(cli: click.Group) -> None:
    """Add click commands to the ``s3events`` command line.

    Called with the root group when a command that is not built in is looked up, or when
    ``s3events --help`` lists commands. Add commands with ``cli.add_command``.
    """


@hookspec
def s3events_prepare_jinja2_environment(env: jinja2.Environment) -> None:
    """Adjust a Jinja2 environment s3events renders with.

    s3events builds one environment per kind of template — ``messages``, ``site`` (the
    event page and the web app's pages) and ``agenda`` — and language, and calls this hook
    once for each, after setting its own filters, loader and gettext catalog. Add filters
    or globals here (they apply to packaged and overriding templates alike); do not
    replace the loader or the installed translations.
    """


@hookspec
def s3events_register_translations(  # type: ignore[empty-body]
) -> Iterable[str | os.PathLike[str]]:
    """Return folders of gettext catalogs of s3events' phrases this plugin provides.

    Each folder holds ``LANG.po`` files or ``LANG/LC_MESSAGES/s3events.po`` (or ``.mo``),
    translations of the ``s3events`` domain (start one with ``s3events translations
    init``). A series may then declare those languages. Catalogs of a series'
    ``translations`` folder come first, then plugins', then the built-in ones; a message
    missing from one is looked up in the next. Results of all plugins are collected.
    """


@hookspec
def s3events_extra_template_vars(
    template: str, context: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """Return extra variables for rendering ``template`` (e.g. ``"link.txt"``).

    ``context`` is the context s3events built (series, session, registration fields,
    language, zone). Results of all plugins are merged in registration order; a plugin
    cannot override s3events' own variables.
    """


@hookspec
def s3events_track_event(name: str, properties: Mapping[str, Any]) -> None:
    """Observe something that happened: ``meeting.created``, ``message.sent`` and so on.

    ``properties`` never holds personal data or secrets: ids, counts, platform and kind
    only. Exceptions raised here are logged and otherwise ignored.
    """
