"""A lease fences writes: once another process has taken a run over, the process that lost it writes nothing more
(ownership is checked in the same transaction as each write) and says so — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import update

from workbench.errors import LeaseLostError, StoreError
from workbench.pipeline import run
from workbench.prompts import PromptTemplate
from workbench.store import Store
from workbench.store.clock import now
from workbench.store.schema import runs
from workbench.testing.models import FunctionModel

T = PromptTemplate.from_string("---\nname: leased\nassertions: [{type: contains, value: ok}]\n---\nRow {{ i }}")
ROWS = [{"id": f"r{i}", "i": i} for i in range(40)]


def _take_over(store: Store, run_id: str) -> None:
    """What another process does when this one's heartbeat looked dead: it takes the run's lease."""
    statement = (
        update(runs).where(runs.c.id == run_id).values(lease_owner="elsewhere:1:intruder", lease_heartbeat=now())
    )
    store._write(lambda connection: connection.execute(statement))


def test_a_process_that_lost_its_lease_writes_nothing_more_and_says_so(store):
    taken = threading.Event()

    def answer(prompt: str) -> str:
        if int(prompt.split()[-1]) == 10 and not taken.is_set():
            _take_over(store, store.latest_run_id())
            taken.set()
        time.sleep(0.01)
        return "ok"

    with pytest.raises(
        LeaseLostError, match=r"stopped: another process .* took it over.*wrote nothing after"
    ) as caught:
        run(T, ROWS, [FunctionModel(answer, spec="function:leased", concurrency=1)], store=store, progress=False)
    run_id = store.latest_run_id()
    stored = store.result_count(run_id)
    assert taken.is_set() and stored <= 11, f"{stored} results: writes after the takeover landed"
    lease = store.run_lease(run_id)
    assert lease["lease_owner"] == "elsewhere:1:intruder" and lease["status"] == "running", "not ours to mark"
    assert f"stored {stored} of 40 cells" in str(caught.value)


def test_a_heartbeat_that_cannot_renew_for_a_whole_lease_counts_the_lease_as_lost(store, monkeypatch):
    import workbench.pipeline.lease as lease_module

    monkeypatch.setattr(lease_module, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(lease_module, "LEASE_SECONDS", 0.3)

    def unreachable(*args, **kwargs):
        raise StoreError("the store at postgresql://db is unreachable")

    monkeypatch.setattr(store, "heartbeat", unreachable)

    def slow(prompt: str) -> str:
        time.sleep(0.05)
        return "ok"

    with pytest.raises(LeaseLostError, match=r"could not be renewed for 0 s.*unreachable"):
        run(T, ROWS, [FunctionModel(slow, spec="function:slow", concurrency=1)], store=store, progress=False)
