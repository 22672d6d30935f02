"""How many wrong answers the fast tests catch: mutation testing of the modules whose numbers users trust.

Usage: python benchmarks/bench_mutation.py [--module stats ...] [--fresh] [--max-children 2] [--report-only]

Each module is mutated (``>`` for ``>=``, ``a + 1`` for ``a``, a string for another, a default argument dropped ...)
and run against **its own** fast test file only — ``workbench/stats.py`` against ``tests/test_stats.py`` — so a
module's score says what its own tests prove, not what some other module's tests happen to touch. A mutant is
*killed* when a test fails (or it runs out of its CPU-time budget); it *survives* when every test still passes. The
goal (issue #38) is that the fast tests kill ≥ 85% of each module's mutants; a survivor either gets a test that kills
it, or a line in ``benchmarks/mutation_equivalent.yaml`` saying why no test can tell it apart from the original
(the mutant computes the same answer). The score is ``killed / (mutants - equivalent)``.

Why mutmut (3.8.1) and not cosmic-ray (8.7): both were tried on ``workbench/stats.py`` against
``tests/test_stats.py``, on this 2-core machine under the same shared load. cosmic-ray writes each mutant into the
source file on disk and starts the test command afresh for it — a new interpreter importing scipy, pandas and the
package before a test runs, and a source tree that is wrong while a run is under way: 12 of its 794 mutants in 150 s
(about 12 s a mutant, some 2.7 hours for this one module). mutmut 3 compiles every mutant of a module into one copy
under ``mutants/`` behind a switch, imports it once, records which tests reach which function, and forks a worker
per mutant that runs only those tests: all 282 of its mutants in 136 s. Its cache is per function (a hash of the
function's source), so a re-run tests only the functions that changed. Its one blind spot for our use — a survivor
is not re-tested when a test is added — is closed here: when a module's tests change, its survivors are run again.

How a run is laid out: one mutmut project per module under ``.mutation/<module>/`` (git-ignored): a
``pyproject.toml`` holding that module's mutmut settings and the repository's pytest settings, the package
(symlinked; mutmut copies it into ``mutants/``), a ``tests/`` folder with only ``conftest.py`` and the module's test
file, and links to the data the tests read. Tests run with ``-p no:cacheprovider`` and without the markers that need
the real model, PostgreSQL, a cluster, notebooks or a browser; hypothesis runs derandomised (the same examples for
every mutant, so a kill is reproducible) with no deadline.

Thousands of mutants take a long while on 2 shared cores: this is not part of ``make test`` (``make mutation`` runs
it, under ``nice -n 19``). A run from empty caches takes minutes to an hour depending on the machine's load (the
section says how long the last one took), a re-run after a change seconds to minutes. ``--fresh`` throws a module's
cache away. The section of BENCHMARKS.md and ``benchmarks/results/bench_mutation.json`` are written from the cached
results of every module, whichever were run this time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import RESULTS, Section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
EQUIVALENT = ROOT / "benchmarks" / "mutation_equivalent.yaml"
GOAL = 0.85
COMMAND = "nice -n 19 python benchmarks/bench_mutation.py"

#: Tests that need a real component (or are the nightly variants) are not fast tests: they never run here.
MARKERS = "not local_model and not postgres and not cluster and not notebooks and not browser and not nightly"
#: What the tests read from the repository besides the package (linked into the mutants' tree).
DATA = ("prompt_library", "datasets", "benchmarks", "notebooks")

#: mutmut exit codes (``mutmut.stats.status_by_exit_code``), grouped as this report counts them.
KILLED = {1: "killed", 3: "killed"}
TIMEOUT = {36, 24, -24, 152, 255}
SURVIVED = {0: "survived", 5: "no tests", 33: "no tests"}


@dataclass(frozen=True)
class Target:
    """A module and the one test file that is its fast test suite."""

    name: str
    source: str
    tests: str


TARGETS = [
    Target("stats", "workbench/stats.py", "tests/test_stats.py"),
    Target("compare", "workbench/compare.py", "tests/test_compare.py"),
    Target("trend", "workbench/trend.py", "tests/test_trend.py"),
    Target("judge", "workbench/judge.py", "tests/test_judge.py"),
    Target("parsers", "workbench/parsers.py", "tests/test_parsers.py"),
    Target("checks", "workbench/scoring/checks.py", "tests/test_scoring.py"),
    Target("echo", "workbench/scoring/echo.py", "tests/test_scoring.py"),
    Target("gates", "workbench/course/gates.py", "tests/test_gates.py"),
]
BY_NAME = {target.name: target for target in TARGETS}

PLUGIN = '''"""pytest plugin for mutation runs (written by benchmarks/bench_mutation.py): the same hypothesis
examples for every mutant, no deadline (workers run at nice 19 on a shared machine), no example database."""

from hypothesis import settings

settings.register_profile("mutation", derandomize=True, deadline=None, database=None, print_blob=False)
settings.load_profile("mutation")
'''


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def _pyproject(target: Target) -> str:
    """mutmut's settings for one module, and the repository's pytest settings (its markers and warning filters;
    not its addopts, which only print)."""
    pytest_ini = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    cli = ["-p", "no:cacheprovider", "-p", "mutation_plugin", "-m", MARKERS]
    return "\n".join(
        [
            "# Written by benchmarks/bench_mutation.py: one module's mutation run (see its docstring).",
            "[tool.mutmut]",
            'source_paths = ["workbench"]',
            f"only_mutate = {_toml_list([target.source])}",
            f"also_copy = {_toml_list(['mutation_plugin.py'])}",
            f"pytest_add_cli_args_test_selection = {_toml_list([target.tests])}",
            f"pytest_add_cli_args = {_toml_list(cli)}",
            "use_git_change_detection = false",
            'on_dependency_change = "ignore"',
            "",
            "[tool.pytest.ini_options]",
            f"markers = {_toml_list(pytest_ini['markers'])}",
            f"filterwarnings = {_toml_list(pytest_ini['filterwarnings'])}",
            f"timeout = {int(pytest_ini.get('timeout', 600))}",
            "",
        ]
    )


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def prepare(target: Target, *, fresh: bool) -> Path:
    """Lay out (or refresh) the module's mutmut project under ``.mutation/<name>/``."""
    work = WORK / target.name
    if fresh and work.exists():
        shutil.rmtree(work)
    (work / "tests").mkdir(parents=True, exist_ok=True)
    (work / "pyproject.toml").write_text(_pyproject(target), encoding="utf-8")
    (work / "mutation_plugin.py").write_text(PLUGIN, encoding="utf-8")
    _link(work / "workbench", ROOT / "workbench")
    for test in (work / "tests").iterdir():
        if test.name not in {"conftest.py", Path(target.tests).name}:
            test.unlink()
    _link(work / "tests" / "conftest.py", ROOT / "tests" / "conftest.py")
    _link(work / "tests" / Path(target.tests).name, ROOT / target.tests)
    for name in DATA:
        _link(work / "mutants" / name, ROOT / name)
    return work


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def _mutmut(work: Path, args: list[str], log) -> int:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "WORKBENCH_STRICT"}}
    mutmut = [sys.executable, "-c", "import sys; from mutmut.__main__ import cli; sys.exit(cli())"]
    proc = subprocess.run(["nice", "-n", "19", *mutmut, *args], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc.returncode


def exit_codes(target: Target) -> dict[str, int | None]:
    meta = WORK / target.name / "mutants" / (target.source + ".meta")
    if not meta.exists():
        return {}
    return json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]


