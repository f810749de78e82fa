"""The plugin manager: built on demand, from the built-ins and the ``s3events`` entry points.

Nothing is loaded at import time. :func:`get_plugin_manager` builds the manager on first
use; :func:`platforms` and :func:`transports` return the registered adapter classes by name;
:func:`plugin_infos` says which plugin (and distribution, and version) provides what.

Every failure a plugin can cause is a :class:`~s3events.errors.PluginError` whose message
names the plugin (and its distribution): an entry point that fails to import, two
distributions claiming one plugin name, a hook that raises, a class that is not an adapter,
or two plugins registering the same platform or transport name.

``S3EVENTS_DISABLE_PLUGINS`` (plugin names separated by commas or spaces) keeps installed
plugins from loading, for example to work around a broken one until it is fixed.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
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
    "DISABLE_VARIABLE",
    "PluginInfo",
    "PluginManager",
    "build_plugin_manager",
    "get_plugin_manager",
    "platform_class",
    "platforms",
    "plugin_infos",
    "reset_plugin_manager",
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

#: Platform and transport names: what goes in series files and environment variable names.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

#: Where to install the plugins s3events knows of, for "unknown platform" messages.
KNOWN_DISTRIBUTIONS = {
    "zoom": "s3events-zoom", "webex": "s3events-webex", "msteams": "s3events-msteams",
    "google-meet": "s3events-google-meet", "bigbluebutton": "s3events-bigbluebutton",
    "slack": "s3events-slack", "telegram": "s3events-telegram",
    "whatsapp": "s3events-whatsapp", "matrix": "s3events-matrix",
    "apprise": "s3events-apprise",
}


@dataclass
class PluginInfo:
    """What ``s3events plugins`` shows about one plugin."""

    name: str
    version: str
    distribution: str | None
    builtin: bool = False
    platforms: list[str] = field(default_factory=list)
    transports: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the shape of ``s3events plugins --json``)."""
        return asdict(self)


class PluginManager(pluggy.PluginManager):
    """A pluggy manager that also remembers which distribution each plugin came from."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        #: plugin name → the installed distribution that provides it (built-ins: absent).
        self.distributions: dict[str, metadata.Distribution] = {}


DISABLE_VARIABLE = "S3EVENTS_DISABLE_PLUGINS"


def build_plugin_manager(*, entry_points: bool = True,
                         environ: Mapping[str, str] | None = None) -> PluginManager:
    """A new plugin manager with the built-ins and (optionally) installed plugins.

    Installed plugins named in ``S3EVENTS_DISABLE_PLUGINS`` are blocked, not loaded.
    """
    pm = PluginManager()
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    environ = os.environ if environ is None else environ
    for name in re.split(r"[\s,]+", environ.get(DISABLE_VARIABLE, "").strip()):
        if name:
            pm.set_blocked(name)
    if entry_points:
        _load_entry_points(pm)
    _check_hook_names(pm)
    return pm


def _check_hook_names(pm: PluginManager) -> None:
    """A hook implementation whose name matches no hook is a typo: name it and its plugin."""
    known = sorted(name for name in vars(hookspecs) if name.startswith("s3events_"))
    for name, caller in vars(pm.hook).items():
        if name.startswith("_") or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if not impl.optionalhook:
                dist = pm.distributions.get(impl.plugin_name)
                where = f" (distribution {dist.name})" if dist is not None else ""
                raise PluginError(
                    f"plugin '{impl.plugin_name}'{where} implements '{name}', which is not an "
                    f"s3events hook; the hooks are: {', '.join(known)}",
                    plugin=impl.plugin_name)


def _dist_name(ep: metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "unknown distribution"


def _unique_entry_points() -> list[metadata.EntryPoint]:
    """The ``s3events`` entry points; one name claimed by two distributions is an error."""
    chosen: dict[str, metadata.EntryPoint] = {}
    for ep in metadata.entry_points(group=hookspecs.PROJECT_NAME):
        seen = chosen.get(ep.name)
        if seen is None:
            chosen[ep.name] = ep
        elif _dist_name(seen) != _dist_name(ep) or seen.value != ep.value:
            raise PluginError(
                f"plugin '{ep.name}' is provided by two distributions: {_dist_name(seen)} "
                f"({seen.value}) and {_dist_name(ep)} ({ep.value}). Uninstall one of them.",
                plugin=ep.name,
            )
    return list(chosen.values())


def _load_entry_points(pm: PluginManager) -> None:
    for ep in _unique_entry_points():
        if pm.is_blocked(ep.name):
            continue
        plugin = _load(ep)
        _register(pm, plugin, ep)
        if ep.dist is not None:
            pm.distributions[ep.name] = ep.dist


def _load(ep: metadata.EntryPoint) -> Any:
    try:
        return ep.load()
    except Exception as exc:
        raise PluginError(
            f"plugin '{ep.name}' (distribution {_dist_name(ep)}, {ep.value}) failed to load: "
            f"{type(exc).__name__}: {exc}. Reinstall it, uninstall it with "
            f"`pip uninstall {_dist_name(ep)}`, or skip it with "
            f"{DISABLE_VARIABLE}={ep.name}.",
            plugin=ep.name,
        ) from exc


def _register(pm: PluginManager, plugin: Any, ep: metadata.EntryPoint) -> None:
    where = f"plugin '{ep.name}' (distribution {_dist_name(ep)}, {ep.value})"
    if pm.get_plugin(ep.name) is not None:
        raise PluginError(f"{where} uses a name that is already registered; rename its "
                          "entry point.", plugin=ep.name)
    if pm.is_registered(plugin):
        other = pm.get_name(plugin)
        raise PluginError(f"{where} is the same module as plugin '{other}'; keep one entry "
                          "point for it.", plugin=ep.name)
    try:
        pm.register(plugin, name=ep.name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise PluginError(f"{where} is invalid: {exc}", plugin=ep.name) from exc


@functools.lru_cache(maxsize=1)
def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager (built on first call)."""
    return build_plugin_manager()


