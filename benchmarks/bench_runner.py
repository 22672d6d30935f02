"""`workbench run` as a whole process against a bare `openai.AsyncOpenAI` script doing the same requests.

What a user waits for is the process, start-up included, so both sides are timed as processes: a local
OpenAI-compatible endpoint (its own process) answers after a fixed latency L; in interleaved rounds the bare
script and `workbench run` make the same N requests at concurrency C. Reported: each side's median wall time,
the ratio bare / workbench (≥ 0.95 means the workbench costs at most 1/0.95 of the bare client's time), rows lost
(must be 0), and a cached re-run of the same rows (wall time of the whole `workbench run`, start-up included).

Usage: python benchmarks/bench_runner.py [--latency 0.2] [--rows 640] [--concurrency 32] [--rounds 5]
       [--cached-rows 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from workbench.store import Store
from workbench.testing.fake_openai import free_port, wait_for_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import Section  # noqa: E402

BARE = """
import asyncio, sys
import openai

async def main(base_url, rows, concurrency):
    client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
    gate = asyncio.Semaphore(concurrency)
    async def one(i):
        async with gate:
            reply = await client.completions.create(model="fake-model", prompt=f"Row {i}", max_tokens=64)
            return reply.choices[0].text
    texts = await asyncio.gather(*(one(i) for i in range(rows)))
    await client.close()
    assert all(texts)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""
PROMPT = "---\nname: bench\nassertions: [{type: contains, value: echo}]\n---\nRow {{ i }}\n"


@contextmanager
def endpoint(latency: float):
    """The fake endpoint in its own process, so it shares no GIL with what it measures."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.testing.fake_openai", "--port", str(port), "--latency", str(latency)]
    )
    try:
        wait_for_port(port, process=proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, done


def workbench_command(folder: Path, base_url: str, rows: Path, store: Path, concurrency: int, *flags: str) -> list[str]:
    spec = f"openai:fake-model@{base_url}"
    return [
        sys.executable,
        "-m",
        "workbench",
        "run",
        str(folder / "bench.prompty"),
        "-d",
        str(rows),
        "-m",
        spec,
        "--concurrency",
        str(concurrency),
        "--store",
        str(store),
        "-q",
        *flags,
    ]


def lost_rows(store: Path) -> int:
    opened = Store(store)
    run_id = opened.latest_run_id()
    return sum(1 for r in opened.results(run_id) if r.error or r.output is None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--rows", type=int, default=640)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cached-rows", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    (folder / "bench.prompty").write_text(PROMPT, encoding="utf-8")
    (folder / "bare.py").write_text(BARE, encoding="utf-8")
    rows = folder / "rows.csv"
    rows.write_text("i\n" + "\n".join(str(i) for i in range(args.rows)) + "\n", encoding="utf-8")
    env = {**os.environ, "COLUMNS": "120"}
    bare_times, ours, lost = [], [], 0
    with endpoint(args.latency) as base_url:
        for round_ in range(args.rounds):
            wall, _ = timed(
                [sys.executable, str(folder / "bare.py"), base_url, str(args.rows), str(args.concurrency)], env
            )
            bare_times.append(wall)
            store = folder / f"run-{round_}.db"
            Store(store).close()  # the store a user runs into exists; creating it is not what is measured
            wall, _ = timed(workbench_command(folder, base_url, rows, store, args.concurrency, "--no-cache"), env)
            ours.append(wall)
            lost += lost_rows(store)
        cached = cached_rerun(folder, base_url, args.cached_rows, args.concurrency, env, args.rounds)
        endpoint_rate = endpoint_alone(base_url, args.rows, args.concurrency)
    bare, mine = statistics.median(bare_times), statistics.median(ours)
    ideal = args.rows * args.latency / args.concurrency
    command = f"python benchmarks/bench_runner.py --latency {args.latency:g} --rows {args.rows} --rounds {args.rounds}"
    part = f"bench_runner.{int(round(args.latency * 1000))}ms"
    out = Section(part, f"The batch harness at {args.latency * 1000:g} ms endpoint latency", command)
    out(
        "A local OpenAI-compatible endpoint in its own process answers after a fixed latency; the workbench CLI and a "
        "bare `openai.AsyncOpenAI` script do the same requests as whole processes (start-up included), in "
        "interleaved rounds."
    )
    out()
    out(
        f"endpoint latency {args.latency * 1000:.0f} ms, {args.rows} rows at concurrency {args.concurrency}, "
        f"{args.rounds} interleaved rounds; whole processes, start-up included; the endpoint alone answers "
        f"{endpoint_rate:,.0f} requests/s (a client that does nothing else: is the stand-in the limit?)\n"
    )
    out("| what | median wall | rounds (s) |")
    out("|---|---|---|")
    out(f"| ideal: rows × L / C | {ideal:.2f} s | |")
    out(f"| bare `openai.AsyncOpenAI` script (baseline) | {bare:.2f} s | {', '.join(f'{t:.2f}' for t in bare_times)} |")
    out(f"| `workbench run --no-cache` | {mine:.2f} s | {', '.join(f'{t:.2f}' for t in ours)} |")
    out()
    out(
        f"bare / workbench = {bare / mine:.3f} (≥ 0.95: the workbench takes at most 1/0.95 of the bare time); "
        f"rows lost: {lost}"
    )
    out(f"cached re-run of {args.cached_rows} rows (`workbench run`, whole process): median {cached:.2f} s wall")
    out.save()
    print(json.dumps({"bare_s": bare, "workbench_s": mine, "ratio": bare / mine, "lost": lost, "cached_s": cached}))


def endpoint_alone(base_url: str, rows: int, concurrency: int) -> float:
    """Requests per second the stand-in answers when the client is raw httpx over one pool (no SDK on top)."""
    import asyncio

    import httpx

    async def go() -> float:
        body = {"model": "fake-model", "prompt": "Row 1", "max_tokens": 64}
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
            gate = asyncio.Semaphore(concurrency)

            async def one() -> None:
                async with gate:
                    (await client.post("/completions", json=body)).raise_for_status()

            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(rows)))
            return rows / (time.perf_counter() - start)

    return asyncio.run(go())


def cached_rerun(folder: Path, base_url: str, n: int, concurrency: int, env: dict[str, str], rounds: int) -> float:
    rows = folder / "cached.csv"
    rows.write_text("i\n" + "\n".join(str(i) for i in range(n)) + "\n", encoding="utf-8")
    store = folder / "cached.db"
    timed(workbench_command(folder, base_url, rows, store, concurrency), env)  # fills the cache
    walls = []
    for _ in range(rounds):
        wall, done = timed(workbench_command(folder, base_url, rows, store, concurrency), env)
        assert " 0 model calls" in done.stdout, done.stdout[-500:]
        walls.append(wall)
    return statistics.median(walls)


if __name__ == "__main__":
    main()
