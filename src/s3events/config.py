"""Options for platforms and transports: from the series file, overlaid by the environment.

Every option ``X`` of platform or transport ``P`` can come from the environment as
``S3EVENTS_<P>_<X>`` (upper case, ``-`` becomes ``_``): ``S3EVENTS_ZOOM_CLIENT_SECRET``,
``S3EVENTS_GOOGLE_MEET_CALENDAR_ID``. The environment wins over the file. Variables that do
not name an option of the model are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .models import PlatformSettings

__all__ = ["env_options", "env_prefix", "platform_choice", "resolve_options"]

M = TypeVar("M", bound=BaseModel)


def env_prefix(name: str) -> str:
    """``S3EVENTS_GOOGLE_MEET_`` for ``google-meet``."""
    return "S3EVENTS_" + name.upper().replace("-", "_") + "_"


def env_options(
    name: str, model: type[BaseModel], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The options of ``model`` that the environment sets for ``name``."""
    environ = os.environ if environ is None else environ
    prefix = env_prefix(name)
    keys = {}  # VARIABLE SUFFIX → the key the model validates (its alias, if it has one)
    for field, info in model.model_fields.items():
        keys[field.upper().replace("-", "_")] = info.alias or field
        if info.alias:
            keys[info.alias.upper().replace("-", "_")] = info.alias
    return {
        keys[key[len(prefix):]]: value
        for key, value in environ.items()
        if key.startswith(prefix) and key[len(prefix):] in keys
    }


def resolve_options(
    kind: str,
    name: str,
    model: type[M],
    file_options: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> M:
    """Validate the options of platform/transport ``name``; environment over file.

    Raises :class:`ConfigurationError` naming every missing, unknown or invalid option, where
    its value came from, and the environment variable that can supply it. Option values
    never appear in the message (they may be secrets).
    """
    from_env = env_options(name, model, environ)
    merged: dict[str, Any] = dict(file_options or {})
    merged.update(from_env)
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        lines = [_problem(kind, name, model, err, from_env) for err in exc.errors()]
        raise ConfigurationError("\n".join(lines)) from None


def _problem(kind: str, name: str, model: type[BaseModel], err: Any,
             from_env: Mapping[str, str]) -> str:
    field = ".".join(str(p) for p in err["loc"])
    where = f"{kind} '{name}'"
    if not field:
        return f"{where}: {_message(err)}"
    var = env_prefix(name) + field.split(".")[0].upper().replace("-", "_")
    if err["type"] == "missing":
        return f"{where}: option '{field}' is required (set it in the series file or as {var})"
    if err["type"] == "extra_forbidden":
        known = ", ".join(sorted(model.model_fields)) or "none"
        return f"{where}: unknown option '{field}' (options: {known})"
    source = var if field.split(".")[0] in from_env else "the series file"
    return f"{where}: option '{field}' from {source}: {_message(err)}"


def _message(err: Any) -> str:
    message = str(err["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def platform_choice(
    settings: PlatformSettings, override: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The platform name and file options to use: ``--platform`` wins over the series file.

    The file's options apply only to the platform the file names; with another platform
    chosen on the command line, its options come from the environment alone.
    """
    name = override or settings.name
    options = dict(settings.options) if name == settings.name else {}
    return name, options
