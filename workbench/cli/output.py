"""Console output for the CLI: rich tables that fit the terminal they are printed in.

Why: a summary needs ~160 columns at full width. At 80, rich squeezes every column and a pass rate wraps as
``0.`` / ``45`` / ``83``. So numbers never wrap (they keep their width), headers are short words, only the text
columns (the column name, inputs, outputs) fold or are cut, and when even that does not fit, the least important
columns are left out — with a line that says which and that ``--wide`` shows everything.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

SUMMARY_COLUMNS = [  # (key, heading), most important first: what is dropped when the terminal is narrow
    ("column", "column"),
    ("pass_rate", "pass rate"),
    ("ci95", "95% CI"),
    ("judged", "n"),
    ("errors", "err"),
    ("min_detectable_diff", "min Δ"),
    ("latency_p50_ms", "p50 ms"),
    ("cached", "cached"),
    ("calls", "calls"),
    ("cost_usd", "cost $"),
    ("latency_p95_ms", "p95 ms"),
    ("mean_score", "score"),
    ("prompt_tokens", "tok in"),
    ("completion_tokens", "tok out"),
]
TEXT_COLUMNS = {"column", "input", "output", "parsed", "expected", "tags", "note", "prompts", "models", "dataset"}
MARKS = {True: "✓", False: "✗", None: ""}
WIDE = 400
TEXT_MIN = 28  # a text column is kept this wide before others go
NAME_MIN = 40  # the column name (sentiment_zeroshot_en@v1/local) is kept whole up to this width: it never folds


def console(*, stderr: bool = False, wide: bool = False) -> Any:
    """A rich console as wide as the terminal (``COLUMNS`` when piped, 120 by default; ``wide``: no limit).

    Tables are laid out to that width; a sentence is printed on one line (``soft_wrap``) and left to the terminal
    to wrap, so a log or a ``grep`` sees it whole."""
    from rich.console import Console

    width = WIDE if wide else None
    out = Console(soft_wrap=True, highlight=False, stderr=stderr, width=width)
    if not out.is_terminal and width is None and not os.environ.get("COLUMNS"):
        out = Console(soft_wrap=True, highlight=False, stderr=stderr, width=120)
    return out


def cell_text(value: Any, width: int | None = 48) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return MARKS[value]
    if isinstance(value, tuple | list) and len(value) == 2 and all(isinstance(v, float) for v in value):
        return f"{value[0]:.0%}–{value[1]:.0%}"  # a confidence interval
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list | tuple):
        value = ", ".join(map(str, value)) if not isinstance(value, dict) else json.dumps(value, ensure_ascii=False)
    text = str(value).replace("\n", "⏎ ")
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def print_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]] | None = None,
    *,
    title: str | None = None,
    wide: bool = False,
    max_rows: int = 60,
    formats: Mapping[str, Any] | None = None,
) -> None:
    """Rows as a table that fits: numbers keep their width, text folds, low-priority columns drop out last-first."""
    from rich.table import Table

    out = console(wide=wide)
    if not rows:
        out.print(f"{title}: nothing to show" if title else "nothing to show")
        return
    columns = list(columns or [(k, k) for k in rows[0]])
    text = {key: [_formatted(row.get(key), key, formats, wide) for row in rows[:max_rows]] for key, _ in columns}
    shown, dropped = fit(columns, text, out.width)
    table = Table(show_lines=False)
    for key, heading in shown:
        folding = foldable(key, heading, text[key])
        table.add_column(
            heading,
            overflow="fold" if folding else "ellipsis",
            no_wrap=not folding,
            min_width=reserved(key, heading, text[key]) if folding else None,
        )
    for i in range(min(len(rows), max_rows)):
        table.add_row(*[text[key][i] for key, _ in shown])
    if title:
        out.print(title)
    out.print(table, soft_wrap=False)  # the console soft-wraps sentences; a table soft-wrapped lays out too wide
    if dropped:
        out.print(f"(not shown at this width: {', '.join(h for _, h in dropped)} — use --wide)", highlight=False)
    if len(rows) > max_rows:
        out.print(f"… {len(rows) - max_rows} more rows (use --out to export them all)")


def _formatted(value: Any, key: str, formats: Mapping[str, Any] | None, wide: bool) -> str:
    if formats and key in formats:
        return formats[key](value)
    return cell_text(value, None if wide else (48 if key in TEXT_COLUMNS else 60))


def fit(
    columns: Sequence[tuple[str, str]], text: Mapping[str, list[str]], width: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The columns that fit ``width`` terminal cells (in priority order), and those left out. A text column may fold
    down to :func:`reserved` cells; numbers keep their natural width. A table is its left edge (1 cell) plus, per
    column, its width, the padding either side and its right edge (3 cells)."""
    shown, used = [], 1
    for index, (key, heading) in enumerate(columns):
        need = reserved(key, heading, text[key]) + 3
        if index > 0 and used + need > width:
            return shown, list(columns[index:])
        shown.append((key, heading))
        used += need
    return shown, []


