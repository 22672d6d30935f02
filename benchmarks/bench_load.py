"""What loading the local model costs each process that uses it (every notebook kernel, every CLI call, nbval's re-run).

``make test`` starts the model in dozens of processes, so a fixed cost per load is paid dozens of times on the
critical path. Each way is timed in fresh processes, interleaved round by round (a slow minute of the machine hits
every way alike), with the same prompt completed greedily after the load:

- the baseline: the server started as llama.cpp's defaults do, ``fit_params`` on (it first loads the model once
  more without allocating, to fit layers and context to free GPU memory);
- ``fit_params`` off, as :func:`workbench.models.llama_engine.llama_params` starts every server here;
- the whole first use by the workbench: ``default_model_path()`` (the bundled GGUF's path, its hash from the memo
  after the first time) plus the engine load, as a notebook kernel's first ``wb.run`` pays it.

Usage: python benchmarks/bench_load.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import Section  # noqa: E402

PROMPT = "The capital of France is"

# One load in a fresh process: prints the seconds to a loaded server and the greedy completion after it.
LOAD = r"""
import json, os, sys, tempfile, time
how = sys.argv[1]
start = time.perf_counter()
if how == "workbench":
    from workbench.models.local import LocalModel
    start = time.perf_counter()
    engine = LocalModel().engine
    loaded = time.perf_counter() - start
    answer = engine.complete({"prompt": sys.argv[2], "max_tokens": 8, "temperature": 0})
else:
    import xllamacpp
    from workbench.models.llama_engine import llama_params
    from workbench.models.local import default_model_path
    path = default_model_path()
    start = time.perf_counter()
    params = llama_params(path, n_ctx=2048, n_parallel=1, n_threads=int(sys.argv[3]))
    params.fit_params = how == "fit"
    params.hostnames = [os.path.join(tempfile.mkdtemp(), "load.sock")]
    server = xllamacpp.Server(params)
    loaded = time.perf_counter() - start
    answer = server.handle_completions({"prompt": sys.argv[2], "max_tokens": 8, "temperature": 0})
print(json.dumps({"seconds": loaded, "text": answer["choices"][0]["text"]}))
"""
WAYS = {
    "fit": "llama.cpp server, fit_params on (llama.cpp's default) — baseline",
    "nofit": "llama.cpp server, fit_params off (llama_params)",
    "workbench": "the workbench's first use: model path (hash from the memo) + engine load",
}


def load_once(how: str, threads: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", LOAD, how, PROMPT, str(threads)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from workbench.models.local import default_model_path, default_threads

    default_model_path()  # the GGUF assembled and its hash in the memo before any timing
    threads = default_threads()
    seconds: dict[str, list[float]] = {how: [] for how in WAYS}
    texts: dict[str, set[str]] = {how: set() for how in WAYS}
    for _ in range(args.rounds):
        for how in WAYS:
            result = load_once(how, threads)
            seconds[how].append(result["seconds"])
            texts[how].add(result["text"])
    baseline = statistics.median(seconds["fit"])
    out = Section(
        "bench_load",
        "Loading the local model, once per process",
        f"python benchmarks/bench_load.py --rounds {args.rounds}",
    )
    out(
        f"Gemma 3 270M (Q4_K_M), n_ctx 2048, {threads} llama.cpp threads; each load in a fresh process, median of "
        f"{args.rounds} interleaved rounds; then {PROMPT!r} completed greedily (8 tokens).\n"
    )
    out("| load | seconds | vs baseline | greedy completion after it |")
    out("|---|---|---|---|")
    for how, label in WAYS.items():
        median = statistics.median(seconds[how])
        same = " / ".join(repr(text) for text in sorted(texts[how]))
        out(f"| {label} | {median:.2f} | {median / baseline:.2f}× | {same} |")
    out()
    out(
        "`make test` loads the model in every notebook kernel (two runs per notebook plus nbval's re-run), every CLI "
        "call of the README and docs examples and every served model: each load pays this once."
    )
    out.save()


if __name__ == "__main__":
    main()
