"""Runs on a real Dask cluster (a scheduler and two worker processes on 127.0.0.1): every cell once, the workers
named, a worker killed mid-run loses nothing, a killed driver resumes, an unreachable scheduler is a clear error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from workbench.cluster.driver import in_flight_shards as IN_FLIGHT_SHARDS
from workbench.errors import ConfigError
from workbench.pipeline import run
from workbench.prompts import PromptTemplate
from workbench.store import Store
from workbench.testing.dask_cluster import DaskCluster
from workbench.testing.fake_openai import FakeOpenAIServer, free_port

pytestmark = pytest.mark.cluster
T = PromptTemplate.from_string("---\nname: spread\nassertions: [{type: contains, value: echo}]\n---\nRow {{ i }}")


@pytest.fixture(scope="module")
def cluster():
    with DaskCluster(workers=2) as dask:
        yield dask


def _rows(n: int) -> list[dict]:
    return [{"id": f"r{i}", "i": i} for i in range(n)]


def test_a_600_row_run_on_two_workers_stores_every_cell_once_and_names_the_workers(cluster, store_url):
    with FakeOpenAIServer(latency=0.005) as server:
        options = {"store": store_url, "progress": False, "cluster": cluster.address, "concurrency": 8}
        result = run(T, _rows(600), [server.spec()], **options)
        calls = Counter(r["prompt"] for r in server.requests)
    stored = Store(store_url).results(result.run_id)
    assert len(stored) == 600 and len({r.cell_key for r in stored}) == 600 and result.pass_rate == 1.0
    assert set(result.workers) == {"w1", "w2"} and sum(result.workers.values()) == 600
    assert {r.worker for r in stored} == {"w1", "w2"}, "each result says where it ran"
    assert max(calls.values()) == 1 and len(calls) == 600
    stored_run = Store(store_url).run(result.run_id)
    assert stored_run["origin"] == "python", "where it was started; where it ran is its provenance"
    assert stored_run["provenance"]["cluster"] == cluster.address


def test_a_worker_killed_mid_run_loses_nothing(tmp_path):
    with DaskCluster(workers=2) as dask, FakeOpenAIServer(latency=0.02) as server:
        store = tmp_path / "kill.db"
        at_kill = {}

        def kill_when_busy() -> None:
            deadline = time.time() + 60
            while time.time() < deadline and len(server.requests) < 60:
                time.sleep(0.02)
            at_kill["answered"] = len(server.requests)
            dask.kill_worker("w2")

        import threading

        killer = threading.Thread(target=kill_when_busy)
        killer.start()
        result = run(T, _rows(300), [server.spec()], store=store, progress=False, cluster=dask.address)
        killer.join()
    stored = Store(store).results(result.run_id)
    assert len(stored) == 300 and len({r.cell_key for r in stored}) == 300 and not any(r.error for r in stored)
    assert 60 <= at_kill["answered"] < 300, "the worker died mid-run, with work left"
    assert dask.workers["w2"].returncode is not None, "w2 is dead"
    late = [r for r in stored if r.worker == "w2"]
    assert len(late) < 300 and result.workers.get("w1", 0) + len(late) == 300, "w1 finished what w2 could not"


DRIVER = """
import sys
from workbench.pipeline import run
from workbench.prompts import PromptTemplate
T = PromptTemplate.from_string("---\\nname: spread\\nassertions: [{type: contains, value: echo}]\\n---\\nRow {{ i }}")
rows = [{"id": f"r{i}", "i": i} for i in range(200)]
result = run(T, rows, [sys.argv[1]], store=sys.argv[2], progress=False, cluster=sys.argv[3], concurrency=2)
print("stats", result.stats)
"""


def test_a_driver_killed_mid_run_resumes_calling_at_most_the_cells_in_flight_again(cluster, tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    store = tmp_path / "driver.db"
    with FakeOpenAIServer(latency=0.05) as server:
        args = [sys.executable, str(script), server.spec(), str(store), cluster.address]
        first = subprocess.Popen(args)
        deadline = time.time() + 120
        while time.time() < deadline and (not store.exists() or Store(store).stats()["results"] < 40):
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        stored_before = Store(store).stats()["results"]
        calls_before = len(server.requests)
        time.sleep(1.0)  # shards the dead driver left in flight finish (or are cancelled) on the workers
        again = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr[-2000:]
        calls = Counter(r["prompt"] for r in server.requests)
    (only,) = Store(store).runs()
    assert only["done"] == 200 and only["status"] == "completed"
    # a shard is one worker's share of the concurrency (2 over 2 workers: 1 cell); the driver keeps 2 per worker
    bound = IN_FLIGHT_SHARDS(2) * 1
    paid = sum(calls.values())
    print(f"driver killed after {stored_before} of 200 cells: {paid} model calls in all, {paid - 200} paid twice")
    assert paid <= 200 + bound, f"{paid} calls for 200 cells: more than the {bound} cells that can be in flight"
    assert max(calls.values()) <= 2 and calls_before >= stored_before
    assert f"'resumed': {stored_before}" in again.stdout


def test_an_unreachable_scheduler_fails_before_any_model_call(tmp_path):
    with FakeOpenAIServer() as server:
        unreachable = r"Cannot reach the Dask scheduler at tcp://127\.0\.0\.1:\d+.*dask scheduler"
        with pytest.raises(ConfigError, match=unreachable):
            run(T, _rows(3), [server.spec()], store=tmp_path / "s.db", cluster=f"tcp://127.0.0.1:{free_port()}")
        assert server.requests == []
    assert not Path(tmp_path / "s.db").exists() or Store(tmp_path / "s.db").stats()["runs"] == 0


def _listening(pid: int) -> set[str]:
    """Every address a process (and its children) listens on, as host:port."""
    import psutil

    process = psutil.Process(pid)
    found = set()
    for proc in [process, *process.children(recursive=True)]:
        for conn in proc.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                found.add(f"{conn.laddr.ip}:{conn.laddr.port}")
    return found


def test_the_cluster_the_workbench_starts_listens_on_loopback_only(cluster):
    """The scheduler, the workers (and any nanny or dashboard they would open) bind 127.0.0.1, never 0.0.0.0."""
    processes = [cluster.scheduler, *cluster.workers.values()]
    addresses = set().union(*(_listening(p.pid) for p in processes if p is not None))
    assert addresses, "the cluster listens somewhere"
    assert all(a.startswith("127.0.0.1:") for a in addresses), sorted(addresses)


def test_a_tls_scheduler_without_the_clients_certificates_says_which_settings_to_give(monkeypatch):
    from workbench.cluster.driver import connect

    for name in ("CA_FILE", "CLIENT__CERT", "CLIENT__KEY"):
        monkeypatch.delenv(f"DASK_DISTRIBUTED__COMM__TLS__{name}", raising=False)
    with pytest.raises(ConfigError, match="DASK_DISTRIBUTED__COMM__TLS__CA_FILE") as info:
        connect(f"tls://127.0.0.1:{free_port()}")
    assert "Nothing was run" in str(info.value)


def test_on_a_cluster_a_calibrated_judge_judges_no_cache_is_kept_and_arun_goes_there_too(
    cluster, tmp_path, monkeypatch
):
    """An llm_judge with min_kappa works on the workers (its calibration is read on the driver, which has the
    store); --no-cache writes no cache entry; arun honours cluster= and WORKBENCH_CLUSTER."""
    import asyncio

    from test_judge import LABELS, careful

    from workbench.judge import calibrate_judge
    from workbench.pipeline import arun

    root = Path(__file__).resolve().parent.parent
    store = str(tmp_path / "c.db")
    rows = [{"id": "q1", "question": "What is the capital of Australia?", "expected": "Canberra"}]
    with FakeOpenAIServer(responder=careful) as judge, FakeOpenAIServer(responder=lambda p: "It is Canberra.") as model:
        calibrate_judge("judge_en", root / LABELS, judge.spec(), store=store)
        cached_before = Store(store).cache_size()  # the calibration's own answers
        scorer = {"type": "llm_judge", "model": judge.spec(), "min_kappa": 0.6}
        template = PromptTemplate.from_string("---\nname: qa\n---\nQ: {{ question }}")
        judged = run(
            template,
            rows,
            [model.spec()],
            store=store,
            progress=False,
            cluster=cluster.address,
            scorers=[scorer],
            cache=False,
        )
        assert judged.records[0].error is None and judged.records[0].passed is True, judged.records[0]
        assert Store(store).cache_size() == cached_before, "--no-cache writes no cache entry, on a cluster too"
        via_arun = asyncio.run(arun(T, _rows(4), [model.spec()], store=store, progress=False, cluster=cluster.address))
        monkeypatch.setenv("WORKBENCH_CLUSTER", cluster.address)
        via_env = asyncio.run(arun(T, _rows(6), [model.spec()], store=store, progress=False, cache=False))
    assert set(via_arun.workers) <= {"w1", "w2"} and sum(via_arun.workers.values()) == 4
    assert sum(via_env.workers.values()) == 6, "WORKBENCH_CLUSTER sends arun's cells to the cluster"


def test_stop_ends_a_cluster_run_with_what_was_stored(cluster, tmp_path):
    import threading

    stop = threading.Event()
    with FakeOpenAIServer(latency=0.05) as server:
        threading.Timer(1.5, stop.set).start()
        with pytest.raises(KeyboardInterrupt):
            run(
                T,
                _rows(400),
                [server.spec()],
                store=tmp_path / "s.db",
                progress=False,
                cluster=cluster.address,
                concurrency=2,
                cancel_event=stop,
            )
    (stopped,) = Store(tmp_path / "s.db").runs()
    assert stopped["status"] == "interrupted" and 0 < stopped["done"] < 400
