"""Prompt optimisation on the local model: what the accepted version gains on held-out rows, and what choosing on
the same rows it reports (in-sample selection, as the peers' optimisers do) would have claimed.

For each bundled zero-shot sentiment prompt (``sentiment_zeroshot_en``, ``sentiment_zeroshot_zh``) on its reviews
(``reviews_{lang}_dev.csv`` + ``reviews_{lang}_test.csv``, together), ``wb.optimize`` with the offline generators
(few-shot demonstrations — random, nearest-neighbour, bootstrapped — and the label-word search by log-probability)
splits the rows 20 / 30 / 50 % (train / dev / held-out, stratified by label, seed 0), ranks the candidates on dev,
and tests the dev winner once against the original on the held-out rows (exact McNemar, α = 0.05). Nothing is saved
(``save=False``) and the store is a fresh temporary one, so every call is real and counted.

"In-sample claim" is the winner's gain on the dev rows it was chosen on; "held-out gain" is its gain on rows no
generator or ranking saw; their difference is the optimism that choosing and reporting on the same rows would have
published. Prints its section of BENCHMARKS.md and saves it to ``benchmarks/results/bench_optimize.md``
(``python benchmarks/render_benchmarks.py`` assembles BENCHMARKS.md).

Usage: python benchmarks/bench_optimize.py [--langs en zh] [--seed 0]   (run it under flock /tmp/wb-heavy.lock)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import workbench as wb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from sections import Section  # noqa: E402

COMMAND = "python benchmarks/bench_optimize.py"


def rate(entry: dict | None) -> str:
    if not entry or entry.get("pass_rate") is None:
        return "n/a"
    low, high = entry["ci95"]
    return f"{entry['passed']}/{entry['n']} = {entry['pass_rate']:.1%} ({low:.0%}–{high:.0%})"


def pts(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f}"


def optimise(lang: str, seed: int, store: str) -> tuple[object, float]:
    files = [str(ROOT / "datasets" / f"reviews_{lang}_{part}.csv") for part in ("dev", "test")]
    start = time.perf_counter()
    report = wb.optimize(
        f"sentiment_zeroshot_{lang}",
        files,
        "local",
        seed=seed,
        generators=["demos", "labels"],
        save=False,
        store=store,
        progress=False,
    )
    return report, time.perf_counter() - start


def section(results: list[tuple[str, object, float]], seed: int) -> list[str]:
    lines = [
        "`wb.optimize` on the local model, offline generators only (demonstrations: random, nearest by E5 "
        "embedding, bootstrapped; the label-word search by log-probability), splits 20 / 30 / 50 % "
        f"(train / dev / held-out, stratified by label, seed {seed}), a fresh store (every call real), nothing "
        "saved. *In-sample claim*: the dev winner's gain on the dev rows it was chosen on — what choosing and "
        "reporting on the same rows would publish. *Held-out*: the one exact McNemar test of the winner against "
        "the original on rows no generator or ranking saw (α = 0.05); *optimism* = in-sample claim − held-out gain.",
        "",
        "| prompt | rows train/dev/held-out | candidates | dev winner | in-sample claim (dev) | held-out: original | "
        "held-out: winner | held-out gain | exact McNemar | accepted | optimism | model calls | wall |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lang, report, wall in results:
        r = report  # type: ignore[assignment]
        sizes = r.splits["sizes"]
        winner = next((c for c in r.candidates if c.name == r.winner), None)
        h = r.heldout or {}
        claim = (
            f"{pts(r.dev_gain)} pts ({rate(winner.dev)} vs {rate(r.original_dev)})"
            if winner
            else f"none beat the original ({rate(r.original_dev)})"
        )
        test = f"{h['b_only']} vs {h['a_only']} flips, p = {h['p_value']:.3g}" if h else "not run"
        lines.append(
            f"| sentiment_zeroshot_{lang}@v1 | {sizes['train']}/{sizes['dev']}/{sizes['heldout']} | "
            f"{sum(c.status == 'evaluated' for c in r.candidates)} | {winner.generator if winner else '—'} | {claim} | "
            f"{rate(h.get('original'))} | {rate(h.get('winner'))} | {pts(r.heldout_gain)} pts | {test} | "
            f"{'yes' if r.accepted else 'no'} | {pts(r.optimism)} pts | {r.spent_calls} | {wall:.0f} s |"
        )
    for lang, report, _ in results:
        r = report  # type: ignore[assignment]
        lines += [
            "",
            f"### sentiment_zeroshot_{lang}: every candidate on dev (original: {rate(r.original_dev)})",
            "",
            "| candidate | generator | dev pass rate (95% CI) | dev gain | what |",
            "|---|---|---|---|---|",
        ]
        for c in r.candidates:
            star = " ★" if c.name == r.winner else ""
            what = c.description.replace("|", "/")
            lines.append(f"| {c.name}{star} | {c.generator} | {rate(c.dev)} | {pts(c.dev_gain)} pts | {what} |")
        lines += ["", f"Verdict: {r.message}."]
        if r.winner_diff:
            diff = "\n".join(r.winner_diff.splitlines()[:40])
            lines += ["", "The winner's diff against the original:", "", "```diff", diff, "```"]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langs", nargs="+", default=["en", "zh"], choices=["en", "zh"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    store = str(Path(tempfile.mkdtemp()) / "bench_optimize.db")
    results = []
    for lang in args.langs:
        report, wall = optimise(lang, args.seed, store)
        print(report, flush=True)
        results.append((lang, report, wall))
    out = Section("bench_optimize", "Prompt optimisation", COMMAND)
    for line in section(results, args.seed):
        out(line)
    out.save()


if __name__ == "__main__":
    main()
