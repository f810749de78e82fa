"""Which column of an export gives which field of a registration.

Each column gets at most one field, from the first source that claims it:

1. ``--map "SOURCE COLUMN=field"`` (``ignore`` drops a column);
2. the series file's ``import: {columns: {"SOURCE COLUMN": field}}``;
3. the tool's preset (:mod:`.presets`): its own columns, its status column, its account
   columns and its bookkeeping (times, ids — neither used nor reported);
4. a known header (:data:`HEADER_ALIASES`, in en, es, pt, fr, de, it; compared without
   case, accents or punctuation; "(…)" parts ignored; "Correo / Email" by either half);
5. a question that names the field ("What is your email address?", "¿En qué país
   vives?") — an email or sessions question must hold such answers in its first rows;
6. for a file without an email or sessions column, the column whose first answers are
   email addresses, or name sessions.

When two columns give one field from equally strong sources, every such conflict is
reported at once, each with the ``--map`` that resolves it. An account column (Microsoft
Forms' ``Email``/``Name``) loses to a question asking the same and fills in where the
question was left empty.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..countries import fold
from ..errors import InputError, Problem
from .model import CHANNELS
from .presets import Preset, StatusRule

__all__ = ["FIELDS", "HEADER_ALIASES", "ColumnMap", "field_name", "field_names", "header_score",
           "map_columns"]

#: The fields a column can give (plus ``consent_<flag>``, and ``ignore`` to drop one).
FIELDS: tuple[str, ...] = (
    "name", "first_name", "last_name", "email", "language", "timezone", "city", "country",
    "organisation", "sector", "sessions", *CHANNELS, "consent")

#: Field → headers that mean it (compared after :func:`~s3events.countries.fold`).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "your name", "participant", "nombre", "nombre completo",
             "nombre y apellido", "nombre y apellidos", "participante", "nome completo",
             "nom complet", "nom et prenom", "prenom et nom", "vollstandiger name",
             "vor und nachname", "nome e cognome", "nominativo", "nome"),
    "first_name": ("first name", "given name", "forename", "nombres", "primer nombre",
                   "primeiro nome", "prenom", "vorname"),
    "last_name": ("last name", "surname", "family name", "apellido", "apellidos",
                  "sobrenome", "apelido", "nom de famille", "nachname", "familienname",
                  "cognome"),
    "email": ("email", "e mail", "email address", "e mail address", "mail", "correo",
              "correo electronico", "direccion de correo", "direccion de correo electronico",
              "correo e", "endereco de email", "endereco de e mail", "courriel",
              "adresse e mail", "adresse electronique", "adresse courriel", "e mail adresse",
              "indirizzo email", "indirizzo e mail", "posta elettronica"),
    "language": ("language", "preferred language", "idioma", "idioma preferido", "lengua",
                 "lingua", "langue", "langue preferee", "sprache", "bevorzugte sprache",
                 "lingua preferita"),
    "timezone": ("timezone", "time zone", "tz", "zona horaria", "huso horario",
                 "fuso horario", "fuseau horaire", "zeitzone", "fuso orario"),
    "city": ("city", "town", "ciudad", "localidad", "cidade", "ville", "stadt", "wohnort",
             "citta"),
    "country": ("country", "country region", "pais", "pais de residencia", "pays", "land",
                "paese", "nazione"),
    "organisation": ("organisation", "organization", "institution", "company",
                     "affiliation", "employer", "organizacion", "institucion", "entidad",
                     "empresa", "organizacao", "instituicao", "organisme", "entreprise",
                     "etablissement", "firma", "unternehmen", "organizzazione",
                     "istituzione", "ente", "azienda", "affiliazione"),
    "sector": ("sector", "setor", "type of organisation", "type of organization",
               "tipo de organizacion", "tipo de institucion", "secteur", "settore"),
    "sessions": ("sessions", "session", "sesiones", "sesion", "sessoes", "sessao",
                 "seances", "seance", "sitzungen", "sitzung", "termine", "sessioni",
                 "sessione"),
    "whatsapp": ("whatsapp", "whatsapp number", "numero de whatsapp"),
    "telegram": ("telegram", "telegram chat id", "telegram id"),
    "slack": ("slack", "slack id", "slack member id"),
    "matrix": ("matrix", "matrix room", "matrix room id"),
    "apprise": ("apprise", "apprise url", "notification url"),
    "consent": ("consent", "consentimiento", "consentimento", "acepto", "i agree",
                "consentement", "einwilligung", "consenso"),
}
_ALIASES = {fold(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

#: Words that make a question ask for a field, most specific field first.
_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("email", ("email", "e mail", "correo", "courriel", "posta elettronica")),
    ("sessions", ("sessions", "session", "sesiones", "sesion", "sessoes", "sessao", "seances",
                  "seance", "sitzungen", "sitzung", "sessioni", "sessione")),
    ("timezone", ("time zone", "timezone", "zona horaria", "huso horario", "fuso horario",
                  "fuseau horaire", "zeitzone", "fuso orario")),
    ("language", ("language", "idioma", "lengua", "langue", "sprache", "lingua")),
    ("country", ("country", "pais", "pays", "land", "paese", "nazione")),
    ("city", ("city", "ciudad", "cidade", "ville", "stadt", "citta")),
    ("organisation", ("organisation", "organization", "institution", "company",
                      "affiliation", "organizacion", "institucion", "empresa",
                      "organizacao", "instituicao", "entreprise", "unternehmen",
                      "organizzazione", "istituzione", "azienda")),
    ("name", ("name", "nombre", "nome", "nom")),
)
#: A bare "name" header that, beside a first-name column, is the family name (French "Nom"
#: beside "Prénom", German "Name" beside "Vorname", an English "Name" beside "First name").
_SURNAME_HEADERS = frozenset({"nom", "name"})
#: Source strength: a lower rank wins a field.
_RANKS = {"--map": 0, "series file": 1, "preset": 2, "header": 3, "question": 4,
          "account": 5, "answers": 6}
_EMAILISH = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def field_names() -> str:
    """The fields a mapping may name, for messages."""
    return f"{', '.join(FIELDS)}, consent_<flag> and ignore"


def field_name(name: str) -> str | None:
    """A field name as written in a mapping, checked; None when unknown."""
    name = name.strip().lower()
    if name in FIELDS or name == "ignore" or re.fullmatch(r"consent_[a-z0-9_]+", name):
        return name
    return "ignore" if name == "-" else None


def _alias(header: str) -> str | None:
    candidates = [header, re.sub(r"\(.*?\)|\[.*?\]", "", header), *re.split(r"[/|]", header)]
    for candidate in candidates:
        key = fold(candidate)
        if key in _ALIASES:
            return _ALIASES[key]
        if re.fullmatch(r"consent [a-z0-9 ]+", key):
            return "consent_" + key.removeprefix("consent ").replace(" ", "_")
    return None


def _question(header: str) -> str | None:
    bare = re.sub(r"\(.*?\)|\[.*?\]", "", header)
    padded = f" {fold(bare)} "
    for name, words in _KEYWORDS:
        if any(f" {word} " in padded for word in words):
            return name
    return None


def header_score(header: Sequence[str]) -> int:
    """How much a row looks like a header: the known columns it has (to find the header)."""
    return sum(_alias(cell) is not None for cell in header if cell and len(cell) < 200)


@dataclass(frozen=True)
class _Claim:
    index: int
    header: str
    field: str
    how: str


@dataclass
class ColumnMap:
    """The columns of one file: field → column index, and what was left out."""

    fields: dict[str, int] = field(default_factory=dict)
    fallbacks: dict[str, int] = field(default_factory=dict)
    status: tuple[int, StatusRule] | None = None
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def raw(self, cells: Sequence[str]) -> dict[str, str]:
        """A row's values by field (first and last names joined into ``name``)."""
        width = len(cells)
        raw = {name: cells[i].strip() if i < width else "" for name, i in self.fields.items()}
        for name, i in self.fallbacks.items():
            if not raw.get(name) and i < width:
                raw[name] = cells[i].strip()
        first, last = raw.pop("first_name", ""), raw.pop("last_name", "")
        if first or last or "first_name" in self.fields:
            parts = [first, last] if "first_name" in self.fields else [raw.get("name", ""), last]
            raw["name"] = " ".join(p for p in parts if p)
        return raw

    def verdict(self, cells: Sequence[str]) -> str:
        """``registered``, ``withdrawn`` or ``pending`` by the export's status column."""
        if self.status is None:
            return "registered"
        index, rule = self.status
        return rule.verdict(cells[index] if index < len(cells) else "")


