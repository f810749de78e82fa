"""Language purity: everything a participant reads is in their language, in every built-in one.

For each built-in language the tests render every message kind (subject, text, HTML and
the short text of chat messages), every release note, the calendar feed and invitations,
the agenda in Markdown and HTML, the static page, and the web app's pages — the form with
each validation error, refusals, the opt-in, waiting-list and cancel pages — and check that
no phrase of another language's catalog shows (tests/purity.py says how), and that every
message of the catalog was shown somewhere (so nothing escapes the check). Two series: the
reference one declaring all six languages (its texts stay in English and Spanish and fall
back as documented), and an English/French one for a Pacific audience, French first.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
import yaml

from s3events.agenda import render_agenda
from s3events.calendar import series_calendar, session_invitation, to_ics
from s3events.catalogs import BUILTIN_LANGUAGES
from s3events.loading import load_series
from s3events.models import ReleaseRule, Series
from s3events.registrations import get_registration, register
from s3events.render import KINDS, MessageRenderer
from s3events.site import site_files
from s3events.store import open_store
from tests.fixtures.series import REFERENCE
from tests.purity import Cleaner, calendar_text, mixed_phrases, uncovered, visible_html

pytest.importorskip("flask", reason="the web app needs Flask (pip install 's3events[web]')")

UTC = timezone.utc
NOW = datetime(2021, 10, 20, 12, 0, tzinfo=UTC)
JOIN = "https://meet.example.org/room-1?pwd=abc"
BASE = "https://events.example.org"
PEOPLE = {"en": "Kim Lee", "es": "José Peña", "pt": "João Conceição", "fr": "Lucie Martin",
          "de": "Jürgen Weiß", "it": "Giulia Rossi"}
#: A message no test can provoke without faking a race: the form saved nothing although its
#: own checks passed. Its translation is checked like every other by test_catalogs.py.
EXEMPT = {"Your registration could not be saved. Check the details and try again."}
RULES = [ReleaseRule(days_before=1, local_time=time(9)), ReleaseRule(days_before=0,
         local_time=time(8)), ReleaseRule(days_before=3, local_time=time(9)),
         ReleaseRule(days_before=0, hours_before=1, local_time=None),
         ReleaseRule(days_before=0, hours_before=2, local_time=None),
         ReleaseRule(days_before=0, hours_before=0.5, local_time=None),
         ReleaseRule(days_before=0, hours_before=0, local_time=None)]

PACIFIC = {
    "id": "pacifique-2025",
    "title": {"fr": "Cycle de webinaires : la pêche durable dans le Pacifique",
              "en": "Webinar series: sustainable fisheries in the Pacific"},
    "organiser": {"name": {"fr": "Communauté du Pacifique (fictive)",
                           "en": "Pacific Community (fictional)"},
                  "email": "peche@example.nc", "url": "https://example.nc/peche"},
    "languages": ["fr", "en"], "default_language": "fr", "timezone": "Pacific/Noumea",
    "focus_countries": ["NC", "PF", "VU"],
    "audience": {"fr": "Agents des services des pêches et des collectivités du Pacifique.",
                 "en": "Fisheries officers and local governments of the Pacific."},
    "description": {"fr": "Trois séances pour partager les pratiques de gestion des stocks.",
                    "en": "Three sessions to share practices of stock management."},
    "practical_information": {"fr": "Les séances ont lieu en visioconférence.",
                              "en": "Sessions take place by video conference."},
    "registration": {"note": {"fr": "Le lien est envoyé la veille.",
                              "en": "The link is sent the day before."}},
    "sessions": [
        {"id": "s1", "label": {"fr": "Séance 1", "en": "Session 1"},
         "title": {"fr": "État des stocks de thonidés", "en": "The state of tuna stocks"},
         "start": "2025-11-05T09:00:00", "end": "2025-11-05T10:30:00",
         "topics": [{"fr": "Données de captures", "en": "Catch data"}],
         "exercises": [{"fr": "Comparer les indicateurs", "en": "Comparing indicators"}],
         "recording_url": "https://video.example.nc/peche/seance-1",
         "materials": [{"title": {"fr": "Diaporama", "en": "Slides"},
                        "url": "https://example.nc/peche/seance-1.pdf"}],
         "documents": [{"id": "note", "title": {"fr": "Note de cadrage", "en": "Concept note"},
                        "url": "https://example.nc/note.pdf"}]},
        {"id": "s2", "label": {"fr": "Séance 2", "en": "Session 2"},
         "title": {"fr": "Pêche côtière et aires marines", "en": "Coastal fishing"},
         "start": "2025-11-12T09:00:00", "end": "2025-11-12T10:30:00"},
        {"id": "s3", "label": {"fr": "Séance 3", "en": "Session 3"},
         "title": {"fr": "Synthèse", "en": "Synthesis"}, "status": "cancelled",
         "start": "2025-11-19T09:00:00", "end": "2025-11-19T10:30:00"},
    ],
}


# -- series ---------------------------------------------------------------------------------
def _reference_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    data["languages"] = list(BUILTIN_LANGUAGES)
    day2, day5 = data["sessions"][1], data["sessions"][4]
    day2["documents"].append({"id": "slides", "title": {"en": "Slides", "es": "Diapositivas"},
                              "url": "https://example.org/s3/slides.pdf"})
    day5["status"] = "cancelled"
    return data


@dataclass
class World:
    """A series written next to the reference's documents, and its variants."""

    folder: Path
    data: dict[str, Any]
    made: dict[str, Series] = field(default_factory=dict)

    def series(self, name: str = "series", **changes: Any) -> Series:
        """The series with top-level ``changes`` (``registration={...}`` …), loaded."""
        if name not in self.made:
            data = {**self.data, **changes}
            path = self.folder / f"{name}.yaml"
            path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
            self.made[name] = load_series(path)
        return self.made[name]


