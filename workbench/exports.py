"""One export path for results: ``workbench run --out``, ``workbench runs export``, ``RunResult.export`` and the UI
all write the same typed records.

- JSONL: one object per cell with real types — booleans, numbers, nulls; JSON fields (the parsed value, the scores,
  the retrieved chunks) as JSON.
- CSV: the same columns; booleans as ``true``/``false``, nulls empty, JSON fields as JSON text — except a value
  that is plain text (a parsed label such as ``negative``), which is written as the text a spreadsheet expects, not
  as a quoted JSON string (text that would read as JSON, such as ``42``, keeps its quotes so it reads back as text).
- HTML: the summary with intervals, then the matrix (:func:`workbench.reports.html_report`).

Every row carries the dataset's own columns (a column that shares a name with a result field is written as
``input.NAME``), then the result: where it ran (``worker``, cluster runs), how many attempts it took, and the ids of
the chunks its prompt was built from; a template with tools adds ``tool_calls`` (the calls in order, each
``{name, arguments}``) and ``trajectory`` (every step of its loop). :func:`read_export` reads either file back with
the types restored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.store import ResultRecord

RESULT_COLUMNS = [
    "run_id",
    "result_id",
    "column",
    "prompt",
    "version",
    "model",
    "row_id",
    "repeat",
    "output",
    "parsed",
    "passed",
    "score",
    "reason",
    "scores",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "cached",
    "attempts",
    "error",
    "retrieved_ids",
    "retrieved",
    "worker",
    "created_at",
    "tool_calls",
    "trajectory",
]
JSON_COLUMNS = {"parsed", "scores", "retrieved", "retrieved_ids", "tool_calls", "trajectory"}
BOOL_COLUMNS = {"passed", "cached"}
INT_COLUMNS = {"result_id", "version", "repeat", "prompt_tokens", "completion_tokens", "attempts"}
FLOAT_COLUMNS = {"score", "latency_ms", "cost_usd"}
SUFFIXES = (".csv", ".jsonl", ".html", ".htm")


def export_row(record: ResultRecord) -> dict[str, Any]:
    """A cell as one typed row: the dataset's columns, then the result's."""
    result = {
        "run_id": record.run_id,
        "result_id": record.id,
        "column": str(record.column),
        "prompt": record.prompt,
        "version": record.version,
        "model": record.model,
        "row_id": record.row_id,
        "repeat": record.repeat,
        "output": record.output,
        "parsed": record.parsed,
        "passed": record.passed,
        "score": record.score,
        "reason": record.reason,
        "scores": list(record.scores),
        "latency_ms": record.latency_ms,
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "cost_usd": record.details.get("cost_usd"),
        "cached": record.cached,
        "attempts": record.attempts,
        "error": record.error,
        "retrieved_ids": [chunk.get("id") for chunk in record.retrieved],
        "retrieved": list(record.retrieved),
        "worker": record.worker,
        "created_at": record.created_at,
    }
    if record.trajectory is not None:  # a template with tools: the calls in order, and every step
        result["tool_calls"] = record.tool_calls
        result["trajectory"] = record.trajectory
    inputs = {(f"input.{k}" if k in result else k): v for k, v in record.inputs.items()}
    return {**inputs, **result}


def export_results(records: Sequence[ResultRecord], path: str | Path) -> Path:
    """Write the records to ``path`` by its suffix (.csv, .jsonl, .html); the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise WorkbenchError(f"Cannot export to {path}: use a .csv, .jsonl or .html file name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".html", ".htm"):
        from workbench.reports import html_report

        path.write_text(html_report(records), encoding="utf-8")
        return path
    rows = [export_row(r) for r in records]
    if suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        return path
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _csv_cell(key, value) for key, value in row.items()})
    return path


def _csv_cell(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and key in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False) if _reads_as_json(value) else value
    if key in JSON_COLUMNS or isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _reads_as_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def read_export(path: str | Path) -> list[dict[str, Any]]:
    """The rows of an export (.jsonl or .csv), with the result columns' types restored."""
    path = Path(path)
    if path.suffix.lower() == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    with path.open(encoding="utf-8", newline="") as fh:
        return [{key: _typed(key, value) for key, value in row.items()} for row in csv.DictReader(fh)]


def _typed(key: str, text: str) -> Any:
    if key not in RESULT_COLUMNS:
        return text
    if text == "":
        return None if key not in ("reason", "output") else text
    if key in BOOL_COLUMNS:
        return text == "true"
    if key in INT_COLUMNS:
        return int(text)
    if key in FLOAT_COLUMNS:
        return float(text)
    if key in JSON_COLUMNS:
        return json.loads(text) if _reads_as_json(text) else text  # plain text: a parsed label as written
    return text
