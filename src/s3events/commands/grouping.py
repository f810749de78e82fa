"""A click group whose default subcommand may be left out: ``s3events attendance SERIES``.

``s3events attendance SERIES --json`` runs ``s3events attendance report SERIES --json``;
``s3events attendance fetch SERIES`` runs the ``fetch`` subcommand. The first argument
decides: a subcommand's name, or anything else (a series file) for the default one.
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["ShortcutGroup"]


class ShortcutGroup(click.Group):
    """A group that runs ``default`` when the first argument names no subcommand."""

    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        kwargs.setdefault("invoke_without_command", False)
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Insert the default subcommand's name before a first argument that is no name."""
        if args and args[0] not in self.get_help_option_names(ctx) \
                and args[0] not in self.commands:
            args = [self.default, *args]
        return super().parse_args(ctx, args)
