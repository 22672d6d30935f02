"""Assemble BENCHMARKS.md from the sections the benchmark scripts saved in ``benchmarks/results/*.md``.

Usage: python benchmarks/render_benchmarks.py [--check]

``--check`` exits 1 when BENCHMARKS.md differs from what the saved sections render (``tests/test_benchmarks.py``
runs the same check).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TARGET = ROOT / "BENCHMARKS.md"

HEADER = """# Benchmarks

Every line below was printed by a script in `benchmarks/` (the command is in each heading; `make bench` runs them)
and saved by it in `benchmarks/results/`; `python benchmarks/render_benchmarks.py` assembles this file from those
sections, and `tests/test_benchmarks.py` fails when the file and the sections differ. Speed is a ratio against a
baseline measured in the same run; tests never assert on time. Figures that gates rest on are in
`benchmarks/results/*.json`, each with the rows it was measured on (`workbench/course/evidence.py`).
"""

#: The order of the sections; a section not listed here comes after these, by name.
ORDER = [
    "bench_setup",
    "bench_priority",
    "bench_load",
    "bench_import",
    "bench_runner.200ms",
    "bench_runner.1ms",
    "bench_scale",
    "bench_cluster",
    "bench_local.speed",
    "bench_local.accuracy",
    "bench_local.gates",
    "bench_local.exam",
    "bench_rag",
    "bench_rag.answers",
    "bench_chat_format",
    "bench_finetune",
    "bench_tools",
    "bench_optimize",
    "bench_mutation",
]


def sections() -> list[Path]:
    found = {path.stem: path for path in RESULTS.glob("*.md")}
    listed = [found[name] for name in ORDER if name in found]
    return listed + [found[name] for name in sorted(found) if name not in ORDER]


def render() -> str:
    parts = [HEADER.strip()] + [path.read_text(encoding="utf-8").strip() for path in sections()]
    return "\n\n".join(parts) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if TARGET.read_text(encoding="utf-8") != text:
            print(
                "BENCHMARKS.md differs from the sections in benchmarks/results/: python benchmarks/render_benchmarks.py"
            )
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} from {len(sections())} sections")
    return 0


if __name__ == "__main__":
    sys.exit(main())
