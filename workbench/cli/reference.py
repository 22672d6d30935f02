"""The command line as Markdown, for the documentation's reference (``docs/reference/cli.md``, filled in at build
time by ``docs/hooks.py``): every command, argument and option with its help, types and defaults, as ``--help``
prints them — written by Typer's own documentation generator (``typer … utils docs``), so it cannot drift.
"""

from __future__ import annotations


def markdown() -> str:
    """Every ``workbench`` command as Markdown sections (``## `workbench run` `` …), without a page title."""
    import typer
    from typer.cli import get_docs_for_click

    from workbench.cli import app

    command = typer.main.get_command(app)
    text = get_docs_for_click(obj=command, ctx=typer.Context(command, info_name="workbench"), name="workbench")
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):  # the page has its own title
        lines = lines[1:]
    return "\n".join(lines).strip() + "\n"
