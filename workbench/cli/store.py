"""``workbench store``: what a store holds, upgrading its schema, copying one store into another."""

from __future__ import annotations

from typing import Annotated

import typer

from workbench.cli.common import FormatOpt, StoreOpt, check_format
from workbench.cli.output import console, print_json

store_app = typer.Typer(help="The run store: init, stats, upgrade, copy.", no_args_is_help=True)


@store_app.command("init")
def store_init(store: StoreOpt = None) -> None:
    """Create a new, empty store at this release's schema revision (any command that opens an empty store does
    the same; this one does nothing else). An existing store is left as it is."""
    from workbench.store import Store, parse_location

    opened = Store(parse_location(store), upgrade=False)
    if not opened.created:  # a new one was announced as it was created
        console().print(f"{opened.url} already exists at schema revision {opened.revision}")


@store_app.command("stats")
def store_stats(store: StoreOpt = None, output_format: FormatOpt = "table") -> None:
    """Rows per table (runs, results, cache, bad cases, checks, feedback, prompt versions) and the schema revision."""
    from workbench.store import Store, parse_location

    check_format(output_format)
    opened = Store(parse_location(store), upgrade=False)
    counts = opened.stats()
    if output_format == "json":
        print_json(counts)
        return
    console().print(f"store {opened.url}")
    for name, value in counts.items():
        console().print(f"  {name:<16} {value}")


@store_app.command("upgrade")
def store_upgrade(store: StoreOpt = None) -> None:
    """Bring the store's schema to this release (every row is kept). A team's PostgreSQL store is upgraded only
    by this command."""
    from workbench.store import Store, parse_location
    from workbench.store.engine import current_revision, upgrade

    location = parse_location(store)
    opened = Store(location, upgrade=False)
    if opened.created:  # a blank database: created at the head revision (and said so), nothing to upgrade
        return
    before = current_revision(opened._engine)
    after = upgrade(opened._engine, location)
    if before == after:
        console().print(f"{opened.url} is already at revision {after}")
    else:
        console().print(f"{opened.url}: upgraded from {before or 'a store before Alembic'} to {after}")


@store_app.command("copy")
def store_copy(
    source: Annotated[str, typer.Argument(help="The store to copy from (path or URL).")],
    destination: Annotated[str, typer.Argument(help="The store to copy into, e.g. the team's postgresql://...")],
) -> None:
    """Copy every run, result, cache entry, bad case, check, feedback row and prompt version that DST lacks.
    Running it again adds nothing."""
    from workbench.store import Store
    from workbench.store.copy import copy_store

    report = copy_store(Store(source), Store(destination))
    console().print(f"copied into {Store(destination).url}: {report}")
