"""``workbench`` on the command line. It only parses options and calls the library.

Exit codes: 0 success; 1 a run had errors or missed ``--fail-under``; 2 bad input (a broken
template, a missing column, an unknown model...), reported before any model call.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.errors import WorkbenchError

app = typer.Typer(
    help="Prompt Workbench: run prompt templates over datasets, score, compare, track bad cases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
prompts_app = typer.Typer(help="Browse, render, diff and version the prompt library.", no_args_is_help=True)
runs_app = typer.Typer(help="Stored runs: list, show, compare, export.", no_args_is_help=True)
bad_app = typer.Typer(help="The bad-case tracker.", no_args_is_help=True)
app.add_typer(prompts_app, name="prompts")
app.add_typer(runs_app, name="runs")
app.add_typer(bad_app, name="badcases")

StoreOpt = Annotated[Path | None, typer.Option("--store", help="SQLite run store (default .workbench/workbench.db).")]
LibraryOpt = Annotated[Path | None, typer.Option("--library", help="Prompt library folder (default ./prompt_library).")]


def _console() -> Any:
    from rich.console import Console

    console = Console(soft_wrap=False)
    if not console.is_terminal:  # piped or in CI: don't squeeze tables into 80 columns
        console = Console(soft_wrap=False, width=160)
    return console


def _library(path: Path | None) -> Any:
    from workbench.prompts import PromptLibrary

    return PromptLibrary(path) if path else PromptLibrary()


def _short(value: Any, width: int = 48) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\n", "⏎ ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_frame(df: Any, title: str | None = None, max_rows: int = 60) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in df.columns:
        table.add_column(str(column), overflow="fold")
    for _, row in df.head(max_rows).iterrows():
        table.add_row(*[_short(v, 60) if not (isinstance(v, float) and v != v) else "" for v in row])
    _console().print(table)
    if len(df) > max_rows:
        _console().print(f"… {len(df) - max_rows} more rows (use --out to export them all)")


SUMMARY_HEADINGS = {"pass_rate": "pass rate", "mean_score": "score", "latency_p50_ms": "p50 ms",
                    "latency_p95_ms": "p95 ms", "prompt_tokens": "tokens in", "completion_tokens": "tokens out",
                    "cost_usd": "cost $"}  # fmt: skip


def _print_summary(summary: Any, title: str) -> None:
    """The summary with short headings, so it fits a terminal (the DataFrame keeps the descriptive names)."""
    _print_frame(summary.rename(columns=SUMMARY_HEADINGS), title=title)


def _print_results(records: list[Any]) -> None:
    import pandas as pd

    rows = []
    for r in records:
        first_input = next((v for k, v in r.inputs.items() if k not in ("expected", "id")), "")
        rows.append(
            {
                "row": r.row_id,
                "prompt": f"{r.prompt}@v{r.version}",
                "model": r.model,
                "input": _short(first_input, 36),
                "output": _short(r.output if r.error is None else f"ERROR: {r.error}", 40),
                "parsed": r.parsed,
                "expected": r.inputs.get("expected"),
                "passed": {True: "✓", False: "✗", None: ""}[r.passed],
                "ms": None if r.latency_ms is None else round(r.latency_ms),
            }
        )
    _print_frame(pd.DataFrame(rows), title="Results")


@app.command("run")
def run_command(
    prompts: Annotated[
        list[str], typer.Argument(help="Prompt names from the library (name or name@vN) or .prompty paths.")
    ],
    dataset: Annotated[
        Path | None,
        typer.Option("--dataset", "-d", help="CSV or JSONL file, one row per case (default: the prompt's dataset)."),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model", "-m", help="Model spec; repeat for several. local | openai:MODEL | openai:MODEL@BASE_URL"
        ),
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight per model.")] = None,
    rate_limit: Annotated[float | None, typer.Option(help="Requests per minute per model.")] = None,
    repeats: Annotated[int, typer.Option(help="Run each cell N times (sampling variance).")] = 1,
    limit: Annotated[int | None, typer.Option(help="Only the first N rows.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Override the template's temperature.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Override the template's max_tokens.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per model call.")] = 120.0,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Export results: .csv, .jsonl or .html.")] = None,
    store: StoreOpt = None,
    fail_under: Annotated[float | None, typer.Option(help="Exit 1 if the pass rate is below this (0-1).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Call the models even for cached prompts.")] = False,
    capture_bad_cases: Annotated[
        bool, typer.Option("--capture-bad-cases", help="Record failures as bad cases.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary.")] = False,
) -> None:
    """Run prompts × models over a dataset; print results and a summary; store everything."""
    from workbench.reports import export_results
    from workbench.runner import run

    params = {k: v for k, v in {"temperature": temperature, "max_tokens": max_tokens}.items() if v is not None}
    if dataset is None:
        from workbench.prompts import load_prompt

        dataset = load_prompt(prompts[0]).dataset
        if not dataset:
            raise WorkbenchError(f"Prompt {prompts[0]!r} names no dataset: pass --dataset FILE.")
    result = run(
        prompts,
        dataset,
        model or None,
        store=str(store) if store else None,
        params=params,
        repeats=repeats,
        concurrency=concurrency,
        rate_limit=rate_limit,
        timeout=timeout,
        cache=not no_cache,
        limit=limit,
        capture_bad_cases=capture_bad_cases,
    )
    if not quiet:
        _print_results(result.records)
    _print_summary(result.summary(), title=f"Summary of run {result.run_id}")
    stats = result.stats
    _console().print(
        f"run {result.run_id}: {stats['cells']} cells — {stats['called']} model calls, {stats['cached']} from cache, "
        f"{stats['resumed']} resumed, {stats['errors']} errors. Store: {result.store.path}"
    )
    if out:
        export_results(result.records, out)
        _console().print(f"exported {len(result.records)} rows to {out}")
    rate = result.pass_rate
    if result.errors:
        _console().print(f"[red]{len(result.errors)} cell(s) failed; first: {result.errors[0].error}[/red]")
        raise typer.Exit(1)
    if fail_under is not None and (rate is None or rate < fail_under):
        _console().print(
            f"[red]pass rate {rate if rate is not None else 'n/a'} is under --fail-under {fail_under}[/red]"
        )
        raise typer.Exit(1)


# -- prompts ----------------------------------------------------------------------------
@prompts_app.command("list")
def prompts_list(library: LibraryOpt = None) -> None:
    """Every template in the library with its version, kind and variables."""
    import pandas as pd

    lib = _library(library)
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
    _print_frame(pd.DataFrame(rows), title=f"Prompt library {lib.root}")


@prompts_app.command("show")
def prompts_show(name: str, version: Annotated[int | None, typer.Option()] = None, library: LibraryOpt = None) -> None:
    """Print a template file (current version, or --version N)."""
    template = _library(library).get(name, version)
    typer.echo(template.to_text())
    typer.echo(f"# variables: {', '.join(template.variables)}  versions: {_library(library).versions(template.name)}")


@prompts_app.command("versions")
def prompts_versions(name: str, library: LibraryOpt = None) -> None:
    """List a template's versions."""
    for v in _library(library).versions(name):
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
    typer.echo(_library(library).diff(name, a, b, rendered=rendered), nl=False)


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

    template = _library(library).get(name) if not name.endswith(".prompty") else _load_path(name)
    values: dict[str, Any] = dict(template.examples)
    if dataset:
        data = load_dataset(dataset)
        if not 0 <= row < len(data):
            raise WorkbenchError(f"{dataset} has {len(data)} rows; --row must be 0..{len(data) - 1}.")
        values.update(public_fields(data.rows[row]))
    for item in var or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise WorkbenchError(f"--var {item!r}: write name=value.")
        values[key] = value
    typer.echo(prompt_as_text(template.render(values)))


