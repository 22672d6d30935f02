"""Timestamps and run ids, in one place so every table and process writes them the same way (UTC, ISO 8601 to the
millisecond: they sort as text on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def seconds_ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
