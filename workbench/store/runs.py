"""Runs and their leases.

A run being executed holds a *lease*: ``lease_owner`` names the process (``host:pid:token``) and
``lease_heartbeat`` says when it last said it is alive (every :data:`HEARTBEAT_SECONDS`). Another process never
executes the cells of a run whose lease is live: it starts its own run, or follows the live one. A lease is free
when it was released, when its heartbeat is older than :data:`LEASE_SECONDS`, or when its owner is a process on
this host that no longer exists (a killed run resumes at once, without waiting for the heartbeat to go stale).
Taking a lease is a compare-and-swap on the owner and heartbeat that were seen, so two processes never both win.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from typing import Any

from sqlalchemy import and_, func, insert, select, update

from workbench.errors import NotFoundError
from workbench.secrets import redact, redact_value, secret_values
from workbench.store.base import StoreBase
from workbench.store.clock import new_run_id, now, seconds_ago
from workbench.store.records import to_json
from workbench.store.schema import results, runs

LEASE_SECONDS = 20.0
HEARTBEAT_SECONDS = 3.0
FINISHED = ("completed", "interrupted", "failed", "stopped")
RESUMABLE = ("running", "interrupted")


def new_lease_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str | None) -> bool:
    """The owner is a process of this host that has exited (a lease it cannot renew)."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def lease_is_free(row: dict[str, Any], *, me: str | None = None) -> bool:
    owner, beat = row.get("lease_owner"), row.get("lease_heartbeat")
    if owner is None or owner == me:
        return True
    return beat is None or beat < seconds_ago(LEASE_SECONDS) or owner_is_dead(owner)


