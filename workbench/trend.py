"""A prompt's pass rate over time, counted honestly: per run and per version, each with its 95 % interval.

Why "honestly": a store holds the same rows many times — sampled repeats, cached re-runs, runs on other datasets.
Pooling them as if each were new evidence gives intervals far narrower than the data allows. So:

- a point is one (run, prompt version, model, dataset), computed on that run's *distinct rows*: a row's repeats
  are one verdict (their majority, ties fail — as :func:`workbench.compare.stability` aggregates);
- a version's figure (per model and dataset) counts each row once: its verdict from the samples that were really
  generated (a cached re-run repeats an earlier answer, it is not counted again), by majority;
- versions are compared on the rows they share, with the exact McNemar test, and the report says when their
  rows differ;
- by default only the prompt's own dataset (its ``dataset:``) is shown; ``dataset=`` picks another.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.stats import mcnemar_exact, verdict_of, wilson_interval
from workbench.store import Store

RUN_COLUMNS = [
    "run_id",
    "started_at",
    "version",
    "model",
    "dataset",
    "rows",
    "passed",
    "pass_rate",
    "ci_low",
    "ci_high",
]
VERSION_COLUMNS = ["version", "model", "dataset", "runs", "rows", "passed", "pass_rate", "ci_low", "ci_high"]


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


def trend(store: Store, prompt: str, model: str | None = None, dataset: str | None = None) -> Trend:
    """The prompt's trend in ``store`` (``dataset``: a path or a file name; default: the prompt's own)."""
    wanted = dataset if dataset is not None else default_dataset(prompt)
    rows = [r for r in store.prompt_results(prompt, model=model) if _matches(r["dataset"], wanted)]
    report = Trend(prompt, wanted)
    samples: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        dataset_name = _name(row["dataset"], row.get("dataset_hash"))
        samples[(row["run_id"], row["version"], row["model"], dataset_name, row["row_id"])].append(row)
    report.runs = _run_points(samples)
    per_version = _version_rows(samples)
    report.versions = [_version_point(key, verdicts, runs) for key, (verdicts, runs) in per_version.items()]
    report.comparisons = _compare_consecutive(per_version)
    return report


def _matches(run_dataset: str | None, wanted: str | None) -> bool:
    if wanted is None:
        return True
    if run_dataset is None:
        return False
    return run_dataset == wanted or Path(run_dataset).name == Path(wanted).name or run_dataset.endswith(str(wanted))


IN_MEMORY = ("records", "dataframe", "data")


def _name(dataset: str | None, content_hash: str | None = None) -> str:
    """A run's dataset as the trend groups it: a file by its name (rows may be added over time); rows given in
    memory by their content, since every such run is called "records"."""
    if not dataset:
        return "(in memory)"
    if dataset in IN_MEMORY and content_hash:
        return f"{dataset} {content_hash[:8]}"
    return Path(dataset).name


def _run_points(samples: dict[tuple, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    points: dict[tuple, dict[str, Any]] = {}
    for (run_id, version, model, dataset, _), row_samples in samples.items():
        point = points.setdefault(
            (run_id, version, model, dataset),
            {
                "run_id": run_id,
                "started_at": row_samples[0]["started_at"],
                "version": version,
                "model": model,
                "dataset": dataset,
                "rows": 0,
                "passed": 0,
            },
        )
        verdict = verdict_of([bool(s["passed"]) for s in row_samples])
        point["rows"] += 1
        point["passed"] += int(verdict)
    ordered = sorted(points.values(), key=lambda p: (p["started_at"], p["version"], p["model"]))
    return [_with_interval(p) for p in ordered]


def _version_rows(samples: dict[tuple, list[dict[str, Any]]]) -> dict[tuple, tuple[dict[str, bool], set[str]]]:
    """Per (version, model, dataset): each row's verdict from its generated samples, and the runs it came from."""
    generated: dict[tuple, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    reused: dict[tuple, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    runs: dict[tuple, set[str]] = defaultdict(set)
    for (run_id, version, model, dataset, row_id), row_samples in samples.items():
        key = (version, model, dataset)
        runs[key].add(run_id)
        for sample in row_samples:
            target = reused if sample["cached"] else generated
            target[key][row_id].append(bool(sample["passed"]))
    result = {}
    for key in sorted(runs, key=lambda k: (k[1], k[2], k[0])):
        row_ids = set(generated[key]) | set(reused[key])
        verdicts = {r: verdict_of(generated[key].get(r) or reused[key][r]) for r in row_ids}
        result[key] = (verdicts, runs[key])
    return result


def _version_point(key: tuple, verdicts: dict[str, bool], runs: set[str]) -> dict[str, Any]:
    version, model, dataset = key
    point = {"version": version, "model": model, "dataset": dataset, "runs": len(runs), "rows": len(verdicts)}
    point["passed"] = sum(verdicts.values())
    return _with_interval(point)


def _compare_consecutive(per_version: dict[tuple, tuple[dict[str, bool], set[str]]]) -> list[dict[str, Any]]:
    """Each version against the one before it (same model and dataset), paired on their shared rows."""
    comparisons = []
    keys = list(per_version)
    for before, after in zip(keys, keys[1:], strict=False):
        if before[1:] != after[1:]:
            continue
        a, b = per_version[before][0], per_version[after][0]
        shared = sorted(set(a) & set(b))
        a_only = sum(1 for r in shared if a[r] and not b[r])
        b_only = sum(1 for r in shared if b[r] and not a[r])
        p_value = mcnemar_exact(a_only, b_only)
        verdict = "no significant difference"
        if p_value < 0.05:
            verdict = "better" if b_only > a_only else "worse"
        note = "" if set(a) == set(b) else f"rows differ: v{before[0]} has {len(a)}, v{after[0]} has {len(b)}"
        comparisons.append(
            {
                "a": f"v{before[0]}",
                "b": f"v{after[0]}",
                "model": after[1],
                "dataset": after[2],
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


def _with_interval(point: dict[str, Any]) -> dict[str, Any]:
    n, passed = point["rows"], point["passed"]
    ci = wilson_interval(passed, n)
    point["pass_rate"] = round(passed / n, 4) if n else None
    point["ci_low"], point["ci_high"] = ci if ci else (None, None)
    return point


def plot_trend(report: Trend, path: str | Path | None = None, *, title: str = "") -> Any:
    """Pass rate per run with 95 % error bars, one series per model, version labels on the points.
    Saved as PNG or SVG when ``path`` is given; returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    from workbench.plotting import figure

    fig, ax = figure(8, 4)
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for point in report.runs:
        by_model[point["model"]].append(point)
    for model, points in by_model.items():
        x = list(range(len(points)))
        rates = [p["pass_rate"] for p in points]
        low = [p["pass_rate"] - p["ci_low"] for p in points]
        high = [p["ci_high"] - p["pass_rate"] for p in points]
        ax.errorbar(x, rates, yerr=[low, high], marker="o", capsize=4, label=str(model))
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