def _world(name: str, folder: Path) -> World:
    if name == "reference":
        shutil.copytree(REFERENCE.parent / "agendas", folder / "agendas")
        return World(folder, _reference_data())
    return World(folder, PACIFIC)


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> World:
    """The series named by the test's parameter: ``reference`` or ``pacific``."""
    return _world(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="module")
def pacific(tmp_path_factory: pytest.TempPathFactory) -> World:
    return _world("pacific", tmp_path_factory.mktemp("pacific"))


#: Every language of each series: the reference one declares all six.
CASES = [("reference", lang) for lang in BUILTIN_LANGUAGES] + [("pacific", "fr"),
                                                               ("pacific", "en")]


# -- outputs --------------------------------------------------------------------------------
Outputs = list[tuple[str, str]]


def message_outputs(series: Series, lang: str) -> Outputs:
    """Every message kind, in every format, for a participant in another zone."""
    renderer = MessageRenderer(series, base_url=BASE)
    zone = ZoneInfo("America/Lima" if series.timezone != "America/Lima" else "Asia/Tokyo")
    personal = {"name": PEOPLE.get(lang, "Ana"), "email": "p@example.org", "join_url": JOIN,
                "cancel_url": f"{BASE}/cancel/t", "confirm_url": f"{BASE}/confirm/t"}
    out: Outputs = []
    for kind in KINDS:
        linked = kind in ("link", "reminder", "update", "cancellation")
        after = kind in ("followup", "missed")  # about one session, with its materials
        message = renderer.render(
            kind, lang=lang, zone=zone, session=series.sessions[0] if linked or after else None,
            sessions=series.sessions[1:] if kind == "missed" else
            [] if linked or after else series.sessions,
            passcode="493 221" if linked else None, personal=personal)
        out += [(f"{kind} subject", message.subject), (f"{kind} text", message.text),
                (f"{kind} html", visible_html(message.html)), (f"{kind} short", message.short),
                (f"{kind} link label", message.facts.get("link_label", ""))]
    context = renderer.context("certificate", lang=lang, zone=zone, session=None,
                               sessions=series.sessions[:2])
    context.update(name=personal["name"], email=personal["email"], code="ABCD-EFGH-JKMN-PQRS")
    page = renderer.environment(lang).get_template("certificate.pdf.txt").render(context)
    return [*out, ("certificate page", page), *guessed_zone_outputs(series, lang, zone)]


def guessed_zone_outputs(series: Series, lang: str, zone: ZoneInfo) -> Outputs:
    """The confirmation and waiting-list notice to someone whose zone was guessed: the note
    with a link to the preferences page, and without an event page."""
    out: Outputs = []
    for base in (BASE, None):
        renderer = MessageRenderer(series, base_url=base)
        personal = {"name": PEOPLE.get(lang, "Ana"), "email": "p@example.org",
                    "cancel_url": renderer.cancel_url("t"),
                    "preferences_url": renderer.preferences_url("t")}
        for kind in ("confirmation", "waitlisted"):
            message = renderer.render(kind, lang=lang, zone=zone, sessions=series.sessions,
                                      zone_guessed=True, personal=personal)
            where = f"{kind} to a guessed zone{'' if base else ' without a page'}"
            out += [(f"{where} text", message.text), (f"{where} html", visible_html(
                message.html)), (f"{where} short", message.short)]
    return out


