"""Every test that loads llama.cpp runs on one xdist worker under ``make test``'s ``-n 2 --dist loadgroup``.

A real pytest session in a scratch folder with two workers: the heavy tests (each marker that loads llama.cpp) all
report the same worker, while a light test is free to run on the other. On pytest 9 with xdist 3.8 without
:mod:`workbench.testing.one_llama_worker`, ``loadgroup`` spread them over both workers (two llama.cpp processes at
once: 10–20x slower, and the notebook tests timed out in CI). The light tests run at a lower priority than the
llama group, in a scheduling group of their own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from workbench.testing.priority import LIGHT_NICENESS, session_priority

SUITE = """
import json, os, time, pytest
from workbench.testing.priority import session_priority

def _note(name):
    with open("ran.jsonl", "a") as out:
        niceness = os.getpriority(os.PRIO_PROCESS, 0)
        group = session_priority()
        seen = {"test": name, "worker": os.environ["PYTEST_XDIST_WORKER"], "nice": niceness, "group": group}
        out.write(json.dumps(seen) + "\\n")

@pytest.mark.notebooks
@pytest.mark.parametrize("i", range(3))
def test_notebook(i):
    time.sleep(0.3)
    _note(f"marked-notebook-{i}")

@pytest.mark.browser
def test_browser():
    time.sleep(0.3)
    _note("marked-browser")

@pytest.mark.local_model
@pytest.mark.parametrize("i", range(4))
def test_marked_heavy(i):
    time.sleep(0.3)
    _note(f"marked-{i}")

@pytest.mark.parametrize("i", range(4))
def test_light(i):
    time.sleep(0.3)
    _note(f"light-{i}")
"""
INI = "[pytest]\nmarkers =\n    local_model: m\n    notebooks: n\n    browser: b\n"


def test_the_llama_tests_all_run_on_one_worker(tmp_path):
    (tmp_path / "test_suite.py").write_text(SUITE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(INI, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-p", "workbench.testing.one_llama_worker", "-n", "2"]
    done = subprocess.run(
        [*command, "--dist", "loadgroup", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    ran = [json.loads(line) for line in (tmp_path / "ran.jsonl").read_text(encoding="utf-8").splitlines()]
    heavy = {r["worker"] for r in ran if r["test"].startswith("marked-")}
    assert len(ran) == 12 and len(heavy) == 1, ran
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    light = [r for r in ran if not r["test"].startswith("marked-")]
    assert all(r["nice"] == ours for r in ran if r["test"].startswith("marked-")), "the llama group keeps its priority"
    assert all(r["nice"] >= max(ours, LIGHT_NICENESS) for r in light), "the other tests yield the CPU to it"
    if session_priority() is not None:  # Linux with autogroups: the light worker's whole session yields
        assert all(r["group"] >= LIGHT_NICENESS for r in light), light
        assert all(r["group"] == session_priority() for r in ran if r["test"].startswith("marked-")), ran
