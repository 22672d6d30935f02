"""Reading dataset files as users have them: CSV/TSV/JSONL in any common encoding, Excel workbooks, Parquet.

Text files are decoded as UTF-8 when they are (with or without a BOM); otherwise the encoding is detected by
charset-normalizer — what Excel writes on Chinese Windows (GBK/GB18030), Big5, UTF-16 — and reported in
``Dataset.encoding`` (the CLI prints it). A file no encoding explains gets an error naming the file, the byte
offset where UTF-8 fails and how to re-save it. ``.xlsx`` reads the first sheet (or ``sheet=``) with openpyxl;
``.parquet`` needs pyarrow (the [data] extra). Rows remember where they came from, so later errors can name
the file line, the sheet row or the row number.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path
from typing import Any

from workbench.errors import DatasetError

LINE_KEY = "__line"  # where the loader remembers a row's line in its file
TEXT_SUFFIXES = {".csv", ".tsv", ".jsonl"}
SUFFIXES = (".csv", ".tsv", ".jsonl", ".xlsx", ".parquet")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(path: Path, data: bytes) -> tuple[str, str]:
    """(text, encoding name) for a text dataset file, or a :class:`DatasetError` saying where and how to fix."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    snippet = data[max(0, first_bad - 8) : first_bad + 8]
    raise DatasetError(
        f"{path}: cannot tell the text encoding — byte {first_bad} ({snippet!r}) is not UTF-8 and no other common "
        "encoding (GBK/GB18030, Big5, UTF-16, Latin-1...) reads the file cleanly. Re-save it as UTF-8 (Excel: "
        "File → Save As → 'CSV UTF-8'; an editor: Save with Encoding → UTF-8), or check it is really a text file."
    )


def read_jsonl(path: Path, text: str) -> list[dict[str, Any]]:
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{path} line {lineno}: not valid JSON ({exc.msg} at column {exc.colno}). "
                "Each line must be one JSON object."
            ) from exc
        if not isinstance(record, dict):
            raise DatasetError(f"{path} line {lineno}: expected a JSON object, got {type(record).__name__}.")
        record[LINE_KEY] = lineno
        records.append(record)
    return records


def read_delimited(path: Path, text: str, delimiter: str) -> tuple[list[dict[str, Any]], list[str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    if not header:
        raise DatasetError(f"{path}: the file is empty or has no header row.")
    dupes = {c for c in header if header.count(c) > 1}
    if dupes:
        raise DatasetError(f"{path} line 1: duplicate column name(s) {', '.join(sorted(dupes))}.")
    records = []
    for record in reader:
        lineno = reader.line_num
        if None in record:
            kind = "tabs" if delimiter == "\t" else "commas"
            raise DatasetError(
                f"{path} line {lineno}: more fields than the header has columns. Quote values that contain {kind}."
            )
        record = dict(record)
        record[LINE_KEY] = lineno
        records.append(record)
    return records, list(header)


def read_xlsx(path: Path, sheet: str | None) -> tuple[list[dict[str, Any]], list[str], str]:
    """Rows of one sheet (the first unless named): the first row is the header; rows remember their number."""
    from workbench.registry import require

    openpyxl = require("openpyxl", "Reading .xlsx datasets")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise DatasetError(f"{path}: cannot open this workbook ({type(exc).__name__}: {exc}). Is it an .xlsx?") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise DatasetError(f"{path}: no sheet {sheet!r}. Sheets: {', '.join(book.sheetnames)}.")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_row = next(rows, None)
        if not header_row or all(v is None for v in header_row):
            raise DatasetError(f"{path} sheet {ws.title!r}: the first row must hold the column names.")
        header = [str(v).strip() if v is not None else f"column_{i + 1}" for i, v in enumerate(header_row)]
        records = []
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            record: dict[str, Any] = {h: _cell(v) for h, v in zip(header, values, strict=False)}
            record[LINE_KEY] = number
            records.append(record)
        return records, header, ws.title
    finally:
        book.close()


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_parquet(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    from workbench.registry import require

    require("pyarrow", "Reading .parquet datasets")
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise DatasetError(f"{path}: cannot read this Parquet file ({type(exc).__name__}: {exc}).") from exc
    records = frame.to_dict(orient="records")
    for i, record in enumerate(records):
        record[LINE_KEY] = i + 1
    return records, [str(c) for c in frame.columns]