def _load_path(path: str) -> Any:
    from workbench.prompts import PromptTemplate

    return PromptTemplate.load(path)


# -- runs -------------------------------------------------------------------------------
@runs_app.command("list")
def runs_list(store: StoreOpt = None, limit: int = 20) -> None:
    """Recent runs with their pass counts."""
    import pandas as pd

    from workbench.store import Store

    runs = Store(store).runs(limit)
    if not runs:
        typer.echo("No runs yet. Start one with: workbench run PROMPT --dataset FILE")
        return
    df = pd.DataFrame(runs)
    _print_frame(
        df[["id", "status", "prompts", "models", "dataset", "n_cells", "done", "passed", "errors", "started_at"]],
        title="Runs",
    )


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough), or 'latest'.")],
    store: StoreOpt = None,
    failed: bool = False,
) -> None:
    """A run's results and summary."""
    from workbench.reports import summarize
    from workbench.store import Store

    s = Store(store)
    run_id = _run_id(s, run_id)
    records = s.results(run_id)
    if failed:
        records = [r for r in records if r.passed is False or r.error]
    _print_results(records)
    _print_summary(summarize(s.results(run_id)), title=f"Summary of run {run_id}")


def _run_id(store: Any, run_id: str) -> str:
    if run_id == "latest":
        latest = store.latest_run_id()
        if latest is None:
            raise WorkbenchError("No runs yet in this store.")
        return latest
    return store.run(run_id)["id"]


