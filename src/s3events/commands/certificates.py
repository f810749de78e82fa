"""``s3events certificates``: write certificates of attendance, and check their codes.

``s3events certificates SERIES -o DIR`` is short for ``s3events certificates write SERIES
-o DIR``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from ..cli import series_argument, state_option
from .dispatch import _opened
from .grouping import ShortcutGroup

if TYPE_CHECKING:
    from ..certificates import IssuedCertificate

__all__ = ["certificates"]


@click.group(cls=ShortcutGroup, default="write")
def certificates() -> None:
    """Certificates of attendance: write one PDF per person, or check a code.

    `s3events certificates SERIES -o DIR` is short for
    `s3events certificates write SERIES -o DIR`.
    """


@certificates.command("write")
@series_argument
@click.option("-o", "--output", "output", metavar="DIR", required=True,
              type=click.Path(file_okay=False), help="Folder to write the PDF files into.")
@click.option("--min-sessions", "min_sessions", metavar="N", type=click.IntRange(1),
              default=None, help="Sessions a person must have attended (default: the "
              "series' dispatch.certificates.min_sessions, else 1).")
@click.option("--json", "as_json", is_flag=True,
              help='Print [{"email", "file", "code"}] instead of a summary.')
@state_option
def write(series_path: str, output: str, min_sessions: int | None, as_json: bool,
          state: str | None) -> None:
    """Write one PDF certificate per person who attended enough sessions.

    Each lists the sessions the person attended, with their dates in the person's
    language and time zone, the series, the organiser, and a verification code signed with
    the state database's secret.

    Names in scripts the built-in font lacks need the series' `fonts`. Exit status 1 when
    some certificate needs letters no font has (the others are written, and listed).
    """
    from ..certificates import write_certificates
    from ..errors import CertificateFontError
    from ..loading import load_series

    series = load_series(series_path)
    with _opened(state) as store:
        try:
            written = write_certificates(store, series, output, min_sessions=min_sessions)
        except CertificateFontError as exc:  # the others were written: say so, then fail
            _report(exc.written, output, as_json)
            raise
    _report(written, output, as_json)


def _report(written: list[IssuedCertificate], output: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([w.as_json() for w in written], indent=2, ensure_ascii=False))
        return
    click.echo(f"wrote {len(written)} certificate(s) to {output}")


@certificates.command("verify")
@series_argument
@click.argument("code_parts", metavar="CODE", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@state_option
def verify(series_path: str, code_parts: tuple[str, ...], as_json: bool,
           state: str | None) -> None:
    """Say whether CODE is the code of a genuine certificate of the series, and whose.

    CODE may be typed in any case, with or without its dashes or spaces, quoted or not
    (`7K3M-Q9XD-2PRA-WN4E`, `7k3m q9xd 2pra wn4e`).

    Exit status 0 for a genuine code, 1 for one that is not (changed, of another series,
    or of attendance that has changed since), 2 for text that cannot be a code.
    """
    from ..certificates import normalise_code, verify_certificate
    from ..loading import load_series
    from ..terminal import clean

    code = " ".join(code_parts)
    series = load_series(series_path)
    with _opened(state) as store:
        found = verify_certificate(store, series, code)
    if found is None:
        if as_json:
            click.echo(json.dumps({"genuine": False, "code": normalise_code(code),
                                   "series": series.id}, indent=2))
        else:
            click.echo(f"not genuine: {normalise_code(code)} is not the code of a certificate "
                       f"of {series.id}")
        raise click.exceptions.Exit(1)
    if as_json:
        click.echo(json.dumps(found.as_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"genuine: certificate of attendance of {clean(found.name)} "
               f"<{clean(found.email)}> in "
               f"{series.id}, for {len(found.sessions)} session(s): "
               f"{', '.join(found.sessions)}")
