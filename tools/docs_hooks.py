"""MkDocs build hooks: generate the CLI and series-file references from the code.

Placeholders in Markdown pages are replaced at build time:

* ``<!-- s3events:cli -->`` — every ``s3events`` command with its usage, help and options,
  read from the click commands themselves;
* ``<!-- s3events:series-schema -->`` — every field of a series file, read from the JSON
  Schema of :class:`s3events.Series`;
* ``<!-- s3events:plugins -->`` — the platforms and transports installed where the docs are
  built.

So the reference can never drift from the code.
"""

from __future__ import annotations

import json
from typing import Any

import click


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace the placeholders with generated reference text."""
    if "<!-- s3events:cli -->" in markdown:
        markdown = markdown.replace("<!-- s3events:cli -->", cli_reference())
    if "<!-- s3events:series-schema -->" in markdown:
        markdown = markdown.replace("<!-- s3events:series-schema -->", schema_reference())
    if "<!-- s3events:plugins -->" in markdown:
        page = kwargs.get("page")
        depth = page.file.src_uri.count("/") if page is not None else 0
        markdown = markdown.replace("<!-- s3events:plugins -->", plugins_reference("../" * depth))
    return markdown


# -- CLI ---------------------------------------------------------------------------------

def cli_reference() -> str:
    """Markdown for every command of the ``s3events`` CLI."""
    from s3events.cli import cli

    ctx = click.Context(cli, info_name="s3events")
    parts: list[str] = []
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
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines += ["```", f"{' '.join(path)} {usage}".rstrip(), "```", ""]
    options = [p for p in command.get_params(ctx) if isinstance(p, click.Option)]
    if options:
        lines += ["| Option | Description |", "|---|---|"]
        for option in options:
            record = option.get_help_record(ctx)
            if record is None:
                continue
            names, description = record
            description = description.replace("|", "\\|")
            lines.append(f"| `{names}` | {description} |")
        lines.append("")
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            subcommand = command.get_command(ctx, sub)
            if subcommand is not None:
                lines += _command_doc(subcommand, [*path, sub], ctx)
    return lines


def _dedent(text: str) -> str:
    import inspect

    return inspect.cleandoc(text).replace("\b\n", "")


# -- series file -------------------------------------------------------------------------

def schema_reference() -> str:
    """Markdown tables for every object of the series-file JSON Schema."""
    from s3events.models import Series

    schema = Series.model_json_schema()
    defs = schema.get("$defs", {})
    _DEFS.clear()
    _DEFS.update(defs)
    sections = [_object_doc("Series", schema, defs)]
    for name in sorted(defs):
        if defs[name].get("type") == "object" or "properties" in defs[name]:
            sections.append(_object_doc(name, defs[name], defs))
    return "\n".join(sections)


_DEFS: dict[str, Any] = {}


def _object_doc(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [schema["description"].strip(), ""]
    lines += ["| Field | Type | Required | Default | Description |", "|---|---|---|---|---|"]
    for field, spec in schema.get("properties", {}).items():
        default = json.dumps(spec["default"], ensure_ascii=False) if "default" in spec else ""
        description = (spec.get("description") or "").replace("\n", " ").replace("|", "\\|")
        lines.append(
            f"| `{field}` | {_type_of(spec)} | {'yes' if field in required else ''} | "
            f"{'`' + default + '`' if default else ''} | {description} |"
        )
    return "\n".join([*lines, ""])


def _type_of(spec: dict[str, Any], defs: dict[str, Any] | None = None) -> str:
    defs = _DEFS if defs is None else defs
    if "$ref" in spec:
        ref = spec["$ref"].rsplit("/", 1)[-1]
        if "enum" in defs.get(ref, {}):
            return _type_of(defs[ref], defs)
        return f"[{ref}](#{ref.lower()})"
    if "anyOf" in spec:
        return " or ".join(_type_of(s) for s in spec["anyOf"])
    if "allOf" in spec and len(spec["allOf"]) == 1:
        return _type_of(spec["allOf"][0])
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(spec.get('items', {}))}"
    if kind == "object" and "additionalProperties" in spec:
        extra = spec["additionalProperties"]
        return f"mapping to {_type_of(extra) if isinstance(extra, dict) else 'any'}"
    if spec.get("enum"):
        return " \\| ".join(f"`{v}`" for v in spec["enum"])
    fmt = spec.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


# -- plugins -----------------------------------------------------------------------------

def plugins_reference(root: str = "") -> str:
    """A table of the installed platforms and transports."""
    from s3events.plugins import build_plugin_manager, platforms, transports

    pm = build_plugin_manager()
    lines = ["| Kind | Name | Description | Guide |", "|---|---|---|---|"]
    for name, cls in sorted(platforms(pm).items()):
        lines.append(f"| platform | `{name}` | {cls.description} | "
                     f"[setup]({root}platforms/{name}.md) |")
    for name, cls in sorted(transports(pm).items()):
        lines.append(f"| transport | `{name}` | {cls.description} | "
                     f"[setup]({root}transports/{name}.md) |")
    return "\n".join([*lines, ""])