def release_note_outputs(series: Series, lang: str) -> Outputs:
    """The confirmation's "you will receive the link …" for every kind of release rule."""
    out: Outputs = []
    for rule in RULES:
        changed = series.model_copy(update={
            "dispatch": series.dispatch.model_copy(update={"link": rule})})
        message = MessageRenderer(changed).render(
            "confirmation", lang=lang, zone=ZoneInfo(series.timezone),
            sessions=series.sessions, personal={"name": "Ana", "email": "a@example.org"})
        out.append((f"release note {rule}", message.short))
    return out


def calendar_outputs(series: Series, lang: str) -> Outputs:
    feed = series_calendar(series, lang=lang, join_urls={series.sessions[0].id: JOIN},
                           dtstamp=NOW)
    cancel = session_invitation(series, series.sessions[1], lang=lang, method="CANCEL",
                                sequence=2, attendees=[("Ana", "a@example.org")], dtstamp=NOW)
    return [("calendar feed", calendar_text(to_ics(feed))),
            ("calendar cancel", calendar_text(to_ics(cancel)))]


_SITES: dict[int, dict[str, bytes]] = {}


def agenda_and_site_outputs(series: Series, lang: str) -> Outputs:
    if id(series) not in _SITES:
        _SITES[id(series)] = site_files(series, base_url=BASE, now=NOW)
    files = _SITES[id(series)]
    prefix = "" if lang == series.default_language else f"{lang}/"
    return [("agenda md", render_agenda(series, lang=lang, fmt="md")),
            ("agenda html", visible_html(render_agenda(series, lang=lang, fmt="html"))),
            ("site page", visible_html(files[prefix + "index.html"].decode())),
            ("site calendar", calendar_text(files[prefix + f"calendar/{series.id}.ics"]))]


# -- the web app ----------------------------------------------------------------------------
@dataclass
class Web:
    """One app of the event page and a fresh client address per post (one post each)."""

    app: Any
    store: Any
    series: Series
    posts: Iterator[int] = field(default_factory=lambda: iter(range(1, 250)))

    def client(self, lang: str) -> Any:
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.9.{next(self.posts)}.1"
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        return client

    def prefix(self, lang: str) -> str:
        return "" if lang == self.series.default_language else f"/{lang}"


def _app(series: Series, folder: Path, clock: datetime = NOW) -> Web:
    from s3events.web import RateLimit, create_app

    store = open_store(folder / f"{series.id}-{len(list(folder.iterdir()))}.db")
    app = create_app(series, store=store, base_url=BASE, clock=lambda: clock,
                     rate_limit=RateLimit(1, 600), dispatch=False, environ={})
    return Web(app, store, series)


@pytest.fixture(scope="module")
def apps(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Web]]:
    folder = tmp_path_factory.mktemp("states")
    base = world.series()
    registration = dict(world.data.get("registration") or {})
    made = {
        "main": _app(base, folder),
        "full": _app(world.series("full", registration={**registration, "capacity": 1}),
                     folder),
        "direct": _app(world.series("direct", registration={
            **registration, "double_opt_in": False}), folder),
        "closed": _app(world.series("closed", registration={**registration, "open": False}),
                       folder),
        "past": _app(base, folder, clock=base.sessions[-1].ends_at + timedelta(days=1)),
        "broken": _app(base, folder),
    }
    with made["broken"].store.begin() as conn:  # a state database that fails every read
        conn.execute(sqlalchemy.text("DROP TABLE s3e_registrations"))
    register(made["full"].store, made["full"].series,
             {"name": "Seat Holder", "email": "seat@example.org", "sessions": "all",
              "language": base.default_language}, now=NOW)
    yield made
    for web in made.values():
        web.store.close()


def _csrf(client: Any, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(True))
    assert found is not None, f"no form with a CSRF token at {path}"
    return found.group(1)


def _form(web: Web, lang: str, email: str, **fields: Any) -> dict[str, Any]:
    sessions = [s.id for s in web.series.sessions if not s.cancelled]
    data = {"name": PEOPLE[lang], "email": email, "language": lang,
            "timezone": "America/Lima", "country": "PE", "organisation": "Ministerio",
            "sector": "academia", "sessions": sessions, "consent": "yes", **fields}
    return {k: v for k, v in data.items() if v is not None}


def _post(web: Web, lang: str, path: str, data: dict[str, Any], *,
          csrf_from: str | None = None) -> Any:
    client = web.client(lang)
    token = _csrf(client, csrf_from or (web.prefix(lang) + "/"))
    return client, client.post(path, data={**data, "csrf_token": token})


