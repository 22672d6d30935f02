"""How a stored run is named in the UI: when it started, what it ran, and who/where it came from.

Why: a team store holds runs from notebooks, the CLI, the nightly job, a cluster and rechecks, by several people.
A run list that shows only ids makes "my run" and "the nightly run" look alike, and a recheck of two bad cases
look like the run under review. These read what the store records (``origin`` and ``provenance``) and nothing else.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from workbench.i18n import DEFAULT, Messages
from workbench.provenance import describe_git, describe_models

ORIGINS = ("recheck", "nightly", "cluster", "cli", "ui", "notebook", "python", "serve")
ENGLISH = Messages(DEFAULT)


def who(run: dict[str, Any]) -> str:
    """``user@host`` from the run's provenance ("" when it does not say)."""
    provenance = run.get("provenance") or {}
    host = (provenance.get("host") or {}).get("name")
    return "@".join(part for part in (provenance.get("user"), host) if part)


def origin_label(run: dict[str, Any], say: Messages = ENGLISH) -> str:
    origin = run.get("origin") or ""
    if origin in ORIGINS:
        return say(f"runs.origin.{origin}")
    return origin or say("runs.origin.unknown")


def status_label(status: str | None, say: Messages = ENGLISH) -> str:
    """A run's status in the UI's language (a status this version does not know is shown as stored)."""
    key = f"runs.status.{status}"
    return say(key) if status and say.has(key) else (status or "")


def is_recheck(run: dict[str, Any]) -> bool:
    return run.get("origin") == "recheck"


def started(run: dict[str, Any]) -> str:
    return (run.get("started_at") or "")[:16].replace("T", " ")


def run_label(run: dict[str, Any], say: Messages = ENGLISH) -> str:
    """One line for a run picker: start, what ran, progress, and where it came from (the id last)."""
    prompts = ", ".join(run.get("prompts") or [])
    done = say("runs.cells_done", done=run.get("done", 0), n=run.get("n_cells", 0))
    where = " · ".join(part for part in (origin_label(run, say), who(run)) if part)
    status = "" if run.get("status") == "completed" else f" · {status_label(run.get('status'), say)}"
    return f"{started(run)} · {prompts} · {done}{status} · {where} · {run['id']}"


def provenance_html(run: dict[str, Any], say: Messages = ENGLISH) -> str:
    """Where a run came from, in one readable line: origin, who, git commit, notebook, models' weights/endpoints."""
    provenance = run.get("provenance") or {}
    commit = describe_git(provenance)
    notebook = Path(provenance["notebook"]).name if provenance.get("notebook") else ""
    models = describe_models(provenance)
    dataset = Path(run["dataset"]).name if run.get("dataset") else ""
    parts = [
        f"<b>{html.escape(origin_label(run, say))}</b>",
        html.escape(who(run) or say("runs.someone_unknown")),
        html.escape(started(run)),
        html.escape(say("runs.dataset_is", name=dataset)) if dataset else "",
        html.escape(commit),
        html.escape(say("runs.notebook_is", name=notebook)) if notebook else "",
        html.escape(models),
    ]
    name = f" — {run['name']}" if run.get("name") else ""
    head = html.escape(say("runs.provenance", id=run["id"], name=name))
    return f"<div class='wb-provenance wb-hint'>{head} {' · '.join(p for p in parts if p)}</div>"
