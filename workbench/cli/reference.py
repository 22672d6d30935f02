"""The command tree as Click sees it, for the documentation's command-line reference (``docs/reference/cli.md``,
rendered by mkdocs-click at build time: every command, argument and option with its help, as ``--help`` prints it).
"""

from __future__ import annotations

import typer

from workbench.cli import app

command = typer.main.get_command(app)
