"""The registrations package: one read model, every public name where it always was."""

from __future__ import annotations

import importlib
import subprocess
import sys
from datetime import datetime, timezone

import pytest

import s3events
import s3events.registrations as package

OLD_PATHS = {
    "s3events.registrations": ["CHANNELS", "SECTORS", "Cancellation", "Channels",
                               "ErasureReport", "Registration", "SaveCounts", "Sector",
                               "Status", "UnknownRegistration", "cancel_registration",
                               "clean_fields", "confirm_opt_in", "email_key", "erase_person",
                               "export_person", "get_by_token", "get_registration",
                               "list_registrations", "register", "save_registrations"],
    "s3events.importing": ["HEADER_ALIASES", "ImportReport", "Table", "import_registrations",
                           "read_table"],
    "s3events.roster": ["Channels", "Registration", "Status", "UnknownRegistration",
                        "email_key", "find_registration", "get_by_token", "get_registration",
                        "list_registrations", "registration_from_row", "select_registration"],
    "s3events.seats": ["Seat", "confirmed_count", "next_position", "promote", "seat_for"],
    "s3events.privacy": ["ErasureReport", "erase_person", "export_person"],
    "s3events.fields": ["CHANNELS", "SECTORS", "Sector", "clean_fields"],
}


@pytest.mark.parametrize("module", sorted(OLD_PATHS))
def test_public_names_stay_importable_from_their_old_modules(module: str) -> None:
    loaded = importlib.import_module(module)
    for name in OLD_PATHS[module]:
        assert getattr(loaded, name) is not None, f"{module}.{name}"


def test_the_package_exports_what_it_lists() -> None:
    assert sorted(package.__all__) == sorted(package._EXPORTS)
    for name in package.__all__:
        assert getattr(package, name) is not None, name


def test_one_read_model_for_the_cli_the_scheduler_and_dispatch() -> None:
    from s3events.scheduler import RegistrationInfo

    assert RegistrationInfo is package.Registration is s3events.Registration


def test_a_partial_row_reads_with_defaults_and_the_token_hides_itself() -> None:
    moment = datetime(2021, 10, 1, tzinfo=timezone.utc)
    reg = package.Registration.from_row({
        "id": "r1", "email": "ana@example.org", "name": "Ana", "language": "es",
        "timezone": "America/Lima", "channels": {"whatsapp": "+51999999999", "slack": None},
        "sessions": ["s1"], "status": "confirmed", "registered_at": moment,
        "confirmed_at": None, "token": "secret-token-value"})
    assert reg.since == moment and reg.wants("s1") and not reg.wants("s2")
    assert dict(reg.channels) == {"whatsapp": "+51999999999"}
    assert reg.channels.whatsapp == "+51999999999" and reg.channels.slack is None
    assert reg.address("whatsapp") == "+51999999999" and reg.address("email") == reg.email
    assert f"{reg.token}" == "secret-token-value" == reg.token.get_secret_value()
    assert "secret-token-value" not in repr(reg) and "secret-token-value" not in repr(reg.token)
    assert "token" not in reg.to_json()


def test_importing_one_module_of_the_package_loads_no_store() -> None:
    code = ("import sys; import s3events.registrations.presets; "
            "print('sqlalchemy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