def run(target: Target, *, fresh: bool, max_children: int) -> dict:
    """Run mutmut over one module (incrementally unless ``fresh``); re-test survivors when the tests changed."""
    fresh = fresh or not exit_codes(target)  # no cache yet: every mutant is tested
    work = prepare(target, fresh=fresh)
    tests_digest = _digest([ROOT / "tests" / "conftest.py", ROOT / target.tests])
    stamp = work / "tests.sha256"
    started = time.monotonic()
    with open(work / "run.log", "a", encoding="utf-8") as log:
        log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} mutmut run ({'fresh' if fresh else 'cached'})\n")
        log.flush()
        code = _mutmut(work, ["run", "--max-children", str(max_children)], log)
        if code != 0:
            raise SystemExit(f"mutmut failed for {target.source} (exit {code}); see {work / 'run.log'}")
        survivors = [name for name, c in exit_codes(target).items() if c in SURVIVED]
        retested = 0
        if survivors and stamp.exists() and stamp.read_text() != tests_digest:
            log.write(f"\n==== {target.tests} changed: re-testing {len(survivors)} survivors\n")
            log.flush()
            retested = len(survivors)
            code = _mutmut(work, ["run", "--max-children", str(max_children), *survivors], log)
            if code != 0:
                raise SystemExit(f"mutmut failed re-testing survivors of {target.source}; see {work / 'run.log'}")
    stamp.write_text(tests_digest)
    return {"seconds": round(time.monotonic() - started, 1), "fresh": fresh, "survivors_retested": retested}


