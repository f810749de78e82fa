
"""The people side: who takes part, in which language, zone and sessions, and their seat.

A registration is one person in one series, keyed by their email (one mailbox, one key:
see :mod:`.addresses`). Personal data lives in the ``s3e_registrations`` table only; the
delivery ledger refers to people by the registration's random id.

Modules:

- :mod:`.model` — :class:`Registration`, the one read model (frozen dataclass) every
  reader gets, the scheduler and dispatch included;
- :mod:`.roster` — reading registrations by email, token, or all of a series;
- :mod:`.fields`, :mod:`.addresses`, :mod:`.zones`, :mod:`.sessions` — cleaning what
  people typed: text, email, time zone (given, city, country), session choices;
- :mod:`.registering` — one person at a time: register, opt-in, cancel, preferences;
- :mod:`.seats` — seats and the waiting list;
- :mod:`.importing` with :mod:`.presets`, :mod:`.columns` and :mod:`.saving` — importing
  the files form tools export, read by :mod:`s3events.tables`, in flat memory;
- :mod:`.privacy` — a copy of a person's data, or its erasure.

Seats: with ``registration.capacity`` set, a registration is ``confirmed`` while there are
fewer confirmed people than seats, else ``waitlisted``. When a confirmed person cancels or
is erased (or the capacity grows), waitlisted people move up in the order they registered,
and ``confirmed_at`` records when. ``pending`` registrations (online, awaiting the double
opt-in) hold no seat until :func:`confirm_opt_in`.

Names are imported on first use, so importing one module of the package stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "CHANNELS": "model",
    "GUESSED_SOURCES": "model",
    "HEADER_ALIASES": "columns",
    "MOST_POPULOUS_ZONE": "zones",
    "PRESETS": "presets",
    "SECTORS": "fields",
    "Cancellation": "registering",
    "Channels": "model",
    "ErasureReport": "privacy",
    "FieldCleaner": "fields",
    "ImportReport": "importing",
    "LinkToken": "model",
    "Preset": "presets",
    "Registration": "model",
    "SaveCounts": "saving",
    "Seat": "seats",
    "Sector": "fields",
    "Status": "model",
    "Table": "readers",
    "TimezoneSource": "model",
    "UnknownRegistration": "model",
    "cancel_registration": "registering",
    "clean_email": "addresses",
    "clean_fields": "fields",
    "confirm_opt_in": "registering",
    "confirmed_count": "seats",
    "email_key": "addresses",
    "erase_person": "privacy",
    "export_person": "privacy",
    "find_registration": "roster",
    "get_by_token": "roster",
    "get_registration": "roster",
    "import_registrations": "importing",
    "list_registrations": "roster",
    "next_position": "seats",
    "promote": "seats",
    "read_table": "readers",
    "register": "registering",
    "registration_from_row": "roster",
    "resolve_zone": "zones",
    "save_registrations": "saving",
    "seat_for": "seats",
    "select_registration": "roster",
    "update_preferences": "registering",
}

__all__ = [
    "CHANNELS",
    "GUESSED_SOURCES",
    "HEADER_ALIASES",
    "MOST_POPULOUS_ZONE",
    "PRESETS",
    "SECTORS",
    "Cancellation",
    "Channels",
    "ErasureReport",
    "FieldCleaner",
    "ImportReport",
    "LinkToken",
    "Preset",
    "Registration",
    "SaveCounts",
    "Seat",
    "Sector",
    "Status",
    "Table",
    "TimezoneSource",
    "UnknownRegistration",
    "cancel_registration",
    "clean_email",
    "clean_fields",
    "confirm_opt_in",
    "confirmed_count",
    "email_key",
    "erase_person",
    "export_person",
    "find_registration",
    "get_by_token",
    "get_registration",
    "import_registrations",
    "list_registrations",
    "next_position",
    "promote",
    "read_table",
    "register",
    "registration_from_row",
    "resolve_zone",
    "save_registrations",
    "seat_for",
    "select_registration",
    "update_preferences",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 's3events.registrations' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *globals()})


if TYPE_CHECKING:  # pragma: no cover
    from .addresses import clean_email, email_key
    from .columns import HEADER_ALIASES
    from .fields import SECTORS, FieldCleaner, Sector, clean_fields
    from .importing import ImportReport, import_registrations
    from .model import (
        CHANNELS,
        GUESSED_SOURCES,
        Channels,
        LinkToken,
        Registration,
        Status,
        TimezoneSource,
        UnknownRegistration,
    )
    from .presets import PRESETS, Preset
    from .privacy import ErasureReport, erase_person, export_person
    from .readers import Table, read_table
    from .registering import (
        Cancellation,
        cancel_registration,
        confirm_opt_in,
        register,
        update_preferences,
    )
    from .roster import (
        find_registration,
        get_by_token,
        get_registration,
        list_registrations,
        registration_from_row,
        select_registration,
    )
    from .saving import SaveCounts, save_registrations
    from .seats import Seat, confirmed_count, next_position, promote, seat_for
    from .zones import MOST_POPULOUS_ZONE, resolve_zone
