"""Tool calls: how well the local model picks a tool and fills its arguments, and what the agent loop costs.

A. Accuracy on the bundled tool-routing sets (``datasets/tool_routing_{en,zh}.jsonl``, 36 rows each: weather,
   currency, units, calendar, search, and small talk that must call nothing), through ``wb.run`` on ``local`` with
   the library's ``tool_router_{en,zh}`` templates, in three ways:
   - ``grammar``: generation under the JSON-schema grammar built from the tools (as shipped);
   - ``logprob``: the tool chosen by the log-probability of each tool's name (``output.method: logprob``), then
     the arguments generated under that tool's grammar;
   - ``free``: unconstrained generation (``output.constrain: false``), the reply parsed afterwards.
   For each: tool-choice accuracy (the first call's tool, or no call, is the expected one), argument accuracy (of
   the rows with expected arguments whose tool was right, the arguments match), and the pass rate of the template's
   ``tool_calls`` assertion — each with its Wilson 95 % interval; the chance level is 1/6 (six classes of equal size).
B. The agent loop's overhead: ``wb.run`` on a template with a Python tool against a local OpenAI-compatible stand-in
   with fixed latency (each row: a call, the tool, the final answer — two requests), against a bare
   ``openai.AsyncOpenAI`` loop doing the same requests and tool calls at the same concurrency, in the same run.

Figures go to ``benchmarks/results/bench_tools.json`` (the ``tools_{lang}`` gates of ``workbench/course/gates.py``
rest on them, each measured on the rows it gates); the printed section to ``benchmarks/results/bench_tools.md``
(``python benchmarks/render_benchmarks.py`` puts it into BENCHMARKS.md).

Usage: python benchmarks/bench_tools.py [--skip-accuracy] [--skip-overhead] [--langs en,zh] [--rows 200]
       [--latency 0.05] [--concurrency 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import workbench as wb
from workbench.course.evidence import proportion, write_figures
from workbench.stats import wilson_interval

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from sections import Section  # noqa: E402

SCRIPT = Path(__file__).name
MODES = {
    "grammar": {},
    "logprob": {"method": "logprob"},
    "free": {"constrain": False},
}
SHIPPED = "grammar"  # the mode the library templates use as written (the gates' figures are measured in it)


def _interval(passed: int, n: int) -> str:
    low, high = wilson_interval(passed, n) or (0.0, 0.0)
    return f"{passed}/{n} = {passed / n:.0%} ({low:.0%}–{high:.0%})" if n else "–"


def first_tool(calls: list[dict] | None) -> str:
    return str(calls[0]["name"]) if calls else "(none)"


def accuracy(lang: str, store_dir: str, out: Section) -> list:
    """Section A for one language: a line per mode, and the figures (the gates' on the row sets they gate)."""
    from workbench.course.gates import GATE_BARS

    template = wb.load_prompt(f"tool_router_{lang}")
    dataset = f"datasets/tool_routing_{lang}.jsonl"
    rows = wb.load_dataset(ROOT / dataset).rows
    ids = [str(row["id"]) for row in rows]
    figures = []
    for mode, output in MODES.items():
        variant = template.with_changes(output={**template.output, **output}) if output else template
        start = time.perf_counter()
        store = f"{store_dir}/{lang}-{mode}.db"  # a store per variant: each is the template's v1 with other settings
        result = wb.run(variant, ROOT / dataset, ["local"], store=store, progress=False, cache=False)
        seconds = time.perf_counter() - start
        by_id = {r.row_id: r for r in result.records}
        chosen = [row_id for row_id, row in zip(ids, rows, strict=True) if _right_tool(by_id[row_id], row)]
        with_arguments = [i for i, row in zip(ids, rows, strict=True) if _has_arguments(row) and i in chosen]
        argued = [i for i in with_arguments if by_id[i].passed]
        passed = [i for i in ids if by_id[i].passed]
        n = len(ids)
        out(
            f"| {lang} | {mode} | {_interval(len(chosen), n)} | {_interval(len(argued), len(with_arguments))} | "
            f"{_interval(len(passed), n)} | {n / seconds:.2f} |"
        )
        base = f"local/{template.ref}/tool_routing_{lang}/{mode}"
        what = f"local, greedy: {template.ref} on {dataset} ({mode})"
        common = {"script": SCRIPT, "dataset": dataset}
        figures.append(proportion(f"{base}/choice", f"{what}: tool choice", len(chosen), n, row_ids=ids, **common))
        figures.append(proportion(f"{base}/pass", f"{what}: tool_calls passed", len(passed), n, row_ids=ids, **common))
        if mode != SHIPPED:
            continue
        for key in GATE_BARS:  # the gates' figures: the shipped mode on exactly the rows each bar gates
            gate, stem, count = key.split("/")
            if gate != f"tools_{lang}":
                continue
            gated = ids[: int(count)]
            hits = sum(bool(by_id[i].passed) for i in gated)
            what_gate = f"local, greedy: {template.ref} on the first {count} rows of {dataset} (gate {gate})"
            figures.append(proportion(f"gate/{key}", what_gate, hits, len(gated), row_ids=gated, **common))
    return figures


def _right_tool(record, row) -> bool:
    return first_tool(record.tool_calls) == first_tool(row["expected_tool_calls"])


def _has_arguments(row) -> bool:
    expected = row["expected_tool_calls"]
    return bool(expected) and "arguments" in expected[0]


# -- B. the loop's overhead ------------------------------------------------------------------------------------------
OVERHEAD_TEMPLATE = """---
name: bench_tool_loop
model: {parameters: {temperature: 0, max_tokens: 16}}
tools: [lookup]
assertions: [{type: tool_calls, arguments: ignore}]
---
user:
{{ query }}"""


def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


def responder(body: dict) -> list | str:
    last = body["messages"][-1]
    if last["role"] == "tool":
        return f"done: {last['content']}"
    return [{"name": "lookup", "arguments": {"key": last["content"]}}]


async def bare_loop(base_url: str, queries: list[str], concurrency: int) -> float:
    """The same work with the official client and nothing else: call, run the tool, send its result, answer."""
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0)
    tools = [wb.tool(lookup).workbench_tool.openai()]
    gate = asyncio.Semaphore(concurrency)

    async def one(query: str) -> str:
        messages: list = [{"role": "user", "content": query}]
        async with gate:
            for _ in range(5):
                reply = await client.chat.completions.create(
                    model="fake-model", messages=messages, tools=tools, temperature=0, max_tokens=16
                )
                message = reply.choices[0].message
                if not message.tool_calls:
                    return message.content or ""
                messages.append(message.model_dump(exclude_none=True))
                for call in message.tool_calls:
                    result = lookup(**json.loads(call.function.arguments))
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        return ""

    start = time.perf_counter()
    answers = await asyncio.gather(*(one(q) for q in queries))
    seconds = time.perf_counter() - start
    await client.close()
    assert all(a.startswith("done: value of") for a in answers), answers[:3]
    return len(queries) / seconds


