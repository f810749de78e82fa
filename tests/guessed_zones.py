"""Test data for guessed zones: a German, English and French series, and people to import.

Helpers only (the tests are test_zone_note.py, test_web_preferences.py and
test_browser_preferences.py). The series is organised from Berlin; its first session starts
on 5 November 2025 at 16:00 there — 10:00 in New York, 07:00 in Los Angeles — and links go
out the day before at 09:00 in each person's zone. The file imports people whose zone is:

- guessed from the country (``country-guess``): Dana, in the United States, no city;
- guessed from nothing (``series``): Kai, who gave no country, city or zone;
- found from a city (``city``): Marc, in Vancouver, Canada;
- found from a country with one time (``country``): Jonas, in Germany;
- given (``given``): Élodie, ``Europe/Paris``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from s3events.loading import load_series
from s3events.models import Series
from s3events.registrations import Registration, get_registration, import_registrations
from s3events.store import Store

UTC = timezone.utc
#: When the people are imported: two weeks before the first session.
IMPORTED = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
#: Dana's link in New York time (09:00 EST the day before), and in Los Angeles time.
DUE_NEW_YORK = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)
DUE_LOS_ANGELES = datetime(2025, 11, 4, 17, 0, tzinfo=UTC)

SERIES: dict[str, Any] = {
    "id": "offene-daten-2025",
    "title": {"de": "Offene Daten für Städte", "en": "Open data for cities",
              "fr": "Données ouvertes pour les villes"},
    "organiser": {"name": {"de": "Netzwerk Offene Städte (fiktiv)",
                           "en": "Open Cities Network (fictional)",
                           "fr": "Réseau des villes ouvertes (fictif)"},
                  "email": "team@offene-staedte.example"},
    "languages": ["de", "en", "fr"],
    "default_language": "de",
    "timezone": "Europe/Berlin",
    "sessions": [
        {"id": "s1", "label": {"de": "Sitzung 1", "en": "Session 1", "fr": "Séance 1"},
         "title": {"de": "Daten veröffentlichen", "en": "Publishing data",
                   "fr": "Publier des données"},
         "start": "2025-11-05T16:00:00", "end": "2025-11-05T17:30:00"},
        {"id": "s2", "label": {"de": "Sitzung 2", "en": "Session 2", "fr": "Séance 2"},
         "title": {"de": "Daten nutzen", "en": "Using data", "fr": "Utiliser des données"},
         "start": "2025-11-12T16:00:00", "end": "2025-11-12T17:30:00"},
    ],
}

PEOPLE_CSV = """\
Full name,Email,Country,City,Time zone,Language
Dana Whitfield,dana.whitfield@example.com,United States,,,English
Kai Sommer,kai.sommer@example.org,,,,Deutsch
Marc Tremblay,marc.tremblay@example.ca,Canada,Vancouver,,Français
Jonas Weber,jonas.weber@example.de,Deutschland,,,Deutsch
Élodie Martin,elodie.martin@example.fr,France,,Europe/Paris,Français
"""
#: Email → the zone and source the import gives.
EXPECTED = {
    "dana.whitfield@example.com": ("America/New_York", "country-guess"),
    "kai.sommer@example.org": ("Europe/Berlin", "series"),
    "marc.tremblay@example.ca": ("America/Vancouver", "city"),
    "jonas.weber@example.de": ("Europe/Berlin", "country"),
    "elodie.martin@example.fr": ("Europe/Paris", "given"),
}
GUESSED = ("dana.whitfield@example.com", "kai.sommer@example.org")


def open_data_series(folder: Path, **changes: Any) -> Series:
    """The series, written to ``folder`` and loaded (``changes`` replace top-level keys)."""
    path = folder / "offene-daten.yaml"
    path.write_text(yaml.safe_dump({**SERIES, **changes}, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return load_series(path)


def import_people(store: Store, series: Series, folder: Path) -> dict[str, Registration]:
    """Import :data:`PEOPLE_CSV`; the registrations by email."""
    path = folder / "people.csv"
    path.write_text(PEOPLE_CSV, encoding="utf-8")
    report = import_registrations(store, series, path, now=IMPORTED)
    assert report.problems == [], report.problems
    found = {}
    for email in EXPECTED:
        reg = get_registration(store, series.id, email)
        assert reg is not None, email
        found[email] = reg
    return found


def token_of(reg: Registration) -> str:
    """The registration's secret link token."""
    return reg.token.get_secret_value()
