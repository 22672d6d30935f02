"""The client at scale: a run's wall time, rows/s and peak memory at 2,000 / 20,000 / 100,000 rows, a cached re-run,
and the stored-run commands at that size — each against a baseline measured in the same run.

- Runs: a local OpenAI-compatible endpoint in its own process (no added latency: what a local vLLM or llama.cpp
  server looks like to a client); the bare ``openai.AsyncOpenAI`` script and ``workbench run --no-cache`` make the
  same requests as whole processes. Peak RSS per process comes from ``wait4``; the workbench's memory per cell is
  (peak RSS at N rows − peak RSS at 10 rows) / N — what grows with the run, not the interpreter and its imports.
- A cached re-run of the same N rows: rows/s of the whole process.
- The store at the largest size (two prompt versions over N/2 rows each: N results), on SQLite and on PostgreSQL
  (a server this script starts on 127.0.0.1): ``runs list``, ``runs trend``, ``runs compare`` (the two versions,
  N/2 pairs) and ``runs export`` (one run to CSV) as whole processes; the baseline is ``workbench --help`` (start-up).

Usage: python benchmarks/bench_scale.py [--rows 2000 20000 100000] [--rounds 1]
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
PROMPT = "---\nname: scale\nversion: {v}\nassertions: [{{type: contains, value: echo}}]\n---\nRow {{{{ i }}}}\n"


@contextmanager
def endpoint():
    from workbench.testing.fake_openai import free_port, wait_for_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "workbench.testing.fake_openai", "--port", str(port)])
    try:
        wait_for_port(port, process=proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_process(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one whole process (peak from wait4's rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    import threading

    chunks: dict[str, str] = {}

    def drain(name: str, stream: object) -> None:
        chunks[name] = stream.read()  # type: ignore[attr-defined]

    readers = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    for reader in readers:
        reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command[:5])} failed ({proc.returncode}): {chunks.get('err', '')[-2000:]}")
    return wall, usage.ru_maxrss / 1024, chunks.get("out", "")


def write_inputs(folder: Path, rows: int) -> Path:
    data = folder / f"rows-{rows}.csv"
    data.write_text("id,i\n" + "".join(f"r{i},{i}\n" for i in range(rows)), encoding="utf-8")
    return data


def workbench(*args: object) -> list[str]:
    return [sys.executable, "-m", "workbench", *map(str, args)]


def run_command(folder: Path, version: int, data: Path, url: str, store: str, *flags: str) -> list[str]:
    prompt = folder / f"scale-v{version}.prompty"
    prompt.write_text(PROMPT.format(v=version), encoding="utf-8")
    spec = f"openai:fake-model@{url}"
    return workbench("run", prompt, "-d", data, "-m", spec, "--store", store, "--concurrency", 32, "-q", *flags)


def scale(out: Section, folder: Path, sizes: list[int], rounds: int, env: dict[str, str]) -> str:
    """The runs at each size; returns the store of the largest, with two versions over half the rows each."""
    out(
        "| rows | bare script | `workbench run --no-cache` | bare / workbench | workbench rows/s | peak RSS bare | "
        "peak RSS workbench | KB per cell | cached re-run | cached rows/s |"
    )
    out("|---|---|---|---|---|---|---|---|---|---|")
    with endpoint() as url:
        small = write_inputs(folder, 10)
        _, fixed_rss, _ = run_process(run_command(folder, 1, small, url, str(folder / "small.db"), "--no-cache"), env)
        for n in sizes:
            data = write_inputs(folder, n)
            bare_walls, ours, peaks = [], [], []
            for round_ in range(rounds):
                wall, bare_rss, _ = run_process([sys.executable, str(folder / "bare.py"), url, str(n), "32"], env)
                bare_walls.append(wall)
                store = str(folder / f"run-{n}-{round_}.db")
                wall, rss, _ = run_process(run_command(folder, 1, data, url, store, "--no-cache"), env)
                ours.append(wall)
                peaks.append(rss)
            cache_store = str(folder / f"cached-{n}.db")
            run_process(run_command(folder, 1, data, url, cache_store), env)  # fills the cache
            cached, _, shown = run_process(run_command(folder, 1, data, url, cache_store), env)
            assert " 0 model calls" in shown, shown[-300:]
            bare, mine, rss = statistics.median(bare_walls), statistics.median(ours), max(peaks)
            per_cell = (rss - fixed_rss) * 1024 / n
            out(
                f"| {n:,} | {bare:.2f} s | {mine:.2f} s | {bare / mine:.3f} | {n / mine:,.0f} | {bare_rss:.0f} MB | "
                f"{rss:.0f} MB | {per_cell:.2f} | {cached:.2f} s | {n / cached:,.0f} |"
            )
        largest = max(sizes)
        store = str(folder / "queries.db")
        half = write_inputs(folder, largest // 2)
        for version in (1, 2):
            run_process(run_command(folder, version, half, url, store, "--no-cache"), env)
    out()
    out(
        f"Peak RSS of `workbench run` on 10 rows (the fixed part: interpreter, imports, the store): {fixed_rss:.0f} MB."
    )
    return store


def queries(out: Section, folder: Path, sqlite: str, env: dict[str, str], rounds: int) -> None:
    from workbench.store import Store
    from workbench.testing.postgres import PostgresServer, postgres_bin

    stores = {"SQLite": sqlite}
    server = None
    if postgres_bin() is not None:
        server = PostgresServer().start()
        stores["PostgreSQL"] = server.create_database("scale")
        run_process(workbench("store", "copy", sqlite, stores["PostgreSQL"]), env)
    try:
        runs = sorted(Store(sqlite).runs(), key=lambda r: r["started_at"])
        first, second = runs[0]["id"], runs[1]["id"]
        results = Store(sqlite).stats()["results"]
        commands = {
            "`workbench --help` (start-up, baseline)": workbench("--help"),
            "`runs list`": workbench("runs", "list", "--store", "{store}"),
            "`runs trend scale`": workbench("runs", "trend", "scale", "--store", "{store}"),
            f"`runs compare` ({results // 2:,} pairs)": workbench(
                "runs", "compare", first, second, "--store", "{store}"
            ),
            f"`runs export` ({results // 2:,} rows to CSV)": workbench(
                "runs", "export", second, str(folder / "export.csv"), "--store", "{store}"
            ),
        }
        out(f"\n### Stored-run commands at {results:,} results (whole processes, median of {rounds})\n")
        out("| command | " + " | ".join(stores) + " |")
        out("|---|" + "---|" * len(stores))
        for label, command in commands.items():
            cells = []
            for url in stores.values():
                walls = [run_process([c.replace("{store}", url) for c in command], env)[0] for _ in range(rounds)]
                cells.append(f"{statistics.median(walls):.2f} s")
            out(f"| {label} | " + " | ".join(cells) + " |")
    finally:
        if server is not None:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[2000, 20000, 100000])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    (folder / "bare.py").write_text(BARE, encoding="utf-8")
    env = {**os.environ, "COLUMNS": "120", "WORKBENCH_CACHE_DIR": str(folder / "cache")}
    sizes = " ".join(map(str, args.rows))
    out = Section("bench_scale", "The client at scale", f"python benchmarks/bench_scale.py --rows {sizes}")
    out(
        "An OpenAI-compatible endpoint in its own process answers at once; the bare `openai.AsyncOpenAI` script "
        "(baseline) and `workbench run --no-cache` make the same requests at concurrency 32, as whole processes. "
        "KB per cell is (peak RSS at N rows − peak RSS at 10 rows) / N.\n"
    )
    store = scale(out, folder, args.rows, args.rounds, env)
    queries(out, folder, store, env, max(3, args.rounds))
    out.save()
    print(json.dumps({"folder": str(folder)}))


if __name__ == "__main__":
    main()
