"""The exports of the form and event tools s3events reads as they come: one table each.

A :class:`Preset` is data, not code: the headers that identify the tool's export (its
*signature*, every group present), the tool's own columns and the field each gives, the
*account* columns that lose to a question asking the same thing (Microsoft Forms' and
Google Forms' respondent ``Email``/``Name``), the column that says whether a row is a
registration at all and which of its values count, how many rows may come before the
header, and the tool's bookkeeping columns (not reported as ignored). Fixed headers that
the tools translate are listed in English, Spanish, Portuguese, French, German and
Italian. :func:`detect` picks the preset whose signature the header matches best;
``--preset NAME`` forces one. Anything else is read with the generic headers of
:mod:`.columns`, and ``--map`` maps what neither knows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..countries import fold

__all__ = ["PRESETS", "Preset", "StatusRule", "detect", "preset_named"]


@dataclass(frozen=True)
class StatusRule:
    """Which rows of an export are registrations, by the value of one column.

    ``registered`` values are imported; ``withdrawn`` ones cancel a known registration
    (and are skipped for an unknown person); any other value (awaiting approval or
    payment, a partial answer) is skipped, and a known registration stays as it is.
    Values are compared without regard to case or accents.
    """

    columns: tuple[str, ...]
    registered: frozenset[str]
    withdrawn: frozenset[str] = frozenset()

    def verdict(self, value: str) -> str:
        """``registered``, ``withdrawn`` or ``pending`` for a cell of the status column."""
        key = fold(value)
        if key in self.registered:
            return "registered"
        return "withdrawn" if key in self.withdrawn else "pending"


@dataclass(frozen=True)
class Preset:
    """How one tool writes its export (see the module docstring)."""

    name: str
    title: str
    formats: str
    signature: tuple[tuple[str, ...], ...]
    columns: Mapping[str, str] = field(default_factory=dict)
    account: Mapping[str, str] = field(default_factory=dict)
    status: StatusRule | None = None
    preamble: bool = False
    bookkeeping: tuple[str, ...] = ()

    def matches(self, folded: set[str]) -> int:
        """How many signature groups the folded header has; 0 unless it has them all."""
        found = sum(any(fold(h) in folded for h in group) for group in self.signature)
        return found if found == len(self.signature) else 0

    def field_of(self, header: str) -> str | None:
        """The field one of the tool's own columns gives, if it is one."""
        return _folded(self.columns).get(fold(header))

    def account_field(self, header: str) -> str | None:
        """The field an account column gives (it loses to a question), if it is one."""
        return _folded(self.account).get(fold(header))

    def is_bookkeeping(self, header: str) -> bool:
        """Whether the column is the tool's own record keeping (times, ids)."""
        key = fold(header)
        return key in {fold(h) for h in self.bookkeeping} or (
            self.status is not None and key in {fold(h) for h in self.status.columns})


def _folded(mapping: Mapping[str, str]) -> dict[str, str]:
    return {fold(k): v for k, v in mapping.items()}


def _values(*texts: str) -> frozenset[str]:
    return frozenset(fold(t) for t in texts)


# Fixed headers in en, es, pt, fr, de, it, as the tools write them.
_GOOGLE_TIMESTAMP = ("Timestamp", "Marca temporal", "Carimbo de data/hora", "Horodateur",
                     "Zeitstempel", "Informazioni cronologiche")
_GOOGLE_EMAIL = ("Email Address", "Email address", "Dirección de correo electrónico",
                 "Endereço de e-mail", "Adresse e-mail", "E-Mail-Adresse", "Indirizzo email")
_GOOGLE_SCORE = ("Score", "Puntuación", "Pontuação", "Note", "Punkte", "Punteggio")
_MS_START = ("Start time", "Hora de inicio", "Hora de início", "Heure de début", "Startzeit",
             "Ora di inizio")
_MS_END = ("Completion time", "Hora de finalización", "Hora de conclusão", "Heure de fin",
           "Fertigstellungszeit", "Ora di completamento")
_MS_MODIFIED = ("Last modified time", "Hora de la última modificación",
                "Hora da última modificação", "Heure de dernière modification",
                "Letzte Änderungszeit", "Ora dell'ultima modifica")
_MS_EMAIL = ("Email", "Correo electrónico", "Email", "Adresse de messagerie", "E-Mail",
             "Posta elettronica")
_MS_NAME = ("Name", "Nombre", "Nome", "Nom", "Name", "Nome")
_MS_ID = ("ID", "Id.", "Identificador", "Identifiant")

