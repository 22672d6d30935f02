"""The run store: every run, result, cached answer, bad case, check, feedback row and prompt version, in one
SQLite file (the default, ``.workbench/workbench.db``) or one PostgreSQL database a team shares.

Why this shape: every answer the workbench gives is read back from here, so writes are transactional and
immediate (an interrupted kernel loses nothing), readers never block writers, several processes can write at
once, and the schema moves only by Alembic revisions. Secrets never reach it: every record passes through
:func:`workbench.store.records.redact_record`, and a write returns the redacted record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from workbench.store.badcases import BadCasesMixin
from workbench.store.batches import BatchesMixin
from workbench.store.feedback import FeedbackMixin
from workbench.store.results import ResultsMixin
from workbench.store.runs import RunsMixin
from workbench.store.schema import COUNTED_TABLES, metadata
from workbench.store.summaries import SummariesMixin
from workbench.store.versions import VersionsMixin


class Store(RunsMixin, ResultsMixin, SummariesMixin, VersionsMixin, BadCasesMixin, FeedbackMixin, BatchesMixin):
    """A store at a path or URL (``None``: ``WORKBENCH_STORE``, else ``.workbench/workbench.db``).

    Safe to share between threads; many processes may open one store. Opening a SQLite store written by an
    earlier release upgrades it; a PostgreSQL store is upgraded with ``workbench store upgrade``.
    """

    def stats(self) -> dict[str, Any]:
        """Rows per table and the schema revision (what ``workbench store stats`` prints)."""
        counts: dict[str, Any] = {}
        for name in COUNTED_TABLES:
            counts[name] = int(self._scalar(select(func.count()).select_from(metadata.tables[name])) or 0)
        from workbench.store.engine import current_revision

        counts["schema_revision"] = current_revision(self._engine)
        return counts
