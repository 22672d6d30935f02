"""A prompt's pass rate over time, counted honestly: per run and per version, each with its 95 % interval.

Why "honestly": a store holds the same rows many times — sampled repeats, cached re-runs, runs on other datasets,
runs with other sampling settings. Pooling them as if each were one experiment gives figures that mean nothing and
intervals far narrower than the data allows. So:

- a *line* is one experiment: (prompt version, model, dataset content — the rows the run used, by their hash, not
  the file's name —, generation parameters). Two files both called ``test.csv``, a ``--limit 12`` run beside a
  full one, a greedy run beside a T=0.8 one: different lines, never one figure;
- a point is one (run, line), computed on that run's *distinct rows*: a row's repeats are one verdict (their
  majority, ties fail — as :func:`workbench.compare.stability` aggregates);
- a version's figure (per line) counts each row once: its verdict from the samples that were really generated (a
  cached re-run repeats an earlier answer, it is not counted again), by majority;
- consecutive versions are compared within the same (model, dataset content, parameters), paired on their rows,
  with the exact McNemar test (:func:`workbench.stats.paired_verdict`, the one verdict every comparison uses);
- by default only the prompt's own dataset (its ``dataset:``) is shown; ``dataset=`` picks another by path or name.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.stats import paired_verdict, verdict_of, wilson_interval
from workbench.store import Store

RUN_COLUMNS = [
    "run_id",
    "started_at",
    "version",
    "model",
    "dataset",
    "params",
    "rows",
    "passed",
    "pass_rate",
    "ci_low",
    "ci_high",
]
VERSION_COLUMNS = ["version", "model", "dataset", "params", "runs", "rows", "passed", "pass_rate", "ci_low", "ci_high"]
DEFAULT_PARAMS = "defaults"


@dataclass
class Trend:
    """Per-run points, per-version figures and the paired comparison of consecutive versions."""

    prompt: str
    dataset: str | None
    runs: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.runs

    def runs_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.runs, columns=RUN_COLUMNS)

    def versions_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.versions, columns=VERSION_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "dataset": self.dataset,
            "runs": self.runs,
            "versions": self.versions,
            "comparisons": self.comparisons,
        }


def default_dataset(prompt: str) -> str | None:
    """The dataset the prompt's template names (``dataset:``), when the prompt is in the library."""
    try:
        from workbench.prompts import load_prompt

        return load_prompt(prompt).dataset
    except Exception:
        return None


@dataclass(frozen=True)
class Line:
    """One experiment of a trend: a prompt version on a model, a dataset's rows and generation parameters."""

    version: int
    model: str
    dataset: str  # the file's name, as shown
    dataset_hash: str  # the content of the rows the run used
    params: str  # the run's generation parameters, as shown ("defaults" when the template's own)

    @property
    def setting(self) -> tuple[str, str, str]:
        """What two versions must share to be compared."""
        return (self.model, self.dataset_hash, self.params)

    def fields(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "model": self.model,
            "dataset": self.dataset,
            "dataset_hash": self.dataset_hash[:12],
            "params": self.params,
        }


