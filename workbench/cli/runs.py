"""``workbench runs``: stored runs — list, show (results or the matrix), compare with significance, stability
over repeats, the trend of a prompt over time, export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.cli.common import FormatOpt, StoreOpt, WideOpt, open_store, run_id_of
from workbench.cli.output import console, print_frame, print_json, print_results, print_summary, print_table

runs_app = typer.Typer(help="Stored runs: list, show, compare, stability, trend, export.", no_args_is_help=True)


RUN_COLUMNS = [
    ("id", "run"),
    ("status", "status"),
    ("prompts", "prompts"),
    ("models", "models"),
    ("pass", "passed"),
    ("errors", "err"),
    ("origin", "origin"),
    ("who", "who"),
    ("started", "started"),
    ("dataset", "dataset"),
]


def _percent(value: Any) -> str:
    return "" if value is None else f"{value:.1%}"


RATE_FORMATS = {"pass_rate": _percent, "ci": lambda ci: _interval(ci)}
#: Every share in the stability table reads as a percentage, never 85.0% beside 1 and 0.6667.
STABILITY_FORMATS = {**RATE_FORMATS, "pass_at_k": _percent, "pass_all_k": _percent, "agreement": _percent}
TREND_RUN_COLUMNS = [("started", "started"), ("version", "v"), ("model", "model"), ("params", "params")]
TREND_RUN_COLUMNS += [("data", "dataset"), ("rows", "rows")]
TREND_RUN_COLUMNS += [("passed", "passed"), ("pass_rate", "pass rate"), ("ci", "95% CI"), ("run_id", "run")]
TREND_VERSION_COLUMNS = [("version", "v"), ("model", "model"), ("data", "dataset"), ("params", "params")]
TREND_VERSION_COLUMNS += [("runs", "runs")]
TREND_VERSION_COLUMNS += [("rows", "rows"), ("passed", "passed"), ("pass_rate", "pass rate"), ("ci", "95% CI")]


def _data(point: dict[str, Any]) -> str:
    """A trend point's dataset: its file name and the start of its content hash (two files called test.csv differ)."""
    return f"{point['dataset']} #{point['dataset_hash'][:6]}"


def _interval(ci: Any) -> str:
    return "" if not ci or ci[0] is None else f"{ci[0]:.0%}–{ci[1]:.0%}"


@runs_app.command("list")
def runs_list(
    store: StoreOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs, newest first.")] = 20,
    prompt: Annotated[str | None, typer.Option(help="Only runs of this prompt.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only runs on this model spec.")] = None,
    origin: Annotated[str | None, typer.Option(help="Only runs from: notebook, cli, nightly, cluster, ui...")] = None,
    wide: WideOpt = False,
) -> None:
    """Recent runs: their prompts and models, pass counts, where they came from and who ran them."""
    runs = open_store(store).runs(limit, prompt=prompt, model=model, origin=origin)
    if not runs:
        typer.echo("No runs yet. Start one with: workbench run PROMPT --dataset FILE")
        return
    rows = [_run_row(r) for r in runs]
    print_table(rows, RUN_COLUMNS, title="Runs", wide=wide)


def _run_row(run: dict[str, Any]) -> dict[str, Any]:
    provenance = run.get("provenance") or {}
    host = (provenance.get("host") or {}).get("name")
    who = "@".join(p for p in (provenance.get("user"), host) if p)
    return {
        "id": run["id"],
        "status": run["status"],
        "prompts": ", ".join(run["prompts"]),
        "models": ", ".join(run["models"]),
        "pass": f"{run['passed']}/{run['judged']}" if run["judged"] else "",
        "errors": run["errors"],
        "origin": run.get("origin") or "",
        "who": who,
        "started": (run["started_at"] or "")[:19].replace("T", " "),
        "dataset": Path(run["dataset"]).name if run.get("dataset") else "",
    }


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough), or 'latest'.")],
    store: StoreOpt = None,
    failed: Annotated[bool, typer.Option(help="Only failed or errored cells.")] = False,
    matrix: Annotated[bool, typer.Option(help="One line per dataset row, a column per prompt × model.")] = False,
    wide: WideOpt = False,
) -> None:
    """A run's results (or its matrix, flipped rows first), its summary and where it came from."""
    from workbench.results import RunResult

    s = open_store(store)
    result = RunResult.load(run_id_of(s, run_id), s)
    records = result.records
    if failed:
        records = [r for r in records if r.passed is False or r.error]
    if matrix:
        table = result.matrix()
        verdicts = [c for c in table.columns if c.endswith(("|output", "|passed", "|passes"))]
        shown = ["row_id", *verdicts, *(c for c in table.columns if "|" not in c and c != "row_id")]
        renamed = table[shown].rename(columns=lambda c: c.replace("|output", "").replace("|passed", " ✓"))
        print_frame(renamed, title=f"Matrix of run {result.run_id} (flipped rows first)", wide=wide)
    else:
        print_results(records, wide=wide)
    print_summary(result.summary_rows(), title=f"Summary of run {result.run_id}", wide=wide)
    console().print(_provenance_line(s.run(result.run_id)), highlight=False)


