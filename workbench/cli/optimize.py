"""``workbench optimize``: candidates learn on train, are ranked on dev, and the winner is saved only if it beats
the original on held-out rows (exact McNemar, α = 0.05).

Exit codes: 0 — the report was made, whether or not a version was accepted (``--fail-if-not-accepted`` makes "not
accepted" exit 1, for CI); 2 — bad input, found before any model call: a dataset too small for three splits, held-out
rows spent before, a budget below one candidate on dev plus the held-out test, a prompt with no scorer, an
unreachable model or proposer; 130 — interrupted (every finished run is stored; the same command resumes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.cli.common import FormatOpt, LibraryOpt, StoreOpt, WideOpt, check_format
from workbench.cli.output import console, print_json, print_table
from workbench.errors import ConfigError


def optimize_command(
    prompt: Annotated[str, typer.Argument(help="The prompt to improve: a library name (name, name@vN) or .prompty.")],
    dataset: Annotated[
        list[Path] | None,
        typer.Option(
            "--dataset", "-d", help="Rows with expected answers (≥ 100); repeat to use several files together."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="The model the prompt is for (default: the prompt's).")
    ] = None,
    budget: Annotated[
        int | None,
        typer.Option(help="Most model calls not answered from the cache, everything included (proposer, held-out)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the splits and of the generators' choices.")] = 0,
    proposer: Annotated[
        str | None,
        typer.Option(help="An instruction-following endpoint that writes instruction rewrites: openai:MODEL@URL."),
    ] = None,
    generators: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated: demos (or one kind: demos:random, demos:nearest, demos:bootstrapped), labels, "
            "instructions (default: demos and labels, and instructions with --proposer)."
        ),
    ] = None,
    shots: Annotated[int, typer.Option(help="Demonstrations per few-shot candidate (1–16).")] = 4,
    proposals: Annotated[int, typer.Option(help="Instructions to ask the proposer for (1–20).")] = 3,
    target_gain: Annotated[
        float,
        typer.Option(help="The gain in pass rate the held-out test must be able to show (0.12 = 12 points)."),
    ] = 0.12,
    no_save: Annotated[
        bool, typer.Option("--no-save", help="Report only: do not save an accepted winner as the next version.")
    ] = False,
    fail_if_not_accepted: Annotated[
        bool, typer.Option("--fail-if-not-accepted", help="Exit 1 when no version is accepted (for CI).")
    ] = False,
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight per model, ≥ 1.")] = None,
    cluster: Annotated[
        str | None, typer.Option(help="Run every evaluation on a Dask cluster: its scheduler, tcp://HOST:8786.")
    ] = None,
    library: LibraryOpt = None,
    store: StoreOpt = None,
    output_format: FormatOpt = "table",
    wide: WideOpt = False,
) -> None:
    """Improve a prompt: few-shot demonstrations, label words and (with --proposer) instruction rewrites, ranked on
    dev; the winner is saved as the next version only if it beats the original on held-out rows."""
    from workbench.optimization import prepare_optimization
    from workbench.prompts import PromptLibrary

    check_format(output_format)
    chosen = [g.strip() for g in generators.split(",") if g.strip()] if generators else None
    if generators is not None and not chosen:
        raise ConfigError("--generators: name at least one of demos, labels, instructions. Nothing was run.")
    as_json = output_format == "json"
    optimization = prepare_optimization(
        prompt,
        [str(p) for p in dataset] if dataset else None,
        model,
        budget=budget,
        seed=seed,
        proposer=proposer,
        generators=chosen,
        shots=shots,
        proposals=proposals,
        target_gain=target_gain,
        save=not no_save,
        library=PromptLibrary(library) if library else None,
        store=store,
        concurrency=concurrency,
        cluster=cluster,
        progress=not as_json,
    )
    err = console(stderr=True)
    if not as_json:
        _print_plan(optimization)
    report = optimization.run(None if as_json else _Progress(err))
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report, wide=wide)
    if fail_if_not_accepted and not report.accepted:
        raise typer.Exit(1)


def _print_plan(optimization: Any) -> None:
    out = console()
    s = optimization.splits
    sizes = s.sizes()
    out.print(
        f"optimising {optimization.original.ref} on {optimization.model.spec} — optimisation {optimization.opt_id}",
        highlight=False,
    )
    out.print(
        f"splits (seed {s.seed}, stratified by {s.stratified_by or 'nothing'}): train {sizes['train']} · dev "
        f"{sizes['dev']} · held-out {sizes['heldout']} rows"
        + (f"; {s.spent} rows spent as held-out before are kept out of held-out" if s.spent else ""),
        highlight=False,
    )
    out.print(str(optimization.estimate), highlight=False)


class _Progress:
    """One line per phase on stderr (the runs' own bars show the cells)."""

    def __init__(self, out: Any):
        self.out = out

    def __call__(self, kind: str, info: dict[str, Any]) -> None:
        if kind == "phase":
            prompts = ", ".join(info["prompts"])
            self.out.print(f"{info['phase']}: {prompts} on {info['rows']} rows", highlight=False)
        elif kind == "candidates":
            self.out.print(f"{len(info['candidates'])} candidate(s) to rank on dev", highlight=False)


def _print_report(report: Any, *, wide: bool) -> None:
    out = console()
    rows = [
        {
            "candidate": ("★ " if c.name == report.winner else "") + c.name,
            "generator": c.generator,
            "dev": c.dev["pass_rate"] if c.dev else None,
            "ci95": tuple(c.dev["ci95"]) if c.dev and c.dev.get("ci95") else None,
            "gain": None if c.dev_gain is None else f"{c.dev_gain * 100:+.1f}",
            "status": c.status,
            "what": c.description,
        }
        for c in report.candidates
    ]
    columns = [
        ("candidate", "candidate"),
        ("dev", "dev"),
        ("ci95", "95% CI"),
        ("gain", "Δ pts"),
        ("generator", "generator"),
        ("status", "status"),
        ("what", "what"),
    ]
    original = report.original_dev or {}
    title = f"dev: {report.prompt} passes {original.get('passed')}/{original.get('n')}"
    print_table(rows, columns, title=title, wide=wide, formats={"dev": _percent})
    for line in report.lines()[3 + len(report.candidates) :]:
        out.print(line, highlight=False, markup=False)


def _percent(value: Any) -> str:
    return "" if value is None else f"{value:.1%}"
