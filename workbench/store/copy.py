"""Copying one store into another — a person's SQLite file into the team's PostgreSQL — without duplicating
anything, however many times it is run.

Rows are matched by what identifies them in any store, not by their integer ids (which differ between stores):
a run by its id, a result by (run, cell), a cache entry by its key, a prompt version by (name, version), a bad
case by (prompt, model, inputs fingerprint), a check by (case, run, when), feedback by (result, when, rating).
References between rows (a bad case's result, a check's case, feedback's result) are re-pointed to the ids the
rows have in the destination.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from workbench.errors import StoreError
from workbench.store.schema import (
    bad_case_checks,
    bad_cases,
    cache,
    feedback,
    prompt_versions,
    results,
    run_batches,
    runs,
)
from workbench.store.store import Store

CHUNK = 500


@dataclass
class CopyReport:
    """Rows added to the destination per table (0 everywhere when it already had everything)."""

    added: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        added = ", ".join(f"{name} {n}" for name, n in self.added.items())
        return f"added: {added}; already there: {sum(self.skipped.values())} rows"


def copy_store(source: Store, destination: Store) -> CopyReport:
    """Copy every row of ``source`` that ``destination`` lacks (idempotent); what was added, per table."""
    if source.same_store(destination):
        raise StoreError(f"{source.url} is the destination itself; name two different stores.")
    report = CopyReport()
    _copy_plain(source, destination, prompt_versions, ("name", "version"), report)
    _copy_plain(source, destination, runs, ("id",), report)
    result_ids = _copy_mapped(source, destination, results, ("run_id", "cell_key"), {}, report)
    _copy_plain(source, destination, cache, ("key",), report)
    case_ids = _copy_mapped(
        source, destination, bad_cases, ("prompt", "model", "fingerprint"), {"result_id": result_ids}, report
    )
    _copy_mapped(
        source,
        destination,
        bad_case_checks,
        ("bad_case_id", "run_id", "checked_at"),
        {"bad_case_id": case_ids, "result_id": result_ids},
        report,
    )
    _copy_mapped(
        source,
        destination,
        feedback,
        ("result_id", "created_at", "rating"),
        {"result_id": result_ids, "bad_case_id": case_ids},
        report,
    )
    _copy_plain(source, destination, run_batches, ("batch_id",), report)
    return report


def copy_cache(source: Store, destination: Store) -> CopyReport:
    """Copy only the cached answers (a re-run that should call no model but start from no runs, versions or bad
    cases: nbval's cached re-run in ``workbench nightly``)."""
    report = CopyReport()
    _copy_plain(source, destination, cache, ("key",), report)
    return report


def _rows(store: Store, table: Table) -> Iterable[list[dict[str, Any]]]:
    """All rows of a table, a chunk at a time, in primary-key order."""
    order = list(table.primary_key.columns)
    offset = 0
    while True:
        chunk = store._rows(select(table).order_by(*order).limit(CHUNK).offset(offset))
        if not chunk:
            return
        yield chunk
        offset += len(chunk)


def _copy_plain(source: Store, destination: Store, table: Table, key: tuple[str, ...], report: CopyReport) -> None:
    """Tables whose natural key is their primary key: insert what is missing."""
    added = skipped = 0
    for chunk in _rows(source, table):

        def work(connection: Connection, chunk: list[dict[str, Any]] = chunk) -> int:
            statement = destination._dialect_insert(table).on_conflict_do_nothing(index_elements=list(key))
            statement = statement.returning(*(table.c[name] for name in key))  # a row back only when inserted
            return sum(len(connection.execute(statement.values(**row)).fetchall()) for row in chunk)

        inserted = destination._write(work)
        added += inserted
        skipped += len(chunk) - inserted
    report.added[table.name] = added
    report.skipped[table.name] = skipped


def _copy_mapped(
    source: Store,
    destination: Store,
    table: Table,
    key: tuple[str, ...],
    remap: dict[str, dict[int, int]],
    report: CopyReport,
) -> dict[int, int]:
    """Tables with integer ids: match by natural key (after re-pointing references), insert what is missing.
    Returns source id → destination id for every row of the table."""
    ids: dict[int, int] = {}
    added = skipped = 0
    for chunk in _rows(source, table):
        rows = [_remapped(row, remap) for row in chunk]

        def work(connection: Connection, rows: list[dict[str, Any]] = rows) -> tuple[dict[int, int], int]:
            mapping, inserted = {}, 0
            for row in rows:
                source_id = row.pop("id")
                match = select(table.c.id).where(*(table.c[name] == row[name] for name in key))
                existing = connection.execute(match).scalar()
                if existing is None:
                    existing = connection.execute(table.insert().values(**row).returning(table.c.id)).scalar_one()
                    inserted += 1
                mapping[source_id] = existing
            return mapping, inserted

        mapping, inserted = destination._write(work)
        ids.update(mapping)
        added += inserted
        skipped += len(rows) - inserted
    report.added[table.name] = added
    report.skipped[table.name] = skipped
    return ids


def _remapped(row: dict[str, Any], remap: dict[str, dict[int, int]]) -> dict[str, Any]:
    row = dict(row)
    for column, mapping in remap.items():
        if row.get(column) is not None:
            row[column] = mapping.get(row[column], row[column])
    return row
