"""``workbench runs``: stored runs — list, show (results or the matrix), compare with significance, stability
over repeats, the trend of a prompt over time, export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.cli.common import FormatOpt, StoreOpt, open_store, run_id_of
from workbench.cli.output import console, print_frame, print_json, print_results, print_summary

runs_app = typer.Typer(help="Stored runs: list, show, compare, stability, trend, export.", no_args_is_help=True)


@runs_app.command("list")
def runs_list(store: StoreOpt = None, limit: int = 20) -> None:
    """Recent runs with their pass counts."""
    import pandas as pd

    runs = open_store(store).runs(limit)
    if not runs:
        typer.echo("No runs yet. Start one with: workbench run PROMPT --dataset FILE")
        return
    df = pd.DataFrame(runs)
    print_frame(
        df[
            [
                "id",
                "status",
                "prompts",
                "models",
                "dataset",
                "n_cells",
                "done",
                "passed",
                "judged",
                "errors",
                "started_at",
            ]
        ],
        title="Runs",
    )


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough), or 'latest'.")],
    store: StoreOpt = None,
    failed: Annotated[bool, typer.Option(help="Only failed or errored cells.")] = False,
    matrix: Annotated[bool, typer.Option(help="One line per dataset row, a column per prompt × model.")] = False,
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
        shown = [c for c in table.columns if not c.endswith(("|parsed", "|flaky"))]
        print_frame(
            table[shown].rename(columns=lambda c: c.replace("|output", "").replace("|passed", " ✓")),
            title=f"Matrix of run {result.run_id} (flipped rows first)",
            width=40,
        )
    else:
        print_results(records)
    print_summary(result.summary(), title=f"Summary of run {result.run_id}")
    origin = s.run(result.run_id).get("provenance") or {}
    if origin:
        git = origin.get("git") or {}
        where = f"git {git.get('commit', '')[:10]}{' (dirty)' if git.get('dirty') else ''}" if git else "no git"
        models = "; ".join(
            f"{m.get('spec')}: {m.get('model_sha256', m.get('base_url', ''))}"[:80] for m in origin.get("models", [])
        )
        console().print(
            f"provenance: {where} · notebook {origin.get('notebook') or '-'} · host "
            f"{(origin.get('host') or {}).get('name', '-')} · {models}"
        )


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
            print_frame(comparison.flipped_frame(), title="Flipped rows")
        console().print(str(comparison))
    if fail_if_worse and comparison.verdict == "worse":
        raise typer.Exit(1)


@runs_app.command("stability")
def runs_stability(
    run_id: Annotated[str, typer.Argument(help="A run made with --repeats K.")],
    output_format: FormatOpt = "table",
    aggregate: Annotated[str | None, typer.Option(help="'majority': score each row by its most common answer.")] = None,
    store: StoreOpt = None,
) -> None:
    """Per column: pass rate over all samples, pass@k, pass^k (all k pass), flaky rows, agreement of answers."""
    import pandas as pd

    from workbench.compare import stability

    s = open_store(store)
    report = stability(s.results(run_id_of(s, run_id)), aggregate=aggregate)
    if output_format == "json":
        print_json(report)
        return
    rows = [
        {**c, "flaky": ", ".join(c["flaky"]) or "-", **({"majority": _majority_text(c)} if "majority" in c else {})}
        for c in report["columns"]
    ]
    print_frame(pd.DataFrame(rows), title="Stability over repeats", width=80)


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
    store: StoreOpt = None,
) -> None:
    """The prompt's pass rate per run and per version, on distinct rows, with 95% CIs; consecutive versions
    compared on their shared rows (exact McNemar)."""
    import pandas as pd

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
        print_frame(report.runs_frame(), title=f"{title}: pass rate per run (distinct rows)")
        print_frame(report.versions_frame(), title=f"{title}: per version (each row counted once)")
        if report.comparisons:
            print_frame(pd.DataFrame(report.comparisons), title="Consecutive versions, paired on shared rows")
    if plot:
        plot_trend(report, plot)
        console().print(f"plot saved to {plot}")


@runs_app.command("export")
def runs_export(run_id: str, out: Path, store: StoreOpt = None) -> None:
    """Export a stored run to .csv, .jsonl or .html (summary + matrix)."""
    from workbench.reports import export_results

    s = open_store(store)
    export_results(s.results(run_id_of(s, run_id)), out)
    typer.echo(f"wrote {out}")
