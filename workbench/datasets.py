"""Datasets: CSV / TSV / JSONL / XLSX / Parquet files or DataFrames, one row per case, columns named after
variables (reading files: :mod:`workbench.dataset_files`).

Reserved columns are not template variables: ``expected`` (the reference answer the scorers
use), ``id`` (a stable row id; otherwise the row number), and anything starting with ``__``
(promptfoo's convention for metadata). Every problem is reported before a model is called,
naming the file, line/row and column, and saying how to fix it.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import workbench.dataset_files as files
from workbench.dataset_files import LINE_KEY
from workbench.errors import DatasetError

EXPECTED_COLUMN = "expected"
ID_COLUMN = "id"


@dataclass(frozen=True)
class Dataset:
    """Rows as plain dicts plus where they came from. Immutable; ``content_hash`` identifies it."""

    rows: tuple[dict[str, Any], ...]
    name: str = "data"
    source: str | None = None
    columns: tuple[str, ...] = field(default=())
    encoding: str | None = None  # how a text file was decoded (e.g. "gb18030" for a CSV from Excel)
    sheet: str | None = None  # the workbook sheet an .xlsx dataset came from
    id_column: str = ID_COLUMN  # the column that names each row (its row id; the row number when empty)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    @property
    def content_hash(self) -> str:
        payload = json.dumps(self.rows, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def row_id(self, index: int) -> str:
        row = self.rows[index]
        value = row.get(self.id_column)
        return str(value) if value not in (None, "") else str(index)

    def with_id_column(self, column: str) -> Dataset:
        """The same rows, named by ``column``. A column that is missing is an error naming the columns present."""
        if column != ID_COLUMN and column not in self.columns:
            where = self.source or self.name
            raise DatasetError(
                f"{where}: no column {column!r} to take row ids from (--id-column). Columns present: "
                f"{', '.join(self.columns) or '(none)'}."
            )
        return replace(self, id_column=column)

    def check_unique_ids(self) -> None:
        """Every row id appears once: results are stored per row id, so a duplicate would lose a row."""
        first: dict[str, int] = {}
        clashes: list[str] = []
        for i in range(len(self.rows)):
            row_id = self.row_id(i)
            if row_id in first:
                clashes.append(f"id {row_id!r} on {self.describe_row(first[row_id])} and {self.describe_row(i)}")
            else:
                first[row_id] = i
        if clashes:
            shown = "; ".join(clashes[:10]) + (f"; and {len(clashes) - 10} more" if len(clashes) > 10 else "")
            where = self.source or self.name
            raise DatasetError(
                f"{where}: {len(clashes)} duplicate row id(s) in column {self.id_column!r}: {shown}. Each row needs "
                "its own id (results are stored per row): fix the ids, or name rows by another column with "
                "--id-column COLUMN (id_column=...)."
            )

    def head(self, n: int) -> Dataset:
        return replace(self, rows=self.rows[:n])

    def sample(self, n: int, seed: int = 0) -> Dataset:
        import random

        if n >= len(self.rows):
            return self
        picked = sorted(random.Random(seed).sample(range(len(self.rows)), n))
        return replace(self, rows=tuple(self.rows[i] for i in picked))

    def to_dataframe(self) -> Any:
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=list(self.columns) or None)

    def describe_row(self, index: int) -> str:
        """How to point a person at a row: the file line (CSV/TSV/JSONL), the sheet row (.xlsx), else its number."""
        line = self.rows[index].get(LINE_KEY)
        if self.source and line is not None:
            if self.sheet is not None:
                return f"{self.source} sheet {self.sheet!r} row {line}"
            if self.source.endswith(".parquet"):
                return f"{self.source} row {line}"
            return f"{self.source} line {line}"
        return f"row {index}"

    def check_columns(self, required: Iterable[str], *, template_name: str = "the template") -> None:
        """Fail (naming columns and rows) if a required variable is missing or empty."""
        required = list(required)
        columns = set(self.columns) or {k for row in self.rows for k in row}
        missing_columns = [v for v in required if v not in columns]
        if missing_columns:
            where = self.source or self.name
            raise DatasetError(
                f"{where}: no column {', '.join(repr(c) for c in missing_columns)}, which {template_name} "
                f"needs. Columns present: {', '.join(sorted(columns)) or '(none)'}. Rename a column or "
                "add it (dataset columns are matched to template variables by name)."
            )
        empty: list[str] = []
        for i, row in enumerate(self.rows):
            for var in required:
                value = row.get(var)
                if value is None or (isinstance(value, float) and value != value) or value == "":
                    empty.append(f"{self.describe_row(i)} (column {var!r})")
        if empty:
            shown = "; ".join(empty[:10]) + (f"; and {len(empty) - 10} more" if len(empty) > 10 else "")
            raise DatasetError(
                f"{len(empty)} empty value(s) for variables {template_name} needs: {shown}. "
                "Fill them in or drop those rows."
            )


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN from pandas
        return None
    return value


def from_records(records: Sequence[Mapping[str, Any]], *, name: str = "data", source: str | None = None) -> Dataset:
    rows = tuple({str(k): _clean(v) for k, v in r.items()} for r in records)
    columns: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key != LINE_KEY:
                columns.setdefault(key, None)
    return Dataset(rows, name=name, source=source, columns=tuple(columns))


def _read(path: Path, sheet: str | None) -> Dataset:
    suffix = path.suffix.lower()
    encoding = sheet_name = None
    if suffix in files.TEXT_SUFFIXES:
        text, encoding = files.decode(path, path.read_bytes())
        if suffix == ".jsonl":
            records, header = files.read_jsonl(path, text), None
        else:
            records, header = files.read_delimited(path, text, "\t" if suffix == ".tsv" else ",")
    elif suffix == ".xlsx":
        records, header, sheet_name = files.read_xlsx(path, sheet)
    elif suffix == ".parquet":
        records, header = files.read_parquet(path)
    else:
        raise DatasetError(f"{path}: unsupported dataset format {suffix!r}. Use {', '.join(files.SUFFIXES)}.")
    dataset = from_records(records, name=path.stem, source=str(path))
    return replace(dataset, columns=tuple(header) if header else dataset.columns, encoding=encoding, sheet=sheet_name)


def load_dataset(source: str | Path | Any, *, name: str | None = None, sheet: str | None = None) -> Dataset:
    """Load a dataset from a file (.csv .tsv .jsonl in any common encoding, .xlsx, .parquet), a pandas
    DataFrame, a list of dicts, or a Dataset."""
    if isinstance(source, Dataset):
        return source
    if hasattr(source, "to_dict") and hasattr(source, "columns"):  # a DataFrame
        records = source.to_dict(orient="records")
        dataset = from_records(records, name=name or "dataframe")
        return Dataset(dataset.rows, name=dataset.name, columns=tuple(map(str, source.columns)))
    if isinstance(source, list | tuple):
        return from_records(source, name=name or "records")
    path = Path(source)
    if not path.exists():
        from workbench.paths import project_root

        candidate = project_root() / path if not path.is_absolute() else path
        if not candidate.exists():
            candidate = project_root() / "datasets" / path
        if candidate.exists():
            path = candidate
        else:
            raise DatasetError(f"No dataset file at {path}. Give a path to a {', '.join(files.SUFFIXES)} file.")
    dataset = _read(path, sheet)
    if not dataset.rows:
        raise DatasetError(f"{path}: the dataset has no rows.")
    return replace(dataset, name=name or dataset.name)


def public_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row without the loader's bookkeeping (``__line``) — what users see and exports hold."""
    return {k: v for k, v in row.items() if k != LINE_KEY}


def write_dataset(records: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Write rows as CSV or JSONL (by suffix), UTF-8, so Chinese text stays readable."""
    path = Path(path)
    rows = [public_fields(r) for r in records]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    elif path.suffix == ".csv":
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(columns))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _csv_value(v) for k, v in row.items()})
    else:
        raise DatasetError(f"{path}: write .csv or .jsonl.")
    return path


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value
