"""The same run on one local process and on a Dask cluster of 1, 2 and 4 workers (same total concurrency), against
a local OpenAI-compatible endpoint with a fixed latency; then the cluster path's own cost per cell.

- Scaling: 2,000 cells, L = 200 ms, total concurrency C = 32 (each of n workers gets C/n). Reported: wall time,
  cells/s and the ratio against the local process measured in the same run.
- Overhead: the same cells against a zero-latency endpoint, local vs 2 workers: (cluster wall − local wall) / cells
  is what the cluster path adds per cell; the driver's CPU per cell is what one driver pays to record results,
  whatever the number of workers — the figure a 100-worker estimate rests on.

Everything (endpoint, scheduler, workers, driver) shares this machine's cores: on 2 cores the workers compete with
the endpoint and the driver, so the scaling column measures the path, not a cluster's real capacity.

Usage: python benchmarks/bench_cluster.py [--cells 2000] [--latency 0.2] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench.pipeline import run
from workbench.prompts import PromptTemplate
from workbench.testing.dask_cluster import DaskCluster
from workbench.testing.fake_openai import free_port, wait_for_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import Section  # noqa: E402

T = PromptTemplate.from_string("---\nname: spread\nassertions: [{type: contains, value: echo}]\n---\nRow {{ i }}")


def endpoint(latency: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    args = [sys.executable, "-m", "workbench.testing.fake_openai", "--port", str(port), "--latency", str(latency)]
    process = subprocess.Popen(args)
    wait_for_port(port, process=process)
    return process, f"openai:fake-model@http://127.0.0.1:{port}/v1"


def timed_run(spec: str, cells: int, concurrency: int, store: Path, cluster: str | None) -> tuple[float, float, int]:
    rows = [{"id": f"r{i}", "i": i} for i in range(cells)]
    cpu, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    result = run(T, rows, [spec], store=store, progress=False, cache=False, concurrency=concurrency, cluster=cluster)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    driver_cpu = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    lost = sum(1 for r in result.records if r.error) + (cells - len(result.records))
    return wall, driver_cpu, lost


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    process, spec = endpoint(args.latency)
    rows = []
    try:
        local = timed_run(spec, args.cells, args.concurrency, folder / "local.db", None)
        rows.append(("one local process (baseline)", local))
        for workers in (1, 2, 4):
            with DaskCluster(workers=workers, threads=4) as cluster:
                measured = timed_run(spec, args.cells, args.concurrency, folder / f"w{workers}.db", cluster.address)
            rows.append((f"Dask, {workers} worker(s), {args.concurrency // workers} each", measured))
    finally:
        process.terminate()
        process.wait(timeout=10)
    out = Section("bench_cluster", "A Dask cluster", "python benchmarks/bench_cluster.py")
    out(
        "The same cells against a fixed-latency endpoint from one local process (the baseline) and through a real Dask "
        "scheduler with 1, 2 and 4 worker processes on the same cores (so this measures the overhead of the cluster "
        "path, not a speed-up: one machine cannot run more requests at once by adding processes).\n"
    )
    out(f"{args.cells} cells, endpoint latency {args.latency * 1000:.0f} ms, total concurrency {args.concurrency}\n")
    out("| how | wall | cells/s | vs local | driver CPU | failed or lost |")
    out("|---|---|---|---|---|---|")
    base = local[0]
    for name, (wall, cpu, lost) in rows:
        out(f"| {name} | {wall:.1f} s | {args.cells / wall:.0f} | {base / wall:.2f}× | {cpu:.1f} s | {lost} |")
    overhead(out, args.cells, folder)
    driver_killed(out, folder)
    out.save()


def overhead(out: Section, cells: int, folder: Path) -> None:
    """Local vs one worker (the same work in one process either way) against a zero-latency endpoint."""
    process, spec = endpoint(0.0)
    try:
        local = timed_run(spec, cells, 32, folder / "o-local.db", None)
        with DaskCluster(workers=1, threads=4) as cluster:
            spread = timed_run(spec, cells, 32, folder / "o-cluster.db", cluster.address)
    finally:
        process.terminate()
        process.wait(timeout=10)
    added_ms = (spread[0] - local[0]) / cells * 1000
    driver_ms = spread[1] / cells * 1000
    out()
    out(
        f"zero-latency endpoint, {cells} cells: local {local[0]:.1f} s, 1 worker {spread[0]:.1f} s → the cluster "
        f"path adds {added_ms:.2f} ms of wall time per cell; the driver spends {driver_ms:.2f} ms of CPU per cell "
        "(plan, shards out, results in, one store write per shard)"
    )
    print(json.dumps({"added_ms_per_cell": added_ms, "driver_cpu_ms_per_cell": driver_ms}))


DRIVER = """
import sys
from workbench.pipeline import run
from workbench.prompts import PromptTemplate
T = PromptTemplate.from_string("---\\nname: spread\\nassertions: [{type: contains, value: echo}]\\n---\\nRow {{ i }}")
rows = [{"id": f"r{i}", "i": i} for i in range(int(sys.argv[4]))]
run(T, rows, [sys.argv[1]], store=sys.argv[2], progress=False, cluster=sys.argv[3], concurrency=int(sys.argv[5]))
"""


def driver_killed(out: Section, folder: Path, cells: int = 600, concurrency: int = 8) -> None:
    """A driver SIGKILLed mid-run, then the same command again: how many model calls the cells cost in all."""
    import os
    import signal
    from collections import Counter

    from workbench.store import Store
    from workbench.testing.fake_openai import FakeOpenAIServer

    script = folder / "driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    store = folder / "killed.db"
    with DaskCluster(workers=2) as cluster, FakeOpenAIServer(latency=0.05) as server:
        args = [sys.executable, str(script), server.spec(), str(store), cluster.address, str(cells), str(concurrency)]
        first = subprocess.Popen(args)
        while not store.exists() or Store(store).stats()["results"] < cells // 3:
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        stored = Store(store).stats()["results"]
        time.sleep(1.0)
        subprocess.run(args, check=True, timeout=600)
        calls = Counter(r["prompt"] for r in server.requests)
    paid = sum(calls.values())
    out()
    out(
        f"driver killed after {stored} of {cells} cells were stored (2 workers, concurrency {concurrency}), then the "
        f"same command again: {paid} model calls for {cells} cells — {paid - cells} paid twice, the cells that were "
        f"in flight (at most {concurrency}: each worker's share of the concurrency)"
    )


if __name__ == "__main__":
    main()