class RunsMixin(StoreBase):
    def create_run(
        self,
        *,
        config: dict[str, Any],
        config_hash: str,
        prompts: list[str],
        models: list[str],
        dataset: str | None,
        dataset_hash: str,
        n_cells: int,
        name: str | None = None,
        provenance: dict[str, Any] | None = None,
        status: str = "running",
        origin: str | None = None,
        lease_owner: str | None = None,
    ) -> str:
        """A new run (holding ``lease_owner``'s lease when given); its id."""
        run_id = new_run_id()
        secrets = secret_values()
        values = {
            "id": run_id,
            "name": redact(name, secrets),
            "config_hash": config_hash,
            "config": to_json(redact_value(config, secrets)),
            "dataset": redact(dataset, secrets),
            "dataset_hash": dataset_hash,
            "prompts": to_json(prompts),
            "models": to_json(redact_value(models, secrets)),
            "status": status,
            "n_cells": n_cells,
            "started_at": now(),
            "provenance": to_json(redact_value(provenance or {}, secrets)),
            "origin": origin,
            "lease_owner": lease_owner,
            "lease_heartbeat": now() if lease_owner else None,
        }
        self._write(lambda c: c.execute(insert(runs).values(**values)))
        return run_id

    def resumable_runs(self, config_hash: str) -> list[dict[str, Any]]:
        """Unfinished runs (killed, interrupted, or still going) with exactly this configuration, newest first."""
        statement = (
            select(runs.c.id, runs.c.status, runs.c.lease_owner, runs.c.lease_heartbeat)
            .where(runs.c.config_hash == config_hash, runs.c.status.in_(RESUMABLE))
            .order_by(runs.c.started_at.desc())
        )
        return self._rows(statement)

    def resumable_run(self, config_hash: str) -> str | None:
        """The newest unfinished run with this configuration whose lease is free (nobody is executing it)."""
        for row in self.resumable_runs(config_hash):
            if lease_is_free(row):
                return row["id"]
        return None

    def take_lease(self, run_id: str, owner: str, seen: dict[str, Any]) -> bool:
        """Take the run's lease if it still has the owner and heartbeat that were ``seen`` (compare-and-swap)."""
        same_owner = (
            runs.c.lease_owner.is_(None)
            if seen.get("lease_owner") is None
            else runs.c.lease_owner == seen["lease_owner"]
        )
        same_beat = (
            runs.c.lease_heartbeat.is_(None)
            if seen.get("lease_heartbeat") is None
            else runs.c.lease_heartbeat == seen["lease_heartbeat"]
        )
        statement = (
            update(runs)
            .where(runs.c.id == run_id, same_owner, same_beat)
            .values(lease_owner=owner, lease_heartbeat=now(), status="running", finished_at=None)
        )
        return self._write(lambda c: c.execute(statement).rowcount) == 1

    def heartbeat(self, run_id: str, owner: str) -> bool:
        """Renew a lease; ``False`` when somebody else holds it now."""
        statement = update(runs).where(runs.c.id == run_id, runs.c.lease_owner == owner).values(lease_heartbeat=now())
        return self._write(lambda c: c.execute(statement).rowcount) == 1

    def run_lease(self, run_id: str) -> dict[str, Any]:
        row = self._first(select(runs.c.status, runs.c.lease_owner, runs.c.lease_heartbeat).where(runs.c.id == run_id))
        if row is None:
            raise NotFoundError(f"No run {run_id!r} in {self.url}.")
        return row

    def set_run_status(self, run_id: str, status: str, *, release: str | None = None) -> None:
        """Set a run's status (a finished one gets its end time); ``release``: the lease owner giving it up."""
        values: dict[str, Any] = {"status": status, "finished_at": now() if status in FINISHED else None}
        if release is not None:
            values.update(lease_owner=None, lease_heartbeat=None)
        statement = update(runs).where(runs.c.id == run_id)
        if release is not None:  # only the holder gives a run back: a process that lost it marks nothing
            statement = statement.where(runs.c.lease_owner == release)
        self._write(lambda c: c.execute(statement.values(**values)))

    def run(self, run_id: str) -> dict[str, Any]:
        """A run by id, or by a unique prefix of its id."""
        row = self._first(select(runs).where(runs.c.id == run_id))
        if row is None:
            matches = self._rows(
                select(runs.c.id).where(runs.c.id.like(f"{_escape_like(run_id)}%", escape="\\")).limit(2)
            )
            if len(matches) == 1:
                return self.run(matches[0]["id"])
            hint = " It matches several runs: give more of the id." if matches else ""
            raise NotFoundError(f"No run {run_id!r} in {self.url}.{hint} List runs with `workbench runs list`.")
        for key in ("config", "prompts", "models"):
            row[key] = json.loads(row[key])
        row["provenance"] = json.loads(row.get("provenance") or "{}")
        return row

    def runs(
        self,
        limit: int = 50,
        *,
        prompt: str | None = None,
        model: str | None = None,
        origin: str | None = None,
        since: str | None = None,
    ) -> list[dict[str, Any]]:
        """Recent runs with their counts (done, passed, judged, errors), newest first, optionally filtered."""
        counts = (
            select(
                results.c.run_id,
                func.count(results.c.id).label("done"),
                func.sum(results.c.passed).label("passed"),
                func.count(results.c.passed).label("judged"),
                func.count(results.c.error).label("errors"),
            )
            .group_by(results.c.run_id)
            .subquery()
        )
        columns = [runs.c[name] for name in RUN_LIST_COLUMNS]
        statement = select(*columns, counts.c.done, counts.c.passed, counts.c.judged, counts.c.errors).outerjoin(
            counts, counts.c.run_id == runs.c.id
        )
        filters = []
        if prompt:
            filters.append(runs.c.prompts.like(f'%"{_escape_like(prompt)}@v%', escape="\\"))
        if model:
            filters.append(runs.c.models.like(f'%"{_escape_like(model)}"%', escape="\\"))
        if origin:
            filters.append(runs.c.origin == origin)
        if since:
            filters.append(runs.c.started_at >= since)
        if filters:
            statement = statement.where(and_(*filters))
        rows = self._rows(statement.order_by(runs.c.started_at.desc()).limit(limit))
        for row in rows:
            for key in ("done", "passed", "judged", "errors"):
                row[key] = int(row[key] or 0)
            row["prompts"], row["models"] = json.loads(row["prompts"]), json.loads(row["models"])
            row["provenance"] = json.loads(row.get("provenance") or "{}")
        return rows

    def latest_run_id(self) -> str | None:
        return self._scalar(select(runs.c.id).order_by(runs.c.started_at.desc()).limit(1))


RUN_LIST_COLUMNS = (
    "id",
    "name",
    "status",
    "prompts",
    "models",
    "dataset",
    "n_cells",
    "started_at",
    "finished_at",
    "origin",
    "provenance",
)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
