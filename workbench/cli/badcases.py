"""``workbench badcases``: the bad-case tracker on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.cli.common import StoreOpt, WideOpt
from workbench.cli.output import print_frame

bad_app = typer.Typer(help="The bad-case tracker.", no_args_is_help=True)


# -- bad cases --------------------------------------------------------------------------
def _tracker(store: str | None) -> Any:
    from workbench.badcases import BadCaseTracker

    return BadCaseTracker(store)


@bad_app.command("list")
def bad_list(
    store: StoreOpt = None,
    status: str | None = None,
    tag: str | None = None,
    prompt: str | None = None,
    wide: WideOpt = False,
) -> None:
    """Bad cases, filtered by status, tag or prompt; then a report per category."""
    tracker = _tracker(store)
    df = tracker.dataframe(status=status, tag=tag, prompt=prompt)
    if df.empty:
        typer.echo("No bad cases. Capture them with `workbench run ... --capture-bad-cases` or mark_bad().")
        return
    df = df.assign(input=[_first_input(inputs) for inputs in df["inputs"]])
    columns = ["id", "status", "prompt", "version", "model", "row_id", "input", "output", "expected", "tags", "note"]
    print_frame(df[columns], title="Bad cases", wide=wide)
    report = tracker.report()
    if not report.empty:
        print_frame(report.reset_index(), title="By category", wide=wide)


def _first_input(inputs: dict[str, Any]) -> Any:
    return next((v for k, v in inputs.items() if k not in ("expected", "id")), "")


@bad_app.command("show")
def bad_show(case_id: int, store: StoreOpt = None) -> None:
    """One bad case with its history of checks."""
    case = _tracker(store).get(case_id)
    typer.echo(f"#{case.id} [{case.status}] {case.prompt}@v{case.version} · {case.model}  tags: {', '.join(case.tags)}")
    typer.echo(f"  row:      {case.row_id}")
    for key, value in case.inputs.items():
        if key not in ("expected", "id"):  # the expected answer is shown once, below
            typer.echo(f"  {key}: {value}")
    typer.echo(f"  output:   {case.output}\n  expected: {case.expected}\n  note:     {case.note}")
    for check in case.checks:
        typer.echo(f"  check {check['checked_at']} run {check['run_id']} v{check['version']}: {check['outcome']}")


@bad_app.command("tag")
def bad_tag(
    case_id: int,
    add: Annotated[list[str] | None, typer.Option("--add")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove")] = None,
    note: str | None = None,
    expected: str | None = None,
    status: str | None = None,
    store: StoreOpt = None,
) -> None:
    """Add/remove tags, set the note, expected answer or status (open, fixed, regressed, wontfix)."""
    tracker = _tracker(store)
    case = tracker.tag(case_id, add or [], remove or [])
    if note is not None or expected is not None:
        case = tracker.annotate(case_id, note=note, expected=expected)
    if status:
        case = tracker.set_status(case_id, status)
    typer.echo(f"#{case.id} [{case.status}] tags: {', '.join(case.tags)}")


@bad_app.command("recheck")
def bad_recheck(
    prompt: str, model: Annotated[list[str] | None, typer.Option("--model", "-m")] = None, store: StoreOpt = None
) -> None:
    """Run open/regressed/fixed bad cases against a prompt version (name or name@vN) and update them."""
    report = _tracker(store).recheck(prompt, model or None, progress=False)
    for case_id, outcome in sorted(report.outcomes.items()):
        typer.echo(f"#{case_id}: {outcome}")
    typer.echo(f"run {report.run_id}: " + ", ".join(f"{k} {v}" for k, v in report.counts().items()))


@bad_app.command("export")
def bad_export(out: Path, store: StoreOpt = None, status: str | None = None, prompt: str | None = None) -> None:
    """Export bad cases as a regression dataset (.csv or .jsonl) with expected answers."""
    path = _tracker(store).export(out, status=status, prompt=prompt)
    typer.echo(f"wrote {path}")