def _provenance_line(run: dict[str, Any]) -> str:
    from workbench.provenance import describe_git, describe_models

    origin = run.get("provenance") or {}
    where = describe_git(origin, dirty_word="dirty") or "no git"
    models = describe_models(origin)
    host = (origin.get("host") or {}).get("name", "-")
    notebook = origin.get("notebook") or "-"
    return f"provenance: {run.get('origin') or '-'} · {where} · notebook {notebook} · {host} · {models}"


@runs_app.command("status")
def runs_status(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough), or 'latest'.")],
    store: StoreOpt = None,
    output_format: FormatOpt = "table",
) -> None:
    """Where a run is: its status, who executes it (lease), cells stored, and its batch jobs (with --batch)."""
    from workbench.store.runs import lease_is_free

    s = open_store(store)
    run = s.run(run_id_of(s, run_id))
    lease = s.run_lease(run["id"])
    stored = s.result_count(run["id"])
    batches = s.batches(run["id"])
    if output_format == "json":
        print_json(
            {
                "run": run["id"],
                "status": run["status"],
                "cells": run["n_cells"],
                "stored": stored,
                "executing": None if lease_is_free(lease) else lease["lease_owner"],
                "batches": batches,
            }
        )
        return
    live = (
        "" if lease_is_free(lease) else f", executed by {lease['lease_owner']} (heartbeat {lease['lease_heartbeat']})"
    )
    console().print(
        f"run {run['id']}: {run['status']}{live}; {stored} of {run['n_cells']} cells stored", highlight=False
    )
    if batches:
        rows = [
            {
                "batch": b["batch_id"],
                "model": b["model"],
                "status": b["status"],
                "answered": f"{b['counts'].get('completed', 0)}/{b['counts'].get('total', len(b['cell_keys']))}",
                "failed": b["counts"].get("failed", 0),
                "created": (b["created_at"] or "")[:19].replace("T", " "),
                "collected": (b["collected_at"] or "")[:19].replace("T", " "),
            }
            for b in batches
        ]
        print_table(rows, title="Batch jobs")
        if any(not b["collected_at"] for b in batches):
            console().print(f"collect them with: workbench runs resume {run['id']}", highlight=False)


@runs_app.command("resume")
def runs_resume(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough), or 'latest'.")],
    store: StoreOpt = None,
    batch_poll: Annotated[float, typer.Option(help="Seconds between looks at the batch jobs.")] = 30.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary.")] = False,
    wide: WideOpt = False,
) -> None:
    """Continue a stored run: only its missing cells are called; batch jobs it left are collected."""
    from workbench.cli.output import summary_line
    from workbench.pipeline.resume import resume

    s = open_store(store)
    result = resume(run_id_of(s, run_id), s, batch_poll=batch_poll, origin="cli")
    if not quiet:
        print_results(result.records, wide=wide)
    print_summary(result.summary_rows(), title=f"Summary of run {result.run_id}", wide=wide)
    console().print(summary_line(result), highlight=False)
    if result.errors:
        raise typer.Exit(1)


@runs_app.command("compare")
def runs_compare(
    run_a: Annotated[str, typer.Argument(help="Run A (id, prefix or 'latest').")],
    run_b: Annotated[str | None, typer.Argument(help="Run B (default: compare two columns of run A).")] = None,
    a: Annotated[str | None, typer.Option("--a", help="Column of A: PROMPT@vN/MODEL (or a unique part).")] = None,
    b: Annotated[str | None, typer.Option("--b", help="Column of B: PROMPT@vN/MODEL (or a unique part).")] = None,
    output_format: FormatOpt = "table",
    fail_if_worse: Annotated[
        bool, typer.Option("--fail-if-worse", help="Exit 1 when B is significantly worse.")
    ] = False,
    wide: WideOpt = False,
    store: StoreOpt = None,
) -> None:
    """Is B better than A? Paired on shared rows: each pass rate with its 95% CI, the flipped rows, and the exact
    McNemar test's verdict (better / worse / no significant difference at α = 0.05)."""
    from workbench.compare import compare_runs

    s = open_store(store)
    records_a = s.results(run_id_of(s, run_a))
    records_b = s.results(run_id_of(s, run_b)) if run_b else None
    comparison = compare_runs(records_a, records_b, a=a, b=b)
    if output_format == "json":
        print_json(comparison.to_dict())
    else:
        if comparison.flipped:
            print_frame(comparison.flipped_frame(), title="Flipped rows", wide=wide)
        console().print(str(comparison))
    if fail_if_worse and comparison.verdict == "worse":
        raise typer.Exit(1)


