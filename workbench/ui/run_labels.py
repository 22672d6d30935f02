"""How a stored run is named in the UI: when it started, what it ran, and who/where it came from.

Why: a team store holds runs from notebooks, the CLI, the nightly job, a cluster and rechecks, by several people.
A run list that shows only ids makes "my run" and "the nightly run" look alike, and a recheck of two bad cases
look like the run under review. These read what the store records (``origin`` and ``provenance``) and nothing else.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from workbench.provenance import describe_git, describe_models

ORIGIN_LABELS = {
    "recheck": "↻ recheck",
    "nightly": "☾ nightly",
    "cluster": "⚙ cluster",
    "cli": "CLI",
    "ui": "workbench UI",
    "notebook": "notebook",
    "python": "script",
    "serve": "served",
    "optimize": "✦ optimize",
}


def who(run: dict[str, Any]) -> str:
    """``user@host`` from the run's provenance ("" when it does not say)."""
    provenance = run.get("provenance") or {}
    host = (provenance.get("host") or {}).get("name")
    return "@".join(part for part in (provenance.get("user"), host) if part)


def origin_label(run: dict[str, Any]) -> str:
    origin = run.get("origin") or ""
    return ORIGIN_LABELS.get(origin, origin or "unknown origin")


def is_recheck(run: dict[str, Any]) -> bool:
    return run.get("origin") == "recheck"


def started(run: dict[str, Any]) -> str:
    return (run.get("started_at") or "")[:16].replace("T", " ")


def run_label(run: dict[str, Any]) -> str:
    """One line for a run picker: start, what ran, progress, and where it came from."""
    prompts = ", ".join(run.get("prompts") or [])
    done = f"{run.get('done', 0)}/{run.get('n_cells', 0)} cells"
    where = " · ".join(part for part in (origin_label(run), who(run)) if part)
    status = "" if run.get("status") == "completed" else f" · {run.get('status')}"
    return f"{started(run)} · {prompts} · {done}{status} · {where} · {run['id']}"


def provenance_html(run: dict[str, Any]) -> str:
    """Where a run came from, in one readable line: origin, who, git commit, notebook, models' weights/endpoints."""
    provenance = run.get("provenance") or {}
    commit = describe_git(provenance)
    notebook = Path(provenance["notebook"]).name if provenance.get("notebook") else ""
    models = describe_models(provenance)
    dataset = Path(run["dataset"]).name if run.get("dataset") else ""
    parts = [
        f"<b>{html.escape(origin_label(run))}</b>",
        html.escape(who(run)) or "someone unknown",
        html.escape(started(run)),
        f"dataset {html.escape(dataset)}" if dataset else "",
        html.escape(commit),
        f"notebook {html.escape(notebook)}" if notebook else "",
        html.escape(models),
    ]
    name = f" — {html.escape(run['name'])}" if run.get("name") else ""
    return (
        f"<div class='wb-provenance wb-hint'>Run {html.escape(run['id'])}{name}: "
        f"{' · '.join(p for p in parts if p)}</div>"
    )
