"""``workbench run``: prompts × models over a dataset; results, a summary and everything stored.

Every option is checked before anything else happens — ranges, choices, the gate, the export's format, the
store's location — and all problems are reported together (exit 2), before any model call.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.cli.common import StoreOpt, WideOpt
from workbench.cli.output import console, print_results, print_summary, summary_line
from workbench.errors import ConfigError, WorkbenchError

EXPORT_SUFFIXES = (".csv", ".jsonl", ".html", ".htm")
CLI_NAMES = {"rate_limit": "--rate-limit", "retry_budget": "--retry-budget", "id_column": "--id-column"}


def run_command(
    prompts: Annotated[
        list[str], typer.Argument(help="Prompt names from the library (name or name@vN) or .prompty paths.")
    ],
    dataset: Annotated[
        Path | None,
        typer.Option("--dataset", "-d", help="CSV, TSV, JSONL, XLSX or Parquet file (default: the prompt's dataset)."),
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="Sheet of an .xlsx dataset (default: the first).")] = None,
    id_column: Annotated[str, typer.Option(help="The column that names each row; ids must be unique.")] = "id",
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Model spec; repeat for several. local | openai:MODEL | openai:MODEL@URL"),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Requests in flight per model, ≥ 1 (backs off on 429/5xx).")
    ] = None,
    rate_limit: Annotated[float | None, typer.Option(help="Requests per minute per model, > 0.")] = None,
    repeats: Annotated[int, typer.Option(help="Samples per cell, ≥ 1 (use with --temperature > 0).")] = 1,
    limit: Annotated[int | None, typer.Option(help="Only the first N rows (N ≥ 1).")] = None,
    temperature: Annotated[float | None, typer.Option(help="Override the template's temperature (0–2).")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Override the template's max_tokens (≥ 1).")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Base seed of sampled runs (each row × repeat derives its own).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per model call attempt, > 0.")] = 120.0,
    retries: Annotated[
        int | None, typer.Option(help="Retries for 5xx, dropped connections, timeouts (default 6).")
    ] = None,
    retry_budget: Annotated[
        float | None, typer.Option(help="Seconds of 429s without any success before giving up (default 300).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Export results: .csv, .jsonl or .html.")] = None,
    store: StoreOpt = None,
    fail_under: Annotated[
        str | None, typer.Option(help="Exit 1 if the pass rate is below this: a fraction (0.85) or a percentage (85%).")
    ] = None,
    gate: Annotated[str | None, typer.Option(help="Exit 1 unless the run passes this named gate.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Call the models even for cached prompts.")] = False,
    no_preflight: Annotated[
        bool, typer.Option("--no-preflight", help="Skip the endpoint check before the run.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="If another process is executing this same run, follow it to the end.")
    ] = False,
    cluster: Annotated[
        str | None, typer.Option(help="Run the cells on a Dask cluster: its scheduler, tcp://HOST:8786.")
    ] = None,
    batch: Annotated[bool, typer.Option("--batch", help="Send the cells to the provider's batch API.")] = False,
    batch_poll: Annotated[float, typer.Option(help="Seconds between looks at the batch jobs.")] = 30.0,
    capture_bad_cases: Annotated[
        bool, typer.Option("--capture-bad-cases", help="Record failures as bad cases.")
    ] = False,
    wide: WideOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary.")] = False,
) -> None:
    """Run prompts × models over a dataset; print results and a summary; store everything."""
    from workbench.pipeline import RunOptions

    params = {
        k: v for k, v in {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}.items() if v is not None
    }
    options = RunOptions(
        store=store,
        params=params,
        repeats=repeats,
        limit=limit,
        id_column=id_column,
        concurrency=concurrency,
        rate_limit=rate_limit,
        timeout=timeout,
        retries=retries,
        retry_budget=retry_budget,
        cache=not no_cache,
        preflight=not no_preflight,
        wait=wait,
        cluster=cluster,
        batch=batch,
        batch_poll=batch_poll,
        origin="cli",
    )
    threshold = check_arguments(options, fail_under=fail_under, gate=gate, out=out)
    result = _run(prompts, dataset, sheet, model, options)
    _report(result, quiet=quiet, wide=wide, out=out, capture=capture_bad_cases)
    _verdict(result, threshold, fail_under, gate)


def check_arguments(options: Any, *, fail_under: str | None, gate: str | None, out: Path | None) -> float | None:
    """Every problem with the options at once (a :class:`ConfigError`, exit 2); the --fail-under threshold."""
    problems = [f"{_flag(name)} {_shown(value)}: must be {wanted}" for name, value, wanted in options.invalid()]
    threshold, problem = parse_fail_under(fail_under)
    problems += [problem] if problem else []
    if gate is not None:
        from workbench.course.gates import GATES

        if gate not in GATES:
            close = difflib.get_close_matches(gate, list(GATES), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"--gate {gate}: no such gate{hint}; known: {', '.join(sorted(GATES))}")
    if out is not None and out.suffix.lower() not in EXPORT_SUFFIXES:
        problems.append(f"--out {out}: write a .csv, .jsonl or .html file")
    problems += _location_problems(options)
    if problems:
        raise ConfigError("Nothing was run: " + "; ".join(problems) + ".")
    return threshold


def _location_problems(options: Any) -> list[str]:
    from workbench.store import parse_location

    problems = []
    try:
        parse_location(options.store)
    except WorkbenchError as exc:
        problems.append(str(exc).rstrip("."))
    if options.cluster is not None:
        from workbench.cluster.address import check_address

        problems += check_address(options.cluster)
    return problems


def parse_fail_under(text: str | None) -> tuple[float | None, str | None]:
    """``0.85`` or ``85%`` → 0.85; anything else is a problem naming the option."""
    if text is None:
        return None, None
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        return None, f"--fail-under {text!r}: must be a fraction (0.85) or a percentage (85%)"
    if not 0 <= value <= 1:
        hint = f" — for {raw} percent write {raw}%" if not raw.endswith("%") and 1 < value <= 100 else ""
        return None, f"--fail-under {text}: must be between 0 and 1, or a percentage like 85%{hint}"
    return value, None


def _flag(name: str) -> str:
    if name in ("temperature", "max_tokens", "seed", "top_p", "stop"):
        return "--" + name.replace("_", "-")
    return CLI_NAMES.get(name, "--" + name.replace("_", "-"))


def _shown(value: Any) -> str:
    return str(value) if isinstance(value, int | float | str) else repr(value)


def _run(prompts: list[str], dataset: Path | None, sheet: str | None, model: list[str] | None, options: Any) -> Any:
    from workbench.datasets import load_dataset
    from workbench.pipeline import run
    from workbench.prompts import load_prompt
    from workbench.stats import warm_statistics

    warm_statistics()  # the summary's intervals need scipy.stats: imported while the models answer, not after
    source = dataset or load_prompt(prompts[0]).dataset
    if not source:
        raise WorkbenchError(f"Prompt {prompts[0]!r} names no dataset: pass --dataset FILE.")
    data = load_dataset(source, sheet=sheet)
    if data.encoding and data.encoding not in ("utf-8", "ascii"):
        console().print(f"read {data.source} as {data.encoding}")
    progress = _Progress()
    try:
        return run(prompts, data, model or None, options, on_result=progress)
    except KeyboardInterrupt:
        progress.interrupted(options.store)
        raise typer.Exit(130) from None


class _Progress:
    """Remembers how far a run got, to say what was saved when it is interrupted."""

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.done = self.total = 0

    def __call__(self, record: Any, done: int, total: int) -> None:
        self.run_id, self.done, self.total = record.run_id, done, total

    def interrupted(self, store: str | None) -> None:
        from workbench.store import parse_location

        where = parse_location(store).display
        if self.run_id is None:
            message = "Interrupted before any cell finished; nothing was stored."
        else:
            message = (
                f"Interrupted: {self.done} of {self.total} cells of run {self.run_id} are saved in {where}. "
                "Run the same command again to resume; it calls models only for the missing cells."
            )
        console(stderr=True).print(message, highlight=False, soft_wrap=True)


def _report(result: Any, *, quiet: bool, wide: bool, out: Path | None, capture: bool) -> None:
    if capture:
        from workbench.badcases import BadCaseTracker

        captured = BadCaseTracker(result.store).capture_failures(result)
        console().print(f"{len(captured)} failure(s) recorded as bad cases")
    if not quiet:
        print_results(result.records, wide=wide)
    print_summary(result.summary_rows(), title=f"Summary of run {result.run_id}", wide=wide)
    console().print(summary_line(result), highlight=False)
    if result.workers:
        per_worker = ", ".join(f"{name} {n}" for name, n in sorted(result.workers.items()))
        console().print(f"cells per worker: {per_worker}", highlight=False)
    if out:
        from workbench.exports import export_results

        export_results(result.records, out)
        console().print(f"exported {len(result.records)} rows to {out}")


def _verdict(result: Any, threshold: float | None, fail_under: str | None, gate: str | None) -> None:
    rate = result.pass_rate
    if result.errors:
        console().print(f"[red]{len(result.errors)} cell(s) failed; first: {result.errors[0].error}[/red]")
        raise typer.Exit(1)
    if threshold is not None and (rate is None or rate < threshold):
        shown = "n/a" if rate is None else f"{rate:.1%}"
        console().print(f"[red]pass rate {shown} is under --fail-under {fail_under}[/red]")
        raise typer.Exit(1)
    if gate:
        from workbench.course.gates import check

        report = check(gate, result)
        console().print(str(report), highlight=False)
        if not report.passed:
            raise typer.Exit(1)
