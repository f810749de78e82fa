"""Reading registrations: this import path stays; the code lives in
:mod:`s3events.registrations.roster`.
"""

from __future__ import annotations

from .registrations.addresses import email_key
from .registrations.model import Channels, Registration, Status, UnknownRegistration
from .registrations.roster import (
    find_registration,
    get_by_token,
    get_registration,
    list_registrations,
    registration_from_row,
    select_registration,
)

__all__ = ["Channels", "Registration", "Status", "UnknownRegistration", "email_key",
           "find_registration", "get_by_token", "get_registration", "list_registrations",
           "registration_from_row", "select_registration"]
