"""``workbench`` on the command line. It only parses options and calls the library.

Exit codes: 0 success; 1 a run had errors, missed ``--fail-under`` or a comparison was worse with
``--fail-if-worse``; 2 bad input (a broken template, a missing column, an unknown model...), reported before
any model call.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from workbench.cli.badcases import bad_app
from workbench.cli.common import StoreOpt
from workbench.cli.ops import nightly_command, serve_command
from workbench.cli.output import console, print_results, print_summary
from workbench.cli.prompts import prompts_app
from workbench.cli.runs import runs_app
from workbench.cli.store import store_app
from workbench.errors import WorkbenchError

app = typer.Typer(
    help="Prompt Workbench: run prompt templates over datasets, score, compare, track bad cases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(prompts_app, name="prompts")
app.add_typer(runs_app, name="runs")
app.add_typer(bad_app, name="badcases")
app.add_typer(store_app, name="store")
app.command("serve")(serve_command)
app.command("nightly")(nightly_command)


@app.command("run")
def run_command(
    prompts: Annotated[
        list[str], typer.Argument(help="Prompt names from the library (name or name@vN) or .prompty paths.")
    ],
    dataset: Annotated[
        Path | None,
        typer.Option("--dataset", "-d", help="CSV, TSV, JSONL, XLSX or Parquet file (default: the prompt's dataset)."),
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="Sheet of an .xlsx dataset (default: the first).")] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Model spec; repeat for several. local | openai:MODEL | openai:MODEL@URL"),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Requests in flight per model (backs off on 429/5xx).")
    ] = None,
    rate_limit: Annotated[float | None, typer.Option(help="Requests per minute per model.")] = None,
    repeats: Annotated[int, typer.Option(help="Samples per cell (use with --temperature > 0).")] = 1,
    limit: Annotated[int | None, typer.Option(help="Only the first N rows.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Override the template's temperature.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Override the template's max_tokens.")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Base seed of sampled runs (each row × repeat derives its own).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per model call attempt.")] = 120.0,
    retries: Annotated[
        int | None, typer.Option(help="Retries for 5xx, dropped connections, timeouts (default 6).")
    ] = None,
    retry_budget: Annotated[
        float | None, typer.Option(help="Seconds of 429s without any success before giving up (default 300).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Export results: .csv, .jsonl or .html.")] = None,
    store: StoreOpt = None,
    fail_under: Annotated[float | None, typer.Option(help="Exit 1 if the pass rate is below this (0-1).")] = None,
    gate: Annotated[
        str | None, typer.Option(help="Exit 1 unless the run passes this named gate (workbench/gates.py).")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Call the models even for cached prompts.")] = False,
    no_preflight: Annotated[
        bool, typer.Option("--no-preflight", help="Skip the endpoint check before the run.")
    ] = False,
    capture_bad_cases: Annotated[
        bool, typer.Option("--capture-bad-cases", help="Record failures as bad cases.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary.")] = False,
) -> None:
    """Run prompts × models over a dataset; print results and a summary; store everything."""
    from workbench.badcases import BadCaseTracker
    from workbench.datasets import load_dataset
    from workbench.pipeline import run
    from workbench.prompts import load_prompt
    from workbench.reports import export_results

    asked = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
    params = {k: v for k, v in asked.items() if v is not None}
    source = dataset or load_prompt(prompts[0]).dataset
    if not source:
        raise WorkbenchError(f"Prompt {prompts[0]!r} names no dataset: pass --dataset FILE.")
    data = load_dataset(source, sheet=sheet)
    if data.encoding and data.encoding not in ("utf-8", "ascii"):
        console().print(f"read {data.source} as {data.encoding}")
    result = run(
        prompts,
        data,
        model or None,
        store=store,
        params=params,
        repeats=repeats,
        concurrency=concurrency,
        rate_limit=rate_limit,
        timeout=timeout,
        retries=retries,
        retry_budget=retry_budget,
        cache=not no_cache,
        limit=limit,
        preflight=not no_preflight,
    )
    if capture_bad_cases:
        captured = BadCaseTracker(result.store).capture_failures(result)
        console().print(f"{len(captured)} failure(s) recorded as bad cases")
    if not quiet:
        print_results(result.records)
    print_summary(result.summary(), title=f"Summary of run {result.run_id}")
    stats = result.stats
    console().print(
        f"run {result.run_id}: {stats['cells']} cells — {stats['called']} model calls, {stats['cached']} from cache, "
        f"{stats['resumed']} resumed, {stats['errors']} errors. Store: {result.store.url}"
    )
    if out:
        export_results(result.records, out)
        console().print(f"exported {len(result.records)} rows to {out}")
    rate = result.pass_rate
    if result.errors:
        console().print(f"[red]{len(result.errors)} cell(s) failed; first: {result.errors[0].error}[/red]")
        raise typer.Exit(1)
    if fail_under is not None and (rate is None or rate < fail_under):
        shown = "n/a" if rate is None else f"{rate:.4g}"
        console().print(f"[red]pass rate {shown} is under --fail-under {fail_under}[/red]")
        raise typer.Exit(1)
    if gate:
        from workbench.gates import check

        report = check(gate, result)
        console().print(str(report), highlight=False)
        if not report.passed:
            raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except WorkbenchError as exc:
        from workbench.secrets import redact

        print(f"Error: {redact(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("Interrupted. Finished cells are stored; run the same command again to resume.", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
