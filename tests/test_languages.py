"""The participant's language, end to end: the rule, validate, organiser catalogs, delivery.

What the issue's "done" means, through the real entry points: the reference series extended
to fr, de and it and an English/French Pacific series, sent through a real SMTP server
(aiosmtpd); a Finnish series that validate refuses until ``s3events translations init``
starts its catalog, which the test then fills in; a language the series does not declare
refused by ``register()``, the import and the form; catalogs from a plugin; the template
hook applied to every environment.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from babel.messages.pofile import read_po, write_po
from icalendar import Calendar

from s3events.agenda import render_agenda
from s3events.catalogs import message_ids
from s3events.dispatch import dispatch
from s3events.errors import InputError
from s3events.hookspecs import hookimpl
from s3events.i18n import LanguageNotOffered, check_language, series_language
from s3events.importing import import_registrations
from s3events.loading import load_series
from s3events.models import Series
from s3events.plugins import get_plugin_manager
from s3events.registrations import get_registration, register
from s3events.render import MessageRenderer, render_message
from s3events.site import site_files
from s3events.store import open_store
from tests.fixtures.series import REFERENCE, minimal_series_data
from tests.purity import Cleaner, calendar_text, mixed_phrases, visible_html
from tests.test_cli_core import run
from tests.test_dispatch_support import provision
from tests.test_language_purity import PACIFIC

UTC = timezone.utc
EARLY = datetime(2021, 10, 20, 8, 0, tzinfo=UTC)


# -- the rule ---------------------------------------------------------------------------------
def _series(write_series: Callable[..., Path], **top: Any) -> Series:
    return load_series(write_series(minimal_series_data(**top)))


def test_a_language_is_one_of_the_series_languages_in_any_spelling(write_series: Any) -> None:
    series = _series(write_series, languages=["en", "es", "pt-BR"])
    assert [check_language(series, tag) for tag in ("es", "ES", "es-MX", "pt_br", "pt")] == [
        "es", "es", "es", "pt-BR", "pt-BR"]
    with pytest.raises(LanguageNotOffered) as refused:
        check_language(series, "fr")
    assert str(refused.value) == ("language 'fr' is not offered by this series; use one of "
                                  "en, es, pt-BR")
    assert isinstance(refused.value, InputError) and series_language(series, None) is None


def test_register_refuses_a_language_the_series_does_not_declare(
        write_series: Any, tmp_path: Path) -> None:
    series = _series(write_series)
    store = open_store(tmp_path / "state.db")
    person = {"name": "Luc Martin", "email": "luc@example.org", "sessions": "all"}
    with pytest.raises(InputError, match="language 'fr' is not offered by this series; use "
                                         "one of en, es"):
        register(store, series, {**person, "language": "Français"}, now=EARLY)
    assert get_registration(store, series.id, "luc@example.org") is None
    reg = register(store, series, {**person, "language": "es-MX"}, now=EARLY)
    assert reg.language == "es"
    store.close()


@pytest.mark.parametrize(("name", "code"), [("suomi", "fi"), ("中文", "zh"), ("日本語", "ja"),
                                           ("русский", "ru"), ("Français", "fr")])
def test_a_language_given_by_its_own_name_is_named_as_not_offered(
        write_series: Any, tmp_path: Path, name: str, code: str) -> None:
    series = _series(write_series)
    with open_store(tmp_path / "state.db") as store, \
            pytest.raises(InputError, match=f"language '{code}' is not offered"):
        register(store, series, {"name": "Aino", "email": "aino@example.org",
                                 "language": name}, now=EARLY)


def test_the_import_refuses_the_row_and_keeps_the_others(write_series: Any,
                                                         tmp_path: Path) -> None:
    series = _series(write_series)
    rows = tmp_path / "people.csv"
    rows.write_text("name,email,language,sessions\nAna Lima,ana@example.org,pt,all\n"
                    "Kim Lee,kim@example.org,en,all\n", encoding="utf-8")
    store = open_store(tmp_path / "state.db")
    report = import_registrations(store, series, rows, now=EARLY)
    assert [(p.line, p.path, p.message) for p in report.problems] == [
        (2, "language", "language 'pt' is not offered by this series; use one of en, es")]
    assert get_registration(store, series.id, "kim@example.org") is not None
    store.close()


def test_the_form_refuses_a_language_it_does_not_offer(web_app: Any) -> None:
    from tests.test_web import counts, errors, post

    test = web_app()
    response = post(test.client(), "/es/register", language="fr")
    assert response.status_code == 422
    assert errors(response.get_data(True)) == {
        "language": "Elija uno de los idiomas de la lista."}
    assert counts(test.store) == (0, 0)


def test_a_stored_language_the_series_dropped_gets_the_default_language(
        write_series: Any) -> None:
    renderer = MessageRenderer(_series(write_series))
    assert (renderer.language("fr"), renderer.language("es-AR"), renderer.language(None)) == (
        "en", "es", "en")


# -- validate ---------------------------------------------------------------------------------
FINNISH = {
    "Hello %(name)s,": "Hei %(name)s,",
    "Here is your link to join the session:": "Tässä on linkkisi istuntoon:",
    "Join the session": "Liity istuntoon",
    "Passcode:": "Pääsykoodi:",
    "When:": "Milloin:", "When": "Milloin",
    "Organiser's time:": "Järjestäjän aika:", "Organiser's time": "Järjestäjän aika",
    "Topics:": "Aiheet:", "Topics": "Aiheet",
    "Documents:": "Asiakirjat:", "Documents": "Asiakirjat",
    "The link is personal to this series: please do not share it.":
        "Linkki on tarkoitettu vain ilmoittautuneille: älä jaa sitä.",
    "To cancel your registration, follow this link:":
        "Voit perua ilmoittautumisesi tästä linkistä:",
    "Cancel my registration": "Peru ilmoittautumiseni",
    "Your link for %(session)s – %(date)s": "Linkkisi: %(session)s – %(date)s",
    "Registration confirmed: %(series)s": "Ilmoittautuminen vahvistettu: %(series)s",
    "Your registration for %(series)s is confirmed. Your sessions:":
        "Ilmoittautumisesi tapahtumaan %(series)s on vahvistettu. Istuntosi:",
    "You will receive the link to each session %(when)s.":
        "Saat kunkin istunnon linkin %(when)s.",
    "the day before, at %(time)s your time": "edellisenä päivänä klo %(time)s omaa aikaasi",
    "cancelled": "peruttu", "Cancelled": "Peruttu", "Cancelled: %(session)s": "Peruttu: "
    "%(session)s", "Join": "Liity", "Join: %(link)s": "Liittymislinkki: %(link)s",
    "Online": "Verkossa", "Interactive exercise will aim at:":
        "Vuorovaikutteisen harjoituksen tavoitteet:",
}


def finnish_series(folder: Path, **top: Any) -> Path:
    data = minimal_series_data(
        id="kevat-2021", title={"en": "Spring seminars", "fi": "Kevään seminaarit"},
        languages=["en", "fi"], timezone="Europe/Helsinki", **top)
    for session, fi in zip(data["sessions"], ("Ensimmäinen", "Toinen"), strict=True):
        session["title"] = {"en": session["title"]["en"], "fi": fi}
        session["topics"] = [{"en": "Regional policy", "fi": "Aluepolitiikka"}]
    path = folder / "series.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def fill(po: Path, strings: dict[str, str], *, rest: Callable[[str], str] | None) -> None:
    """Translate ``po`` as a translator would: ``strings``, then ``rest(msgid)`` (or leave)."""
    catalog = read_po(po.open("rb"))
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        texts = [strings.get(ids[0]) or (rest(i) if rest else "") for i in ids]
        message.flags.discard("fuzzy")
        if isinstance(message.id, str):
            message.string = texts[0]
        else:
            message.string = tuple(texts[min(n, len(texts) - 1)]
                                   for n in range(catalog.num_plurals))
    buffer = io.BytesIO()
    write_po(buffer, catalog)
    po.write_bytes(buffer.getvalue())


def test_a_language_without_a_catalog_fails_validate_with_the_command_to_start_one(
        tmp_path: Path) -> None:
    path = finnish_series(tmp_path)
    result = run("validate", str(path))
    assert result.code == 2
    assert f"{path}:10: languages.1: language 'fi' has no catalog" in result.stderr
    assert "s3events translations init fi -o translations/" in result.stderr
    assert "translations: translations" in result.stderr


def test_an_incomplete_catalog_validates_with_a_warning_listing_what_is_missing(
        tmp_path: Path) -> None:
    assert run("translations", "init", "fi", "-o", str(tmp_path / "tr")).code == 0
    fill(tmp_path / "tr" / "fi.po", FINNISH, rest=None)
    path = finnish_series(tmp_path, translations="tr")
    result = run("validate", str(path))
    assert result.code == 0, result.stderr
    missing = len(message_ids()) - len(FINNISH)
    assert (f"warning: the catalog for 'fi' lacks {missing} of {len(message_ids())} "
            "messages, which fi participants would read in English: ") in result.stderr
    assert '"%(days)s day before, at %(time)s your time"' in result.stderr
    assert "`s3events translations check FOLDER` lists them all" in result.stderr


def test_a_catalog_that_cannot_be_filled_in_fails_validate(tmp_path: Path) -> None:
    run("translations", "init", "fi", "-o", str(tmp_path / "tr"))
    fill(tmp_path / "tr" / "fi.po", {"Hello %(name)s,": "Hei %(nimi)s,"}, rest=None)
    result = run("validate", str(finnish_series(tmp_path, translations="tr")))
    assert result.code == 2
    assert "fi.po" in result.stderr and "'Hello %(name)s,' cannot be filled in" in result.stderr


def test_a_missing_catalog_is_named_beside_the_files_other_errors(tmp_path: Path) -> None:
    data = minimal_series_data(languages=["en", "fi"])  # and its texts in Spanish: errors
    path = tmp_path / "series.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = run("validate", str(path))
    assert result.code == 2
    assert "text in language 'es'" in result.stderr
    assert "language 'fi' has no catalog" in result.stderr
    assert "translations init fi" in result.stderr and "Traceback" not in result.stderr


def test_a_translations_folder_that_does_not_exist_fails_validate(tmp_path: Path) -> None:
    result = run("validate", str(finnish_series(tmp_path, translations="missing")))
    assert result.code == 2
    assert "translations: folder" in result.stderr and "does not exist" in result.stderr


def test_a_language_cldr_does_not_know_is_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "tr"
    run("translations", "init", "tlh", "-o", str(folder))
    fill(folder / "tlh.po", {}, rest=lambda msgid: msgid)
    data = minimal_series_data(languages=["en", "es", "tlh"], translations="tr")
    path = tmp_path / "series.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = run("validate", str(path))
    assert result.code == 0
    assert "CLDR has no data for 'tlh'" in result.stderr
    assert "3 text(s) have no 'tlh' version (first: title)" in result.stderr


def test_validate_names_the_language_texts_are_really_read_in(tmp_path: Path) -> None:
    def english_only(value: Any) -> Any:
        if isinstance(value, dict):
            kept = {k: english_only(v) for k, v in value.items() if k != "es"}
            return kept
        return [english_only(v) for v in value] if isinstance(value, list) else value

    data = english_only(minimal_series_data(languages=["de", "it", "en"]))
    data["default_language"] = "de"  # every text is in English only
    path = tmp_path / "series.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = run("validate", str(path))
    assert result.code == 0, result.stderr
    assert "have no 'it' version" in result.stderr
    assert "it participants read them in 'en'" in result.stderr
    assert "de participants (the default language) read them in 'en'" in result.stderr
    assert "read them in 'de'" not in result.stderr


# -- s3events translations -------------------------------------------------------------------
def test_init_writes_every_message_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "tr"
    result = run("translations", "init", "fi", "-o", str(out))
    assert result.code == 0
    assert f"wrote {out / 'fi.po'}: {len(message_ids())} messages to translate" in result.stdout
    catalog = read_po((out / "fi.po").open("rb"))
    assert str(catalog.locale) == "fi" and catalog.num_plurals == 2 and not catalog.fuzzy
    assert sorted(m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id) == \
        sorted(message_ids())
    again = run("translations", "init", "fi", "-o", str(out))
    assert again.code == 2 and "exists" in again.stderr and "--force" in again.stderr
    assert run("translations", "init", "fi", "-o", str(out), "--force").code == 0
    bad = run("translations", "init", "Finnish!", "-o", str(out))
    assert bad.code == 2 and "not a language code" in bad.stderr


def test_init_for_a_shipped_language_says_empty_messages_keep_the_builtin_ones(
        tmp_path: Path) -> None:
    result = run("translations", "init", "es-MX", "-o", str(tmp_path))
    assert result.code == 0
    assert "messages you leave empty keep the built-in translation" in result.stdout


def test_check_reports_missing_and_fuzzy_messages_with_exit_codes(tmp_path: Path) -> None:
    folder = tmp_path / "tr"
    run("translations", "init", "fi", "-o", str(folder))
    run("translations", "init", "es", "-o", str(folder))
    fill(folder / "fi.po", FINNISH, rest=None)
    fill(folder / "es.po", {"Hello %(name)s,": "Hola, %(name)s:"}, rest=None)
    result = run("translations", "check", str(folder), "--json")
    assert result.code == 1
    reports = {r["language"]: r for r in json.loads(result.stdout)["catalogs"]}
    assert reports["fi"]["translated"] == len(FINNISH) and not reports["fi"]["complete"]
    assert "Register" in reports["fi"]["missing"]
    assert reports["es"]["complete"] and reports["es"]["builtin"]
    fill(folder / "fi.po", FINNISH, rest=lambda msgid: f"FI {msgid}")
    text = (folder / "fi.po").read_text("utf-8").replace(
        'msgid "Register"', '#, fuzzy\nmsgid "Register"')
    (folder / "fi.po").write_text(text, encoding="utf-8")
    result = run("translations", "check", str(folder))
    assert result.code == 1
    assert 'fuzzy (ignored until reviewed): "Register"' in result.stdout
    fill(folder / "fi.po", FINNISH, rest=lambda msgid: f"FI {msgid}")
    assert run("translations", "check", str(folder)).code == 0


def test_check_refuses_a_broken_catalog_and_a_folder_without_any(tmp_path: Path) -> None:
    (tmp_path / "fi.po").write_text('msgid "x"\nmsgid "y"\n', encoding="utf-8")
    result = run("translations", "check", str(tmp_path))
    assert result.code == 2 and "not a readable gettext catalog" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("translations", "check", str(empty))
    assert result.code == 2 and "translations init LANG" in result.stderr


def test_update_adds_the_messages_of_a_newer_version(tmp_path: Path) -> None:
    run("translations", "init", "fi", "-o", str(tmp_path))
    po = tmp_path / "fi.po"
    fill(po, FINNISH, rest=None)
    text = po.read_text("utf-8")
    start = text.index('msgid "Register"')
    po.write_text(text[:start] + text[text.index("\n\n", start) + 2:], encoding="utf-8")
    result = run("translations", "update", str(tmp_path))
    assert result.code == 0 and f"updated {po}: 1 new message(s)" in result.stdout
    catalog = read_po(po.open("rb"))
    assert catalog["Register"] is not None and catalog["Hello %(name)s,"].string == (
        "Hei %(name)s,")


# -- delivery ---------------------------------------------------------------------------------
def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _parts(mail: EmailMessage) -> dict[str, str]:
    html = mail.get_body(("html",))
    out = {"subject": str(mail["Subject"]), "text": _text(mail),
           "html": str(html.get_content()) if html is not None else ""}
    for part in mail.walk():
        if part.get_content_type() == "text/calendar":
            out["calendar"] = calendar_text(part.get_content())
    return out


def _deliver(series: Series, people: list[tuple[str, str, str]], tmp_path: Path,
             smtp: Any) -> dict[str, list[EmailMessage]]:
    """Register ``(email, language, zone)`` people, send confirmations, then every link."""
    store = open_store(tmp_path / "state.db")
    provision(store, series)
    for email, lang, zone in people:
        register(store, series, {"name": email.split("@")[0].title(), "email": email,
                                 "language": lang, "timezone": zone, "sessions": "all"},
                 now=EARLY)
    dispatch(store, series, now=EARLY, transport=smtp.url)
    for session in series.sessions:  # each link goes before its session starts, never late
        dispatch(store, series, now=session.start - timedelta(minutes=1), transport=smtp.url)
    store.close()
    received: dict[str, list[EmailMessage]] = {}
    for message in smtp.messages:
        received.setdefault(message.rcpt_tos[0], []).append(message.email)
    return received


def _reference_with(tmp_path: Path, languages: list[str]) -> Series:
    folder = tmp_path / "series"
    shutil.copytree(REFERENCE.parent, folder)
    data = yaml.safe_load((folder / "series.yaml").read_text("utf-8"))
    data["languages"] = languages
    (folder / "series.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return load_series(folder / "series.yaml")


DATES = {"fr": "jeudi 28 octobre 2021, 17:00–19:30 (heure de Paris)",
         "de": "Donnerstag, 28. Oktober 2021, 17:00–19:30 (Ortszeit Berlin)",
         "it": "giovedì 28 ottobre 2021, 17:00–19:30 (ora di Roma)"}
ZONES = {"fr": "Europe/Paris", "de": "Europe/Berlin", "it": "Europe/Rome"}


def test_the_reference_series_in_french_german_and_italian(tmp_path: Path,
                                                          smtp_server: Any) -> None:
    series = _reference_with(tmp_path, ["en", "es", "fr", "de", "it"])
    people = [(f"{lang}@example.org", lang, ZONES[lang]) for lang in ("fr", "de", "it")]
    received = _deliver(series, people, tmp_path, smtp_server)
    clean = Cleaner.for_series(series)
    for email, lang, _zone in people:
        mails = received[email]
        assert len(mails) == 5 + 1  # a confirmation, then one link per session
        for mail in mails:
            assert mail["Content-Language"] == lang
            for part, text in _parts(mail).items():
                assert mixed_phrases(text, lang, clean) == [], (lang, mail["Subject"], part)
        assert any(DATES[lang] in _text(m) for m in mails[1:]), lang  # day 1's link
        for fmt in ("md", "html"):
            agenda = render_agenda(series, lang=lang, fmt=fmt)
            agenda = visible_html(agenda) if fmt == "html" else agenda
            assert mixed_phrases(agenda, lang, clean) == []
        files = site_files(series, now=EARLY)
        assert mixed_phrases(calendar_text(files[f"{lang}/calendar/{series.id}.ics"]), lang,
                             clean) == []


def test_french_participants_of_a_pacific_series_read_french_titles(
        tmp_path: Path, smtp_server: Any, write_series: Any) -> None:
    data = {**PACIFIC, "window": None, "sessions": PACIFIC["sessions"][:2]}
    data["sessions"] = [{**s, "start": s["start"].replace("2025", "2021").replace(
        "11-05", "10-28").replace("11-12", "11-04"), "end": s["end"].replace("2025", "2021")
        .replace("11-05", "10-28").replace("11-12", "11-04")} for s in data["sessions"]]
    series = load_series(write_series(data))
    received = _deliver(series, [("marie@example.nc", "fr", "Pacific/Noumea"),
                                 ("tom@example.org", "en", "Australia/Sydney")],
                        tmp_path, smtp_server)
    links = [m for m in received["marie@example.nc"] if "calendar" in _parts(m)]
    first = _parts(links[0])
    assert links[0]["Content-Language"] == "fr"
    assert first["subject"].startswith("Votre lien pour Séance 1\u00a0: État des stocks")
    assert "Cycle de webinaires" in first["text"] and "Thèmes\u00a0:" in first["text"]
    event = Calendar.from_ical(next(p for p in links[0].walk() if p.get_content_type()
                                    == "text/calendar").get_content()).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Séance 1\u00a0: État des stocks de thonidés"
    english = _parts(received["tom@example.org"][1])
    assert "Session 1: The state of tuna stocks" in english["subject"]
    assert received["tom@example.org"][0]["Content-Language"] == "en"


def test_finnish_participants_get_finnish_messages_once_the_catalog_is_filled_in(
        tmp_path: Path, smtp_server: Any) -> None:
    path = finnish_series(tmp_path)
    assert run("validate", str(path)).code == 2
    assert run("translations", "init", "fi", "-o", str(tmp_path / "tr")).code == 0
    fill(tmp_path / "tr" / "fi.po", FINNISH, rest=lambda msgid: f"[fi] {msgid}")
    path = finnish_series(tmp_path, translations="tr")
    checked = run("validate", str(path))
    assert checked.code == 0 and "warning" not in checked.stderr, checked.stderr
    received = _deliver(load_series(path), [("aino@example.fi", "fi", "Europe/Helsinki")],
                        tmp_path, smtp_server)
    confirmation, link = received["aino@example.fi"][:2]
    assert confirmation["Content-Language"] == link["Content-Language"] == "fi"
    assert confirmation["Subject"] == "Ilmoittautuminen vahvistettu: Kevään seminaarit"
    assert link["Subject"] == "Linkkisi: Ensimmäinen – torstai 28. lokakuuta 2021"
    text = _text(link)
    assert "Hei Aino," in text and "Tässä on linkkisi istuntoon:" in text
    assert "Milloin: torstai 28. lokakuuta 2021, 17.00–19.30 (aikavyöhyke: Helsinki)" in text
    assert "Saat kunkin istunnon linkin edellisenä päivänä klo 9.00 omaa aikaasi." in \
        _text(confirmation)
    english = {m for m in message_ids() if m not in FINNISH}
    for mail in (confirmation, link):
        for part, body in _parts(mail).items():
            assert "[fi]" not in body, (part, body)
            assert not [m for m in english if len(m) > 8 and m in body], part


# -- plugins ----------------------------------------------------------------------------------
def test_a_plugin_can_bring_a_language(tmp_path: Path, write_series: Any) -> None:
    run("translations", "init", "fi", "-o", str(tmp_path / "plugin"))
    fill(tmp_path / "plugin" / "fi.po", FINNISH, rest=lambda msgid: f"[fi] {msgid}")

    class Finnish:
        @hookimpl
        def s3events_register_translations(self) -> list[str]:
            return [str(tmp_path / "plugin")]

    path = finnish_series(tmp_path)
    pm = get_plugin_manager()
    pm.register(Finnish(), name="finnish-test")
    try:
        assert run("validate", str(path)).code == 0
        message = render_message(load_series(path), "confirmation", lang="fi", name="Aino")
    finally:
        pm.unregister(name="finnish-test")
    assert message.subject == "Ilmoittautuminen vahvistettu: Kevään seminaarit"
    assert run("validate", str(path)).code == 2


def test_prepare_jinja2_environment_applies_to_every_kind_of_template(
        tmp_path: Path, write_series: Any) -> None:
    seen: list[str] = []

    class Shout:
        @hookimpl
        def s3events_prepare_jinja2_environment(self, env: Any) -> None:
            seen.append(type(env).__name__)
            env.filters["shout"] = lambda text: f"{text}".upper() + "!"
            env.filters["paragraphs"] = lambda text: [p.upper() for p in str(text or "")
                                                      .split("\n\n") if p.strip()]

    series = _series(write_series, description={"en": "quiet words", "es": "palabras"})
    pm = get_plugin_manager()
    pm.register(Shout(), name="shout-test")
    try:
        files = site_files(series, now=EARLY, pm=pm)
        from s3events.catalogs import Catalogs
        from s3events.templating import template_environment

        env = template_environment("site", translations=Catalogs().translations("en"))
        page = env.from_string('{% extends "base.html" %}{% block main %}{{ title|shout }}'
                               '{% endblock %}').render(
            lang="en", dir="ltr", title="Demo", summary="", root="", languages=[],
            organiser="Demo Centre", organiser_url=None)
        templates = tmp_path / "templates"
        templates.mkdir()
        (templates / "link.subject.txt").write_text("{{ series.title|shout }}")
        rendered = MessageRenderer(series, templates=templates, pm=pm).render(
            "link", lang="en", zone=series.zone, session=series.sessions[0],
            personal={"name": "Ana", "email": "a@example.org", "join_url": "https://x.example"})
        agenda = render_agenda(series, lang="en", fmt="md", pm=pm)
    finally:
        pm.unregister(name="shout-test")
    assert "<p>QUIET WORDS</p>" in files["index.html"].decode()
    assert "DEMO!" in page
    assert rendered.subject == "DEMO SERIES!"
    assert "quiet words" in agenda  # the agenda prints the text as written, hook applied
    assert {"Environment", "SandboxedEnvironment"} <= set(seen)


def test_catalog_text_and_values_are_escaped_in_html_only(tmp_path: Path,
                                                         write_series: Any) -> None:
    folder = tmp_path / "tr"
    folder.mkdir()
    (folder / "es.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n'
        '\nmsgid "Hello %(name)s,"\nmsgstr "<b>Hola</b> & bienvenido, %(name)s:"\n',
        encoding="utf-8")
    series = _series(write_series, translations=str(folder))
    message = render_message(series, "confirmation", lang="es", name="<Ana & Co>")
    assert "&lt;b&gt;Hola&lt;/b&gt; &amp; bienvenido, &lt;Ana &amp; Co&gt;:" in message.html
    assert "<b>Hola</b> & bienvenido, <Ana & Co>:" in message.text


@pytest.mark.parametrize(("plugin", "lang", "label"), [
    ("slack", "fr", "Rejoindre"), ("telegram", "de", "Teilnehmen"), ("slack", "it",
                                                                      "Partecipare")])
def test_chat_join_buttons_are_labelled_in_the_message_language(
        write_series: Any, plugin: str, lang: str, label: str) -> None:
    module = pytest.importorskip(f"s3events_{plugin}.transport")
    from s3events.transports.base import OutgoingMessage

    series = _series(write_series, languages=["en", "es", lang])
    rendered = render_message(series, "link", lang=lang, session=series.sessions[0],
                              name="Ana", join_url="https://meet.example/x")
    message = OutgoingMessage(key="k", channel=plugin, kind="link", recipient="U1",
                              recipient_name="Ana", language=rendered.language,
                              subject=rendered.subject, text=rendered.short,
                              facts=rendered.facts)
    assert rendered.facts["link_label"] == label == module.join_label(message)
    bare = OutgoingMessage(key="k", channel=plugin, kind="link", recipient="U1",
                           recipient_name="Ana", language=lang, subject="s", text="t")
    assert module.join_label(bare) == label


# -- what the issue saw ---------------------------------------------------------------------
def _pacific_file(write_series: Any) -> Path:
    return write_series({**PACIFIC})


def test_calendar_and_agenda_commands_write_french_for_lang_fr(write_series: Any) -> None:
    path = str(_pacific_file(write_series))
    calendar = run("calendar", path, "--lang", "fr")
    assert calendar.code == 0
    text = calendar_text(calendar.raw)
    assert "Thèmes\u00a0:\n- Données de captures" in text and "Topics" not in text
    assert "Séance 1\u00a0: État des stocks de thonidés" in text
    agenda = run("agenda", path, "--lang", "fr", "--format", "md")
    assert agenda.code == 0
    for phrase in ("Heures locales\u00a0:", "Thèmes\u00a0:", "## Programme",
                   "L’exercice interactif aura pour objectifs\u00a0:", "## Informations "
                   "pratiques", "**Public\u00a0:**"):
        assert phrase in agenda.stdout, phrase
    assert "Local times" not in agenda.stdout and "Topics" not in agenda.stdout


def test_overriding_one_french_template_keeps_every_other_part_french(
        write_series: Any, tmp_path: Path) -> None:
    series = load_series(_pacific_file(write_series))
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "link.fr.txt").write_text("Votre lien : {{ join_url }}\n", encoding="utf-8")
    message = MessageRenderer(series, templates=templates).render(
        "link", lang="fr", zone=series.zone, session=series.sessions[0],
        personal={"name": "Marie", "email": "m@example.nc", "join_url": "https://x.example"})
    assert message.text == "Votre lien : https://x.example\n"
    html = message.html
    assert "Bonjour Marie," in html and "Quand" in html and "Rejoindre la séance" in html
    assert "Hello" not in html and "When" not in html