def diffs(target: Target, mutants: list[str]) -> dict[str, str]:
    """Each mutant as a diff of its function (what ``mutmut show`` prints), read in this process from the module's
    mutmut project."""
    if not mutants:
        return {}
    from mutmut.configuration import reset_config
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    here = os.getcwd()
    os.chdir(WORK / target.name)
    reset_config()
    try:
        return {name: get_diff_for_mutant(name, path=Path(target.source)) for name in mutants}
    finally:
        os.chdir(here)
        reset_config()


def changed_lines(text: str) -> list[str]:
    """The removed and added lines of a diff: what an equivalence entry is checked against."""
    return [line for line in text.splitlines() if line[:1] in "+-" and line[:3] not in {"---", "+++"}]


def load_equivalent() -> dict[tuple[str, str], dict]:
    entries = yaml.safe_load(EQUIVALENT.read_text(encoding="utf-8")) or [] if EQUIVALENT.exists() else []
    return {(entry["module"], entry["mutant"]): entry for entry in entries}


def summarise(target: Target, equivalent: dict[tuple[str, str], dict]) -> dict:
    codes = exit_codes(target)
    killed = sorted(name for name, c in codes.items() if c in KILLED)
    timeout = sorted(name for name, c in codes.items() if c in TIMEOUT)
    survived = sorted(name for name, c in codes.items() if c in SURVIVED)
    other = sorted(name for name, c in codes.items() if c not in KILLED and c not in TIMEOUT and c not in SURVIVED)
    listed, stale, unexplained = [], [], []
    shown = diffs(target, survived)
    for name in survived:
        entry = equivalent.get((target.name, name))
        found = changed_lines(shown[name])
        if entry is None:
            unexplained.append({"mutant": name, "diff": found})
        elif changed_lines(entry["diff"]) != found:
            stale.append({"mutant": name, "listed": changed_lines(entry["diff"]), "now": found})
            unexplained.append({"mutant": name, "diff": found})
        else:
            listed.append({"mutant": name, "diff": found, "why": entry["why"]})
    total = len(codes)
    judged = total - len(listed)
    caught = len(killed) + len(timeout)
    return {
        "module": target.source,
        "tests": target.tests,
        "mutants": total,
        "killed": len(killed),
        "timeout": len(timeout),
        "equivalent": listed,
        "survived": unexplained,
        "not_checked": other,
        "score": round(caught / judged, 4) if judged else None,
        "stale_equivalent_entries": stale,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", choices=sorted(BY_NAME), help="run only these (repeatable)")
    parser.add_argument("--fresh", action="store_true", help="throw the modules' caches away first")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--report-only", action="store_true", help="run nothing; report the cached results")
    args = parser.parse_args()

    results_path = RESULTS / "bench_mutation.json"
    previous = json.loads(results_path.read_text(encoding="utf-8")) if results_path.exists() else {}
    runs = {module["name"]: module.get("last_run") for module in previous.get("modules", [])}
    fresh_runs = {module["name"]: module.get("last_fresh_run") for module in previous.get("modules", [])}
    fresh_runs |= {name: r for name, r in runs.items() if r and r["fresh"]}
    if not args.report_only:
        for name in args.module or [target.name for target in TARGETS]:
            print(f"mutating {BY_NAME[name].source} against {BY_NAME[name].tests} ...", flush=True)
            runs[name] = run(BY_NAME[name], fresh=args.fresh, max_children=args.max_children)
            if runs[name]["fresh"]:
                fresh_runs[name] = runs[name]
            print(f"    {runs[name]['seconds']:.0f} s", flush=True)

    equivalent = load_equivalent()
    modules = []
    for target in TARGETS:
        if not exit_codes(target):
            continue
        summary = summarise(target, equivalent) | {
            "name": target.name,
            "last_run": runs.get(target.name),
            "last_fresh_run": fresh_runs.get(target.name),
        }
        modules.append(summary)

    out = Section("bench_mutation", "Mutation testing: the share of mutants each module's fast tests kill", COMMAND)
    out(
        "mutmut 3.8.1 mutates one module at a time and runs **that module's own fast test file** against each mutant "
        f"(markers `{MARKERS}` deselected). Score = (killed + out of time) / (mutants − equivalent); goal ≥ "
        f"{GOAL:.0%} in each module. Equivalent mutants come from the reviewed list "
        "`benchmarks/mutation_equivalent.yaml`, each checked against the mutant's diff."
    )
    out()
    out("| module | tests | mutants | killed | out of time | equivalent | survived | score | goal |")
    out("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for m in modules:
        score = "—" if m["score"] is None else f"{m['score']:.1%}"
        met = "met" if m["score"] is not None and m["score"] >= GOAL and not m["not_checked"] else "**not met**"
        out(
            f"| `{m['module']}` | `{m['tests']}` | {m['mutants']} | {m['killed']} | {m['timeout']} | "
            f"{len(m['equivalent'])} | {len(m['survived'])} | {score} | {met} |"
        )
    missing = [t.source for t in TARGETS if t.name not in {m["name"] for m in modules}]
    if missing:
        out()
        out(f"Not yet run: {', '.join(f'`{s}`' for s in missing)}.")
    for m in modules:
        if m["not_checked"]:
            out()
            out(f"`{m['module']}`: {len(m['not_checked'])} mutants not checked (an interrupted run); run it again.")
    out()
    out("Equivalent mutants (no test can tell them from the original), with the reason reviewed for each:")
    out()
    listed = [(m["module"], e) for m in modules for e in m["equivalent"]]
    if not listed:
        out("- none")
    for module, entry in listed:
        change = " / ".join(f"`{line}`" for line in entry["diff"]) or "(no change shown)"
        out(f"- `{module}` `{entry['mutant'].rpartition('.')[2]}`: {change} — {entry['why']}")
    survivors = [(m["module"], e) for m in modules for e in m["survived"]]
    if survivors:
        out()
        out(f"Surviving mutants no test kills yet ({len(survivors)}):")
        out()
        for module, entry in survivors:
            change = " / ".join(f"`{line}`" for line in entry["diff"]) or "(no change shown)"
            out(f"- `{module}` `{entry['mutant'].rpartition('.')[2]}`: {change}")
    fresh = [(m["module"], m["last_fresh_run"]) for m in modules if m.get("last_fresh_run")]
    if fresh:
        out()
        total = sum(r["seconds"] for _, r in fresh)
        whole = "all modules" if len(fresh) == len(TARGETS) else f"{len(fresh)} of {len(TARGETS)} modules"
        out(
            f"A run from empty caches (`--fresh`, wall time at nice 19 on the shared 2-core machine): "
            f"{total / 60:.0f} min for {whole} — "
            + ", ".join(f"`{module}` {r['seconds']:.0f} s" for module, r in fresh)
            + "."
        )
    cached = [(m["module"], m["last_run"]) for m in modules if m.get("last_run") and not m["last_run"]["fresh"]]
    if cached:
        out(
            "Re-runs from the cache test only changed functions, new tests and the survivors of changed tests: "
            + ", ".join(f"`{module}` {r['seconds']:.0f} s" for module, r in cached)
            + " (the latest)."
        )
    out.save()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps({"goal": GOAL, "modules": modules}, indent=2, ensure_ascii=False) + "\n")
    used = {(m["name"], e["mutant"]) for m in modules for e in m["equivalent"]}
    for module, mutant in sorted(set(equivalent) - used):
        if any(m["name"] == module for m in modules):
            print(f"unused entry in {EQUIVALENT.name}: {module} {mutant} is no survivor now; remove it")
    stale = [(m["module"], s["mutant"]) for m in modules for s in m["stale_equivalent_entries"]]
    for module, mutant in stale:
        print(f"stale entry in {EQUIVALENT.name}: {module} {mutant} no longer matches its diff; review it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