def _page(response: Any, expected: int = 200) -> str:
    assert response.status_code == expected, response.get_data(True)[:500]
    return visible_html(response.get_data(True))


def form_outputs(web: Web, lang: str) -> Outputs:
    """The form, then the form again with every validation error."""
    p = web.prefix(lang)
    out = [("form", _page(web.client(lang).get(p + "/")))]
    bad = _form(web, lang, "not-an-email", name="x" * 201, language="xx", timezone="",
                country="Atlantis", organisation="y" * 201, sector="piracy", sessions=None,
                consent=None)
    out.append(("form errors", _page(_post(web, lang, p + "/register", bad)[1], 422)))
    unnamed = _form(web, lang, "a@example.org", name="")
    out.append(("form no name", _page(_post(web, lang, p + "/register", unnamed)[1], 422)))
    return out


def refusal_outputs(web: Web, lang: str) -> Outputs:
    """Honeypot, expired form, rate limit, a broken link, a page that is not there."""
    p = web.prefix(lang)
    honeypot = _form(web, lang, "bot@example.org", website="https://spam.example")
    out = [("honeypot", _page(_post(web, lang, p + "/register", honeypot)[1], 400))]
    client = web.client(lang)
    expired = client.post(p + "/register", data={**_form(web, lang, "e@example.org"),
                                                 "csrf_token": "forged.token"})
    out.append(("expired form", _page(expired, 400)))
    out.append(("rate limit", _page(client.post(p + "/register", data={}), 429)))
    out.append(("invalid link", _page(web.client(lang).get("/confirm/no-such-token"), 404)))
    out.append(("not found", _page(web.client(lang).get("/no/such/page"), 404)))
    return out


def _token(web: Web, email: str) -> str:
    reg = get_registration(web.store, web.series.id, email)
    assert reg is not None and reg.token is not None
    return reg.token.get_secret_value()


def _press(web: Web, lang: str, path: str) -> Any:
    client = web.client(lang)
    page = client.get(path).get_data(True)
    found = re.search(r'<form method="post" action="([^"]+)">\s*<input type="hidden" '
                      r'name="csrf_token" value="([^"]+)">', page)
    assert found is not None, f"no button at {path}"
    return page, client.post(found.group(1), data={"csrf_token": found.group(2)})


def opt_in_outputs(web: Web, lang: str, tag: str) -> Outputs:
    """Register, read "check your inbox", confirm, then cancel, then open the link again."""
    p, email = web.prefix(lang), f"{lang}.{tag}@example.org"
    client, response = _post(web, lang, p + "/register", _form(web, lang, email))
    assert response.status_code == 303, response.get_data(True)[:500]
    out = [(f"{tag} registered", _page(client.get(response.headers["Location"])))]
    token = _token(web, email)
    asked, confirmed = _press(web, lang, f"/confirm/{token}")
    out += [(f"{tag} confirm asks", visible_html(asked)),
            (f"{tag} after confirm", _page(confirmed))]
    if tag == "main":
        asked, cancelled = _press(web, lang, f"/cancel/{token}")
        out += [("cancel asks", visible_html(asked)), ("cancelled", _page(cancelled)),
                ("link of a cancelled registration",
                 _page(web.client(lang).get(f"/confirm/{token}")))]
    return out


def direct_outputs(web: Web, lang: str) -> Outputs:
    p = web.prefix(lang)
    data = _form(web, lang, f"{lang}.direct@example.org")
    client, response = _post(web, lang, p + "/register", data)
    assert response.status_code == 303
    return [("registered without opt-in", _page(client.get(response.headers["Location"])))]


def preferences_outputs(web: Web, lang: str) -> Outputs:
    """The preferences page of someone whose zone was guessed, refused values, saved ones."""
    reg = register(web.store, web.series, {"name": PEOPLE[lang], "email": f"{lang}.p@example.org",
                                           "sessions": "all", "language": lang}, now=NOW)
    assert reg.zone_guessed
    path = f"/preferences/{reg.token.get_secret_value()}"
    out = [("preferences", _page(web.client(lang).get(path)))]
    for where, data, status in (
            ("preferences refused", {"timezone": "Mars/Base", "language": "xx"}, 422),
            ("preferences saved", {"timezone": "America/Lima", "language": lang}, 200)):
        client = web.client(lang)
        token = _csrf(client, path)
        out.append((where, _page(client.post(path, data={**data, "csrf_token": token}),
                                 status)))
    return out


