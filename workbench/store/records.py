"""The record of one cell, and the one redaction boundary every stored or shown result passes through.

:func:`redact_record` masks secrets in every text a record carries (inputs, prompt, output, parsed value, scores,
error, model spec, retrieved chunks, details). The store writes the redacted record and returns *it*, so every
artefact built from results — exports, console tables, DataFrames saved into notebooks — shows what the store
holds, never the raw text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from workbench.identity import CellKey, Column
from workbench.secrets import is_clean, redact, redact_value, secret_values


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True)
class ResultRecord:
    """One cell of a run: a (prompt version, model, dataset row, repeat) and what came of it."""

    run_id: str
    cell_key: str
    prompt: str
    version: int
    model: str
    row_index: int
    row_id: str
    repeat: int
    inputs: dict[str, Any]
    rendered: str
    output: str | None = None
    parsed: Any = None
    passed: bool | None = None
    score: float | None = None
    scores: tuple[dict[str, Any], ...] = ()
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    cached: bool = False
    attempts: int = 1
    retrieved: tuple[dict[str, Any], ...] = ()
    id: int | None = None
    created_at: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    worker: str | None = None  # the Dask worker that ran the cell (cluster runs)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def column(self) -> Column:
        return Column(self.prompt, self.version, self.model)

    @property
    def key(self) -> CellKey:
        return CellKey(self.column, self.row_id, self.repeat)

    @property
    def tool_calls(self) -> list[dict[str, Any]] | None:
        """The calls a template with tools made, in order (each ``{name, arguments}``); ``None`` without tools."""
        return self.details.get("tool_calls")

    @property
    def trajectory(self) -> list[dict[str, Any]] | None:
        """Every step of the agent loop (output, calls with arguments and results, latency, tokens)."""
        return self.details.get("trajectory")

    @property
    def reason(self) -> str:
        """Why the cell passed or failed, in the scorers' words (the failed scorers when any failed)."""
        failed = [s for s in self.scores if not s.get("passed")]
        return "; ".join(f"{s['name']}: {s['reason']}" for s in (failed or self.scores))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RESULT_FIELDS = [f.name for f in fields(ResultRecord)]
TEXT_FIELDS = ("cell_key", "model", "rendered", "output", "error")
VALUE_FIELDS = ("inputs", "parsed", "scores", "retrieved", "details")


def redact_record(record: ResultRecord, secrets: list[str] | None = None) -> ResultRecord:
    """The record with every secret masked (one scan of the environment for all its fields)."""
    secrets = secret_values() if secrets is None else secrets
    if is_clean([getattr(record, name) for name in (*TEXT_FIELDS, *VALUE_FIELDS)], secrets):
        return record  # the common case, found with one scan of the whole record
    changes: dict[str, Any] = {name: redact(getattr(record, name), secrets) for name in TEXT_FIELDS}
    for name in VALUE_FIELDS:
        changes[name] = redact_value(getattr(record, name), secrets)
    return replace(record, **changes)


def record_values(record: ResultRecord) -> dict[str, Any]:
    """The ``results`` row of a record (the record is redacted already; the store assigns ``id``)."""
    return {
        "run_id": record.run_id,
        "cell_key": record.cell_key,
        "prompt": record.prompt,
        "version": record.version,
        "model": record.model,
        "row_index": record.row_index,
        "row_id": record.row_id,
        "repeat": record.repeat,
        "inputs": to_json(record.inputs),
        "rendered": record.rendered,
        "output": record.output,
        "parsed": None if record.parsed is None else to_json(record.parsed),
        "passed": None if record.passed is None else int(record.passed),
        "score": record.score,
        "scores": to_json(list(record.scores)),
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "latency_ms": record.latency_ms,
        "error": record.error,
        "cached": int(record.cached),
        "attempts": record.attempts,
        "created_at": record.created_at,
        "retrieved": to_json(list(record.retrieved)) if record.retrieved else None,
        "details": to_json(record.details) if record.details else None,
        "worker": record.worker,
    }


#: The columns a retried cell's new result replaces (its id, run, key and inputs stay).
UPDATED_ON_CONFLICT = (
    "output",
    "parsed",
    "passed",
    "score",
    "scores",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "error",
    "cached",
    "attempts",
    "created_at",
    "retrieved",
    "details",
    "worker",
)


def row_to_record(row: Mapping[str, Any]) -> ResultRecord:
    data = dict(row)
    data["inputs"] = json.loads(data["inputs"])
    data["parsed"] = json.loads(data["parsed"]) if data["parsed"] is not None else None
    data["scores"] = tuple(json.loads(data["scores"] or "[]"))
    data["passed"] = None if data["passed"] is None else bool(data["passed"])
    data["cached"] = bool(data["cached"])
    data["retrieved"] = tuple(json.loads(data["retrieved"] or "[]"))
    data["details"] = json.loads(data.get("details") or "{}")
    return ResultRecord(**{k: data.get(k) for k in RESULT_FIELDS})