@runs_app.command("stability")
def runs_stability(
    run_id: Annotated[str, typer.Argument(help="A run made with --repeats K.")],
    output_format: FormatOpt = "table",
    aggregate: Annotated[str | None, typer.Option(help="'majority': score each row by its most common answer.")] = None,
    wide: WideOpt = False,
    store: StoreOpt = None,
) -> None:
    """Per column: pass rate over all samples, pass@k, pass^k (all k pass), flaky rows, agreement of answers."""
    from workbench.compare import stability_report

    s = open_store(store)
    report = stability_report(s.results(run_id_of(s, run_id)), aggregate=aggregate)
    if output_format == "json":
        print_json(report)
        return
    rows = [
        {**c, "flaky": ", ".join(c["flaky"]) or "-", **({"majority": _majority_text(c)} if "majority" in c else {})}
        for c in report["columns"]
    ]
    columns = [("column", "column"), ("k", "k"), ("rows", "rows"), ("pass_rate", "pass rate"), ("pass_at_k", "pass@k")]
    columns += [("pass_all_k", "pass^k"), ("agreement", "agreement"), ("flaky", "flaky rows")]
    columns += [("majority", "majority")] if aggregate == "majority" else []
    print_table(rows, columns, title="Stability over repeats", formats=STABILITY_FORMATS, wide=wide)


def _majority_text(column: dict[str, Any]) -> str:
    m = column["majority"]
    ci = m["ci95"]
    return f"{m['passed']}/{m['n']}" + (f" [{ci[0]:.0%}–{ci[1]:.0%}]" if ci else "")


@runs_app.command("trend")
def runs_trend(
    prompt: Annotated[str, typer.Argument(help="A prompt name.")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this model spec.")] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="Only runs on this dataset (default: the prompt's own).")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Save a plot: .png or .svg.")] = None,
    output_format: FormatOpt = "table",
    wide: WideOpt = False,
    store: StoreOpt = None,
) -> None:
    """The prompt's pass rate per run and per version, on distinct rows, with 95% CIs; consecutive versions
    compared on their shared rows (exact McNemar)."""

    from workbench.trend import plot_trend, trend

    report = trend(open_store(store), prompt, model, dataset)
    if report.empty:
        where = f" on {report.dataset}" if report.dataset else ""
        typer.echo(f"No judged runs of {prompt!r}{where} in this store. Another dataset: --dataset FILE.")
        raise typer.Exit(1)
    if output_format == "json":
        print_json(report.to_dict())
    else:
        title = f"{prompt}" + (f" on {report.dataset}" if report.dataset else "")
        runs = [
            {
                **p,
                "started": p["started_at"][:16].replace("T", " "),
                "ci": (p["ci_low"], p["ci_high"]),
                "data": _data(p),
            }
            for p in report.runs
        ]
        print_table(runs, TREND_RUN_COLUMNS, title=f"{title}: per run (distinct rows)", formats=RATE_FORMATS, wide=wide)
        versions = [{**v, "ci": (v["ci_low"], v["ci_high"]), "data": _data(v)} for v in report.versions]
        print_table(
            versions, TREND_VERSION_COLUMNS, title="per version (each row once)", formats=RATE_FORMATS, wide=wide
        )
        for c in report.comparisons:
            note = f" ({c['note']})" if c["note"] else ""
            flips = f"{c['b_only']} pass only in {c['b']}, {c['a_only']} only in {c['a']}"
            test = f"exact McNemar p = {c['p_value']:.4g} → {c['verdict']}{note}"
            where = f"{c['b']} vs {c['a']} on {c['model']} ({c['params']}), {c['shared_rows']} shared rows"
            console().print(f"{where}: {flips}; {test}", highlight=False)
    if plot:
        plot_trend(report, plot)
        console().print(f"plot saved to {plot}")


@runs_app.command("export")
def runs_export(run_id: str, out: Path, store: StoreOpt = None) -> None:
    """Export a stored run to .csv, .jsonl or .html (summary + matrix)."""
    from workbench.exports import export_results

    s = open_store(store)
    export_results(s.results(run_id_of(s, run_id)), out)
    typer.echo(f"wrote {out}")
