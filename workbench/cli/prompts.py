"""``workbench prompts``: browse, render, diff and version the prompt library."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.cli.common import LibraryOpt, WideOpt
from workbench.cli.common import library as library_of
from workbench.cli.output import print_frame
from workbench.errors import WorkbenchError

prompts_app = typer.Typer(help="Browse, render, diff and version the prompt library.", no_args_is_help=True)


@prompts_app.command("list")
def prompts_list(library: LibraryOpt = None, wide: WideOpt = False) -> None:
    """Every template in the library with its version, kind and variables."""
    import pandas as pd

    lib = library_of(library)
    rows = [
        {
            "name": t.name,
            "version": t.version,
            "api": t.api,
            "variables": ", ".join(t.variables),
            "parser": t.output.get("parser", "text"),
            "tags": ", ".join(t.tags),
            "description": t.description,
        }
        for t in lib.templates()
    ]
    print_frame(pd.DataFrame(rows), title=f"Prompt library {lib.root}", wide=wide)


@prompts_app.command("show")
def prompts_show(name: str, version: Annotated[int | None, typer.Option()] = None, library: LibraryOpt = None) -> None:
    """Print a template file (current version, or --version N)."""
    template = library_of(library).get(name, version)
    typer.echo(template.to_text(), nl=False)
    typer.echo(f"# variables: {', '.join(template.variables)}  versions: {library_of(library).versions(template.name)}")


@prompts_app.command("versions")
def prompts_versions(name: str, library: LibraryOpt = None) -> None:
    """List a template's versions."""
    for v in library_of(library).versions(name):
        typer.echo(f"{name}@v{v}")


@prompts_app.command("diff")
def prompts_diff(
    name: str,
    a: int,
    b: int,
    rendered: Annotated[bool, typer.Option(help="Diff the renders with the example inputs.")] = False,
    library: LibraryOpt = None,
) -> None:
    """A unified diff between two versions of a template."""
    typer.echo(library_of(library).diff(name, a, b, rendered=rendered), nl=False)


@prompts_app.command("render")
def prompts_render(
    name: str,
    var: Annotated[list[str] | None, typer.Option("--var", help="name=value (repeatable).")] = None,
    dataset: Annotated[Path | None, typer.Option(help="Render with a row of this dataset.")] = None,
    row: Annotated[int, typer.Option(help="Which dataset row (0-based).")] = 0,
    library: LibraryOpt = None,
) -> None:
    """Render a template with its examples, a dataset row, or --var values."""
    from workbench.datasets import load_dataset, public_fields
    from workbench.models.base import prompt_as_text

    template = library_of(library).get(name) if not name.endswith(".prompty") else _load_path(name)
    values: dict[str, Any] = dict(template.examples)
    if dataset:
        data = load_dataset(dataset)
        if not 0 <= row < len(data):
            raise WorkbenchError(f"{dataset} has {len(data)} rows; --row must be 0..{len(data) - 1}.")
        values.update(public_fields(data.rows[row]))
    known = list(dict.fromkeys([*template.variables, *template.inputs]))
    for item in var or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise WorkbenchError(f"--var {item!r}: write name=value.")
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            names = ", ".join(known) or "none"
            raise WorkbenchError(f"--var {key}: {template.ref} has no variable {key!r}.{hint} Its variables: {names}.")
        values[key] = value
    typer.echo(prompt_as_text(template.render(values)))


@prompts_app.command("save")
def prompts_save(
    target: Annotated[
        str,
        typer.Argument(
            help="A .prompty file to add to the library, or the name of a library "
            "prompt whose file you edited in place."
        ),
    ],
    as_next_version: Annotated[
        bool, typer.Option("--as-next-version", help="The file's prompt exists: save it as that prompt's next version.")
    ] = False,
    library: LibraryOpt = None,
) -> None:
    """Save a version, keeping history: an edited library file becomes the next version (the old text stays in
    _versions/), a new file joins the library."""
    from pathlib import Path as FilePath

    lib = library_of(library)
    if target.endswith(".prompty") or FilePath(target).is_file():
        template = _load_path(target)
        owned = lib.owns(template)
        saved = lib.save_file(template.name) if owned else lib.save(template, as_next_version=as_next_version)
    else:
        saved = lib.save_file(target)
    typer.echo(f"saved {saved.ref} ({saved.path}); versions: {', '.join(f'v{v}' for v in lib.versions(saved.name))}")


def _load_path(path: str) -> Any:
    from workbench.prompts import PromptTemplate

    return PromptTemplate.load(path)
