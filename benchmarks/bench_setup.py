"""The two commands on a fresh machine: ``make demo`` and ``make test`` in a fresh clone, timed from ``git clone``.

"Fresh" means what a new user has: a clone of the committed tree (uncommitted changes are not in it), an empty pip
cache and an empty home folder (so no converted model in ``~/.cache/workbench`` and no sha256 memo). The pip
configuration (the package index) is kept. With ``--nightly`` the clone then runs ``workbench nightly --profile ci``
and reports the seconds of every notebook run from its ``summary.json``. With ``--test`` the seconds of each notebook's
test (every CI variant plus the nbval re-run, from a JUnit XML report of that ``make test``: pytest's printed
``--durations`` only lists the slowest 25) are the "runs in" column of README's course table. The baseline of each
figure is the part of it spent installing, printed next to it.

Machines here differ by 2x, and one machine by 20% within an hour, so the run also times a fixed llama.cpp workload
(:data:`PROBE`: the same 20 greedy completions on the bundled model, in the clone's environment) right after
``make demo`` and again after ``make test``: compare two runs' ``make test`` only where their probes agree.

Figures go to ``benchmarks/results/bench_setup.json``.
Usage: python benchmarks/bench_setup.py [--test] [--nightly] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from sections import Section  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_setup.json"
DEMO_LINE = re.compile(r"^run \S+: \d+ cells — .*$", re.MULTILINE)
PYTEST_LINE = re.compile(r"=+ (.* in [\d.]+s.*) =+")
COMPONENTS = re.compile(r"^((?:local_model|postgres|cluster|notebooks|browser) +\d+ \w+.*)$", re.MULTILINE)
# the notebook test in the JUnit report: every CI variant (en, solutions) and the nbval re-run; an xdist group's
# suffix (tests/conftest.py) may follow the parameter
NOTEBOOK_TEST = re.compile(r"^test_notebook_runs_in_every_variant_and_validates\[(\w+)\]")
# The machine's speed at llama.cpp, the suite's critical path: seconds for 20 greedy 16-token completions.
PROBE = r"""
import time
from workbench.models.local import LocalModel
engine = LocalModel().engine
body = {"max_tokens": 16, "temperature": 0, "cache_prompt": False}
engine.complete({**body, "prompt": "A warm-up."})
start = time.perf_counter()
for i in range(20):
    engine.complete({**body, "prompt": f"Text: the service was {i} minutes late.\nOverall, it was"})
print(f"{time.perf_counter() - start:.2f}")
"""


def fresh_environment(scratch: Path) -> dict[str, str]:
    """The environment of a new user: an empty home and pip cache, the machine's pip configuration kept."""
    home = scratch / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PIP_CACHE_DIR": str(scratch / "pip-cache")}
    for config in (Path.home() / ".config/pip/pip.conf", Path.home() / ".pip/pip.conf"):
        if config.exists() and "PIP_CONFIG_FILE" not in env:
            env["PIP_CONFIG_FILE"] = str(config)
    for variable in ("WORKBENCH_STORE", "WORKBENCH_ROOT", "VIRTUAL_ENV", "XDG_CACHE_HOME"):
        env.pop(variable, None)
    return env