@runs_app.command("compare")
def runs_compare(
    before: str,
    after: str,
    store: StoreOpt = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Show unchanged rows too.")] = False,
) -> None:
    """Which rows flipped pass→fail and fail→pass between two runs on the same rows."""
    from workbench.reports import compare_records, flips
    from workbench.store import Store

    s = Store(store)
    table = compare_records(s.results(_run_id(s, before)), s.results(_run_id(s, after)))
    counts = flips(table)
    shown = table if all_rows else table[table["change"].isin(["fail→pass", "pass→fail"])]
    cols = ["row_id", "output_before", "output_after", "passed_before", "passed_after", "change"]
    if not shown.empty:
        _print_frame(shown[cols], title="Flipped rows" if not all_rows else "All rows")
    typer.echo("  ".join(f"{k}: {v}" for k, v in counts.items()))


@runs_app.command("export")
def runs_export(run_id: str, out: Path, store: StoreOpt = None) -> None:
    """Export a stored run to .csv, .jsonl or .html."""
    from workbench.reports import export_results
    from workbench.store import Store

    s = Store(store)
    export_results(s.results(_run_id(s, run_id)), out)
    typer.echo(f"wrote {out}")


# -- bad cases --------------------------------------------------------------------------
def _tracker(store: Path | None) -> Any:
    from workbench.badcases import BadCaseTracker

    return BadCaseTracker(str(store) if store else None)


@bad_app.command("list")
def bad_list(
    store: StoreOpt = None, status: str | None = None, tag: str | None = None, prompt: str | None = None
) -> None:
    """Bad cases, filtered by status, tag or prompt; then a report per category."""
    tracker = _tracker(store)
    df = tracker.dataframe(status=status, tag=tag, prompt=prompt)
    if df.empty:
        typer.echo("No bad cases. Capture them with `workbench run ... --capture-bad-cases` or mark_bad().")
        return
    _print_frame(
        df[["id", "prompt", "version", "model", "tags", "status", "output", "expected", "note"]], title="Bad cases"
    )
    report = tracker.report()
    if not report.empty:
        _print_frame(report.reset_index(), title="By category")


@bad_app.command("show")
def bad_show(case_id: int, store: StoreOpt = None) -> None:
    """One bad case with its history of checks."""
    case = _tracker(store).get(case_id)
    typer.echo(f"#{case.id} [{case.status}] {case.prompt}@v{case.version} · {case.model}  tags: {', '.join(case.tags)}")
    for key, value in case.inputs.items():
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


@app.command("serve")
def serve_command(
    prompt: Annotated[str, typer.Argument(help="Prompt name (name or name@vN) or .prompty path.")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model spec (default: the prompt's).")] = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key_env: Annotated[
        str | None, typer.Option(help="Require 'Authorization: Bearer' with the key in this environment variable.")
    ] = None,
    max_tokens: Annotated[int, typer.Option(help="Largest max_tokens a request may ask for.")] = 512,
    store: StoreOpt = None,
) -> None:
    """Serve a prompt as an OpenAI-compatible API (/v1/chat/completions with SSE streaming, /v1/prompts/NAME)."""
    import os

    import uvicorn

    from workbench.serve import create_app

    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise WorkbenchError(f"--api-key-env {api_key_env}: that environment variable is empty.")
    app = create_app(prompt, model, api_key=api_key, store=str(store) if store else None, max_tokens_limit=max_tokens)
    typer.echo(f"serving {app.state.config.prompt.ref} on {app.state.config.model.spec} at http://{host}:{port}/v1")
    uvicorn.run(app, host=host, port=port, log_level="info")


@app.command("nightly")
def nightly_command(
    profile: Annotated[str, typer.Option(help="Parameter profile from notebooks/profiles.yaml: ci or full.")] = "ci",
    out: Annotated[Path, typer.Option(help="Folder for executed notebooks and the summary.")] = Path(".nightly"),
    only: Annotated[list[str] | None, typer.Option(help="Run only these notebooks (names without .ipynb).")] = None,
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


def main() -> None:
    try:
        app()
    except WorkbenchError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("Interrupted. Finished cells are stored; run the same command again to resume.", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
