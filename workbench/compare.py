"""Comparisons you can trust: the matrix, paired significance, stability over repeats, and trends.

- Every pass rate comes with its Wilson score 95 % interval (:mod:`workbench.stats`): with 24 rows an interval is
  about ±10 points wide, and the number says so.
- Two columns are compared on the rows they share, as pairs: only the rows that pass on one side and fail on the
  other (the discordant pairs) carry information about which is better. The exact two-sided McNemar test is a
  binomial test of those pairs against 50/50. The verdict is B relative to A at
  α = 0.05: "better", "worse" or "no significant difference".
- With repeats, a row's verdict in a comparison is the majority of its samples (ties count as fail); the
  stability view reports pass@k, pass^k (all k pass), flaky rows and agreement of the parsed answers.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.errors import ConfigError, WorkbenchError
from workbench.identity import Column
from workbench.stats import (
    ALPHA,
    VERDICTS,
    mcnemar_exact,
    min_detectable_difference,
    paired_verdict,
    wilson_interval,
)
from workbench.store import ResultRecord

__all__ = [
    "ALPHA",
    "VERDICTS",
    "Comparison",
    "compare_runs",
    "matrix",
    "mcnemar_exact",
    "min_detectable_difference",
    "paired",
    "stability",
    "stability_report",
    "wilson_interval",
]


def _order(records: Iterable[ResultRecord]) -> list[ResultRecord]:
    return sorted(records, key=lambda r: (r.row_index, r.repeat))


def columns_of(records: Sequence[ResultRecord]) -> list[Column]:
    return list(dict.fromkeys(r.column for r in records))


def _row_verdict(samples: Sequence[ResultRecord]) -> bool | None:
    """A row's pass for comparisons: its sample's, or the majority of its samples' (ties fail)."""
    judged = [s.passed for s in samples if s.passed is not None and s.error is None]
    if not judged:
        return None
    return sum(judged) * 2 > len(judged)


# ---------------------------------------------------------------------------------------------------------------
# the matrix
# ---------------------------------------------------------------------------------------------------------------
def matrix(records: Sequence[ResultRecord]) -> Any:
    """One line per dataset row: ``row_id``, its inputs, then per column ``COLUMN|output``, ``|parsed``,
    ``|passed`` (with repeats: ``|passes`` "k/K", ``|flaky`` and ``|agreement`` of the parsed answers), and
    ``flipped`` (the columns disagree)."""
    import pandas as pd

    columns = columns_of(records)
    by_row: dict[str, dict[Column, list[ResultRecord]]] = defaultdict(lambda: defaultdict(list))
    first: dict[str, ResultRecord] = {}
    for r in _order(records):
        by_row[r.row_id][r.column].append(r)
        first.setdefault(r.row_id, r)
    k = max((len(samples) for cols in by_row.values() for samples in cols.values()), default=1)
    lines = []
    for row_id, cols in by_row.items():
        line: dict[str, Any] = {"row_id": row_id, **first[row_id].inputs}
        verdicts = []
        for column in columns:
            samples = cols.get(column, [])
            head = samples[0] if samples else None
            name = str(column)
            line[f"{name}|output"] = _shown_output(head)
            line[f"{name}|parsed"] = _majority([s.parsed for s in samples])[0] if samples else None
            verdict = _row_verdict(samples)
            line[f"{name}|passed"] = verdict
            if k > 1:
                passes = sum(bool(s.passed) for s in samples)
                line[f"{name}|passes"] = f"{passes}/{len(samples)}"
                line[f"{name}|flaky"] = 0 < passes < len(samples)
                agreeing = _majority([s.parsed for s in samples])[1]
                line[f"{name}|agreement"] = round(agreeing / len(samples), 4) if samples else None
            if verdict is not None:
                verdicts.append(verdict)
        line["flipped"] = len(set(verdicts)) > 1
        lines.append(line)
    df = pd.DataFrame(lines)
    if not df.empty:
        df = df.sort_values("flipped", ascending=False, kind="stable").reset_index(drop=True)
    return df


def _shown_output(record: ResultRecord | None) -> str | None:
    if record is None:
        return None
    return record.output if record.error is None else f"ERROR: {record.error}"


def _majority(values: Sequence[Any]) -> tuple[Any, int]:
    """The most common value (ties: the first seen) and its count. Values are compared as JSON-ish text."""
    if not values:
        return None, 0
    counts = Counter(repr(v) for v in values)
    best = max(dict.fromkeys(repr(v) for v in values), key=lambda text: counts[text])
    return next(v for v in values if repr(v) == best), counts[best]


# ---------------------------------------------------------------------------------------------------------------
# paired comparison
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Side:
    column: str
    n: int
    passed: int
    pass_rate: float | None
    ci95: tuple[float, float] | None


