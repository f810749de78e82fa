"""gettext catalogs: the fixed phrases of s3events in every language, wherever they come from.

Every phrase s3events writes itself (email subjects and bodies, chat texts, calendar event
text, the agenda, the event page, the web forms and their errors) is a message of one
gettext domain, :data:`DOMAIN` (``s3events``). Its template is ``locale/s3events.pot`` in
the package, and the built-in catalogs (:data:`BUILTIN_LANGUAGES`) are
``locale/LANG/LC_MESSAGES/s3events.po`` with the compiled ``.mo`` next to them.

The catalogs for a language come from, most important first:

1. the series' ``translations`` folder (relative to the series file);
2. the folders plugins return from ``s3events_register_translations``;
3. the built-in catalogs.

A folder holds ``LANG.po`` files or ``LANG/LC_MESSAGES/s3events.po`` (or ``.mo``). For a
regional tag such as ``pt-BR``, catalogs for ``pt_BR`` come before those for ``pt``. A
message missing from one catalog is looked up in the next, so a provided ``es.po`` may
change a few Spanish phrases and leave the rest to the built-in catalog. A message that no
catalog has stays in English: :meth:`Catalogs.missing` lists them, and ``s3events
validate`` warns. A language with no catalog at all is refused (:class:`MissingCatalog`).

Babel is imported only when a catalog is read: finding which languages have catalogs
(:meth:`Catalogs.has`) only looks at file names, so ``s3events validate`` stays quick.
"""

from __future__ import annotations

import functools
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, PluginError

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog
    from babel.support import Translations

    from .models import Series

__all__ = [
    "BUILTIN_LANGUAGES",
    "DOMAIN",
    "LOCALE_DIR",
    "CatalogError",
    "Catalogs",
    "MissingCatalog",
    "builtin_catalogs",
    "builtin_phrase",
    "catalog_file",
    "message_ids",
    "plugin_folders",
    "provided_languages",
    "read_catalog",
    "series_catalogs",
    "translated_ids",
]

#: The gettext domain of every phrase s3events writes.
DOMAIN = "s3events"
#: The built-in catalogs and the template (``s3events.pot``), inside the package.
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: The languages s3events ships complete catalogs for.
BUILTIN_LANGUAGES = ("en", "es", "pt", "fr", "de", "it")

_FILE_LANG = re.compile(r"^([a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)\.po$")


class CatalogError(InputError):
    """A catalog file that cannot be used: unreadable, not a catalog, or wrong placeholders."""


class MissingCatalog(InputError):
    """A language with no catalog: neither built in nor provided by the series or a plugin."""

    def __init__(self, language: str) -> None:
        self.language = language
        super().__init__(
            f"language '{language}' has no catalog of s3events' phrases (built in: "
            f"{', '.join(BUILTIN_LANGUAGES)}); start one with `s3events translations init "
            f"{language} -o translations/`, translate it, and set `translations: "
            "translations` in the series file (see the Languages page of the docs)")


# -- files ------------------------------------------------------------------------------------
def _variants(tag: str) -> list[str]:
    """File names a tag may be spelled with: ``pt_BR``, ``pt-BR`` (and as given)."""
    return list(dict.fromkeys([tag.replace("-", "_"), tag.replace("_", "-"), tag]))


def _lookup_tags(lang: str) -> list[str]:
    """The tags whose catalogs serve ``lang``, most specific first (``pt_BR``, ``pt``)."""
    parts = re.split(r"[-_]", lang)
    parts = [parts[0].lower()] + [p.upper() if len(p) == 2 else p.title() if len(p) == 4
                                  else p for p in parts[1:]]
    return ["_".join(parts[:n]) for n in range(len(parts), 0, -1)]


