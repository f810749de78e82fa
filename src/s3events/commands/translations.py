"""``s3events translations``: catalogs of s3events' phrases for languages it does not ship.

``init LANG -o DIR`` starts ``DIR/LANG.po`` with every message id; ``check DIR`` reports what
each catalog of a folder lacks (exit 1 when a catalog would leave phrases in English or has
fuzzy entries, 2 when one cannot be used); ``update DIR`` adds the messages of a newer
s3events to the catalogs of a folder. A series uses the folder with ``translations: DIR``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..translating import CatalogReport

__all__ = ["translations"]


@click.group()
def translations() -> None:
    """Start, check and update catalogs of s3events' phrases (gettext .po files).

    s3events ships en, es, pt, fr, de and it. For another language, start a catalog with
    `init`, translate it, and point the series at its folder with `translations: DIR`.
    """


@translations.command("init")
@click.argument("lang", metavar="LANG")
@click.option("-o", "--output", "folder", metavar="DIR", required=True,
              type=click.Path(file_okay=False), help="Folder to write LANG.po into.")
@click.option("--force", is_flag=True, help="Replace an existing LANG.po.")
def init(lang: str, folder: str, force: bool) -> None:
    """Write DIR/LANG.po with every message to translate."""
    from ..catalogs import BUILTIN_LANGUAGES, message_ids
    from ..i18n import base_language, has_locale_data
    from ..translating import init_catalog

    path = init_catalog(lang, folder, force=force)
    click.echo(f"wrote {path}: {len(message_ids())} messages to translate")
    if base_language(lang) in BUILTIN_LANGUAGES:
        click.echo(f"s3events ships '{base_language(lang)}': messages you leave empty keep "
                   "the built-in translation")
    if not has_locale_data(lang):
        click.echo(f"warning: CLDR has no data for '{lang}': dates and zone names would be "
                   "in English", err=True)
    click.echo(f"next: translate each msgstr, set `translations: {folder}` in the series "
               f"file, then run `s3events translations check {folder}` and `s3events "
               "validate`")


@translations.command("check")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
def check(folder: str, as_json: bool) -> None:
    """Report what each catalog in DIR lacks (exit 1 if one is incomplete)."""
    from ..errors import InputError
    from ..translating import check_folder

    reports = check_folder(folder)
    if as_json:
        click.echo(json.dumps({"folder": folder, "catalogs": [r.as_dict() for r in reports]},
                              indent=2, ensure_ascii=False))
    else:
        for report in reports:
            _print(report)
    if any(r.error for r in reports):
        raise InputError("; ".join(r.error for r in reports if r.error))
    if not all(r.complete for r in reports):
        raise click.exceptions.Exit(1)


def _print(report: CatalogReport) -> None:
    click.echo(f"{report.file}: {report.language}: {report.translated} of "
               f"{report.messages} messages translated")
    if report.error:
        click.echo(f"  error: {report.error}")
    fallback = "the built-in catalog" if report.builtin else "English"
    for msgid in report.missing:
        click.echo(f"  missing (shown from {fallback}): {json.dumps(msgid, ensure_ascii=False)}")
    for msgid in report.fuzzy:
        click.echo(f"  fuzzy (ignored until reviewed): {json.dumps(msgid, ensure_ascii=False)}")
    for msgid in report.obsolete:
        click.echo(f"  no longer used: {json.dumps(msgid, ensure_ascii=False)}")


@translations.command("update")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))
def update(folder: str) -> None:
    """Add the messages of this s3events version to every catalog in DIR."""
    from ..translating import update_folder

    for path, added in update_folder(folder):
        click.echo(f"updated {path}: {added} new message(s) to translate")