@dataclass(frozen=True)
class Comparison:
    """The paired comparison of column B against column A (``to_dict()`` is the CLI's JSON)."""

    a: Side
    b: Side
    pairs: int
    a_only: int
    b_only: int
    both_pass: int
    both_fail: int
    excluded: int
    p_value: float
    verdict: str
    flipped: list[dict[str, Any]] = field(default_factory=list)
    alpha: float = ALPHA
    min_detectable_difference: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for side in ("a", "b"):
            ci = data[side]["ci95"]
            data[side]["ci95"] = list(ci) if ci is not None else None
        return data

    def flipped_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "row_id": f["row_id"],
                    "a_output": f["a"]["output"],
                    "a_passed": f["a"]["passed"],
                    "b_output": f["b"]["output"],
                    "b_passed": f["b"]["passed"],
                }
                for f in self.flipped
            ]
        )

    def __str__(self) -> str:
        def side(s: Side) -> str:
            rate = "n/a" if s.pass_rate is None else f"{s.pass_rate:.1%}"
            ci = "" if s.ci95 is None else f" [95% CI {s.ci95[0]:.1%}–{s.ci95[1]:.1%}]"
            return f"{s.column}: {s.passed}/{s.n} = {rate}{ci}"

        conclusion = "no significant difference" if self.verdict == VERDICTS[2] else f"B is {self.verdict} than A"
        return (
            f"A {side(self.a)}\nB {side(self.b)}\n{self.pairs} paired rows: {self.b_only} pass only in B, "
            f"{self.a_only} only in A; exact McNemar p = {self.p_value:.4g} → {conclusion} "
            f"(α = {self.alpha})"
        )

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self))}</pre>" + (self.flipped_frame().to_html() if self.flipped else "")


