"""An organiser's own catalogs: start one for a language, check it, update it after an upgrade.

What ``s3events translations init|check|update`` do, as functions:

- :func:`init_catalog` writes ``DIR/LANG.po`` from s3events' template (``s3events.pot``):
  every message id with an empty translation, the plural rule of the language from CLDR.
  For a language s3events ships, the messages left empty keep the built-in translation,
  so such a file may change only a few phrases.
- :func:`check_folder` reports, per catalog in a folder, what is translated, what is
  missing (shown in English), fuzzy (ignored until reviewed), no longer used, and which
  translations cannot be filled in (wrong ``%(name)s`` placeholders).
- :func:`update_folder` merges the current template into every catalog of a folder: new
  messages are added (close matches marked fuzzy for review), unused ones kept as obsolete.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalogs import (
    BUILTIN_LANGUAGES,
    DOMAIN,
    LOCALE_DIR,
    CatalogError,
    catalog_file,
    provided_languages,
    read_catalog,
)
from .errors import InputError
from .i18n import base_language, has_locale_data

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

__all__ = ["CatalogReport", "check_folder", "init_catalog", "update_folder"]

_TAG = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def _template() -> Catalog:
    return read_catalog(LOCALE_DIR / f"{DOMAIN}.pot")


def _locale_name(lang: str) -> str | None:
    return lang.replace("-", "_") if has_locale_data(lang) else None


def _write(catalog: Catalog, path: Path) -> None:
    from babel.messages.pofile import write_po

    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_previous=True)
    path.write_bytes(buffer.getvalue())


def init_catalog(lang: str, folder: str | Path, *, force: bool = False) -> Path:
    """Write ``folder/LANG.po`` with every message of s3events to translate; return its path.

    Refuses (:class:`~s3events.errors.InputError`) a tag that is not a language code, and an
    existing file unless ``force``.
    """
    if not _TAG.match(lang):
        raise InputError(f"'{lang}' is not a language code such as fi, nl or pt-BR")
    out = Path(folder)
    path = out / f"{lang}.po"
    if path.exists() and not force:
        raise InputError(f"{path} exists; `s3events translations update {out}` adds new "
                         "messages to it, --force starts it over")
    catalog = _template()
    locale = _locale_name(lang)
    if locale is not None:
        catalog.locale = locale  # sets the language and its plural forms from CLDR
    catalog.language_team = f"{lang} <{DOMAIN}>"
    catalog.revision_date = datetime.now(timezone.utc)
    catalog.fuzzy = False
    out.mkdir(parents=True, exist_ok=True)
    _write(catalog, path)
    return path


@dataclass
class CatalogReport:
    """What :func:`check_folder` found in one catalog file."""

    language: str
    file: str
    messages: int
    translated: int = 0
    missing: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def builtin(self) -> bool:
        """True when s3events ships this language: missing messages use its catalog."""
        return base_language(self.language) in BUILTIN_LANGUAGES

    @property
    def complete(self) -> bool:
        """True when nothing would show in English and nothing waits for review."""
        return not self.error and not self.fuzzy and (self.builtin or not self.missing)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {"language": self.language, "file": self.file, "messages": self.messages,
                "translated": self.translated, "missing": self.missing, "fuzzy": self.fuzzy,
                "obsolete": self.obsolete, "error": self.error, "builtin": self.builtin,
                "complete": self.complete}


def _first(msgid: Any) -> str:
    return msgid if isinstance(msgid, str) else str(msgid[0])


def _done(string: Any) -> bool:
    return bool(string) if string is None or isinstance(string, str) else all(string)


def _report(lang: str, path: Path, ids: list[str]) -> CatalogReport:
    report = CatalogReport(lang, str(path), len(ids))
    try:
        catalog = read_catalog(path)
    except CatalogError as exc:
        report.error = str(exc)
        return report
    present = {_first(m.id): m for m in catalog if m.id}
    for msgid in ids:
        message = present.get(msgid)
        if message is not None and message.fuzzy:
            report.fuzzy.append(msgid)
        elif message is not None and _done(message.string):
            report.translated += 1
        else:
            report.missing.append(msgid)
    report.obsolete = sorted({*present} - set(ids)) + sorted(
        _first(m.id) for m in catalog.obsolete.values())
    return report


def _languages(folder: Path) -> list[str]:
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder of catalogs (LANG.po files)")
    found = provided_languages(folder)
    if not found:
        raise InputError(f"{folder} holds no catalog: start one with `s3events translations "
                         f"init LANG -o {folder}`")
    return found


def check_folder(folder: str | Path) -> list[CatalogReport]:
    """One report per catalog in ``folder``, checked against s3events' template."""
    root = Path(folder)
    ids = [_first(m.id) for m in _template() if m.id]
    reports = []
    for lang in _languages(root):
        path = catalog_file(root, lang)
        assert path is not None
        reports.append(_report(lang, path, ids))
    return reports


def update_folder(folder: str | Path) -> list[tuple[Path, int]]:
    """Merge the template into every ``.po`` catalog of ``folder``; (file, messages added)."""
    root = Path(folder)
    template = _template()
    done = []
    for lang in _languages(root):
        path = catalog_file(root, lang)
        if path is None or path.suffix != ".po":
            continue  # a compiled catalog has no source to update
        catalog = read_catalog(path)
        before = {_first(m.id) for m in catalog if m.id}
        catalog.update(template, update_header_comment=False)
        added = sum(1 for m in catalog if m.id and _first(m.id) not in before)
        _write(catalog, path)
        done.append((path, added))
    return done
