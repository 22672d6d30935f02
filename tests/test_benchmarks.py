"""BENCHMARKS.md is exactly what the benchmark scripts printed and saved: no number reaches it any other way."""

from __future__ import annotations

import importlib.util
import re
import sys


def _renderer(repo):
    spec = importlib.util.spec_from_file_location("render_benchmarks", repo / "benchmarks" / "render_benchmarks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_benchmarks"] = module
    spec.loader.exec_module(module)
    return module


def test_benchmarks_md_is_what_the_scripts_saved(repo):
    renderer = _renderer(repo)
    assert (repo / "BENCHMARKS.md").read_text(encoding="utf-8") == renderer.render(), (
        "BENCHMARKS.md was edited by hand or a script's section changed: python benchmarks/render_benchmarks.py"
    )


def test_every_section_names_the_script_that_printed_it_and_no_heading_repeats(repo):
    renderer = _renderer(repo)
    headings = []
    for path in renderer.sections():
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0]
        script = path.stem.split(".")[0]
        assert first.startswith("## ") and f"benchmarks/{script}.py" in first, f"{path.name}: {first}"
        assert (repo / "benchmarks" / f"{script}.py").exists(), f"{path.name}: no script {script}.py"
        headings += re.findall(r"^#+ .*$", text, re.MULTILINE)
    repeated = {h for h in headings if headings.count(h) > 1}
    assert not repeated, f"headings printed twice: {repeated}"
