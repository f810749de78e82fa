"""The plugin manager: built on demand, from the built-ins and the ``s3events`` entry points.

Nothing is loaded at import time. :func:`get_plugin_manager` builds the manager on first
use; :func:`platforms` and :func:`transports` return the registered adapter classes by name.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import ConfigurationError, PluginError

if TYPE_CHECKING:
    from .platforms.base import PlatformAdapter
    from .transports.base import Transport

__all__ = [
    "BUILTIN_PLUGINS",
    "PluginInfo",
    "get_plugin_manager",
    "platform_class",
    "platforms",
    "plugin_infos",
    "track_event",
    "transport_class",
    "transports",
]

log = logging.getLogger(__name__)

#: Built-in plugin modules, registered through the same hooks as third-party plugins.
BUILTIN_PLUGINS = (
    "s3events.platforms.jitsi",
    "s3events.platforms.static",
    "s3events.transports.smtp",
    "s3events.transports.outbox",
    "s3events.transports.console",
)


@dataclass
class PluginInfo:
    """What ``s3events plugins`` shows about one plugin."""

    name: str
    version: str
    distribution: str | None
    platforms: list[str] = field(default_factory=list)
    transports: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)


def _new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


def build_plugin_manager(*, entry_points: bool = True) -> pluggy.PluginManager:
    """A new plugin manager with the built-ins and (optionally) installed plugins."""
    pm = _new_manager()
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if entry_points:
        _load_entry_points(pm)
    return pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    for ep in metadata.entry_points(group=hookspecs.PROJECT_NAME):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            dist = ep.dist.name if ep.dist else "?"
            raise PluginError(
                f"plugin '{ep.name}' (distribution {dist}, {ep.value}) failed to load: "
                f"{type(exc).__name__}: {exc}. Reinstall or uninstall it.",
                plugin=ep.name,
            ) from exc
        try:
            pm.register(plugin, name=ep.name)
        except ValueError as exc:
            raise PluginError(
                f"plugin '{ep.name}' could not be registered: {exc}", plugin=ep.name
            ) from exc
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin '{ep.name}' is invalid: {exc}", plugin=ep.name) from exc


@functools.lru_cache(maxsize=1)
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager (built on first call)."""
    return build_plugin_manager()


def _collect(pm: pluggy.PluginManager, hook_name: str) -> Iterator[tuple[str, Any]]:
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():
        result = impl.function()
        for cls in result or ():
            yield impl.plugin_name, cls


def _by_name(pm: pluggy.PluginManager, hook_name: str, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for plugin_name, cls in _collect(pm, hook_name):
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(
                f"plugin '{plugin_name}' registers a {kind} class {cls!r} without a name",
                plugin=plugin_name,
            )
        if name in found and found[name] is not cls:
            raise PluginError(
                f"{kind} '{name}' is registered by two plugins: '{owners[name]}' and "
                f"'{plugin_name}'. Uninstall one of them.",
                plugin=plugin_name,
            )
        found[name] = cls
        owners[name] = plugin_name
    return found


def platforms(pm: pluggy.PluginManager | None = None) -> dict[str, type[PlatformAdapter]]:
    """Every registered platform adapter class, by name."""
    return _by_name(pm or get_plugin_manager(), "s3events_register_platforms", "platform")


def transports(pm: pluggy.PluginManager | None = None) -> dict[str, type[Transport]]:
    """Every registered transport class, by name."""
    return _by_name(pm or get_plugin_manager(), "s3events_register_transports", "transport")


def _unknown(kind: str, name: str, known: Iterable[str]) -> ConfigurationError:
    hint = {
        "zoom": "s3events-zoom", "webex": "s3events-webex", "msteams": "s3events-msteams",
        "google-meet": "s3events-google-meet", "bigbluebutton": "s3events-bigbluebutton",
        "slack": "s3events-slack", "telegram": "s3events-telegram",
        "whatsapp": "s3events-whatsapp", "matrix": "s3events-matrix",
        "apprise": "s3events-apprise",
    }.get(name)
    install = f" Install it with: pip install {hint}." if hint else ""
    return ConfigurationError(
        f"unknown {kind} '{name}'; installed: {', '.join(sorted(known)) or 'none'}.{install}"
    )


def platform_class(name: str, pm: pluggy.PluginManager | None = None) -> type[PlatformAdapter]:
    """The adapter class registered as ``name``; :class:`ConfigurationError` if none."""
    found = platforms(pm)
    if name not in found:
        raise _unknown("platform", name, found)
    return found[name]


def transport_class(name: str, pm: pluggy.PluginManager | None = None) -> type[Transport]:
    """The transport class registered as ``name``; :class:`ConfigurationError` if none."""
    found = transports(pm)
    if name not in found:
        raise _unknown("transport", name, found)
    return found[name]


def plugin_infos(pm: pluggy.PluginManager | None = None) -> list[PluginInfo]:
    """Name, version, platforms and transports of every registered plugin."""
    pm = pm or get_plugin_manager()
    dists = {
        plugin: dist for plugin, dist in pm.list_plugin_distinfo()
    }
    infos: dict[str, PluginInfo] = {}
    for name, plugin in pm.list_name_plugin():
        dist = dists.get(plugin)
        infos[name] = PluginInfo(
            name=name,
            version=dist.version if dist is not None else _builtin_version(),
            distribution=dist.project_name if dist is not None else None,
            hooks=sorted(h.name for h in pm.get_hookcallers(plugin) or ()),
        )
    for plugin_name, cls in _collect(pm, "s3events_register_platforms"):
        infos[plugin_name].platforms.append(cls.name)
    for plugin_name, cls in _collect(pm, "s3events_register_transports"):
        infos[plugin_name].transports.append(cls.name)
    return list(infos.values())


def _builtin_version() -> str:
    from . import __version__

    return __version__


def track_event(name: str, **properties: Any) -> None:
    """Tell observing plugins that something happened; their errors are only logged."""
    pm = get_plugin_manager()
    try:
        pm.hook.s3events_track_event(name=name, properties=properties)
    except Exception:  # a broken observer must not stop provisioning or dispatch
        log.exception("a plugin failed while observing event %s", name)
