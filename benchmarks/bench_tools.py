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
rest on them); ``--update BENCHMARKS.md`` writes the section this script prints into that file.

Usage: python benchmarks/bench_tools.py [--skip-accuracy] [--skip-overhead] [--rows 200] [--latency 0.05]
       [--update BENCHMARKS.md]
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
SCRIPT = Path(__file__).name
MODES = {
    "grammar": {},
    "logprob": {"method": "logprob"},
    "free": {"constrain": False},
}
HEADING = "## Tool calls — `python benchmarks/bench_tools.py`"


def _interval(passed: int, n: int) -> str:
    low, high = wilson_interval(passed, n) or (0.0, 0.0)
    return f"{passed}/{n} = {passed / n:.0%} ({low:.0%}–{high:.0%})" if n else "–"


def first_tool(calls: list[dict] | None) -> str:
    return str(calls[0]["name"]) if calls else "(none)"


def accuracy(lang: str, store: str) -> tuple[list[str], list]:
    """Section A for one language: a table of lines, and the figures."""
    template = wb.load_prompt(f"tool_router_{lang}")
    data = ROOT / "datasets" / f"tool_routing_{lang}.jsonl"
    rows = wb.load_dataset(data).rows
    lines, figures = [], []
    for mode, output in MODES.items():
        variant = template.with_changes(output={**template.output, **output}) if output else template
        start = time.perf_counter()
        result = wb.run(variant, data, ["local"], store=store, progress=False, cache=False, name=f"bench {mode}")
        seconds = time.perf_counter() - start
        by_id = {r.row_id: r for r in result.records}
        chosen = argued = argued_n = 0
        for row in rows:
            record = by_id[str(row["id"])]
            expected = row["expected_tool_calls"]
            right = first_tool(record.tool_calls) == first_tool(expected)
            chosen += right
            if expected and "arguments" in expected[0] and right:
                argued_n += 1
                argued += bool(record.passed)
        n, passed = len(rows), sum(bool(r.passed) for r in result.records)
        lines.append(
            f"| {lang} | {mode} | {_interval(chosen, n)} | {_interval(argued, argued_n)} | {_interval(passed, n)} "
            f"| {n / seconds:.2f} |"
        )
        base = f"local/tool_router_{lang}@v{template.version}/tool_routing_{lang}/{mode}"
        what = f"tool_router_{lang} on the local model ({mode})"
        figures.append(proportion(f"{base}/choice", f"{what}: tool choice", chosen, n, script=SCRIPT))
        figures.append(proportion(f"{base}/pass", f"{what}: tool_calls passed", passed, n, script=SCRIPT))
        if argued_n:
            figures.append(proportion(f"{base}/arguments", f"{what}: arguments", argued, argued_n, script=SCRIPT))
        print(lines[-1], flush=True)
    return lines, figures


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


def overhead(rows: int, latency: float, concurrency: int, rounds: int) -> list[str]:
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
    lines = [
        f"{rows} rows × 2 requests, {latency * 1000:.0f} ms per request, concurrency {concurrency}, median of {rounds} "
        "interleaved rounds:",
        "",
        "```",
        f"bare AsyncOpenAI tool loop   {b:7.1f} rows/s   (baseline, 1.00×)",
        f"wb.run agent loop            {o:7.1f} rows/s   ({o / b:.2f}× the bare loop; store and scoring included)",
        "```",
    ]
    print("\n".join(lines), flush=True)
    return lines


def section(accuracy_lines: list[str], overhead_lines: list[str]) -> str:
    parts = [HEADING, ""]
    if accuracy_lines:
        parts += [
            "### A. Tool choice on the local model (Gemma 3 270M base, greedy), with Wilson 95% intervals",
            "",
            "`tool_router_{en,zh}` over `datasets/tool_routing_{en,zh}.jsonl` (36 rows each, six classes of 6: chance"
            " 1/6 = 17%). *choice*: the first call's tool (or no call) is the expected one; *arguments*: of the rows"
            " with expected arguments whose tool was right, the arguments match (partial, numbers ±0.01); *passed*:"
            " the template's `tool_calls` assertion.",
            "",
            "| lang | mode | choice | arguments | passed | rows/s |",
            "|---|---|---|---|---|---|",
            *accuracy_lines,
            "",
        ]
    if overhead_lines:
        parts += ["### B. The agent loop's overhead against a bare `AsyncOpenAI` tool loop", "", *overhead_lines, ""]
    return "\n".join(parts)


def update(path: Path, text: str) -> None:
    """Replace this script's section of BENCHMARKS.md (from its heading to the next ``## ``), or append it."""
    content = path.read_text(encoding="utf-8")
    if HEADING in content:
        start = content.index(HEADING)
        end = content.find("\n## ", start + len(HEADING))
        content = content[:start] + text.rstrip("\n") + "\n" + (content[end:] if end != -1 else "")
    else:
        content = content.rstrip("\n") + "\n\n" + text
    path.write_text(content, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--langs", default="en,zh")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--update", type=Path, help="write the section into this file (BENCHMARKS.md)")
    args = parser.parse_args()
    accuracy_lines, figures = [], []
    if not args.skip_accuracy:
        with tempfile.TemporaryDirectory() as tmp:
            for lang in args.langs.split(","):
                lines, found = accuracy(lang, f"{tmp}/accuracy.db")
                accuracy_lines += lines
                figures += found
        write_figures(figures)
    overhead_lines = [] if args.skip_overhead else overhead(args.rows, args.latency, args.concurrency, args.rounds)
    text = section(accuracy_lines, overhead_lines)
    print("\n" + text)
    if args.update:
        update(args.update, text)


if __name__ == "__main__":
    sys.exit(main())