def pick_column(columns: Sequence[Column], wanted: str | Column | None, role: str) -> Column:
    """The column a user named (full ``name@vN/spec``, or ``name@vN`` / a spec when that is unique)."""
    if wanted is None:
        if len(columns) == 1:
            return columns[0]
        raise ConfigError(
            f"Say which column is {role.upper()}: the run has {len(columns)} — "
            f"{', '.join(map(str, columns))}. Pass --{role} COLUMN ({role}=... in Python)."
        )
    text = str(wanted).strip()
    for matches in (
        [c for c in columns if str(c) == text],  # the whole column
        [c for c in columns if text in (str(c.ref), c.model, c.prompt, f"v{c.version}")],  # a whole part
        [c for c in columns if text in str(c)],  # any unique part of it, e.g. "v2" or "local"
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ConfigError(
                f"--{role} {text!r} matches several columns: {', '.join(map(str, matches))}. Give more of it "
                f"(PROMPT@vN/MODEL)."
            )
    raise ConfigError(f"--{role} {text!r} matches none of the columns: {', '.join(map(str, columns))}.")


def compare_runs(
    records_a: Sequence[ResultRecord],
    records_b: Sequence[ResultRecord] | None = None,
    *,
    a: str | Column | None = None,
    b: str | Column | None = None,
) -> Comparison:
    """Compare column B with column A on their shared rows — within one run, or across two runs."""
    if records_b is None:
        columns = columns_of(records_a)
        if a is None and b is None and len(columns) == 2:
            col_a, col_b = columns
        else:
            col_a, col_b = pick_column(columns, a, "a"), pick_column(columns, b, "b")
        if col_a == col_b:
            raise ConfigError(f"A and B are the same column ({col_a}); compare two different columns.")
        records_b = records_a
    else:
        col_a, col_b = pick_column(columns_of(records_a), a, "a"), pick_column(columns_of(records_b), b, "b")
    return paired(
        [r for r in records_a if r.column == col_a], [r for r in records_b if r.column == col_b], str(col_a), str(col_b)
    )


def paired(
    side_a: Sequence[ResultRecord], side_b: Sequence[ResultRecord], name_a: str, name_b: str, alpha: float = ALPHA
) -> Comparison:
    """The paired comparison of two sets of records of one column each (keyed by row id)."""
    rows_a, rows_b = _group(side_a), _group(side_b)
    shared = [row for row in rows_a if row in rows_b]
    if not shared:
        raise WorkbenchError(f"{name_a} and {name_b} share no rows: compare runs over the same dataset.")
    counts = Counter()
    flipped = []
    for row in shared:
        va, vb = _row_verdict(rows_a[row]), _row_verdict(rows_b[row])
        if va is None or vb is None:
            counts["excluded"] += 1
            continue
        counts[
            {(True, True): "both_pass", (False, False): "both_fail", (True, False): "a_only", (False, True): "b_only"}[
                (va, vb)
            ]
        ] += 1
        if va != vb:
            flipped.append(
                {
                    "row_id": row,
                    "a": {"output": rows_a[row][0].output, "passed": va},
                    "b": {"output": rows_b[row][0].output, "passed": vb},
                }
            )
    n = sum(counts[k] for k in ("both_pass", "both_fail", "a_only", "b_only"))
    passed_a, passed_b = counts["both_pass"] + counts["a_only"], counts["both_pass"] + counts["b_only"]
    p, verdict = paired_verdict(counts["a_only"], counts["b_only"], alpha)
    return Comparison(
        a=Side(name_a, n, passed_a, _rate(passed_a, n), wilson_interval(passed_a, n)),
        b=Side(name_b, n, passed_b, _rate(passed_b, n), wilson_interval(passed_b, n)),
        pairs=n,
        a_only=counts["a_only"],
        b_only=counts["b_only"],
        both_pass=counts["both_pass"],
        both_fail=counts["both_fail"],
        excluded=counts["excluded"],
        p_value=float(f"{p:.6g}"),
        verdict=verdict,
        flipped=flipped,
        alpha=alpha,
        min_detectable_difference=min_detectable_difference(n, alpha),
    )


def _group(records: Sequence[ResultRecord]) -> dict[str, list[ResultRecord]]:
    grouped: dict[str, list[ResultRecord]] = defaultdict(list)
    for r in _order(records):
        grouped[r.row_id].append(r)
    return grouped


def _rate(passed: int, n: int) -> float | None:
    return round(passed / n, 4) if n else None


# ---------------------------------------------------------------------------------------------------------------
# stability over repeats
# ---------------------------------------------------------------------------------------------------------------
STABILITY_COLUMNS = ["column", "k", "rows", "pass_rate", "pass_at_k", "pass_all_k", "flaky", "agreement"]


def stability(records: Sequence[ResultRecord], *, aggregate: str | None = None) -> Any:
    """:func:`stability_report` as a DataFrame, one line per column — the table ``workbench runs stability``
    prints (with ``aggregate="majority"``, a ``majority`` column: the self-consistency pass rate)."""
    import pandas as pd

    lines = []
    for entry in stability_report(records, aggregate=aggregate)["columns"]:
        line = {key: entry[key] for key in STABILITY_COLUMNS}
        if "majority" in entry:
            line["majority"] = entry["majority"]["pass_rate"]
        lines.append(line)
    return pd.DataFrame(lines, columns=STABILITY_COLUMNS + (["majority"] if aggregate == "majority" else []))


def stability_report(records: Sequence[ResultRecord], *, aggregate: str | None = None) -> dict[str, Any]:
    """``{"columns": [{column, k, rows, pass_rate, pass_at_k, pass_all_k, flaky, agreement}]}``.

    ``pass_rate`` is over all samples; ``pass_at_k`` the share of rows with at least one passing sample;
    ``pass_all_k`` the share whose every sample passes; ``flaky`` the rows with 0 < passes < k; ``agreement``
    the mean over rows of the share of samples equal to the row's most common parsed value. With
    ``aggregate="majority"`` each column also gets ``majority``: every row scored by its most common parsed
    answer (self-consistency), with its interval.
    """
    if aggregate not in (None, "majority"):
        raise ConfigError(f"Unknown aggregate {aggregate!r}: use 'majority'.")
    out = []
    for column in columns_of(records):
        rows = _group([r for r in records if r.column == column])
        k = max(len(s) for s in rows.values())
        samples = [s for group in rows.values() for s in group if s.passed is not None]
        passes = {row: sum(bool(s.passed) for s in group) for row, group in rows.items()}
        sizes = {row: len(group) for row, group in rows.items()}
        agreement = [_majority([s.parsed for s in group])[1] / len(group) for group in rows.values()]
        entry: dict[str, Any] = {
            "column": str(column),
            "k": k,
            "rows": len(rows),
            "pass_rate": _rate(sum(bool(s.passed) for s in samples), len(samples)),
            "pass_at_k": _rate(sum(p > 0 for p in passes.values()), len(rows)),
            "pass_all_k": _rate(sum(passes[r] == sizes[r] for r in rows), len(rows)),
            "flaky": [row for row in rows if 0 < passes[row] < sizes[row]],
            "agreement": round(sum(agreement) / len(agreement), 4) if agreement else None,
        }
        if aggregate == "majority":
            entry["majority"] = _majority_vote(rows)
        out.append(entry)
    return {"columns": out}


def _majority_vote(rows: dict[str, list[ResultRecord]]) -> dict[str, Any]:
    """Self-consistency: each row takes its most common parsed answer; it passes if that answer passed."""
    passed = n = 0
    for group in rows.values():
        value, _ = _majority([s.parsed for s in group])
        verdicts = [s.passed for s in group if repr(s.parsed) == repr(value) and s.passed is not None]
        if verdicts:
            n += 1
            passed += bool(verdicts[0])
    return {"n": n, "passed": passed, "pass_rate": _rate(passed, n), "ci95": _listed(wilson_interval(passed, n))}


def _listed(ci: tuple[float, float] | None) -> list[float] | None:
    return list(ci) if ci is not None else None


def rate_with_interval(passed: int, n: int) -> dict[str, Any]:
    """``{n, passed, pass_rate, ci95}`` for a summary line."""
    return {"n": n, "passed": passed, "pass_rate": _rate(passed, n), "ci95": _listed(wilson_interval(passed, n))}


def format_interval(ci: Sequence[float] | None) -> str:
    if not ci:
        return ""
    return f"{ci[0]:.0%}–{ci[1]:.0%}" if not any(math.isnan(x) for x in ci) else ""