def catalog_file(folder: Path, tag: str, *, compiled: bool = False) -> Path | None:
    """The catalog for exactly ``tag`` in ``folder``, or ``None``.

    Looked for as ``TAG.po``, ``TAG/LC_MESSAGES/s3events.po`` and ``…/s3events.mo``; with
    ``compiled`` the ``.mo`` comes first (the built-in folder ships both).
    """
    for name in _variants(tag):
        nested = folder / name / "LC_MESSAGES" / DOMAIN
        order = [nested.with_suffix(".mo"), folder / f"{name}.po", nested.with_suffix(".po")]
        if not compiled:
            order = [*order[1:], order[0]]
        for path in order:
            if path.is_file():
                return path
    return None


def provided_languages(folder: Path) -> list[str]:
    """The languages ``folder`` holds a catalog for (``fi.po``, ``pt_BR/LC_MESSAGES/…``)."""
    found = set()
    for entry in folder.iterdir() if folder.is_dir() else ():
        match = _FILE_LANG.match(entry.name)
        if match and entry.is_file():
            found.add(match.group(1))
        elif entry.is_dir() and catalog_file(folder, entry.name) is not None:
            found.add(entry.name)
    return sorted(found)


def read_catalog(path: Path) -> Catalog:
    """Read a ``.po`` or ``.mo`` file; :class:`CatalogError` names the file when it cannot."""
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import PoFileError, read_po

    try:
        with path.open("rb") as handle:
            if path.suffix == ".mo":
                catalog: Catalog = read_mo(handle)
            else:
                catalog = read_po(handle, abort_invalid=True)
    except (OSError, PoFileError, ValueError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not a readable gettext catalog ({exc})") from None
    _check_placeholders(path, catalog)
    return catalog


_PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _check_placeholders(path: Path, catalog: Catalog) -> None:
    """A translation that cannot be filled in like its msgid would fail while rendering."""
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else \
            list(message.string or ())
        values = {name: "x" for msgid in ids for name in _PLACEHOLDER.findall(msgid)}
        for string in strings:
            if not string:
                continue
            try:
                string % values
            except (KeyError, ValueError, TypeError) as exc:
                line = f":{message.lineno}" if message.lineno else ""
                raise CatalogError(
                    f"{path}{line}: the translation of {_first(message.id)!r} cannot be "
                    f"filled in ({type(exc).__name__}: {exc}); use the %(name)s placeholders "
                    "of the message id, spelled the same, and write a % sign as %%") from None


def _first(msgid: str | Sequence[str]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


@functools.lru_cache(maxsize=128)
def _compiled(path: Path, _mtime: int, _size: int) -> tuple[bytes, frozenset[str]]:
    """The ``.mo`` bytes of a catalog file and the ids it translates (cached per version)."""
    from babel.messages.mofile import write_mo

    catalog = read_catalog(path)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    ids = frozenset(_first(m.id) for m in catalog
                    if m.id and not m.fuzzy and _complete(m.string))
    return buffer.getvalue(), ids


def _complete(string: str | Sequence[str] | None) -> bool:
    if string is None or isinstance(string, str):
        return bool(string)
    return all(string)


def _version(path: Path) -> tuple[Path, int, int]:
    stat = path.stat()
    return path, stat.st_mtime_ns, stat.st_size


def translated_ids(path: Path) -> frozenset[str]:
    """The message ids a catalog file translates (not fuzzy, not empty)."""
    return _compiled(*_version(path))[1]


@functools.lru_cache(maxsize=1)
def _template(_version: tuple[Path, int, int]) -> tuple[str, ...]:
    catalog = read_catalog(_version[0])
    return tuple(_first(m.id) for m in catalog if m.id)


def message_ids() -> tuple[str, ...]:
    """Every message id of the template (``s3events.pot``), in its order."""
    return _template(_version(LOCALE_DIR / f"{DOMAIN}.pot"))


# -- catalogs for a series ------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _chain(files: tuple[tuple[Path, int, int], ...]) -> Translations:
    """One Translations object per file, each falling back to the next."""
    from babel.support import Translations

    first: Translations | None = None
    for version in files:
        data = _compiled(*version)[0]
        current = Translations(fp=io.BytesIO(data), domain=DOMAIN)
        if first is None:
            first = current
        else:
            first.add_fallback(current)
    return first if first is not None else Translations(domain=DOMAIN)


@dataclass(frozen=True)
class Catalogs:
    """Where the catalogs of one series come from: provided folders, then the built-ins."""

    folders: tuple[Path, ...] = ()

    def files(self, lang: str) -> list[Path]:
        """The catalog files serving ``lang``, in lookup order."""
        found = []
        for tag in _lookup_tags(lang):
            for folder in self.folders:
                path = catalog_file(folder, tag)
                if path is not None:
                    found.append(path)
            builtin = catalog_file(LOCALE_DIR, tag, compiled=True)
            if builtin is not None:
                found.append(builtin)
        return found

    def has(self, lang: str) -> bool:
        """True when some catalog serves ``lang``."""
        return bool(self.files(lang))

    def translations(self, lang: str) -> Translations:
        """The merged translations for ``lang``; :class:`MissingCatalog` when there are none."""
        files = self.files(lang)
        if not files:
            raise MissingCatalog(lang)
        return _chain(tuple(_version(path) for path in files))

    def missing(self, lang: str) -> list[str]:
        """The template's message ids that no catalog for ``lang`` translates."""
        done: set[str] = set()
        for path in self.files(lang):
            done |= translated_ids(path)
        return [msgid for msgid in message_ids() if msgid not in done]


def builtin_catalogs() -> Catalogs:
    """The built-in catalogs alone."""
    return Catalogs(())


def builtin_phrase(lang: str, message: str) -> str:
    """``message`` (a msgid of the domain) from the built-in catalog of ``lang``.

    For code without a series at hand, such as a transport's default button label; English
    when s3events ships no catalog for ``lang``. Rendered messages carry their phrases,
    from the series' catalogs, in their facts (``link_label``).
    """
    catalogs = builtin_catalogs()
    return str(catalogs.translations(lang).gettext(message)) if catalogs.has(lang) else message


def plugin_folders(pm: Any = None) -> tuple[Path, ...]:
    """The catalog folders plugins provide (``s3events_register_translations``)."""
    from .plugins import get_plugin_manager

    manager = pm if pm is not None else get_plugin_manager()
    folders: list[Path] = []
    for result in manager.hook.s3events_register_translations():
        for item in _as_list(result):
            folder = Path(item)
            if not folder.is_dir():
                raise PluginError(f"a plugin's s3events_register_translations returned "
                                  f"{folder}, which is not a folder")
            folders.append(folder.resolve())
    return tuple(dict.fromkeys(folders))


def _as_list(result: Any) -> list[str | os.PathLike[str]]:
    if result is None:
        return []
    if isinstance(result, (str, os.PathLike)):
        return [result]
    return list(result)


def series_folder(series: Series) -> Path | None:
    """The series' ``translations`` folder, resolved against the series file's folder."""
    if not series.translations:
        return None
    root = series.source.parent if series.source is not None else Path.cwd()
    return (root / series.translations).resolve()


def series_catalogs(series: Series, *, pm: Any = None) -> Catalogs:
    """The catalogs serving ``series``: its ``translations`` folder, plugins', built-ins.

    ``pm`` is the plugin manager (default: the one of installed plugins). A
    ``translations`` folder that does not exist is an :class:`InputError`.
    """
    folders: list[Path] = []
    own = series_folder(series)
    if own is not None:
        if not own.is_dir():
            raise InputError(f"translations: folder {own} does not exist; give the folder of "
                             "the series' catalogs, relative to the series file")
        folders.append(own)
    return Catalogs(tuple(dict.fromkeys([*folders, *plugin_folders(pm)])))


def require(catalogs: Catalogs, languages: Iterable[str]) -> None:
    """Raise :class:`MissingCatalog` for the first of ``languages`` no catalog serves."""
    for lang in languages:
        if not catalogs.has(lang):
            raise MissingCatalog(lang)
