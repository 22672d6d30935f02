"""Ratings of served answers (thumbs up/down, a note, the expected answer); a thumbs-down becomes a bad case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from workbench.secrets import redact
from workbench.store.base import StoreBase
from workbench.store.clock import now
from workbench.store.schema import feedback


class FeedbackMixin(StoreBase):
    def add_feedback(
        self,
        result_id: int,
        rating: str,
        *,
        note: str = "",
        expected: str | None = None,
        bad_case_id: int | None = None,
    ) -> int:
        self.result(result_id)  # type: ignore[attr-defined]  # an unknown result is a clear error
        values = {
            "result_id": result_id,
            "rating": rating,
            "note": redact(note) or "",
            "expected": redact(expected),
            "bad_case_id": bad_case_id,
            "created_at": now(),
        }
        statement = insert(feedback).values(**values).returning(feedback.c.id)
        return self._write(lambda connection: connection.execute(statement).scalar_one())

    def feedback(self, result_id: int | None = None) -> list[dict[str, Any]]:
        statement = select(feedback).order_by(feedback.c.id)
        if result_id is not None:
            statement = statement.where(feedback.c.result_id == result_id)
        return self._rows(statement)
