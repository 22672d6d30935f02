"""The nightly notebook run: execute every notebook with papermill, validate with nbval, summarise.

The profiles (which notebooks, variants and parameters) are :mod:`workbench.notebook_profiles`.

For each notebook: papermill executes it (parameters injected after its ``parameters`` cell) into
the output folder; then nbval re-executes the executed copy and compares its ``# NBVAL_CHECK_OUTPUT`` cells. With
``rerun: fresh`` (the default, the nightly ``full`` profile) everything the first execution wrote is removed first,
so the re-run calls the model again and the cells compare two independent runs. With ``rerun: cached`` (``ci``,
``make test``) the run store is replaced by one holding only the first execution's cached answers — no runs,
versions or bad cases — and everything else (Chroma, adapters, metrics) is removed: every cell's code runs again
from the state it expects and must print the same, without calling the model.

Key metrics that notebooks report with :func:`workbench.course.record_metrics` land in the summary (Markdown + HTML).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.notebook_profiles import load_profile
from workbench.paths import project_root

METRICS_ENV = "WORKBENCH_METRICS_FILE"


@dataclass
class NotebookOutcome:
    name: str
    status: str  # passed | failed
    seconds: float
    executed: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    validation: str = ""


def kernel_name() -> str:
    """The project's registered kernel (``make install`` registers 'workbench'), else python3."""
    from jupyter_client.kernelspec import find_kernel_specs

    return "workbench" if "workbench" in find_kernel_specs() else "python3"


STORE_FILE = "store.db"  # the notebook's run store inside its scratch folder


def notebook_paths(notebooks_dir: Path) -> list[Path]:
    return sorted(p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith("_"))


def execute_notebook(
    notebook: Path,
    out_dir: Path,
    parameters: dict[str, Any],
    *,
    variant: str = "",
    kernel: str | None = None,
    validate: bool = True,
    rerun: str = "fresh",
    answers_from: Path | None = None,
    timeout: int = 1800,
) -> NotebookOutcome:
    """Execute one notebook with papermill, then validate the executed copy with nbval (``rerun``: from fresh
    state, or with the run store's cached answers kept).

    ``variant`` names a variant of the run (``zh``, ``solutions``...) so its executed copy has its own file;
    ``answers_from``, a run store whose cached answers the notebook's own store starts with (``share_answers``)."""
    name = run_label(notebook, variant)
    out_dir.mkdir(parents=True, exist_ok=True)
    executed = out_dir / f"{name}.ipynb"
    scratch = scratch_folder(out_dir, name)
    _fresh(scratch)
    if answers_from is not None and answers_from.exists():
        _copy_answers(answers_from, scratch / STORE_FILE)
    kernel = kernel or kernel_name()
    params = {**_scratch_parameters(notebook, scratch), **parameters}
    start = time.perf_counter()
    outcome = _papermill(notebook, executed, params, kernel, timeout, scratch / "metrics.json", name)
    if outcome.status == "passed" and validate:
        if rerun == "cached":
            _answers_only(scratch)  # the model's answers stay; runs, versions, bad cases and files go
        else:
            _fresh(scratch)  # nothing left: a real rerun
        _nbval(outcome, executed, out_dir, kernel, timeout)
    outcome.seconds = time.perf_counter() - start
    return outcome


def run_label(notebook: Path, variant: str) -> str:
    """A run's name: the notebook, then its variant (``02_rag.solutions``); the executed copy and scratch use it."""
    return notebook.stem + (f".{variant}" if variant else "")


def scratch_folder(out_dir: Path, name: str) -> Path:
    """Where the run ``name`` (``02_rag.solutions``) keeps what it writes: its store, Chroma folder, adapters."""
    return out_dir / f".{name}"


def _fresh(scratch: Path) -> None:
    """An empty scratch folder: everything a notebook writes (stores, Chroma, adapters, metrics) lives there."""
    import shutil

    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)


def _answers_only(scratch: Path) -> None:
    """The scratch folder emptied but for a run store that holds only the first execution's cached answers, so the
    re-run calls no model yet starts from the state a notebook expects (no runs, versions or bad cases yet)."""
    store = scratch / STORE_FILE
    answers = scratch.parent / f"{scratch.name}.answers.db"
    answers.unlink(missing_ok=True)
    if store.exists():
        _copy_answers(store, answers)
    _fresh(scratch)
    if answers.exists():
        answers.rename(store)


def _copy_answers(source_file: Path, destination_file: Path) -> None:
    """Copy the cached answers (only) of one run store into another, created if missing."""
    from workbench.store import Store
    from workbench.store.copy import copy_cache

    source, destination = Store(str(source_file)), Store(str(destination_file))
    try:
        copy_cache(source, destination)
    finally:
        source.close()
        destination.close()


def _scratch_parameters(notebook: Path, scratch: Path) -> dict[str, str]:
    """Point the notebook's storage parameters (those it declares) into the scratch folder, never the user's."""
    import papermill

    declared = set(papermill.inspect_notebook(str(notebook)))
    paths = {"store": scratch / STORE_FILE, "chroma_path": scratch / "chroma", "work_dir": scratch / "work"}
    return {name: str(path) for name, path in paths.items() if name in declared}


def _papermill(
    notebook: Path, executed: Path, params: dict[str, Any], kernel: str, timeout: int, metrics_file: Path, name: str
) -> NotebookOutcome:
    import papermill

    os.environ[METRICS_ENV] = str(metrics_file)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=params,
            kernel_name=kernel,
            cwd=str(notebook.parent),
            progress_bar=False,
            execution_timeout=timeout,
        )
    except Exception as exc:  # papermill's PapermillExecutionError names the failing cell
        status, error = "failed", _first_lines(str(exc))
    else:
        status, error = "passed", ""
    finally:
        os.environ.pop(METRICS_ENV, None)
        redact_notebook(executed)
    return NotebookOutcome(name, status, time.perf_counter() - start, executed, _metrics(metrics_file), error=error)