def reset_plugin_manager() -> None:
    """Forget the process-wide manager, so the next use loads plugins again."""
    get_plugin_manager.cache_clear()


def _collect(pm: pluggy.PluginManager, hook_name: str) -> Iterator[tuple[str, Any]]:
    """(plugin name, class) for every class a plugin returns from ``hook_name``."""
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():
        try:
            result = impl.function()
        except Exception as exc:
            raise PluginError(
                f"plugin '{impl.plugin_name}' failed in {hook_name}: "
                f"{type(exc).__name__}: {exc}", plugin=impl.plugin_name,
            ) from exc
        for cls in result or ():
            yield impl.plugin_name, cls


def _base_class(kind: str) -> type[Any]:
    if kind == "platform":
        from .platforms.base import PlatformAdapter

        return PlatformAdapter
    from .transports.base import Transport

    return Transport


def _check_class(plugin_name: str, cls: Any, kind: str) -> str:
    base = _base_class(kind)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise PluginError(
            f"plugin '{plugin_name}' registers {cls!r} as a {kind}, but it is not a "
            f"subclass of {base.__module__}.{base.__name__}", plugin=plugin_name)
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise PluginError(
            f"plugin '{plugin_name}' registers the {kind} class {cls.__name__} with name "
            f"{name!r}; a name is lower-case letters, digits and '-'", plugin=plugin_name)
    return name


def _by_name(pm: pluggy.PluginManager, hook_name: str, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for plugin_name, cls in _collect(pm, hook_name):
        name = _check_class(plugin_name, cls, kind)
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
    hint = KNOWN_DISTRIBUTIONS.get(name)
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


def _distributions(pm: pluggy.PluginManager) -> Mapping[str, metadata.Distribution]:
    if isinstance(pm, PluginManager):
        return pm.distributions
    return {}


def plugin_infos(pm: pluggy.PluginManager | None = None) -> list[PluginInfo]:
    """Name, version, distribution, platforms and transports of every registered plugin.

    Built-in plugins are listed with the ``s3events`` distribution and version. Raises
    :class:`PluginError` (naming the plugin) when two plugins claim one platform or
    transport name.
    """
    pm = pm or get_plugin_manager()
    platforms(pm)  # duplicate names are an error here as everywhere
    transports(pm)
    infos = {name: _info(pm, name, plugin) for name, plugin in pm.list_name_plugin()}
    for plugin_name, cls in _collect(pm, "s3events_register_platforms"):
        infos[plugin_name].platforms.append(cls.name)
    for plugin_name, cls in _collect(pm, "s3events_register_transports"):
        infos[plugin_name].transports.append(cls.name)
    return sorted(infos.values(), key=lambda info: (not info.builtin, info.name))


def _info(pm: pluggy.PluginManager, name: str, plugin: Any) -> PluginInfo:
    dist = _distributions(pm).get(name)
    hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or ())
    if dist is None:
        return PluginInfo(name=name, version=_builtin_version(),
                          distribution="s3events" if name in BUILTIN_PLUGINS else None,
                          builtin=name in BUILTIN_PLUGINS, hooks=hooks)
    return PluginInfo(name=name, version=dist.version, distribution=dist.name, hooks=hooks)


def _builtin_version() -> str:
    from . import __version__

    return __version__


def track_event(name: str, **properties: Any) -> None:
    """Tell observing plugins that something happened; their errors are only logged.

    ``properties`` must hold no personal data and no secrets: ids, counts, platform, kind.
    """
    try:
        pm = get_plugin_manager()
        pm.hook.s3events_track_event(name=name, properties=properties)
    except Exception:  # a broken observer must not stop provisioning or dispatch
        log.exception("a plugin failed while observing event %s", name)
