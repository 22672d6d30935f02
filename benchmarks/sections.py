"""BENCHMARKS.md is what the benchmark scripts printed, nothing typed by hand.

A script prints its report through a :class:`Section` (``out = Section("bench_local.gates", "heading", command)``,
then ``out("a line")``); :meth:`Section.save` keeps the text in ``benchmarks/results/<part>.md``, and
``benchmarks/render_benchmarks.py`` assembles BENCHMARKS.md from those files under a fixed header, in a fixed
order. ``tests/test_benchmarks.py`` checks that BENCHMARKS.md is exactly that rendering, so a number can only reach
it by a script printing it.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


class Section:
    """One part of BENCHMARKS.md: a ``## heading`` naming the command that printed it, then the printed lines."""

    def __init__(self, part: str, heading: str, command: str, *, level: int = 2):
        self.part = part
        self.lines = [f"{'#' * level} {heading} — `{command}`", ""]
        print(self.lines[0] + "\n")

    def __call__(self, text: str = "") -> None:
        print(text)
        self.lines.append(text)

    def save(self) -> Path:
        """Write the section (what was printed) to ``benchmarks/results/<part>.md``."""
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.part}.md"
        path.write_text("\n".join(self.lines).strip() + "\n", encoding="utf-8")
        print(f"\n(section saved to {path.relative_to(RESULTS.parent.parent)}; python benchmarks/render_benchmarks.py)")
        return path
