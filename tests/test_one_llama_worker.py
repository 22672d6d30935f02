"""Every test that loads llama.cpp runs on one xdist worker under ``make test``'s ``-n 2 --dist loadgroup``.

A real pytest session in a scratch folder with two workers: the heavy tests (each marker that loads llama.cpp) all
report the same worker, while a light test is free to run on the other. On pytest 9 with xdist 3.8 without
:mod:`workbench.testing.one_llama_worker`, ``loadgroup`` spread them over both workers (two llama.cpp processes at
once: 10–20x slower, and the notebook tests timed out in CI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

SUITE = """
import json, os, time, pytest
AUTOGROUPS = os.path.exists("/proc/self/autogroup")

def _note(name):
    with open("ran.jsonl", "a") as out:
        idle = os.sched_getscheduler(0) == os.SCHED_IDLE
        group = open("/proc/self/autogroup").read().split() if AUTOGROUPS else None  # ['/autogroup-N', 'nice', 'X']
        record = {"test": name, "worker": os.environ["PYTEST_XDIST_WORKER"], "idle": idle, "autogroup": group}
        out.write(json.dumps(record) + "\\n")

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

@pytest.mark.notebooks
@pytest.mark.no_llama
@pytest.mark.parametrize("i", range(3))
def test_notebook_on_a_mock_endpoint(i, request):
    assert request.node.get_closest_marker("xdist_group") is None, "a no_llama test was put in the llama group"
    _note(f"mock-{i}")

@pytest.mark.skipif(not AUTOGROUPS, reason="a kernel without autogroups")
def test_light_starts_a_session():
    import subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10)"], start_new_session=True)
    deadline = time.time() + 8
    while time.time() < deadline and not open(f"/proc/{child.pid}/autogroup").read().rstrip().endswith("nice 19"):
        time.sleep(0.1)
    with open("child.txt", "w") as out:
        out.write(open(f"/proc/{child.pid}/autogroup").read())
    child.kill()

@pytest.mark.parametrize("i", range(4))
def test_light(i):
    time.sleep(0.3)
    _note(f"light-{i}")
"""
INI = "[pytest]\nmarkers =\n    local_model: m\n    notebooks: n\n    browser: b\n    no_llama: x\n"


def test_the_llama_tests_all_run_on_one_worker(tmp_path):
    (tmp_path / "test_suite.py").write_text(SUITE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(INI, encoding="utf-8")
    # Only the plugins under test: the dozen the environment installs (LangChain's suites, Playwright...) cost each
    # of the three pytest processes seconds of start-up.
    plugins = ["-p", "xdist.plugin", "-p", "workbench.testing.one_llama_worker", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, "-n", "2", "--dist", "loadgroup", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    ran = [json.loads(line) for line in (tmp_path / "ran.jsonl").read_text(encoding="utf-8").splitlines()]
    heavy = {r["worker"] for r in ran if r["test"].startswith("marked-")}
    assert len(ran) == 15 and len(heavy) == 1, ran
    # The group's worker keeps its priority; every test outside the group runs at idle priority.
    started_idle = os.sched_getscheduler(0) == os.SCHED_IDLE  # this test itself may run on make test's light worker
    assert {r["idle"] for r in ran if r["test"].startswith("marked-")} == {started_idle}, ran
    assert {r["idle"] for r in ran if not r["test"].startswith("marked-")} == {True}, ran
    if os.path.exists("/proc/self/autogroup"):  # ...in a session of its own whose autogroup has the lowest weight
        heavy_groups = {r["autogroup"][0] for r in ran if r["test"].startswith("marked-")}
        light_groups = {tuple(r["autogroup"]) for r in ran if not r["test"].startswith("marked-")}
        assert {group[2] for group in light_groups} == {"19"} and not heavy_groups & {g[0] for g in light_groups}, ran
        child = (tmp_path / "child.txt").read_text(encoding="utf-8").split()
        assert child[2] == "19" and child[0] not in {g[0] for g in light_groups}, "a new session of a light test"
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, "--collect-only", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    ).stdout.splitlines()
    order = [line.split("::")[1].split("[")[0] for line in collected if "::" in line]
    assert order[-3:] == ["test_notebook_on_a_mock_endpoint"] * 3, "the no_llama tests are handed out last"
    first = {"test_notebook", "test_browser", "test_marked_heavy"}
    assert set(order[:8]) == first, f"the llama group is handed out first: {order}"
    assert order.count("test_notebook_on_a_mock_endpoint") == 3, order
