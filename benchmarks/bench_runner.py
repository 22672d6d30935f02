"""The batch harness against a local OpenAI-compatible endpoint with fixed latency L.

Reports, for each concurrency C: the workbench's throughput against the bare ``openai.AsyncOpenAI`` client doing
the same requests in the same run (aim: >= 0.95 at C=32, L=200 ms) and against the ideal C/L, and how many rows
were lost (must be 0); then cached re-run rows/s and the per-row overhead with a zero-latency model.

Usage: python benchmarks/bench_runner.py [--latency 0.05] [--rows 320]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from workbench.models.openai_compat import OpenAICompatibleModel
from workbench.pipeline import run
from workbench.prompts import PromptTemplate
from workbench.testing.fake_openai import FakeOpenAIServer, free_port
from workbench.testing.models import MockModel

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


def measure_workbench(spec: str, rows: list[dict], concurrency: int, store: str) -> tuple[float, int]:
    model = OpenAICompatibleModel(spec, concurrency=concurrency)
    start = time.perf_counter()
    result = run(TEMPLATE, rows, [model], store=store, progress=False, cache=False)
    rate = len(rows) / (time.perf_counter() - start)
    lost = sum(1 for r in result.records if r.error or r.output is None)
    return rate, lost


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rows", type=int, default=320)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    latency, n = args.latency, args.rows
    rows = [{"i": i} for i in range(n)]
    tmp = Path(tempfile.mkdtemp())
    print(
        f"endpoint latency L = {latency * 1000:.0f} ms, {n} rows per measurement, median of {args.rounds} "
        "interleaved rounds (raw client, then workbench)\n"
    )
    print(
        "| C | ideal C/L (rows/s) | bare AsyncOpenAI | workbench | workbench / bare | workbench / ideal | lost rows |"
    )
    print("|---|---|---|---|---|---|---|")
    with endpoint_process(latency) as server:
        for concurrency in (1, 8, 32):
            count = n if concurrency > 1 else max(20, n // 16)
            raws, ours, lost = [], [], 0
            for round_ in range(args.rounds):
                raws.append(asyncio.run(raw_baseline(server.base_url, count, concurrency)))
                rate, missing = measure_workbench(
                    server.spec(), rows[:count], concurrency, str(tmp / f"c{concurrency}-{round_}.db")
                )
                ours.append(rate)
                lost += missing
            raw, achieved, ideal = statistics.median(raws), statistics.median(ours), concurrency / latency
            print(
                f"| {concurrency} | {ideal:.1f} | {raw:.1f} | {achieved:.1f} | {achieved / raw:.2f} | "
                f"{achieved / ideal:.2f} | {lost} |"
            )
        model = OpenAICompatibleModel(server.spec(), concurrency=32)
        store = str(tmp / "cache.db")
        run(TEMPLATE, rows, [model], store=store, progress=False)
        start = time.perf_counter()
        cached = run(TEMPLATE, rows, [model], store=store, progress=False)
        cached_rate = n / (time.perf_counter() - start)
        assert cached.stats["called"] == 0
    overhead = {}
    for cache in (True, False):
        start = time.perf_counter()
        run(
            TEMPLATE,
            rows,
            [MockModel(default="echo", concurrency=32)],
            store=str(tmp / f"mock-{cache}.db"),
            progress=False,
            cache=cache,
        )
        overhead[cache] = (time.perf_counter() - start) / n * 1000
    print(f"\ncached re-run: {cached_rate:.0f} rows/s (0 model calls)")
    print(
        f"per-row overhead with a zero-latency model (plan, render, parse, score, one SQLite commit): "
        f"{overhead[True]:.2f} ms with the response cache written in the same commit, "
        f"{overhead[False]:.2f} ms without it"
    )


if __name__ == "__main__":
    main()
