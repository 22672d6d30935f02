"""``workbench serve`` and ``workbench nightly``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workbench.cli.common import StoreOpt
from workbench.errors import WorkbenchError


def serve_command(
    prompts: Annotated[
        list[str] | None, typer.Argument(help="Prompts to serve (name, name@vN or .prompty); default: the library.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model spec (default: the first prompt's).")
    ] = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key_env: Annotated[
        str | None, typer.Option(help="Require 'Authorization: Bearer' with the key in this environment variable.")
    ] = None,
    max_tokens: Annotated[int, typer.Option(help="Largest max_tokens a request may ask for.")] = 512,
    store: StoreOpt = None,
) -> None:
    """Serve library prompts as an OpenAI-compatible API: `model` selects NAME or NAME@vN; /v1/completions and
    /v1/chat/completions (SSE streaming), /v1/prompts/NAME, /v1/feedback, /v1/models."""
    import os

    from workbench.registry import require

    uvicorn = require("uvicorn", "workbench serve")
    from workbench.serve import create_app

    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise WorkbenchError(f"--api-key-env {api_key_env}: that environment variable is empty.")
    app = create_app(prompts or None, model, api_key=api_key, store=store, max_tokens_limit=max_tokens)
    service = app.state.service
    from workbench.secrets import redact

    typer.echo(
        f"serving {', '.join(service.prompts.names())} on {redact(service.model.spec)} at http://{host}:{port}/v1"
    )
    uvicorn.run(app, host=host, port=port, log_level="info")


def nightly_command(
    profile: Annotated[str, typer.Option(help="Parameter profile from notebooks/profiles.yaml: ci or full.")] = "ci",
    out: Annotated[Path, typer.Option(help="Folder for executed notebooks and the summary.")] = Path(".nightly"),
    only: Annotated[
        list[str] | None,
        typer.Option(
            help="Run only these notebooks (names without .ipynb); NAME.VARIANT runs one variant of the profile "
            "(ci: NAME.en, NAME.solutions; full: also NAME.zh). Repeatable."
        ),
    ] = None,
    no_validate: Annotated[bool, typer.Option("--no-validate", help="Skip the nbval re-run.")] = False,
) -> None:
    """Execute every notebook with papermill, validate with nbval, write summary.md/html; exit 1 on failure."""
    from workbench.nightly import run_nightly

    outcomes = run_nightly(profile, out, only=only, validate=not no_validate)
    for o in outcomes:
        mark = "ok  " if o.status == "passed" else "FAIL"
        typer.echo(f"{mark} {o.name:<24} {o.seconds:6.1f}s  {o.metrics}  {o.validation}")
        if o.error:
            typer.echo("     " + o.error.replace("\n", "\n     "))
    typer.echo(f"summary: {out / 'summary.md'}")
    if not outcomes or any(o.status != "passed" for o in outcomes):
        raise typer.Exit(1)
