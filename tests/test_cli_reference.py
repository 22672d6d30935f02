"""The command-line reference of the documentation is generated from the command tree: every command and every
option of it, with its help (a command added to the CLI appears without an edit to the docs)."""

from __future__ import annotations

import typer

from workbench.cli import app
from workbench.cli.reference import markdown


def _commands(command, path):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, f"{path} {name}")


def test_every_command_and_option_is_in_the_reference():
    text = markdown()
    assert not text.startswith("# "), "the page gives the title"
    for path, command in _commands(typer.main.get_command(app), "workbench"):
        assert path == "workbench" or f"## `{path}`" in text, path  # the top level is the page itself
        for param in command.params:
            for flag in getattr(param, "opts", []):
                if flag.startswith("--"):
                    assert f"{flag}" in text, f"{path} {flag}"
    assert "Create a new, empty store at this release's schema revision" in text
