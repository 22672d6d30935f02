"""Results: one row per cell of a run, written the moment the cell is known (with its cache entry, in the same
transaction), read back in the run's own order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from workbench.errors import LeaseLostError, NotFoundError
from workbench.secrets import secret_values
from workbench.store.base import StoreBase
from workbench.store.cache import CacheEntry, CacheMixin
from workbench.store.clock import now
from workbench.store.records import (
    UPDATED_ON_CONFLICT,
    ResultRecord,
    record_values,
    redact_record,
    row_to_record,
)
from workbench.store.schema import results, runs


class ResultsMixin(CacheMixin, StoreBase):
    def write_result(self, record: ResultRecord, *, cache_entry: CacheEntry | None = None) -> ResultRecord:
        """Insert or replace one cell's result (a retried cell replaces its earlier error); return the stored,
        redacted record — what every view of it must show. ``cache_entry`` is written in the same transaction."""
        return self.write_results([(record, cache_entry)])[0]

    def write_results(
        self, items: Sequence[tuple[ResultRecord, CacheEntry | None]], *, fence: tuple[str, str] | None = None
    ) -> list[ResultRecord]:
        """Several cells in one transaction (a cached re-run writes its hits together): one statement for their
        cache entries, one for the results, whatever their number.

        ``fence`` = (run id, lease owner): the write happens only while that owner still holds the run's lease,
        checked in the same transaction (the run's row is locked on PostgreSQL; SQLite's write transaction holds
        the database lock), so a process that lost its lease writes nothing — :class:`LeaseLostError`."""
        if not items:
            return []
        secrets = secret_values()  # one look at the environment for the whole batch
        stamp = now()
        clean = [redact_record(r if r.created_at else replace(r, created_at=stamp), secrets) for r, _ in items]
        entries = [entry for _, entry in items if entry is not None]

        def work(connection: Connection) -> list[int]:
            if fence is not None:
                self._check_lease(connection, *fence)
            if entries:
                self._cache_put_many(connection, entries, secrets)
            connection.execute(self._upsert_results(), [record_values(record) for record in clean])
            return self._ids_of(connection, clean)

        ids = self._write(work)
        return [replace(record, id=result_id) for record, result_id in zip(clean, ids, strict=True)]

    def _ids_of(self, connection: Connection, records: Sequence[ResultRecord]) -> list[int]:
        """The ids the written records have (one query per run and few hundred cells: the insert itself goes as
        one executemany, which a RETURNING clause would turn into a statement per row on SQLite)."""
        wanted: dict[str, list[str]] = {}
        for record in records:
            wanted.setdefault(record.run_id, []).append(record.cell_key)
        found: dict[tuple[str, str], int] = {}
        for run_id, keys in wanted.items():
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                statement = select(results.c.cell_key, results.c.id).where(
                    results.c.run_id == run_id, results.c.cell_key.in_(chunk)
                )
                found.update(((run_id, key), result_id) for key, result_id in connection.execute(statement))
        return [found[(record.run_id, record.cell_key)] for record in records]

    def _check_lease(self, connection: Connection, run_id: str, owner: str) -> None:
        statement = select(runs.c.lease_owner).where(runs.c.id == run_id)
        if not self.location.is_sqlite:
            statement = statement.with_for_update()
        holder = connection.execute(statement).scalar()
        if holder != owner:
            raise LeaseLostError(
                f"Run {run_id} was taken over by another process ({holder or 'nobody holds it now'}): this process "
                "lost its lease and stopped writing to it; the process holding the run stores the remaining cells.",
                holder=holder,
            )

    def _upsert_results(self) -> Any:
        """INSERT … ON CONFLICT (run_id, cell_key) DO UPDATE, built once per store: a retried cell replaces its
        earlier error, keeping its id."""
        if self._upsert is None:
            statement = self._dialect_insert(results)
            self._upsert = statement.on_conflict_do_update(
                index_elements=["run_id", "cell_key"],
                set_={name: statement.excluded[name] for name in UPDATED_ON_CONFLICT},
            )
        return self._upsert

    def results(self, run_id: str) -> list[ResultRecord]:
        """A run's records, in the run's own order: its prompt versions, then its models, then rows and repeats."""
        run = self.run(run_id)  # type: ignore[attr-defined]
        records = [row_to_record(r) for r in self._rows(select(results).where(results.c.run_id == run["id"]))]
        prompts = {ref: i for i, ref in enumerate(run["prompts"])}
        models = {spec: i for i, spec in enumerate(run["models"])}

        def order(r: ResultRecord) -> tuple[Any, ...]:
            prompt_at = prompts.get(str(r.column.ref), len(prompts))
            return (prompt_at, r.prompt, r.version, models.get(r.model, len(models)), r.model, r.row_index, r.repeat)

        return sorted(records, key=order)

    def result(self, result_id: int) -> ResultRecord:
        row = self._first(select(results).where(results.c.id == int(result_id)))
        if row is None:
            raise NotFoundError(f"No result with id {result_id} in {self.url}.")
        return row_to_record(row)

    def result_for_request(self, request_id: str) -> ResultRecord:
        """The result a served request left (its row id is the request's id) — only answers a ``serve`` run gave
        (this server's or an earlier one's on the same store): a dataset row of somebody's run is not a request."""
        statement = (
            select(results)
            .join(runs, runs.c.id == results.c.run_id)
            .where(results.c.row_id == request_id, runs.c.origin == "serve")
            .order_by(results.c.id.desc())
            .limit(1)
        )
        row = self._first(statement)
        if row is None:
            raise NotFoundError(
                f"No completion with id {request_id!r} was answered by `workbench serve` on this store: feedback is "
                "taken only on served answers — send the `id` of a completion this server (or an earlier one on the "
                "same store) returned."
            )
        return row_to_record(row)

    def completed_keys(self, run_id: str) -> set[str]:
        """Keys of the cells of a run that finished without error (a resumed run skips them) — keys only: a resume
        of a large run does not read its records back."""
        statement = select(results.c.cell_key).where(results.c.run_id == run_id, results.c.error.is_(None))
        with self._engine.connect() as connection:
            return set(connection.execute(statement).scalars())

    def completed_cells(self, run_id: str) -> dict[str, ResultRecord]:
        """Cells of a run that finished without error (a resumed run skips them)."""
        rows = self._rows(select(results).where(results.c.run_id == run_id, results.c.error.is_(None)))
        return {r["cell_key"]: row_to_record(r) for r in rows}

    def result_count(self, run_id: str) -> int:
        from sqlalchemy import func

        return int(self._scalar(select(func.count()).select_from(results).where(results.c.run_id == run_id)) or 0)

    def prompt_results(
        self, prompt: str, *, model: str | None = None, dataset: str | None = None
    ) -> list[dict[str, Any]]:
        """Every judged result of a prompt in runs (served requests excluded), with its run's dataset and start:
        what a trend is computed from. Light rows, not records (no inputs or texts)."""
        columns = [results.c[name] for name in ("run_id", "version", "model", "row_id", "repeat", "passed", "cached")]
        statement = (
            select(*columns, runs.c.started_at, runs.c.dataset, runs.c.dataset_hash, runs.c.config)
            .join(runs, runs.c.id == results.c.run_id)
            .where(results.c.prompt == prompt, results.c.passed.is_not(None), runs.c.status.not_in(("serving",)))
        )
        if model:
            statement = statement.where(results.c.model == model)
        if dataset:
            statement = statement.where(runs.c.dataset == dataset)
        return self._rows(statement.order_by(runs.c.started_at, results.c.row_index, results.c.repeat))

    def results_of_rows(self, row_ids: Iterable[str]) -> list[ResultRecord]:
        wanted = list(dict.fromkeys(row_ids))
        found: list[ResultRecord] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found += [row_to_record(r) for r in self._rows(select(results).where(results.c.row_id.in_(chunk)))]
        return found
