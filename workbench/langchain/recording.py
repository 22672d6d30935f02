"""``WorkbenchChat(record=True)``: its calls become one run in the store, as the server's requests do.

The run is created at the first call (origin ``langchain``, status ``serving`` — an open log, like a server's), and
each call is one result the moment it ends: the prompt as sent, the answer, tokens, latency, attempts, or the error.
The store redacts every record it writes, so a key a prompt quoted never lands in it.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from typing import Any

from workbench.identity import CellKey, Column
from workbench.models.base import Model
from workbench.models.types import Generation, Request, prompt_as_text

PROMPT_NAME = "langchain-chat"


class CallLog:
    """The run one recording chat model writes to (created lazily, so constructing a model writes nothing)."""

    def __init__(self, store: Any, model: Model, *, name: str | None = None):
        self._location = store
        self.model = model
        self.name = name or f"langchain {model.spec}"
        self.run_id: str | None = None
        self._store: Any = None
        self._rows = itertools.count()
        self._lock = threading.Lock()

    def _begin(self) -> str:
        from workbench.provenance import collect
        from workbench.store import open_store

        self._store = open_store(self._location)
        return self._store.create_run(
            config={"langchain": PROMPT_NAME, "model": self.model.spec},
            config_hash=f"langchain-{uuid.uuid4().hex}",
            prompts=[PROMPT_NAME],
            models=[self.model.spec],
            dataset="langchain",
            dataset_hash="",
            n_cells=0,
            name=self.name[:200],
            provenance=collect([self.model], origin="langchain"),
            status="serving",
            origin="langchain",
        )

    def write(self, request: Request, generation: Generation | None, error: str | None = None) -> Any:
        """Record one call; returns the stored record."""
        from workbench.store import ResultRecord, now

        with self._lock:
            if self.run_id is None:
                self.run_id = self._begin()
            row = next(self._rows)
        row_id = f"lc-{uuid.uuid4().hex[:20]}"
        fields: dict[str, Any] = {"error": error}
        if generation is not None:
            fields |= {
                "output": generation.text,
                "prompt_tokens": generation.prompt_tokens,
                "completion_tokens": generation.completion_tokens,
                "latency_ms": generation.latency_ms,
                "attempts": generation.attempts,
                "details": {"finish_reason": generation.finish_reason},
            }
        record = ResultRecord(
            run_id=self.run_id,
            cell_key=str(CellKey(Column(PROMPT_NAME, 1, self.model.spec), row_id, 0)),
            prompt=PROMPT_NAME,
            version=1,
            model=self.model.spec,
            row_index=row,
            row_id=row_id,
            repeat=0,
            inputs={"params": request.params.model_dump(mode="json", exclude_unset=True)},
            rendered=prompt_as_text(request.prompt),
            created_at=now(),
            **fields,
        )
        return self._store.write_result(record)