@dataclass
class _Mapper:
    header: Sequence[str]
    file: str
    preset: Preset | None
    sample: Sequence[Sequence[str]]
    looks_like_sessions: Callable[[str], bool]
    problems: list[Problem] = field(default_factory=list)
    result: ColumnMap = field(default_factory=ColumnMap)
    conflicts: set[str] = field(default_factory=set)

    def problem(self, message: str) -> None:
        self.problems.append(Problem(message, file=self.file, line=1))

    def answers(self, index: int) -> list[str]:
        return [row[index].strip() for row in self.sample
                if index < len(row) and row[index].strip()]

    def plausible(self, claim: _Claim) -> bool:
        """Whether a question's first answers fit its field (email, sessions)."""
        answers = self.answers(claim.index)
        if claim.field not in ("email", "sessions") or not answers:
            return True
        test = (_EMAILISH.match if claim.field == "email" else self.looks_like_sessions)
        return sum(bool(test(a)) for a in answers) * 2 >= len(answers)

    def claims(self, mapped: Mapping[str, str], configured: Mapping[str, str]) -> list[_Claim]:
        by_header = {fold(h): i for i, h in enumerate(self.header) if h.strip()}
        chosen: dict[int, _Claim] = {}
        for how, mapping in (("--map", mapped), ("series file", configured)):
            for source, target in mapping.items():
                self.claim_mapped(chosen, by_header, how, source, target)
        for index, title in enumerate(self.header):
            if index not in chosen and title.strip():
                claim = self.claim_header(index, title)
                if claim is not None:
                    chosen[index] = claim
        return list(chosen.values())

    def claim_mapped(self, chosen: dict[int, _Claim], by_header: dict[str, int], how: str,
                     source: str, target: str) -> None:
        name = field_name(target)
        index = by_header.get(fold(source))
        if name is None:
            self.problem(f"{how} \"{source}={target}\": unknown field '{target}'; the "
                         f"fields are {field_names()}")
        elif index is None:
            if how == "--map":
                known = ", ".join(f"'{h}'" for h in self.header if h.strip())
                self.problem(f"--map \"{source}={target}\": the file has no column "
                             f"'{source}'; its columns are {known}")
        elif index not in chosen:
            chosen[index] = _Claim(index, self.header[index], name, how)

    def claim_header(self, index: int, title: str) -> _Claim | None:
        if self.preset is not None:
            claim, known = self.claim_preset(index, title, self.preset)
            if claim is not None or known:
                return claim
        if (name := _alias(title)) is not None:
            return _Claim(index, title, name, "header")
        if (name := _question(title)) is not None:
            claim = _Claim(index, title, name, "question")
            if self.plausible(claim):
                return claim
            self.result.notes.append(f"'{title}' does not hold {name} answers; not used")
        self.result.ignored.append(title.strip())
        return None

    def claim_preset(self, index: int, title: str,
                     preset: Preset) -> tuple[_Claim | None, bool]:
        """The claim a tool's preset makes, and whether the preset knows the column."""
        if (name := preset.field_of(title)) is not None:
            return _Claim(index, title, name, "preset"), True
        if preset.status is not None and fold(title) in {fold(c) for c in
                                                        preset.status.columns}:
            self.result.status = (index, preset.status)
            return None, True
        if (name := preset.account_field(title)) is not None:
            return _Claim(index, title, name, "account"), True
        return None, preset.is_bookkeeping(title)

    def from_answers(self, claims: list[_Claim]) -> list[_Claim]:
        """Columns recognised by their answers, for an email or sessions column missing."""
        taken = {c.index for c in claims}
        have = {c.field for c in claims}
        found = []
        for name in ("email", "sessions"):
            if name in have:
                continue
            for index, title in enumerate(self.header):
                claim = _Claim(index, title, name, "answers")
                if index not in taken and self.answers(index) and self.plausible(claim):
                    found.append(claim)
                    taken.add(index)
                    if title.strip() in self.result.ignored:
                        self.result.ignored.remove(title.strip())
                    self.result.notes.append(f"'{title}' read as {name} (from its answers)")
                    break
        return claims + found

    def resolve(self, claims: list[_Claim]) -> None:
        by_field: dict[str, list[_Claim]] = defaultdict(list)
        for claim in claims:
            if claim.field != "ignore":
                by_field[claim.field].append(claim)
        for name, found in by_field.items():
            found.sort(key=lambda c: (_RANKS[c.how], c.index))
            best = [c for c in found if _RANKS[c.how] == _RANKS[found[0].how]]
            if len(best) > 1:
                self.conflict(name, best)
                continue
            self.result.fields[name] = best[0].index
            for other in found[1:]:
                if other.how != "account":  # outranked, e.g. a question beside its header
                    self.result.notes.append(
                        f"'{other.header}' not used: '{best[0].header}' gives the "
                        f"{name.replace('_', ' ')} (--map \"{other.header}={name}\" and "
                        f"--map \"{best[0].header}=ignore\" read it instead)")
            accounts = [c for c in found[1:] if c.how == "account"]
            if accounts and found[0].how != "account":
                self.result.fallbacks[name] = accounts[0].index
                self.result.notes.append(f"'{best[0].header}' gives the {name}; the account "
                                         f"column '{accounts[0].header}' fills in when empty")
        self.names()

    def conflict(self, name: str, claims: list[_Claim]) -> None:
        self.conflicts.add(name)
        titles = " and ".join(f"'{c.header}'" for c in claims)
        fixes = " or ".join(f'--map "{c.header}=ignore"' for c in claims)
        both = "both" if len(claims) == 2 else "all"
        self.problem(f"columns {titles} {both} give the {name.replace('_', ' ')}; keep one "
                     f"with {fixes}")

    def names(self) -> None:
        fields, notes = self.result.fields, self.result.notes
        if "first_name" not in fields and "last_name" in fields and "name" not in fields:
            fields["first_name"] = fields.pop("last_name")
        if "first_name" not in fields or "name" not in fields:
            return
        name, first = self.header[fields["name"]], self.header[fields["first_name"]]
        if "last_name" in fields:
            fields.pop("name")
            notes.append(f"'{name}' not used: first and last names are given")
        elif fold(name) in _SURNAME_HEADERS:  # "Nom" beside "Prénom", "Name" beside "Vorname"
            fields["last_name"] = fields.pop("name")
            notes.append(f"'{name}' read as the last name, beside the first name '{first}'")
        else:  # a whole name beside a first name: the whole name says more
            fields.pop("first_name")
            notes.append(f"'{first}' not used: '{name}' gives the whole name")

    def required(self) -> None:
        fields = self.result.fields
        missing = [m for m in ("name", "email") if m not in fields and not (
            m == "name" and "first_name" in fields) and m not in self.result.fallbacks
            and m not in self.conflicts]
        known = ", ".join(f"'{h}'" for h in self.header if h.strip())
        for name in missing:
            examples = ", ".join(HEADER_ALIASES[name][:4])
            self.problem(f"no column for the {name} (headers such as {examples}); map one "
                         f"with --map \"COLUMN={name}\" (the columns are {known})")


def map_columns(header: Sequence[str], *, file: str, preset: Preset | None = None,
                mapped: Mapping[str, str] | None = None,
                configured: Mapping[str, str] | None = None,
                sample: Sequence[Sequence[str]] = (),
                looks_like_sessions: Callable[[str], bool] = lambda _: False) -> ColumnMap:
    """The :class:`ColumnMap` of a header; :class:`InputError` listing every problem.

    ``mapped`` comes from ``--map``, ``configured`` from the series file; ``sample`` is
    the first data rows, to check questions and recognise columns by their answers.
    """
    mapper = _Mapper(header, file, preset, sample, looks_like_sessions)
    claims = mapper.from_answers(mapper.claims(mapped or {}, configured or {}))
    mapper.resolve(claims)
    mapper.required()
    if mapper.problems:
        lines = "\n".join(f"  {p}" for p in mapper.problems)
        raise InputError(f"{file}: the columns cannot be read as they are:\n{lines}",
                         problems=mapper.problems)
    return mapper.result