def trend(store: Store, prompt: str, model: str | None = None, dataset: str | None = None) -> Trend:
    """The prompt's trend in ``store`` (``dataset``: a path or a file name; default: the prompt's own)."""
    wanted = dataset if dataset is not None else default_dataset(prompt)
    rows = [r for r in store.prompt_results(prompt, model=model) if _matches(r["dataset"], wanted)]
    report = Trend(prompt, wanted)
    samples: dict[tuple[str, Line, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        samples[(row["run_id"], _line(row), row["row_id"])].append(row)
    report.runs = _run_points(samples)
    per_version = _version_rows(samples)
    report.versions = [_version_point(line, verdicts, runs) for line, (verdicts, runs) in per_version.items()]
    report.comparisons = _compare_consecutive(per_version)
    return report


def _line(row: dict[str, Any]) -> Line:
    config = row.get("config")
    config = json.loads(config) if isinstance(config, str) else (config or {})
    content = row.get("dataset_hash") or ""
    return Line(row["version"], row["model"], _name(row["dataset"], content), content, describe_params(config))


def describe_params(config: dict[str, Any]) -> str:
    """A run's generation parameters as a trend shows them: ``temperature=0.8 top_p=0.9``, or "defaults"."""
    params = config.get("params") or {}
    if not isinstance(params, dict) or not params:
        return DEFAULT_PARAMS
    return " ".join(f"{key}={json.dumps(params[key], ensure_ascii=False)}" for key in sorted(params))


def _matches(run_dataset: str | None, wanted: str | None) -> bool:
    if wanted is None:
        return True
    if run_dataset is None:
        return False
    # the same path, or the same file name (a path's tail is not enough: "t.csv" is not "data/st.csv")
    return run_dataset == wanted or Path(run_dataset).name == Path(wanted).name


IN_MEMORY = ("records", "dataframe", "data")


def _name(dataset: str | None, content_hash: str | None = None) -> str:
    """A run's dataset as a trend shows it: the file's name (the content hash beside it tells files apart), rows
    given in memory by their content, since every such run is called "records"."""
    if not dataset:
        return "(in memory)"
    if dataset in IN_MEMORY and content_hash:
        return f"{dataset} {content_hash[:8]}"
    return Path(dataset).name


def _run_points(samples: dict[tuple[str, Line, str], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    points: dict[tuple[str, Line], dict[str, Any]] = {}
    for (run_id, line, _), row_samples in samples.items():
        point = points.setdefault(
            (run_id, line),
            {"run_id": run_id, "started_at": row_samples[0]["started_at"], **line.fields(), "rows": 0, "passed": 0},
        )
        point["rows"] += 1
        point["passed"] += int(verdict_of([bool(s["passed"]) for s in row_samples]))
    ordered = sorted(points.values(), key=lambda p: (p["started_at"], p["version"], p["model"], p["params"]))
    return [_with_interval(p) for p in ordered]


def _version_rows(
    samples: dict[tuple[str, Line, str], list[dict[str, Any]]],
) -> dict[Line, tuple[dict[str, bool], set[str]]]:
    """Per line: each row's verdict from its generated samples, and the runs it came from."""
    generated: dict[Line, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    reused: dict[Line, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    runs: dict[Line, set[str]] = defaultdict(set)
    for (run_id, line, row_id), row_samples in samples.items():
        runs[line].add(run_id)
        for sample in row_samples:
            target = reused if sample["cached"] else generated
            target[line][row_id].append(bool(sample["passed"]))
    result = {}
    for line in sorted(runs, key=lambda k: (k.model, k.dataset, k.dataset_hash, k.params, k.version)):
        row_ids = set(generated[line]) | set(reused[line])
        verdicts = {r: verdict_of(generated[line].get(r) or reused[line][r]) for r in row_ids}
        result[line] = (verdicts, runs[line])
    return result


def _version_point(line: Line, verdicts: dict[str, bool], runs: set[str]) -> dict[str, Any]:
    point = {**line.fields(), "runs": len(runs), "rows": len(verdicts), "passed": sum(verdicts.values())}
    return _with_interval(point)


def _compare_consecutive(per_version: dict[Line, tuple[dict[str, bool], set[str]]]) -> list[dict[str, Any]]:
    """Each version against the one before it on the same model, dataset content and parameters (paired rows)."""
    comparisons = []
    lines = list(per_version)
    for before, after in zip(lines, lines[1:], strict=False):
        if before.setting != after.setting:
            continue
        a, b = per_version[before][0], per_version[after][0]
        shared = sorted(set(a) & set(b))
        a_only = sum(1 for r in shared if a[r] and not b[r])
        b_only = sum(1 for r in shared if b[r] and not a[r])
        p_value, verdict = paired_verdict(a_only, b_only)
        note = "" if set(a) == set(b) else f"rows differ: v{before.version} has {len(a)}, v{after.version} has {len(b)}"
        comparisons.append(
            {
                "a": f"v{before.version}",
                "b": f"v{after.version}",
                "model": after.model,
                "dataset": after.dataset,
                "dataset_hash": after.dataset_hash[:12],
                "params": after.params,
                "shared_rows": len(shared),
                "a_passed": sum(a[r] for r in shared),
                "b_passed": sum(b[r] for r in shared),
                "a_only": a_only,
                "b_only": b_only,
                "p_value": round(p_value, 6),
                "verdict": verdict,
                "note": note,
            }
        )
    return comparisons


def line_label(point: dict[str, Any]) -> str:
    """How a chart names a point's line: model · dataset (content) · parameters."""
    return f"{point['model']} · {point['dataset']}#{point['dataset_hash'][:6]} · {point['params']}"


def _with_interval(point: dict[str, Any]) -> dict[str, Any]:
    n, passed = point["rows"], point["passed"]
    ci = wilson_interval(passed, n)
    point["pass_rate"] = round(passed / n, 4) if n else None
    point["ci_low"], point["ci_high"] = ci if ci else (None, None)
    return point


def plot_trend(report: Trend, path: str | Path | None = None, *, title: str = "") -> Any:
    """Pass rate per run with 95 % error bars, one series per line (model · dataset · parameters), version labels on
    the points.
    Saved as PNG or SVG when ``path`` is given; returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    from workbench.plotting import figure

    fig, ax = figure(8, 4)
    by_line: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for point in report.runs:
        by_line[line_label(point)].append(point)
    for label, points in by_line.items():
        x = list(range(len(points)))
        rates = [p["pass_rate"] for p in points]
        low = [p["pass_rate"] - p["ci_low"] for p in points]
        high = [p["ci_high"] - p["pass_rate"] for p in points]
        ax.errorbar(x, rates, yerr=[low, high], marker="o", capsize=4, label=label)
        for xi, point in zip(x, points, strict=True):
            label = f"v{point['version']} · {point['rows']} rows"
            ax.annotate(
                label, (xi, point["pass_rate"]), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=7
            )
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("pass rate on distinct rows (95% CI)")
    ax.set_xlabel("run (oldest → newest)")
    ax.set_title(title or f"{report.prompt}" + (f" on {report.dataset}" if report.dataset else ""))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
        plt.close(fig)
    return fig
