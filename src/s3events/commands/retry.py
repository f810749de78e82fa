"""``s3events retry``: put failed messages back to pending, once their cause is fixed.

A thin layer over :func:`s3events.dispatch.retry_failed`. Output holds counts only, never
names or addresses (``--email`` picks a person; it is not repeated).
"""

from __future__ import annotations

import json

import click

from ..cli import now_option, parse_now, series_argument, state_option
from ..errors import InputError
from ..ledger import KINDS

__all__ = ["retry"]


@click.command()
@series_argument
@click.option("--session", "session_id", metavar="ID", default=None,
              help="Only the messages of this session.")
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Only messages of this kind.")
@click.option("--email", metavar="EMAIL", default=None,
              help="Only this person's messages (matched as registrations are: case and "
                   "the two forms of an internationalised domain do not matter).")
@click.option("--channel", metavar="NAME", default=None,
              help="Only messages of this channel, one of the series' dispatch.channels "
                   "(email, whatsapp, telegram …).")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"series", "requeued", "too_late"} as JSON.')
@state_option
@now_option
def retry(series_path: str, session_id: str | None, kind: str | None, email: str | None,
          channel: str | None, as_json: bool, state: str | None, now: str | None) -> None:
    """Put failed messages back to pending; the next dispatch sends them.

    Fix the cause first (`s3events status SERIES` lists why messages failed: an address
    the server refused, a server without SMTPUTF8, a template). Each message re-queued
    starts again with no attempts counted and is due at once; the reason it failed stays
    on it until it is sent. A message whose moment has passed at --now (the link of a
    session that has ended, a reminder of one that has started) stays failed: it would
    never be sent late. Prints how many were put back. Exit status 2 for an unknown
    session or email, a channel the series does not use, or a missing state database.
    """
    from ..dispatch import retry_failed
    from ..loading import load_series
    from ..store import open_store

    series = load_series(series_path)
    if channel is not None and channel not in series.dispatch.channels:
        raise InputError(f"{series.id} does not use the channel '{channel}'; its "
                         f"channels (dispatch.channels): {', '.join(series.dispatch.channels)}")
    with open_store(state, create=False) as store:
        report = retry_failed(store, series, now=parse_now(now), session_id=session_id,
                              kind=kind, email=email, channel=channel)
    if as_json:
        click.echo(json.dumps({"series": series.id, "requeued": report.requeued,
                               "too_late": report.too_late}, indent=2))
        return
    click.echo(f"put {report.requeued} failed message(s) back to pending; the next "
               "`s3events dispatch` sends them")
    if report.too_late:
        click.echo(f"left {report.too_late} failed message(s) as they are: their moment has "
                   "passed (a link of a session that has ended, a reminder of one that has "
                   "started)")
