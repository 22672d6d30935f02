"""Batch jobs a run sent to a provider's batch API: which cells each answers, its status as last seen, and whether
its results were collected — so a run can be collected hours later, by another process."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select, update

from workbench.store.base import StoreBase
from workbench.store.clock import now
from workbench.store.schema import run_batches


class BatchesMixin(StoreBase):
    def add_batch(
        self, run_id: str, batch_id: str, *, model: str, input_file_id: str, cell_keys: list[str], status: str
    ) -> None:
        values = {
            "batch_id": batch_id,
            "run_id": run_id,
            "model": model,
            "input_file_id": input_file_id,
            "cell_keys": json.dumps(cell_keys, ensure_ascii=False),
            "status": status,
            "created_at": now(),
        }
        self._write(lambda connection: connection.execute(insert(run_batches).values(**values)))

    def confirm_batch(self, intent: str, batch_id: str, *, input_file_id: str, status: str) -> None:
        """A batch submitted under an intent exists at the provider: the intent's row takes the provider's id."""
        statement = (
            update(run_batches)
            .where(run_batches.c.batch_id == intent)
            .values(batch_id=batch_id, input_file_id=input_file_id, status=status)
        )
        self._write(lambda connection: connection.execute(statement))

    def batches(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._rows(select(run_batches).where(run_batches.c.run_id == run_id).order_by(run_batches.c.created_at))
        for row in rows:
            row["cell_keys"] = json.loads(row["cell_keys"])
            row["counts"] = json.loads(row["counts"]) if row.get("counts") else {}
        return rows

    def update_batch(self, batch_id: str, **changes: Any) -> None:
        """Record what the provider said (status, counts, output/error files) or that the results were collected."""
        if "counts" in changes and not isinstance(changes["counts"], str):
            changes["counts"] = json.dumps(changes["counts"])
        if changes.pop("collected", False):
            changes["collected_at"] = now()
        statement = update(run_batches).where(run_batches.c.batch_id == batch_id).values(**changes)
        self._write(lambda connection: connection.execute(statement))
