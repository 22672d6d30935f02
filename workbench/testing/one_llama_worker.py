"""A pytest plugin: every test that loads llama.cpp runs on one pytest-xdist worker, one after another.

Two llama.cpp processes at once run 10–20x slower on 2 cores (ggml's threads spin), so ``make test`` runs the suite
with ``-n 2 --dist loadgroup`` and puts every test marked ``local_model``, ``notebooks`` or ``browser`` in one
``xdist_group``. pytest-xdist 3.8 tells its scheduler a test's group by appending ``@group`` to the test's id
(``item._nodeid``); pytest 9 keeps the id elsewhere (``item._id``), so that suffix never reaches the scheduler and
``loadgroup`` silently spreads the group over every worker. This plugin adds the group and, where xdist's suffix did
not take, writes it where pytest 9 reads the id — before the worker reports its collection to the scheduler.

A test marked ``no_llama`` stays out of the group even under one of those markers: a notebook run against a mock
endpoint, whose test makes sure llama.cpp is never loaded (``WORKBENCH_LOCAL_MODEL`` points at no file, so a load
would fail the test). It then runs on the other worker instead of adding to the group's time, after every other
test (collection order is the order xdist hands out work).

The group comes first in collection order, so the first worker takes it before anything else; the other worker runs
every other test at idle CPU priority, in sessions of the lowest weight (see :func:`_idle_priority`). ggml's threads
spin-wait on each other: a process that takes a core from one of them stalls both. Beside kernel-like neighbours
llama.cpp ran 4.4x slower at their normal priority, as slow at ``nice`` 19 or ``SCHED_IDLE``, and 1.01x at
``SCHED_IDLE`` in the lowest autogroup (``benchmarks/bench_priority.py``, BENCHMARKS.md). In ``make test`` the 01
optimiser cell took 69 s beside the light worker before, 15.8 s now; the light worker gets a core only when llama.cpp
leaves it free (the group's Python, kernel start-ups and waits leave about half of the second core).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

import pytest

HEAVY = ("local_model", "notebooks", "browser")  # they load llama.cpp: one at a time
GROUP = "llama"
NO_LLAMA = "no_llama"  # under a heavy marker, but the test keeps llama.cpp out: free to run beside the group


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker(NO_LLAMA) is None and any(item.get_closest_marker(name) for name in HEAVY):
            item.add_marker(pytest.mark.xdist_group(GROUP))
    # xdist hands out work in collection order: the group first (to the first worker), the no_llama tests last.
    items[:] = (
        [i for i in items if _in_group(i)]
        + [i for i in items if not _in_group(i) and i.get_closest_marker(NO_LLAMA) is None]
        + [i for i in items if not _in_group(i) and i.get_closest_marker(NO_LLAMA) is not None]
    )


def _in_group(item: pytest.Item) -> bool:
    mark = item.get_closest_marker("xdist_group")
    return mark is not None and _group_name(mark) == GROUP


_lowered = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """On an xdist worker under ``loadgroup``, the first test outside the group lowers this worker's priority for good
    (every process and thread it starts from then on inherits it)."""
    global _lowered
    if _lowered or _in_group(item) or not getattr(item.config.option, "loadgroup", False):
        return
    if os.environ.get("PYTEST_XDIST_WORKER"):
        _idle_priority()
        _lowered = True


def _idle_priority() -> None:
    """This worker, and every process it starts, at idle CPU priority. On Linux that takes three steps. The scheduler
    shares the cores between *autogroups* (one per session) before it looks at priorities inside one, and every
    notebook kernel starts its own session: a kernel at idle priority still got as much CPU as the llama.cpp kernel
    beside it. So the worker starts its own session with the lowest autogroup weight (it shared one with the llama
    worker), runs at ``SCHED_IDLE`` inside it, and a watcher gives each session its children start the same weight."""
    with contextlib.suppress(OSError):
        os.setsid()  # its own autogroup: lowering it must not lower the llama worker's
    _lower_autogroup(os.getpid())
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux
        os.nice(19 - os.nice(0))
    if Path("/proc/self/autogroup").exists():
        threading.Thread(target=_keep_descendants_lowered, name="lowest-autogroups", daemon=True).start()


def _lower_autogroup(pid: int) -> None:
    """The lowest weight (nice 19) for the autogroup of ``pid``; nothing where Linux has no autogroups."""
    path = Path(f"/proc/{pid}/autogroup")
    with contextlib.suppress(OSError):  # no autogroups, or the process has just ended
        if not path.read_text(encoding="ascii").rstrip().endswith("nice 19"):
            path.write_text("19", encoding="ascii")


def _keep_descendants_lowered() -> None:
    """Twice a second: a kernel, server or CLI process this worker started in a session of its own gets the lowest
    autogroup weight too (within half a second of its start)."""
    import psutil  # ipykernel's and Dask's dependency: installed wherever this plugin has kernels to lower

    me = psutil.Process()
    while True:
        with contextlib.suppress(psutil.Error):  # a child that ended while being listed
            for child in me.children(recursive=True):
                _lower_autogroup(child.pid)
        time.sleep(0.5)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    if not getattr(session.config.option, "loadgroup", False):  # set on xdist's workers under --dist loadgroup
        return
    for item in session.items:
        mark = item.get_closest_marker("xdist_group")
        if mark is None or item.nodeid.endswith(f"@{_group_name(mark)}"):
            continue
        _set_node_id(item, f"{item.nodeid}@{_group_name(mark)}")


def _group_name(mark: pytest.Mark) -> str:
    return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))


def _set_node_id(item: pytest.Item, node_id: str) -> None:
    try:
        from _pytest.nodeid import NodeId  # pytest >= 9
    except ImportError:  # pragma: no cover - pytest 8: xdist's own suffix works
        item._nodeid = node_id
        return
    item._id = NodeId.parse(node_id)
