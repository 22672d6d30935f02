"""How long `import workbench` takes, against `python -c pass` measured in the same run.

Usage: python benchmarks/bench_import.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import Section  # noqa: E402


def timed(code: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    out = Section(
        "bench_import", "Start-up: what the imports cost", f"python benchmarks/bench_import.py --runs {args.runs}"
    )
    baseline = timed("pass", args.runs)
    openai = timed("import openai", args.runs)
    light = timed("import workbench", args.runs)
    run_path = timed(
        "import openai, workbench.cli.run, workbench.pipeline, workbench.prompts, workbench.store", args.runs
    )
    stats = timed("import scipy.stats", args.runs)
    pandas = timed("import pandas", args.runs)

    def line(label: str, ms: float, base: float = baseline, name: str = "baseline") -> str:
        return f"{label:<40} {ms:7.1f} ms  (+{ms - base:.0f} ms beyond {name})"

    out(f"Median of {args.runs} fresh interpreters each.\n")
    out("```")
    out(f"{'python -c pass (baseline)':<40} {baseline:7.1f} ms")
    out(line("import workbench", light))
    out(line("import openai", openai))
    out(line("the run path (+ openai, the CLI's run)", run_path, openai, "import openai"))
    out(line("import scipy.stats (the summary's tests)", stats))
    out(line("import pandas (for scale)", pandas))
    out("```")
    out()
    out(
        "`import workbench` loads none of llama.cpp, chromadb, torch, langchain, openai, pandas, SQLAlchemy, scipy or "
        "ipywidgets (`tests/test_package.py` checks the module list, not the time). `workbench run` imports "
        "`scipy.stats` in a background thread while the models answer (its summary's intervals need it)."
    )
    out.save()


if __name__ == "__main__":
    main()