PRESETS: tuple[Preset, ...] = (
    Preset(
        "google-forms", "Google Forms", "CSV, or XLSX downloaded from Sheets",
        signature=(_GOOGLE_TIMESTAMP,),
        account=dict.fromkeys(_GOOGLE_EMAIL, "email"),
        bookkeeping=(*_GOOGLE_TIMESTAMP, *_GOOGLE_SCORE)),
    Preset(
        "microsoft-forms", "Microsoft Forms", "XLSX, or CSV saved from it",
        signature=(_MS_START, _MS_END),
        account={**dict.fromkeys(_MS_EMAIL, "email"), **dict.fromkeys(_MS_NAME, "name")},
        bookkeeping=(*_MS_ID, *_MS_START, *_MS_END, *_MS_MODIFIED)),
    Preset(
        "eventbrite", "Eventbrite attendee summary report", "CSV",
        signature=(("Order #",), ("Attendee Status", "Attendee #")),
        columns={"First Name": "first_name", "Last Name": "last_name", "Email": "email",
                 "Home City": "city", "Home Country": "country", "Company": "organisation"},
        status=StatusRule(("Attendee Status",), _values("Attending", "Checked In"),
                          _values("Not Attending", "Refunded", "Deleted", "Transferred",
                                  "Cancelled", "Canceled")),
        bookkeeping=("Order #", "Order Date", "Quantity", "Price Tier", "Ticket Type",
                     "Attendee #", "Group", "Order Type", "Currency", "Total Paid",
                     "Fees Paid", "Eventbrite Fees", "Eventbrite Payment Processing",
                     "Barcode #", "Home Address 1", "Home Address 2", "Home State",
                     "Home Zip", "Job Title")),
    Preset(
        "zoom", "Zoom registration report", "CSV",
        signature=(("Registration Time",), ("Approval Status",)),
        columns={"First Name": "first_name", "Last Name": "last_name", "Email": "email",
                 "City": "city", "Country/Region": "country", "Organization": "organisation"},
        status=StatusRule(("Approval Status",), _values("approved"),
                          _values("denied", "rejected", "cancelled", "canceled", "blocked")),
        preamble=True,
        bookkeeping=("Registration Time", "Phone", "Zip/Postal Code", "State/Province",
                     "Job Title", "Industry", "Purchasing Time Frame",
                     "Role in Purchase Process", "No of Employees", "Questions & Comments",
                     "Source Name", "Address")),
    Preset(
        "indico", "Indico registrants", "CSV, XLSX",
        signature=(("ID",), ("Email Address",), ("Registration date", "Registration state")),
        columns={"First Name": "first_name", "Last Name": "last_name",
                 "Email Address": "email", "Affiliation": "organisation",
                 "Country": "country", "Name": "ignore"},
        status=StatusRule(("Registration state",), _values("Completed", "Complete"),
                          _values("Withdrawn", "Rejected")),
        bookkeeping=("ID", "Title", "Position", "Address", "Phone Number",
                     "Registration date", "Price", "Checked in", "Check-in date",
                     "Payment date", "Tags")),
    Preset(
        "typeform", "Typeform responses", "CSV",
        signature=(("Submit Date (UTC)",), ("Network ID", "#")),
        status=StatusRule(("Response Type",), _values("completed")),
        bookkeeping=("#", "Response Type", "Start Date (UTC)", "Stage Date (UTC)",
                     "Submit Date (UTC)", "Network ID", "Tags")),
    Preset(
        "jotform", "Jotform submissions", "CSV",
        signature=(("Submission Date",),),
        bookkeeping=("Submission Date", "Submission ID", "Last Update Date",
                     "Submission IP", "IP", "Edit Link")),
)


def preset_named(name: str) -> Preset:
    """The preset called ``name``; ``KeyError`` listing the known ones."""
    for preset in PRESETS:
        if preset.name == name:
            return preset
    raise KeyError(f"unknown preset '{name}'; the presets are "
                   f"{', '.join(p.name for p in PRESETS)}")


def detect(header: Sequence[str]) -> Preset | None:
    """The preset whose signature this header matches with the most groups, if any."""
    folded = {fold(h) for h in header if h}
    scored = [(preset.matches(folded), -index, preset) for index, preset in enumerate(PRESETS)]
    best = max(scored, key=lambda s: s[:2])
    return best[2] if best[0] else None
