"""Bad cases and their checks, as stored. The tracker (:mod:`workbench.badcases`) decides what a change means;
this module only reads and writes rows.

Two people reviewing one store: every case carries ``row_version``, raised by each change. A change made from a
view that read an older version is refused (:class:`~workbench.errors.ConflictError`) instead of silently
overwriting what the other person did.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from workbench.errors import ConflictError, NotFoundError
from workbench.secrets import redact
from workbench.store.base import StoreBase
from workbench.store.clock import now
from workbench.store.records import ResultRecord, to_json
from workbench.store.schema import bad_case_checks, bad_cases

CHECK_COLUMNS = ("run_id", "result_id", "prompt", "version", "model", "output", "passed", "outcome", "checked_at")


class BadCasesMixin(StoreBase):
    def upsert_bad_case(
        self,
        record: ResultRecord,
        *,
        fingerprint: str,
        tags: Sequence[str],
        note: str,
        expected: str | None,
        source: str,
    ) -> int:
        """Insert the case for (prompt, model, inputs), or merge into the existing one (tags joined, a fixed case
        that failed again becomes ``regressed``). One transaction; returns the case id."""

        def work(connection: Connection) -> int:
            key = (
                (bad_cases.c.prompt == record.prompt)
                & (bad_cases.c.model == record.model)
                & (bad_cases.c.fingerprint == fingerprint)
            )
            existing = connection.execute(select(bad_cases).where(key)).mappings().first()
            if existing is None:
                return _insert_case(connection, record, fingerprint, tags, note, expected, source)
            _merge_case(connection, dict(existing), record, tags, note, expected)
            return int(existing["id"])

        return self._write(work)

    def bad_case_row(self, case_id: int) -> dict[str, Any] | None:
        return self._first(select(bad_cases).where(bad_cases.c.id == int(case_id)))

    def bad_case_checks(self, case_id: int) -> list[dict[str, Any]]:
        columns = [bad_case_checks.c[name] for name in CHECK_COLUMNS]
        statement = select(*columns).where(bad_case_checks.c.bad_case_id == case_id).order_by(bad_case_checks.c.id)
        return self._rows(statement)

    def bad_case_rows(self, *, statuses: Sequence[str] = (), prompt: str | None = None) -> list[dict[str, Any]]:
        statement = select(bad_cases).order_by(bad_cases.c.id)
        if statuses:
            statement = statement.where(bad_cases.c.status.in_(list(statuses)))
        if prompt:
            statement = statement.where(bad_cases.c.prompt == prompt)
        return self._rows(statement)

    def update_bad_case(self, case_id: int, changes: dict[str, Any], *, expected_version: int | None = None) -> int:
        """Change a case's columns; with ``expected_version``, only if nobody changed it since. Its new version."""

        def work(connection: Connection) -> int:
            current = connection.execute(select(bad_cases).where(bad_cases.c.id == case_id)).mappings().first()
            if current is None:
                raise NotFoundError(f"No bad case #{case_id}. List them with `workbench badcases list`.")
            if expected_version is not None and current["row_version"] != expected_version:
                raise ConflictError(_conflict_message(dict(current), expected_version))
            version = int(current["row_version"]) + 1
            statement = (
                update(bad_cases)
                .where(bad_cases.c.id == case_id, bad_cases.c.row_version == current["row_version"])
                .values(**changes, updated_at=now(), row_version=version)
            )
            if connection.execute(statement).rowcount != 1:
                raise ConflictError(_conflict_message(dict(current), expected_version or current["row_version"]))
            return version

        return self._write(work)

    def add_checks(
        self,
        run_id: str,
        checks: Sequence[tuple[int, ResultRecord, str, str]],
        *,
        seen: dict[int, int] | None = None,
    ) -> None:
        """Store rechecks — (case id, the recheck's result, outcome, the case's new status) — in one transaction.
        ``seen``: each case's version when the recheck read it; if a person changed a case meanwhile, nothing is
        written and :class:`ConflictError` says what changed (the same refusal as an edit from a stale view)."""
        stamp = now()

        def work(connection: Connection) -> None:
            for case_id, version in (seen or {}).items():
                current = connection.execute(select(bad_cases).where(bad_cases.c.id == case_id)).mappings().first()
                if current is not None and current["row_version"] != version:
                    raise ConflictError(_conflict_message(dict(current), version))
            for case_id, record, outcome, status in checks:
                connection.execute(
                    insert(bad_case_checks).values(
                        bad_case_id=case_id,
                        run_id=run_id,
                        result_id=record.id,
                        prompt=record.prompt,
                        version=record.version,
                        model=record.model,
                        output=redact(record.output),
                        passed=None if record.passed is None else int(record.passed),
                        outcome=outcome,
                        checked_at=stamp,
                    )
                )
                connection.execute(
                    update(bad_cases)
                    .where(bad_cases.c.id == case_id)
                    .values(status=status, updated_at=stamp, row_version=bad_cases.c.row_version + 1)
                )

        self._write(work)


def _insert_case(
    connection: Connection,
    record: ResultRecord,
    fingerprint: str,
    tags: Sequence[str],
    note: str,
    expected: str | None,
    source: str,
) -> int:
    stamp = now()
    values = {
        "fingerprint": fingerprint,
        "prompt": record.prompt,
        "version": record.version,
        "model": record.model,
        "row_id": record.row_id,
        "inputs": redact(json.dumps(record.inputs, ensure_ascii=False, default=str)),
        "output": redact(record.output),
        "expected": expected,
        "tags": to_json(sorted(tags)),
        "note": redact(note) or "",
        "status": "open",
        "source": source,
        "found_in_run": record.run_id,
        "result_id": record.id,
        "created_at": stamp,
        "updated_at": stamp,
        "row_version": 1,
    }
    return connection.execute(insert(bad_cases).values(**values).returning(bad_cases.c.id)).scalar_one()


def _merge_case(
    connection: Connection,
    existing: dict[str, Any],
    record: ResultRecord,
    tags: Sequence[str],
    note: str,
    expected: str | None,
) -> None:
    merged = sorted(set(json.loads(existing["tags"])) | set(tags))
    status = "regressed" if existing["status"] == "fixed" else existing["status"]  # failed again after a fix
    values = {
        "tags": to_json(merged),
        "note": redact(note) or existing["note"],
        "expected": expected if expected is not None else existing["expected"],
        "output": redact(record.output),
        "version": record.version,
        "model": record.model,
        "result_id": record.id,
        "status": status,
        "updated_at": now(),
        "row_version": int(existing["row_version"]) + 1,
    }
    connection.execute(update(bad_cases).where(bad_cases.c.id == existing["id"]).values(**values))


def _conflict_message(current: dict[str, Any], seen: int) -> str:
    tags = ", ".join(json.loads(current["tags"])) or "none"
    return (
        f"Bad case #{current['id']} was changed by someone else since you loaded it (you saw version {seen}; it is "
        f"now version {current['row_version']}: status {current['status']}, tags {tags}, updated "
        f"{current['updated_at']}). Nothing was overwritten: reload the case and make your change again."
    )
