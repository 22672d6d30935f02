"""The batch harness against a local OpenAI-compatible endpoint with fixed latency L.

Reports, for each concurrency C:
- achieved throughput as a fraction of the ideal C/L (aim: >= 0.9 at C=32),
- the same against a raw AsyncOpenAI loop (no workbench) measured in the same run,
then cached re-run rows/s and the per-row overhead with a zero-latency model.

Usage: python benchmarks/bench_runner.py [--latency 0.05] [--rows 320]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from workbench.models.openai_compat import OpenAICompatibleModel
from workbench.models.testing import MockModel
from workbench.pipeline import run
from workbench.prompts import PromptTemplate
from workbench.testing.fake_openai import FakeOpenAIServer, free_port

TEMPLATE = PromptTemplate.from_string("---\nname: bench\nassertions: [{type: contains, value: echo}]\n---\nRow {{ i }}")


async def raw_baseline(base_url: str, rows: int, concurrency: int) -> float:
    """The same requests through the bare openai client: what the endpoint allows without us."""
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with semaphore:
            await client.completions.create(model="fake-model", prompt=f"raw {i}", max_tokens=8)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(rows)))
    elapsed = time.perf_counter() - start
    await client.close()
    return rows / elapsed


@contextmanager
def endpoint_process(latency: float):
    """The fake endpoint in its own process, so it does not share a GIL with the harness it measures."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.testing.fake_openai", "--port", str(port), "--latency", str(latency)]
    )
    server = FakeOpenAIServer(port=port)  # only for its spec()/base_url helpers
    try:
        deadline = time.time() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rows", type=int, default=320)
    args = parser.parse_args()
    latency, n = args.latency, args.rows
    rows = [{"i": i} for i in range(n)]
    tmp = Path(tempfile.mkdtemp())
    print(f"endpoint latency L = {latency * 1000:.0f} ms, {n} rows per measurement\n")
    print(f"{'C':>3} {'ideal C/L':>10} {'workbench':>10} {'raw client':>10} {'wb/ideal':>9} {'wb/raw':>7}")
    with endpoint_process(latency) as server:
        for concurrency in (1, 8, 32):
            count = n if concurrency > 1 else max(20, n // 16)
            raw = asyncio.run(raw_baseline(server.base_url, count, concurrency))
            model = OpenAICompatibleModel(server.spec(), concurrency=concurrency)
            start = time.perf_counter()
            run(TEMPLATE, rows[:count], [model], store=str(tmp / f"c{concurrency}.db"), progress=False, cache=False)
            achieved = count / (time.perf_counter() - start)
            ideal = concurrency / latency
            print(
                f"{concurrency:>3} {ideal:>10.1f} {achieved:>10.1f} {raw:>10.1f} {achieved / ideal:>9.2f} "
                f"{achieved / raw:>7.2f}"
            )
        model = OpenAICompatibleModel(server.spec(), concurrency=32)
        store = str(tmp / "cache.db")
        run(TEMPLATE, rows, [model], store=store, progress=False)
        start = time.perf_counter()
        cached = run(TEMPLATE, rows, [model], store=store, progress=False)
        cached_rate = n / (time.perf_counter() - start)
        assert cached.stats["called"] == 0
    start = time.perf_counter()
    run(
        TEMPLATE,
        rows,
        [MockModel(default="echo", concurrency=32)],
        store=str(tmp / "mock.db"),
        progress=False,
        cache=False,
    )
    overhead_ms = (time.perf_counter() - start) / n * 1000
    print(f"\ncached re-run: {cached_rate:.0f} rows/s (0 model calls)")
    print(f"per-row overhead (zero-latency model: render, score, SQLite write): {overhead_ms:.2f} ms")


if __name__ == "__main__":
    main()
