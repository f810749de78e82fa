"""The static event page: files, languages, Babel dates, calendars, documents and markup."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from s3events.calendar import event_uid
from s3events.catalogs import LOCALE_DIR, read_catalog
from s3events.cli import main
from s3events.errors import InputError
from s3events.loading import load_series
from s3events.site import build_site, page_context, site_files, zone_label
from tests.fixtures.series import minimal_series_data

SRC = Path(__file__).resolve().parents[1] / "src" / "s3events"
SITE_TEMPLATES = SRC / "templates" / "site"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.fixtures.series import REFERENCE

    out = tmp_path_factory.mktemp("site")
    build_site(load_series(REFERENCE), out)
    return out


def page(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


class Outline(HTMLParser):
    """Headings, ids, resource links and the html lang of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.ids: set[str] = set()
        self.lang: str | None = None
        self.resources: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.lang = found.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag in ("script", "img", "iframe") and found.get("src"):
            self.resources.append(str(found["src"]))
        if tag == "link" and found.get("rel") == "stylesheet":
            self.resources.append(str(found["href"]))


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


# -- files ----------------------------------------------------------------------------------


def test_site_has_a_page_per_language_with_agendas_calendars_documents_and_assets(
        site: Path) -> None:
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    for prefix in ("", "es/"):
        assert {f"{prefix}index.html", f"{prefix}agenda.html",
                f"{prefix}calendar/s3-latam-2021.ics"} <= names
        assert {f"{prefix}calendar/s3-latam-2021-day-{n}.ics" for n in range(1, 6)} <= names
    assert {f"files/agendas/day-{n}.es.md" for n in range(1, 6)} <= names
    assert {"static/site.css", "static/site.js"} <= names


def test_documents_are_copied_byte_for_byte_and_linked_from_pages_and_agendas(
        site: Path, reference_series_path: Path) -> None:
    source = reference_series_path.parent / "agendas" / "day-1.es.md"
    assert (site / "files/agendas/day-1.es.md").read_bytes() == source.read_bytes()
    assert 'href="files/agendas/day-1.es.md" hreflang="es"' in page(site, "index.html")
    assert 'href="../files/agendas/day-1.es.md" hreflang="es"' in page(site, "es/index.html")
    assert 'href="../files/agendas/day-1.es.md"' in page(site, "es/agenda.html")
    assert 'href="files/agendas/day-1.es.md"' in page(site, "agenda.html")


def test_a_document_outside_the_series_folder_is_refused(write_series: Any) -> None:
    data = minimal_series_data()
    data["sessions"][0]["documents"] = [{"id": "x", "title": "Secret", "path": "../secret.txt"}]
    series = load_series(write_series(data))
    with pytest.raises(InputError, match="must be a file in the series file's folder"):
        site_files(series)


def test_a_missing_document_is_named_with_its_session(write_series: Any) -> None:
    data = minimal_series_data()
    data["sessions"][1]["documents"] = [{"id": "a", "title": "Agenda", "path": "gone.md"}]
    series = load_series(write_series(data))
    with pytest.raises(InputError, match=r"session 's2', document 'a': file 'gone.md' not found"):
        site_files(series)


# -- languages and times ----------------------------------------------------------------------


def test_english_page_shows_brussels_times_with_babel_dates_and_the_source_sections(
        site: Path) -> None:
    html = page(site, "index.html")
    assert '<html lang="en"' in html
    assert ('<time datetime="2021-10-28T15:00:00Z">Thursday, October 28, 2021</time>, '
            '<span class="times">17:00\u2009–\u200919:30</span> '
            '<span class="zone">(Brussels time)</span>' in html)
    assert "Thursday, November 4, 2021" in html
    assert "Interactive exercise will aim at:" in html
    assert "What is Smart Specialisation?" in html
    assert "Registered participants will receive the link to the event the day before" in html
    assert "<dd>Mexico, Chile, Peru</dd>" in html
    assert "Lima 10:00\u2009–\u200912:30" in html  # focus countries' times, without a script


