"""The gettext catalogs: complete, current, compiled, and looked up in the documented order.

The built-in catalogs are checked the way a translator's tools see them: the template is
what ``pybabel extract`` finds in the code today, ``pybabel compile --statistics`` reports
100 % for every language, nothing is fuzzy, the committed ``.mo`` files say what their
``.po`` sources say. Then the lookup: a series' folder before plugins before built-ins,
regional tags before their base language, a message missing from one catalog taken from
the next, changed files read again, broken files refused with the file and line.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po, write_po

from s3events.catalogs import (
    BUILTIN_LANGUAGES,
    LOCALE_DIR,
    CatalogError,
    Catalogs,
    MissingCatalog,
    builtin_phrase,
    message_ids,
    provided_languages,
    read_catalog,
    series_catalogs,
)
from s3events.errors import InputError
from s3events.hookspecs import hookimpl
from s3events.loading import load_series
from s3events.plugins import get_plugin_manager
from tests.fixtures.series import minimal_series_data

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "s3events"
PYBABEL = Path(sys.executable).parent / "pybabel"


def _po(lang: str) -> Catalog:
    return read_po((LOCALE_DIR / lang / "LC_MESSAGES" / "s3events.po").open("rb"))


def _id(message: Any) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def write_po_file(path: Path, lang: str, strings: dict[str, str], *,
                  fuzzy: tuple[str, ...] = ()) -> Path:
    """A small catalog for ``lang`` with ``strings`` (msgid → translation)."""
    catalog = Catalog(locale=lang.replace("-", "_"), domain="s3events")
    for msgid, text in strings.items():
        catalog.add(msgid, text, flags=["fuzzy"] if msgid in fuzzy else ())
    buffer = io.BytesIO()
    write_po(buffer, catalog)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


# -- the built-in catalogs --------------------------------------------------------------------
def test_the_template_holds_exactly_what_the_code_and_templates_mark() -> None:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = {msgid if isinstance(msgid, str) else msgid[0]
             for _file, _line, msgid, _comments, _context in extract_from_dir(
                 str(SRC), method_map, options_map)}
    assert len(found) > 120
    assert sorted(found ^ set(message_ids())) == [], (
        "s3events.pot is stale: run the pybabel extract and update commands of "
        "docs/languages.md")


@pytest.mark.parametrize("lang", BUILTIN_LANGUAGES)
def test_every_builtin_catalog_is_complete_and_nothing_is_fuzzy(lang: str) -> None:
    catalog = _po(lang)
    assert not catalog.fuzzy, f"{lang}: the header is marked fuzzy"
    assert str(catalog.locale) == lang
    messages = {_id(m): m for m in catalog if m.id}
    assert sorted(messages) == sorted(message_ids()), f"{lang}.po is not up to date"
    for msgid, message in messages.items():
        assert not message.fuzzy, f"{lang}: {msgid!r} is fuzzy"
        strings = [message.string] if isinstance(message.string, str) else message.string
        assert len(strings) == (catalog.num_plurals if message.pluralizable else 1)
        assert all(strings), f"{lang}: {msgid!r} is not translated"
        wanted = sorted(re.findall(r"%\(\w+\)s", _id(message)))
        for string in strings:
            assert sorted(re.findall(r"%\(\w+\)s", string)) == wanted, (lang, msgid)
    assert list(catalog.obsolete) == []
    read_catalog(LOCALE_DIR / lang / "LC_MESSAGES" / "s3events.po")  # fills in cleanly


@pytest.mark.parametrize("lang", BUILTIN_LANGUAGES)
def test_the_committed_mo_says_what_its_po_says(lang: str) -> None:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    compiled = read_mo((folder / "s3events.mo").open("rb"))
    source = {(m.id if isinstance(m.id, str) else tuple(m.id)):
              m.string if isinstance(m.string, str) else tuple(m.string)
              for m in _po(lang) if m.id}
    built = {(m.id if isinstance(m.id, str) else tuple(m.id)):
             m.string if isinstance(m.string, str) else tuple(m.string)
             for m in compiled if m.id}
    assert built == source, (f"{lang}/LC_MESSAGES/s3events.mo is stale: run `pybabel "
                             "compile -d src/s3events/locale -D s3events`")


def test_pybabel_compile_reports_every_builtin_language_complete(tmp_path: Path) -> None:
    if not PYBABEL.exists():
        pytest.skip("pybabel is not installed next to this Python")
    shutil.copytree(LOCALE_DIR, tmp_path / "locale")
    done = subprocess.run([str(PYBABEL), "compile", "--statistics", "-d",
                           str(tmp_path / "locale"), "-D", "s3events"],
                          capture_output=True, text=True, check=True)
    report = done.stdout + done.stderr
    total = len(message_ids())
    for lang in BUILTIN_LANGUAGES:
        assert re.search(rf"{total} of {total} messages \(100%\) translated in \S*/{lang}/",
                         report), report


def test_the_wheel_would_carry_the_compiled_catalogs() -> None:
    listed = subprocess.run(["git", "ls-files", "src/s3events/locale"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    for lang in BUILTIN_LANGUAGES:
        assert f"src/s3events/locale/{lang}/LC_MESSAGES/s3events.mo" in listed
    assert "src/s3events/locale/s3events.pot" in listed


# -- lookup -----------------------------------------------------------------------------------
def test_a_regional_tag_uses_its_base_language_and_an_unknown_one_has_none() -> None:
    catalogs = Catalogs()
    assert catalogs.translations("pt-BR").gettext("Topics:") == "Temas:"
    assert catalogs.translations("de_AT").gettext("Topics:") == "Themen:"
    assert not catalogs.has("fi")
    with pytest.raises(MissingCatalog, match=r"'fi'.*translations init fi"):
        catalogs.translations("fi")


def test_a_provided_catalog_changes_some_phrases_and_leaves_the_rest_builtin(
        tmp_path: Path) -> None:
    write_po_file(tmp_path / "es.po", "es", {"Hello %(name)s,": "Hola, %(name)s:"})
    es = Catalogs((tmp_path,)).translations("es")
    assert es.gettext("Hello %(name)s,") == "Hola, %(name)s:"
    assert es.gettext("Topics:") == "Temas:"
    assert Catalogs((tmp_path,)).missing("es") == []


def test_series_folder_comes_before_plugins_and_plugins_before_builtins(
        tmp_path: Path, write_series: Any) -> None:
    own, plugin_folder = tmp_path / "own", tmp_path / "plugin"
    write_po_file(own / "fr" / "LC_MESSAGES" / "s3events.po", "fr", {"Topics:": "Sujets :"})
    write_po_file(plugin_folder / "fr.po", "fr", {"Topics:": "Points :", "When:": "Date :"})

    class Provider:
        @hookimpl
        def s3events_register_translations(self) -> list[Path]:
            return [plugin_folder]

    pm = get_plugin_manager()
    pm.register(Provider(), name="translations-test")
    try:
        series = load_series(write_series(minimal_series_data(
            languages=["en", "es", "fr"], translations=str(own))))
        fr = series_catalogs(series).translations("fr")
    finally:
        pm.unregister(name="translations-test")
    assert (fr.gettext("Topics:"), fr.gettext("When:")) == ("Sujets :", "Date :")
    assert fr.gettext("Passcode:") == "Code d’accès\u00a0:"


def test_a_changed_catalog_is_read_again(tmp_path: Path) -> None:
    path = write_po_file(tmp_path / "fi.po", "fi", {"Topics:": "Aiheet:"})
    catalogs = Catalogs((tmp_path,))
    assert catalogs.translations("fi").gettext("Topics:") == "Aiheet:"
    write_po_file(path, "fi", {"Topics:": "Teemat:", "When:": "Milloin:"})
    assert catalogs.translations("fi").gettext("Topics:") == "Teemat:"
    assert "When:" not in catalogs.missing("fi") and "Topics" in catalogs.missing("fi")


def test_fuzzy_and_empty_translations_count_as_missing(tmp_path: Path) -> None:
    write_po_file(tmp_path / "fi.po", "fi", {"Topics:": "Aiheet:", "When:": "Milloin:",
                                            "Passcode:": ""}, fuzzy=("When:",))
    catalogs = Catalogs((tmp_path,))
    assert catalogs.translations("fi").gettext("When:") == "When:"
    missing = catalogs.missing("fi")
    assert {"When:", "Passcode:"} <= set(missing) and "Topics:" not in missing
    assert len(missing) == len(message_ids()) - 1


def test_a_translation_that_cannot_be_filled_in_names_the_file_and_line(
        tmp_path: Path) -> None:
    path = write_po_file(tmp_path / "fi.po", "fi", {"Hello %(name)s,": "Hei %(nimi)s,"})
    with pytest.raises(CatalogError, match=r"fi\.po:\d+: .*'Hello %\(name\)s,'"):
        Catalogs((tmp_path,)).translations("fi")
    path.write_text('msgid "x"\nmsgid "z"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="not a readable gettext catalog"):
        read_catalog(path)
    assert issubclass(CatalogError, InputError)


def test_languages_of_a_folder_in_both_layouts(tmp_path: Path) -> None:
    write_po_file(tmp_path / "fi.po", "fi", {})
    write_po_file(tmp_path / "pt_PT" / "LC_MESSAGES" / "s3events.po", "pt_PT", {})
    (tmp_path / "notes.txt").write_text("not a catalog")
    (tmp_path / "empty").mkdir()
    assert provided_languages(tmp_path) == ["fi", "pt_PT"]
    assert Catalogs((tmp_path,)).has("pt-PT") and Catalogs((tmp_path,)).has("pt-pt")
    assert Catalogs((tmp_path,)).files("pt-pt")[0].parent.parent.name == "pt_PT"


def test_a_missing_translations_folder_is_refused(write_series: Any) -> None:
    series = load_series(write_series(minimal_series_data(translations="nowhere")))
    with pytest.raises(InputError, match=r"translations: folder .*nowhere does not exist"):
        series_catalogs(series)


@pytest.mark.parametrize(("lang", "label"), [("fr", "Rejoindre"), ("de-CH", "Teilnehmen"),
                                             ("it", "Partecipare"), ("fi", "Join")])
def test_a_transport_without_a_series_gets_builtin_phrases(lang: str, label: str) -> None:
    assert builtin_phrase(lang, "Join") == label
