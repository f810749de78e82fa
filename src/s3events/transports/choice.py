"""Choosing a channel's transport, and how fast the dispatcher may send on it.

The email channel uses ``--transport SPEC`` (``smtp://…``, ``outbox:PATH``, ``console``,
``NAME:option=value&…`` for any transport), else the series' ``dispatch.transport``, else
``outbox`` (``./outbox``); every other channel uses the transport of its name. Options come
from ``dispatch.transports.NAME``, overlaid by ``S3EVENTS_<NAME>_<OPTION>``, then by the
spec's own options (:meth:`~s3events.transports.base.Transport.url_options`).

Two keys of ``dispatch.transports.NAME`` are the dispatcher's, not the transport's:
``concurrency`` and ``rate_limit`` (:func:`channel_settings`). A transport whose options
include ``rate_limit`` itself (``smtp``) receives it as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..models import Series
from .base import Transport

__all__ = [
    "CHANNEL_SETTINGS",
    "ChannelSettings",
    "channel_settings",
    "channel_transport",
    "email_transport",
    "outbox_folder",
    "transport_options",
]

#: Keys of ``dispatch.transports.NAME`` that set how the dispatcher sends on the channel.
CHANNEL_SETTINGS = ("concurrency", "rate_limit")


def transport_options(series: Series, name: str, cls: type[Transport]) -> dict[str, Any]:
    """The file options of transport ``name``, without the dispatcher's own settings."""
    options = dict(series.dispatch.transports.get(name, {}))
    options.pop("concurrency", None)
    if "rate_limit" not in cls.options_model.model_fields:
        options.pop("rate_limit", None)
    return options


def _transport_class(name: str) -> type[Transport]:
    from ..plugins import transport_class

    return transport_class(name)


def email_transport(series: Series, spec: str | None = None, *,
                    environ: Mapping[str, str] | None = None) -> Transport:
    """The transport for the email channel: ``spec``, else the series', else ``outbox``."""
    from_file = spec is None and series.dispatch.transport is not None
    spec = spec or series.dispatch.transport or "outbox"
    name = spec.split(":", 1)[0].lower()
    name = "smtp" if name == "smtps" else name
    cls = _transport_class(name)
    if cls.channel != "email":
        raise ConfigurationError(f"transport '{name}' does not send email; use smtp://…, "
                                 "outbox:PATH or console")
    options = transport_options(series, name, cls)
    options.update(cls.url_options(spec))
    if from_file and name == "outbox" and series.source is not None:
        folder = Path(str(options.get("path", "outbox")))
        options["path"] = str(series.source.parent / folder)
    return cls.from_options(options, environ=environ)


def outbox_folder(series: Series, spec: str | None = None, *,
                  environ: Mapping[str, str] | None = None) -> Path | None:
    """The folder the email channel writes ``.eml`` files to, when its transport (``spec``,
    else the series', else ``outbox``) is ``outbox``; ``None`` for any other transport.

    The same folder :func:`email_transport` gives the transport (``S3EVENTS_OUTBOX_PATH``
    from ``environ`` included)."""
    name = (spec or series.dispatch.transport or "outbox").split(":", 1)[0].lower()
    if name != "outbox":
        return None
    from .outbox import OutboxTransport

    transport = email_transport(series, spec, environ=environ)
    assert isinstance(transport, OutboxTransport)
    return transport.folder


def channel_transport(series: Series, channel: str, *, email: str | None = None,
                      environ: Mapping[str, str] | None = None) -> Transport:
    """The transport for ``channel`` (``email`` or a messaging transport's name)."""
    if channel == "email":
        return email_transport(series, email, environ=environ)
    cls = _transport_class(channel)
    return cls.from_options(transport_options(series, channel, cls), environ=environ)


@dataclass(frozen=True)
class ChannelSettings:
    """How the dispatcher sends on one channel.

    ``concurrency`` messages at most in flight at once; at most ``rate_limit`` messages per
    second over the whole channel (``None``: no limit).
    """

    concurrency: int
    rate_limit: float | None


def channel_settings(series: Series, transport: Transport, *,
                     concurrency: int | None = None) -> ChannelSettings:
    """The settings for the channel ``transport`` serves.

    Concurrency: ``concurrency`` (``--concurrency``), else
    ``dispatch.transports.NAME.concurrency``, else ``dispatch.concurrency``, else the
    transport's default; never above the transport's ``max_concurrency``. Rate: the
    transport's ``rate_limit`` setting, else the series' ``rate_limit``; never above the
    transport's own ceiling (``smtp://…?rate=N``).
    """
    own = series.dispatch.transports.get(transport.name, {})
    chosen = (concurrency or own.get("concurrency") or series.dispatch.concurrency
              or type(transport).concurrency)
    ceiling = type(transport).max_concurrency
    if ceiling is not None:
        chosen = min(chosen, ceiling)
    rates = [float(own.get("rate_limit") or series.dispatch.rate_limit or 0),
             transport.rate_limit or 0]
    positive = [rate for rate in rates if rate > 0]
    return ChannelSettings(concurrency=max(1, int(chosen)),
                           rate_limit=min(positive) if positive else None)