def test_sessions_carry_their_utc_start_and_end_for_the_script(site: Path) -> None:
    html = page(site, "index.html")
    # Brussels is on summer time on 28 October 2021 and on winter time from 31 October.
    assert 'data-start="2021-10-28T15:00:00Z" data-end="2021-10-28T17:30:00Z"' in html
    assert 'data-start="2021-11-04T16:00:00Z" data-end="2021-11-04T18:30:00Z"' in html
    assert 'data-zone="Europe/Brussels"' in html


def test_spanish_page_reads_as_spanish_throughout(site: Path) -> None:
    html = page(site, "es/index.html")
    assert '<html lang="es"' in html
    for text in ("jueves, 28 de octubre de 2021", "17:00–19:30", "(hora de Bruselas)",
                 "El ejercicio interactivo tendrá como objetivo:", "Temas", "Programa",
                 "¿Qué es la Especialización Inteligente?", "Información práctica",
                 "Añadir al calendario", "<dd>México, Chile, Perú</dd>", "Agenda completa",
                 "28 oct\u2009–\u200926 nov 2021 · En línea", "Saltar al contenido principal",
                 "Los participantes inscritos recibirán el enlace al evento el día anterior",
                 'data-yours="Su hora:"', 'data-zone-pattern="hora de {city}"'):
        assert text in html, text
    visible = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    for english in english_only_phrases("es"):
        assert english not in visible, english
    assert "Thursday" not in html and "October" not in html
    assert "Introduction: what is S3?" not in html


def english_only_phrases(lang: str) -> list[str]:
    """The catalog's English phrases whose translation differs (so must not show)."""
    catalog = read_catalog(LOCALE_DIR / lang / "LC_MESSAGES" / "s3events.po")
    return [m.id for m in catalog if isinstance(m.id, str) and m.id and m.id != m.string
            and "%(" not in m.id and len(m.id) > 3]


def test_language_switcher_links_each_page_with_hreflang(site: Path) -> None:
    en, es = page(site, "index.html"), page(site, "es/index.html")
    assert '<a href="es/index.html" hreflang="es" lang="es">Español</a>' in en
    assert 'aria-current="page">English</a>' in en
    assert '<a href="../index.html" hreflang="en" lang="en">English</a>' in es
    assert '<link rel="alternate" hreflang="es" href="../es/index.html">' in es


def test_base_url_makes_the_language_alternates_absolute(reference_series: Any) -> None:
    html = site_files(reference_series, base_url="https://events.example.org/s3/")[
        "index.html"].decode()
    assert ('<link rel="alternate" hreflang="es" href="https://events.example.org/s3/es/'
            'index.html">') in html


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "Brussels time"), ("es", "hora de Bruselas"), ("pt", "horário de Bruxelas")])
def test_zone_label_names_the_city_in_the_language(lang: str, expected: str) -> None:
    assert zone_label("Europe/Brussels", lang) == expected


def test_zone_labels_for_the_script_are_valid_json_in_the_page_language(site: Path) -> None:
    found = re.search(r'<script type="application/json" id="zone-names">(.*?)</script>',
                      page(site, "es/index.html"), flags=re.S)
    assert found is not None
    names = json.loads(found.group(1))
    assert names["Asia/Tokyo"] == "hora de Tokio"
    assert names["America/Mexico_City"] == "hora de Ciudad de México"
    assert "<" not in found.group(1)


# -- calendars ------------------------------------------------------------------------------


def test_add_to_calendar_files_hold_one_session_without_any_join_link(site: Path) -> None:
    cal = Calendar.from_ical((site / "es/calendar/s3-latam-2021-day-2.ics").read_bytes())
    events = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "PUBLISH"
    assert [str(e["UID"]) for e in events] == [event_uid("s3-latam-2021", "day-2")]
    start = events[0].decoded("DTSTART")
    assert (str(start.tzinfo), start.hour, start.day) == ("Europe/Brussels", 17, 4)
    assert str(events[0]["SUMMARY"]).startswith("Día 2: Proceso de Descubrimiento")
    assert "http" not in str(events[0].get("LOCATION", ""))
    assert 'href="calendar/s3-latam-2021-day-2.ics"' in page(site, "es/index.html")