def reserved(key: str, heading: str, values: list[str]) -> int:
    """The width, in terminal cells (a Chinese character takes two), a column keeps however narrow the terminal:
    its natural width for numbers, up to :data:`NAME_MIN` for the column name, up to :data:`TEXT_MIN` for other
    text."""
    from rich.cells import cell_len

    natural = max([cell_len(heading), *(cell_len(v) for v in values)])
    if not foldable(key, heading, values):
        return natural
    return min(natural, NAME_MIN if key == "column" else TEXT_MIN)


def foldable(key: str, heading: str, values: list[str]) -> bool:
    """Text that may fold over several lines (names, inputs, outputs); numbers and short codes never do."""
    return key in TEXT_COLUMNS or len(heading) > 24 or any(len(v) > 24 for v in values)


def print_frame(df: Any, title: str | None = None, *, wide: bool = False, max_rows: int = 60) -> None:
    """A DataFrame as a fitted table (its columns in their own order)."""
    print_table(
        df.to_dict(orient="records"), [(str(c), str(c)) for c in df.columns], title=title, wide=wide, max_rows=max_rows
    )


def print_summary(rows: Any, title: str, *, wide: bool = False) -> None:
    """The summary with short headings, most important columns first."""
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict(orient="records")
    if not rows:
        console().print("no results")
        return
    formats = {"pass_rate": _percent, "min_detectable_diff": _percent, "cost_usd": _money}
    print_table(rows, SUMMARY_COLUMNS, title=title, wide=wide, formats=formats)


def _percent(value: Any) -> str:
    return "" if value is None else f"{value:.1%}"


def _money(value: Any) -> str:
    return "" if value is None else f"{value:.4f}"


def print_results(records: Iterable[Any], *, wide: bool = False) -> None:
    rows = []
    for r in records:
        first_input = next((v for k, v in r.inputs.items() if shown_as_input(k)), "")
        rows.append(
            {
                "row": r.row_id,
                "column": str(r.column),
                "input": cell_text(first_input, None if wide else 36),
                "output": cell_text(r.output if r.error is None else f"ERROR: {r.error}", None if wide else 40),
                "passed": MARKS[r.passed],
                "parsed": r.parsed,
                "expected": r.inputs.get("expected"),
                "ms": None if r.latency_ms is None else round(r.latency_ms),
            }
        )
    print_table(rows, title="Results", wide=wide)


def shown_as_input(column: str) -> bool:
    """A dataset column a table shows as the row's input: not the expected answer, not the id, and not a reserved
    bookkeeping column (``__bad_case_ids`` of an exported regression set, promptfoo's ``__`` convention)."""
    return column not in ("expected", "id") and not column.startswith("__")


def summary_line(result: Any) -> str:
    """How the run went in one line, with the same counts as the summary table (:func:`run_counts`): '24 cells — 20
    model calls (12 by this process; 22 requests, 2 retries), 4 from cache, 8 resumed, 0 errors'."""
    rows = result.summary_rows()
    counts = {key: sum(int(row[key]) for row in rows) for key in ("cells", "calls", "requests", "cached", "errors")}
    counts.update(calls_now=int(result.stats.get("called", 0)), resumed=int(result.stats.get("resumed", 0)))
    calls, requests = counts["calls"], counts["requests"]
    now = f"{counts['calls_now']} by this process; " if counts["calls_now"] != calls else ""
    loads = result.stats.get("model_load_s") or {}
    loaded = "; ".join(f"{spec} made ready in {seconds:.1f} s" for spec, seconds in loads.items())
    return (
        f"run {result.run_id}: {counts['cells']} cells — {calls} model calls ({now}{requests} requests, "
        f"{requests - calls} retries), {counts['cached']} from cache, {counts['resumed']} resumed, "
        f"{counts['errors']} errors. "
        + (f"{loaded} (not counted in latency). " if loaded else "")
        + f"Store: {result.store.url}"
    )


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


class _StderrNotes(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        import typer

        typer.echo(record.getMessage(), err=True)


@contextlib.contextmanager
def core_notes(*names: str) -> Iterator[None]:
    """What the core says at INFO on these loggers (``workbench.store``: "Created a new store at …") printed on
    stderr for the duration of a command — stdout stays the command's own output (``--format json`` included)."""
    handler = _StderrNotes(logging.INFO)
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