def overhead(rows: int, latency: float, concurrency: int, rounds: int, out: Section) -> None:
    import jsonschema  # noqa: F401 - its first import takes seconds; a process pays it once, before this timing

    from workbench.testing.fake_openai import FakeOpenAIServer

    wb.tool(lookup)
    template = wb.PromptTemplate.from_string(OVERHEAD_TEMPLATE)
    queries = [f"key{i}" for i in range(rows)]
    data = [{"id": q, "query": q, "expected_tool_calls": '[{"name": "lookup"}]'} for q in queries]
    bare, ours = [], []
    with FakeOpenAIServer(latency=latency, tool_responder=responder) as server, tempfile.TemporaryDirectory() as tmp:
        for round_ in range(rounds):  # interleaved, so a busy machine slows both alike
            bare.append(asyncio.run(bare_loop(server.base_url, queries, concurrency)))
            start = time.perf_counter()
            result = wb.run(
                template,
                data,
                [server.spec()],
                store=f"{tmp}/r{round_}.db",
                progress=False,
                cache=False,
                concurrency=concurrency,
            )
            ours.append(rows / (time.perf_counter() - start))
            assert all(r.passed for r in result.records) and all(len(r.trajectory) == 2 for r in result.records)
    b, o = statistics.median(bare), statistics.median(ours)
    out(
        f"{rows} rows × 2 requests, {latency * 1000:.0f} ms per request, concurrency {concurrency}, median of {rounds} "
        "interleaved rounds (a fresh store each round):"
    )
    out()
    out("```")
    out(f"bare AsyncOpenAI tool loop   {b:7.1f} rows/s   (baseline, 1.00×)")
    out(f"wb.run agent loop            {o:7.1f} rows/s   ({o / b:.2f}× the bare loop; store and scoring included)")
    out("```")


def main() -> None:  # noqa: D103
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--langs", default="en,zh")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    out = Section("bench_tools", "Tool calls", "python benchmarks/bench_tools.py")
    if not args.skip_accuracy:
        out("### A. Tool choice on the local model (Gemma 3 270M base, greedy), with Wilson 95% intervals")
        out()
        out(
            "`tool_router_{en,zh}` over `datasets/tool_routing_{en,zh}.jsonl` (36 rows each, six classes of 6: "
            "chance 1/6 = 17%). *grammar*: generated under the JSON-schema grammar built from the tools (as shipped); "
            "*logprob*: the tool chosen by the log-probability of its name, then its arguments under its grammar; "
            "*free*: unconstrained generation, parsed afterwards. *choice*: the first call's tool (or no call) is the "
            "expected one; *arguments*: of the rows with expected arguments whose tool was right, the arguments match "
            "(partial, text case-insensitive, numbers ±0.01); *passed*: the template's `tool_calls` assertion."
        )
        out()
        out("| lang | mode | choice | arguments | passed | rows/s |")
        out("|---|---|---|---|---|---|")
        figures = []
        with tempfile.TemporaryDirectory() as tmp:
            for lang in args.langs.split(","):
                figures += accuracy(lang, tmp, out)
        write_figures(figures)
        out()
    if not args.skip_overhead:
        out("### B. The agent loop's overhead against a bare `AsyncOpenAI` tool loop")
        out()
        overhead(args.rows, args.latency, args.concurrency, args.rounds, out)
    out.save()


if __name__ == "__main__":
    sys.exit(main())
