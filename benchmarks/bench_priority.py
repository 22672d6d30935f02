"""llama.cpp beside a busy neighbour: why ``make test``'s light worker runs at idle priority in its own sessions.

The same 30 local completions, timed alone (the baseline) and beside a neighbour process that behaves like a notebook
kernel — short bursts of Python work between short sleeps, in a session of its own — started four ways: at normal
priority, at ``nice`` 19, at ``SCHED_IDLE``, and the way ``workbench/testing/one_llama_worker.py`` starts the light
worker's processes (``SCHED_IDLE`` in a session whose autogroup has the lowest weight). ggml's threads spin-wait on
each other, so a neighbour that takes a core from one of them stalls both; Linux shares the cores between autogroups
(one per session) before it looks at priorities inside one, so priority alone does not keep a kernel off llama.cpp.

Usage: python benchmarks/bench_priority.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import Section  # noqa: E402

# A kernel-like neighbour: ~5 ms of work, ~1 ms asleep, for ever; its argument says how it lowers itself first.
NEIGHBOUR = r"""
import os, sys, time
how = sys.argv[1]
if how == "nice":
    os.nice(19)
if how in ("idle", "idle+autogroup"):
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
if how == "idle+autogroup":
    with open("/proc/self/autogroup", "w") as group:
        group.write("19")
while True:
    end = time.perf_counter() + 0.005
    while time.perf_counter() < end:
        pass
    time.sleep(0.001)
"""
NEIGHBOURS = {
    "normal": "normal priority",
    "nice": "nice 19",
    "idle": "SCHED_IDLE",
    "idle+autogroup": "SCHED_IDLE, lowest autogroup (make test)",
}


def completions(engine, n: int = 30) -> float:
    start = time.perf_counter()
    for i in range(n):
        body = {"max_tokens": 8, "temperature": 0, "top_k": 1, "cache_prompt": False}
        engine.complete({**body, "prompt": f"Text: the service was {i} minutes late.\nOverall, it was"})
    return time.perf_counter() - start


def beside(engine, how: str) -> float:
    neighbours = [  # one per core: a light worker and the kernel it started, say
        subprocess.Popen([sys.executable, "-c", NEIGHBOUR, how], start_new_session=True)
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        time.sleep(0.5)
        return completions(engine)
    finally:
        for neighbour in neighbours:
            neighbour.kill()
            neighbour.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from workbench.models.local import LocalModel

    model = LocalModel()
    engine = model.engine
    completions(engine, 5)  # warm
    times: dict[str, list[float]] = {"alone": [], **{how: [] for how in NEIGHBOURS}}
    for _ in range(args.rounds):  # interleaved, so a slow minute of the machine hits every setting alike
        times["alone"].append(completions(engine))
        for how in NEIGHBOURS:
            times[how].append(beside(engine, how))
    alone = statistics.median(times["alone"])
    out = Section(
        "bench_priority",
        "llama.cpp beside a busy neighbour (why make test's light worker runs at idle priority)",
        f"python benchmarks/bench_priority.py --rounds {args.rounds}",
    )
    out(
        f"30 local completions (8 tokens each, {model.n_threads} llama.cpp threads, {os.cpu_count()} cores), median "
        f"of {args.rounds} interleaved rounds; beside one kernel-like neighbour per core (5 ms busy, 1 ms asleep, "
        "each in a session of its own).\n"
    )
    out("| llama.cpp runs | seconds | vs alone |")
    out("|---|---|---|")
    out(f"| alone (baseline) | {alone:.2f} | 1.00× |")
    for how, label in NEIGHBOURS.items():
        seconds = statistics.median(times[how])
        out(f"| beside neighbours at {label} | {seconds:.2f} | {seconds / alone:.2f}× |")
    out()
    out(
        "Linux shares the cores between autogroups (one per session) before priorities inside one count, and every "
        "notebook kernel starts its own session: a niced or SCHED_IDLE kernel still takes its autogroup's share from "
        "ggml's spinning threads. `workbench/testing/one_llama_worker.py` gives the light worker a session of its own "
        "with the lowest autogroup weight and lowers every session its processes start."
    )
    out.save()


if __name__ == "__main__":
    main()
