"""How long `import workbench` takes, against `python -c pass` measured in the same run.

Usage: python benchmarks/bench_import.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


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
    baseline = timed("pass", args.runs)
    light = timed("import workbench", args.runs)
    core = timed("import workbench.pipeline, workbench.prompts, workbench.store", args.runs)
    pandas = timed("import pandas", args.runs)

    def line(label: str, ms: float) -> str:
        return f"{label:<32} {ms:7.1f} ms  ({ms / baseline:.2f}x baseline, +{ms - baseline:.0f} ms)"

    print(f"{'python -c pass (baseline)':<32} {baseline:7.1f} ms")
    print(line("import workbench", light))
    print(line("import workbench core modules", core))
    print(line("import pandas (for scale)", pandas))


if __name__ == "__main__":
    main()
