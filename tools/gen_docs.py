"""Regenerate the reference pages from the code: ``docs/cli.md`` and ``docs/series-file.md``.

Usage (from the repository root, in the project's environment)::

    python tools/gen_docs.py           # rewrite the generated part of each page
    python tools/gen_docs.py --check   # exit 1, naming the stale pages, when they differ

``make docs-ref`` runs the first. Each page keeps its hand-written introduction; the
reference below it sits between ``<!-- s3events:NAME:begin -->`` and
``<!-- s3events:NAME:end -->`` and is replaced as a whole:

* ``cli`` — the global options and every ``s3events`` command with its usage, help and
  options, read from the click commands themselves;
* ``series-schema`` — every object and field of a series file, read from the JSON Schema of
  :class:`s3events.Series`.

The pages are committed with their content, so they read in full on a code host.
``tests/test_docs.py`` fails when one is stale, and so does ``mkdocs build --strict``.
"""

from __future__ import annotations

import argparse
import html
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "python tools/gen_docs.py"


# -- CLI ----------------------------------------------------------------------------------

def cli_reference() -> str:
    """Markdown for the global options and every command of the ``s3events`` CLI."""
    from s3events.cli import cli

    ctx = click.Context(cli, info_name="s3events", **cli.context_settings)
    parts = ["## Global options", "", *_usage_and_options(cli, ["s3events"], ctx)]
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        if command is not None:
            parts.extend(_command_doc(command, ["s3events", name], ctx))
    return "\n".join(parts)


def _command_doc(command: click.Command, path: list[str], parent: click.Context) -> list[str]:
    ctx = click.Context(command, info_name=path[-1], parent=parent)
    lines = [f"{'#' * min(len(path), 4)} `{' '.join(path)}`", ""]
    help_text = (command.help or command.short_help or "").strip()
    if help_text:
        lines += [_dedent(help_text), ""]
    lines += _usage_and_options(command, path, ctx)
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            subcommand = command.get_command(ctx, sub)
            if subcommand is not None:
                lines += _command_doc(subcommand, [*path, sub], ctx)
    return lines


def _usage_and_options(command: click.Command, path: list[str],
                       ctx: click.Context) -> list[str]:
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = ["```", f"{' '.join(path)} {usage}".rstrip(), "```", ""]
    records = [option.get_help_record(ctx) for option in command.get_params(ctx)
               if isinstance(option, click.Option)]
    rows = [f"| {_code(names)} | {_cell(text)} |" for names, text in filter(None, records)]
    if rows:
        lines += ["| Option | Description |", "|---|---|", *rows, ""]
    return lines


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code in a table cell that reads the same on a code host and in MkDocs.

    GitHub splits cells at a ``|`` even inside backticks and MkDocs keeps a ``\\|`` there
    as it is; an HTML ``<code>`` with ``&#124;`` is read alike by both.
    """
    return f"<code>{html.escape(text).replace('|', '&#124;')}</code>"


def _dedent(text: str) -> str:
    return inspect.cleandoc(text).replace("\b\n", "")


# -- series file --------------------------------------------------------------------------

def schema_reference() -> str:
    """Markdown tables for every object of the series-file JSON Schema."""
    from s3events.models import Series

    schema = Series.model_json_schema()
    defs = schema.get("$defs", {})
    sections = [_object_doc("Series", schema, defs)]
    for name in sorted(defs):
        if defs[name].get("type") == "object" or "properties" in defs[name]:
            sections.append(_object_doc(name, defs[name], defs))
    return "\n".join(sections)


def _object_doc(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [schema["description"].strip(), ""]
    lines += ["| Field | Type | Required | Default | Description |", "|---|---|---|---|---|"]
    for field, spec in schema.get("properties", {}).items():
        default = json.dumps(spec["default"], ensure_ascii=False) if "default" in spec else ""
        lines.append(
            f"| `{field}` | {_type_of(spec, defs)} | {'yes' if field in required else ''} | "
            f"{'`' + default + '`' if default else ''} | {_cell(spec.get('description') or '')} |"
        )
    return "\n".join([*lines, ""])


def _type_of(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in spec:
        ref = spec["$ref"].rsplit("/", 1)[-1]
        if "enum" in defs.get(ref, {}):
            return _type_of(defs[ref], defs)
        return f"[{ref}](#{ref.lower()})"
    if "anyOf" in spec:
        return " or ".join(_type_of(s, defs) for s in spec["anyOf"])
    if "allOf" in spec and len(spec["allOf"]) == 1:
        return _type_of(spec["allOf"][0], defs)
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(spec.get('items', {}), defs)}"
    if kind == "object" and "additionalProperties" in spec:
        extra = spec["additionalProperties"]
        return f"mapping to {_type_of(extra, defs) if isinstance(extra, dict) else 'any'}"
    if spec.get("enum"):
        return " \\| ".join(f"`{v}`" for v in spec["enum"])
    fmt = spec.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


# -- pages --------------------------------------------------------------------------------

#: Page → (marker name, generator).
PAGES: dict[str, tuple[str, Callable[[], str]]] = {
    "docs/cli.md": ("cli", cli_reference),
    "docs/series-file.md": ("series-schema", schema_reference),
}


def markers(name: str) -> tuple[str, str]:
    """The comments that open and close the generated part named ``name``."""
    return (f"<!-- s3events:{name}:begin -->",
            f"<!-- s3events:{name}:end -->")


def regenerated(text: str, name: str, body: str) -> str:
    """``text`` with the part between the markers of ``name`` replaced by ``body``."""
    begin, end = markers(name)
    if begin not in text or end not in text:
        raise SystemExit(f"the page has no {begin} … {end} markers")
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    return f"{head}{begin}\n\n{body.rstrip()}\n\n{end}{tail}"


def expected(page: str) -> str:
    """What ``page`` (relative to the repository root) should hold."""
    name, generate = PAGES[page]
    return regenerated((ROOT / page).read_text(encoding="utf-8"), name, generate())


def stale_pages() -> list[str]:
    """The generated pages whose committed text differs from what the code gives."""
    return [page for page in PAGES
            if (ROOT / page).read_text(encoding="utf-8") != expected(page)]


def main(argv: list[str] | None = None) -> int:
    """Rewrite the pages, or with ``--check`` report the stale ones (exit status 1)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a page is stale")
    args = parser.parse_args(argv)
    stale = stale_pages()
    if args.check:
        for page in stale:
            print(f"{page} is stale: run `{COMMAND}` (or `make docs-ref`)", file=sys.stderr)
        return 1 if stale else 0
    for page in stale:
        (ROOT / page).write_text(expected(page), encoding="utf-8")
        print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