def web_outputs(apps: dict[str, Web], lang: str) -> Outputs:
    out = form_outputs(apps["main"], lang) + refusal_outputs(apps["main"], lang)
    out += preferences_outputs(apps["main"], lang)
    out += opt_in_outputs(apps["main"], lang, "main")
    out += [("full form", _page(apps["full"].client(lang).get(apps["full"].prefix(lang) + "/")))]
    out += opt_in_outputs(apps["full"], lang, "full") + direct_outputs(apps["direct"], lang)
    for name in ("closed", "past"):
        web = apps[name]
        out.append((f"{name} page", _page(web.client(lang).get(web.prefix(lang) + "/"))))
    out.append(("server problem", _page(apps["broken"].client(lang).get("/confirm/x"), 503)))
    return out


# -- the tests ------------------------------------------------------------------------------
def _cleaner(series: Series) -> Cleaner:
    return Cleaner.for_series(series, *PEOPLE.values(), "Seat Holder", "Ana")


def _check(outputs: Outputs, lang: str, clean: Cleaner) -> None:
    problems = [f"{where}: {found}" for where, text in outputs
                if (found := mixed_phrases(text, lang, clean))]
    assert problems == [], f"{lang}: other languages' phrases in\n" + "\n".join(problems)
    assert uncovered([text for _, text in outputs], lang, exempt=EXEMPT) == []


@pytest.mark.parametrize(("world", "lang"), CASES, indirect=["world"])
def test_everything_a_participant_reads_is_in_their_language(
        world: World, apps: dict[str, Web], lang: str) -> None:
    series = world.series()
    outputs = (message_outputs(series, lang) + release_note_outputs(series, lang)
               + calendar_outputs(series, lang) + agenda_and_site_outputs(series, lang)
               + web_outputs(apps, lang))
    _check(outputs, lang, _cleaner(series))


@pytest.mark.parametrize("world", ["pacific"], indirect=True)
def test_the_check_finds_a_phrase_left_in_english(world: World, tmp_path: Path) -> None:
    """A catalog that leaves one phrase in English is caught: the test can fail."""
    lang = "fr"
    series = world.series()
    folder = tmp_path / "tr"
    folder.mkdir()
    (folder / f"{lang}.po").write_text(
        f'msgid ""\nmsgstr ""\n"Language: {lang}\\n"\n"Content-Type: text/plain; '
        'charset=utf-8\\n"\n\nmsgid "Passcode:"\nmsgstr "Passcode:"\n', encoding="utf-8")
    changed = world.series("leaky", translations=str(folder))
    outputs = message_outputs(changed, lang)
    found = [m for _, text in outputs for m in mixed_phrases(text, lang, _cleaner(series))]
    assert ("Passcode", "en") in found


def test_the_coverage_check_notices_a_message_never_shown(pacific: World) -> None:
    only_messages = [t for _, t in message_outputs(pacific.series(), "fr")]
    assert "Fields marked * are required." in uncovered(only_messages, "fr")


def _assert_in(where: str, text: str, *expected: str) -> None:
    for item in expected:
        assert item in text, f"{where}: {item!r} missing"


def test_french_participants_see_french_titles_everywhere(pacific: World) -> None:
    series = pacific.series()
    outputs = dict(message_outputs(series, "fr") + calendar_outputs(series, "fr")
                   + agenda_and_site_outputs(series, "fr"))
    title, session = "Cycle de webinaires", "Séance 1\u00a0: État des stocks de thonidés"
    _assert_in("link subject", outputs["link subject"], session)
    _assert_in("link text", outputs["link text"], session, title)
    _assert_in("calendar", outputs["calendar feed"], session, title)
    _assert_in("agenda", outputs["agenda md"], "### " + session, "# " + title)
    _assert_in("followup text", outputs["followup text"],
               "Enregistrement\u00a0: https://", "- Diaporama\u00a0: https://")
    for where, text in outputs.items():
        assert "The state of tuna stocks" not in text and "Webinar series" not in text, where


def test_english_participants_of_a_french_series_read_english(pacific: World) -> None:
    outputs = dict(message_outputs(pacific.series(), "en"))
    _assert_in("link text", outputs["link text"], "Session 1: The state of tuna stocks",
               "(Nouméa time)", "Hello Kim Lee,")



def test_every_message_kind_with_packaged_templates_is_rendered_here() -> None:
    from s3events.templating import TEMPLATES_DIR

    packaged = {p.name.split(".")[0] for p in (TEMPLATES_DIR / "messages").glob("*.subject.txt")}
    assert packaged == set(KINDS), "a new message kind: add it to s3events.render.KINDS"