def _nbval(outcome: NotebookOutcome, executed: Path, out_dir: Path, kernel: str, timeout: int) -> None:
    """Re-run the executed copy under ``pytest --nbval-lax``; any exit but 0 (including "no tests ran") fails.

    pytest loads nbval alone: every other installed plugin (LangChain's suites, Playwright...) would be imported for
    nothing — 5.3 s of start-up in the project's environment against 2.2 s."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "nbval.plugin",
            "--nbval-lax",
            "--nbval-kernel-name",
            kernel,
            str(executed),
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(out_dir),
        ],
        cwd=str(out_dir),
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    outcome.validation = _first_lines(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "")
    if proc.returncode != 0:
        outcome.status = "failed"
        outcome.error = "nbval: " + _first_lines(proc.stdout[-3000:] + proc.stderr[-1000:], 12)


def redact_notebook(path: Path) -> None:
    """Mask secrets in an executed notebook — sources too, because papermill writes the injected parameters
    (a model spec with a password in its URL, say) into the notebook it saves."""
    if not path.exists():
        return
    from workbench.secrets import redact_value

    notebook = json.loads(path.read_text(encoding="utf-8"))
    cleaned = redact_value(notebook)
    if cleaned != notebook:
        path.write_text(json.dumps(cleaned, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _metrics(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _first_lines(text: str, n: int = 6) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:n]) if len(lines) <= n else "\n".join(lines[-n:])


def run_nightly(
    profile: str = "ci",
    out_dir: str | Path = ".nightly",
    *,
    only: list[str] | None = None,
    validate: bool = True,
    notebooks_dir: Path | None = None,
) -> list[NotebookOutcome]:
    """Execute every notebook for a profile, once per variant, and write ``summary.md`` / ``summary.html``.

    ``only`` picks notebooks (``00_quickstart``) or single runs (``00_quickstart.zh``)."""
    notebooks_dir = notebooks_dir or project_root() / "notebooks"
    spec = load_profile(notebooks_dir, profile)
    out = Path(out_dir).resolve()
    planned = []
    for notebook in notebook_paths(notebooks_dir):
        for variant, params, check in spec.runs(notebook.stem):
            label = run_label(notebook, variant)
            planned.append((notebook, label, variant, params, check))
    if only:
        _check_only(only, planned, profile)
        planned = [run for run in planned if run[0].stem in only or run[1] in only]
    outcomes = []
    earlier: dict[str, Path] = {}  # notebook → the run store of its variant run last (share_answers)
    for notebook, label, variant, params, check in planned:
        answers_from = earlier.get(notebook.stem) if spec.share_answers else None
        outcomes.append(
            execute_notebook(
                notebook,
                out,
                params,
                variant=variant,
                validate=validate and check,
                rerun=spec.rerun,
                answers_from=answers_from,
            )
        )
        earlier[notebook.stem] = scratch_folder(out, label) / STORE_FILE
    write_summary(outcomes, out, profile)
    return outcomes


def _check_only(only: list[str], planned: list[tuple[Any, ...]], profile: str) -> None:
    """Every name given to ``--only`` is a notebook or one of its runs in this profile — before anything runs."""
    known = {run[0].stem for run in planned} | {run[1] for run in planned}
    unknown = [name for name in only if name not in known]
    if unknown:
        runs = ", ".join(run[1] for run in planned)
        raise ConfigError(f"--only {', '.join(unknown)}: no such notebook or run in profile {profile!r}. Runs: {runs}.")


def write_summary(outcomes: list[NotebookOutcome], out: Path, profile: str) -> tuple[Path, Path]:
    """``summary.md``, ``summary.html`` and ``summary.json`` (for scripts: seconds and metrics per run). An error
    message can quote a notebook's variables, so every field passes through the secret redaction first."""
    from workbench.secrets import redact_value

    runs = redact_value(
        [
            {
                "name": o.name,
                "status": o.status,
                "seconds": round(o.seconds, 1),
                "metrics": o.metrics,
                "validation": o.validation,
                "error": o.error,
            }
            for o in outcomes
        ]
    )
    (out / "summary.json").write_text(
        json.dumps(runs, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
    rows = [
        (
            run["name"],
            "✅ passed" if run["status"] == "passed" else "❌ failed",
            f"{run['seconds']:.1f}",
            ", ".join(f"{k}={v}" for k, v in run["metrics"].items()),
            run["validation"],
            run["error"].replace("\n", " ⏎ "),
        )
        for run in runs
    ]
    header = ("notebook", "status", "seconds", "metrics", "nbval", "error")
    md = [
        f"# Nightly notebook run — profile `{profile}`",
        "",
        f"{sum(o.status == 'passed' for o in outcomes)}/{len(outcomes)} notebooks passed.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    md += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    md_path = out / "summary.md"
    md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
    import html

    cells = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    html_path = out / "summary.html"
    html_path.write_text(
        f"<!doctype html><meta charset='utf-8'><title>Nightly {profile}</title><h1>Nightly run ({profile})</h1>"
        "<table border=1 cellpadding=4><tr>" + "".join(f"<th>{h}</th>" for h in header) + f"</tr>{cells}</table>",
        encoding="utf-8",
    )
    return md_path, html_path