def test_the_whole_series_calendar_holds_every_session(site: Path) -> None:
    cal = Calendar.from_ical((site / "calendar/s3-latam-2021.ics").read_bytes())
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [
        event_uid("s3-latam-2021", f"day-{n}") for n in range(1, 6)]


# -- markup ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["index.html", "es/index.html"])
def test_page_markup_is_accessible_and_self_contained(site: Path, name: str) -> None:
    html = page(site, name)
    found = outline(html)
    assert found.lang in ("en", "es")
    assert found.headings.count(1) == 1 and found.headings[0] == 1
    for before, after in zip(found.headings, found.headings[1:], strict=False):
        assert after <= before + 1, f"heading level jumps from h{before} to h{after}"
    assert {"header", "nav", "main", "section", "article", "footer"} <= set(found.tags)
    assert "main" in found.ids and 'class="skip-link" href="#main"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert found.resources and all(not re.match(r"(https?:)?//", r) for r in found.resources)
    assert "style=" not in html and "onclick" not in html  # nothing inline for the CSP
    for session in ("day-1", "day-5"):
        assert f'id="{session}" aria-labelledby="{session}-h"' in html


def test_series_texts_are_escaped(write_series: Any) -> None:
    series = load_series(write_series(minimal_series_data(
        title={"en": "<script>alert(1)</script>", "es": "A & B"})))
    files = site_files(series)
    assert "<script>alert(1)</script>" not in files["index.html"].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in files["index.html"].decode()
    assert "A &amp; B" in files["es/index.html"].decode()


def test_page_context_marks_sessions_that_have_ended(reference_series: Any) -> None:
    from datetime import datetime, timezone

    context = page_context(reference_series, lang="en",
                           now=datetime(2021, 11, 10, tzinfo=timezone.utc))
    assert [s.ended for s in context["sessions"]] == [True, True, True, False, False]


# -- phrases --------------------------------------------------------------------------------


# -- command --------------------------------------------------------------------------------


def test_site_command_writes_the_site(tmp_path: Path, reference_series_path: Path) -> None:
    runner = CliRunner()
    with runner.isolation() as (_, err, _):
        with pytest.raises(SystemExit) as done:
            main(["site", str(reference_series_path), "-o", str(tmp_path / "out"),
                  "--now", "2021-10-01T00:00:00Z"])
        assert done.value.code == 0
        assert "wrote 23 files" in err.getvalue().decode()
    assert (tmp_path / "out" / "es" / "index.html").is_file()
    ics = (tmp_path / "out" / "calendar" / "s3-latam-2021.ics").read_text()
    assert "DTSTAMP:20211001T000000Z" in ics  # --now makes the build reproducible


def test_site_command_reports_a_bad_document_without_traceback(
        tmp_path: Path, write_series: Any) -> None:
    data = minimal_series_data()
    data["sessions"][0]["documents"] = [{"id": "x", "title": "X", "path": "/etc/passwd"}]
    runner = CliRunner()
    with runner.isolation() as (_, err, _):
        with pytest.raises(SystemExit) as done:
            main(["site", str(write_series(data)), "-o", str(tmp_path / "out")])
        text = err.getvalue().decode()
    assert done.value.code == 2
    assert "document 'x': path '/etc/passwd'" in text and "Traceback" not in text


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_colours_meet_wcag_aa_contrast() -> None:
    css = (SITE_TEMPLATES / "static" / "site.css").read_text()
    colour = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    white = "#ffffff"
    pairs = [  # (foreground, background, minimum): text 4.5:1, focus ring 3:1
        ("text", white, 4.5), ("muted", white, 4.5), ("accent", white, 4.5),
        ("accent-dark", white, 4.5), ("error", white, 4.5), ("focus", white, 3.0),
        ("text", "band", 4.5), ("muted", "band", 4.5), ("accent", "band", 4.5),
        ("text", "notice", 4.5), (white, "accent", 4.5), (white, "error", 4.5),
        (white, "accent-dark", 4.5),
    ]
    for fore, back, minimum in pairs:
        ratio = _contrast(colour.get(fore, fore), colour.get(back, back))
        assert ratio >= minimum, f"{fore} on {back}: {ratio:.2f}:1"
