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
"""

from __future__ import annotations

import pytest

HEAVY = ("local_model", "notebooks", "browser")  # they load llama.cpp: one at a time
GROUP = "llama"
NO_LLAMA = "no_llama"  # under a heavy marker, but the test keeps llama.cpp out: free to run beside the group


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker(NO_LLAMA) is None and any(item.get_closest_marker(name) for name in HEAVY):
            item.add_marker(pytest.mark.xdist_group(GROUP))
    # The no_llama tests run last: xdist hands out work in collection order, so they land on the light worker's idle
    # tail (it finished ~10 min before the llama group in make test) instead of crowding its busy start.
    items[:] = [i for i in items if i.get_closest_marker(NO_LLAMA) is None] + [
        i for i in items if i.get_closest_marker(NO_LLAMA) is not None
    ]


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
