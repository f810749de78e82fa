"""Options for platforms and transports: from the series file, overlaid by the environment.

Every option ``X`` of platform or transport ``P`` can come from the environment as
``S3EVENTS_<P>_<X>`` (upper case, ``-`` becomes ``_``): ``S3EVENTS_ZOOM_CLIENT_SECRET``,
``S3EVENTS_GOOGLE_MEET_CALENDAR_ID``. The environment wins over the file. Variables that do
not name an option of the model are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import ConfigurationError

__all__ = ["env_options", "env_prefix", "resolve_options"]

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
    fields = {
        field.upper().replace("-", "_"): field for field in model.model_fields
    }
    for field, info in model.model_fields.items():
        if info.alias:
            fields[info.alias.upper().replace("-", "_")] = field
    found = {}
    for key, value in environ.items():
        if key.startswith(prefix) and key[len(prefix):] in fields:
            found[fields[key[len(prefix):]]] = value
    return found


def resolve_options(
    kind: str,
    name: str,
    model: type[M],
    file_options: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> M:
    """Validate the options of platform/transport ``name``; environment over file.

    Raises :class:`ConfigurationError` naming every missing or invalid option and the
    environment variable that can supply it. Secret values never appear in the message.
    """
    merged: dict[str, Any] = dict(file_options or {})
    merged.update(env_options(name, model, environ))
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(options)"
            var = env_prefix(name) + field.upper().replace("-", "_")
            what = "is required" if err["type"] == "missing" else err["msg"].lower()
            lines.append(f"{kind} '{name}': option '{field}' {what} (set it in the series "
                         f"file or as {var})")
        raise ConfigurationError("\n".join(lines)) from None
