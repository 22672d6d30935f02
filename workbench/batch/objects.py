"""The objects of OpenAI's Files and Batch APIs as a server answers them: a file record and a new batch.

``workbench serve``'s Batch API (:mod:`workbench.serve.batch_api`) and the test stand-in
(:mod:`workbench.testing.fake_batches`) both answer with these, so the two cannot drift from each other or from the
shape the official client parses.
"""

from __future__ import annotations

import time
from typing import Any

WINDOW_SECONDS = 24 * 3600  # OpenAI's only completion window, "24h"


def file_object(file_id: str, content: bytes, filename: str | None, purpose: str) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": len(content),
        "created_at": int(time.time()),
        "filename": filename or file_id,
        "purpose": purpose,
        "status": "processed",
    }


def batch_object(batch_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A batch just created from a ``POST /v1/batches`` body: validating, nothing counted yet."""
    now = int(time.time())
    return {
        "id": batch_id,
        "object": "batch",
        "endpoint": body["endpoint"],
        "errors": None,
        "input_file_id": body["input_file_id"],
        "completion_window": "24h",
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "created_at": now,
        "in_progress_at": None,
        "expires_at": now + WINDOW_SECONDS,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": body.get("metadata"),
    }