def timed(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[float, str]:
    """Run a command to the end, its output in ``log``; seconds and output. A failure stops the benchmark."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(command)}` failed (exit {done.returncode}); its output is in {log}")
    return seconds, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test", action="store_true", help="also time `make test` in the same clone")
    parser.add_argument("--nightly", action="store_true", help="also time every notebook (`workbench nightly`)")
    parser.add_argument("--keep", action="store_true", help="keep the clone and logs")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="wb-setup-"))
    env = fresh_environment(scratch)
    clone = scratch / "clone"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    figures: dict[str, object] = {"commit": commit.strip(), "cores": os.cpu_count()}
    flags = " ".join(f"--{name}" for name in ("test", "nightly") if getattr(args, name))
    out = Section(
        "bench_setup", "Set-up: the two commands in a fresh clone", f"python benchmarks/bench_setup.py {flags}"
    )
    out(
        f"A fresh clone of commit {commit.strip()} with an empty pip cache and an empty home folder (no converted "
        f"model, no memo, no cached adapters or vectors), {os.cpu_count()} cores; the baseline of each figure is the "
        "part spent installing.\n"
    )
    out("```")
    clone_seconds, _ = timed(["git", "clone", "--quiet", str(ROOT), str(clone)], scratch, env, scratch / "clone.log")
    demo_seconds, demo_output = timed(["make", "demo"], clone, env, scratch / "demo.log")
    install_seconds = _stamp_age(clone, ".venv/.demo-stamp", demo_seconds)
    summaries = DEMO_LINE.findall(demo_output)
    out(f"git clone: {clone_seconds:.1f} s")
    out(
        f"make demo: {demo_seconds:.0f} s from clone to the printed summaries "
        f"(of which installing ~{install_seconds:.0f} s)"
    )
    for line in summaries:
        out(f"  {line}")
    probe_before = machine_probe(clone, env)
    out(f"machine probe (a fixed llama.cpp workload): {probe_before:.2f} s")
    figures["probe_seconds"] = {"after make demo": probe_before}
    figures["make demo"] = {
        "seconds": round(clone_seconds + demo_seconds, 1),
        "install_seconds": round(install_seconds, 1),
    }
    if args.test:
        report = scratch / "make-test.junit.xml"
        make_test = ["make", "test", f"PYTEST_ARGS=--junitxml={report}"]
        test_seconds, test_output = timed(make_test, clone, env, scratch / "test.log")
        tests = PYTEST_LINE.findall(test_output)
        out(f"make test: {test_seconds / 60:.1f} min after make demo; pytest: {tests[-1] if tests else '?'}")
        for line in COMPONENTS.findall(test_output):
            out(f"  {line.strip()}")
        probe_after = machine_probe(clone, env)
        out(f"machine probe again: {probe_after:.2f} s")
        figures["probe_seconds"]["after make test"] = probe_after
        out("```")
        notebooks = notebook_seconds(report)
        if notebooks:
            out("\n| notebook | seconds in make test (English as shipped, Chinese solved, nbval's re-run) |\n|---|---|")
            for name, seconds in sorted(notebooks.items()):
                out(f"| {name} | {seconds:.0f} |")
        figures["make test"] = {
            "seconds": round(test_seconds, 1),
            "pytest": tests[-1] if tests else None,
            "notebooks": notebooks,
        }
    else:
        out("```")
    if args.nightly:
        nightly = scratch / "nightly"
        nightly_seconds, _ = timed(
            [str(clone / ".venv/bin/workbench"), "nightly", "--profile", "ci", "--out", str(nightly)],
            clone,
            env,
            scratch / "nightly.log",
        )
        runs = json.loads((nightly / "summary.json").read_text(encoding="utf-8"))
        out(f"\nworkbench nightly --profile ci: {nightly_seconds / 60:.1f} min for {len(runs)} runs\n")
        out("| notebook run | status | seconds |\n|---|---|---|")
        for run in runs:
            out(f"| {run['name']} | {run['status']} | {run['seconds']:.0f} |")
        figures["nightly ci"] = {
            "seconds": round(nightly_seconds, 1),
            "runs": {run["name"]: round(run["seconds"], 1) for run in runs},
        }
    figures["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    known = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**known, **figures}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    out.save()
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)


def machine_probe(clone: Path, env: dict[str, str]) -> float:
    """Seconds of :data:`PROBE` in the clone's environment (the model is in place after ``make demo``)."""
    done = subprocess.run(
        [str(clone / ".venv/bin/python"), "-c", PROBE], cwd=clone, env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def notebook_seconds(report: Path) -> dict[str, float]:
    """Each notebook test's seconds (setup, call and teardown) from a JUnit XML report."""
    from xml.etree import ElementTree

    seconds = {}
    for case in ElementTree.parse(report).iter("testcase"):
        found = NOTEBOOK_TEST.match(case.get("name", ""))
        if case.get("classname") == "tests.test_notebooks" and found:
            seconds[found.group(1)] = float(case.get("time", "0"))
    return seconds


def _stamp_age(clone: Path, stamp: str, total: float) -> float:
    """Seconds from the clone's creation to the install stamp ``make`` leaves (the install part of the demo)."""
    path = clone / stamp
    if not path.exists():
        return total
    return max(0.0, path.stat().st_mtime - (clone / "Makefile").stat().st_mtime)


if __name__ == "__main__":
    main()
