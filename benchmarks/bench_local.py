"""The embedded local model: speed of the prefix cache, determinism, accuracy with intervals, the exam.

Every ratio is against a baseline measured in the same run, on the same rows:

A. ``sentiment_cloze_zh`` over ``datasets/reviews_zh_test.csv`` (200 held-out reviews), rows/s and accuracy:
   - bare llama.cpp (xllamacpp), each prompt evaluated whole from an empty cache — what ``reset()`` before
     every call did, i.e. the workbench before the prefix cache (the baseline, 1.00×);
   - bare llama.cpp reusing the KV cache of whatever prompt ran before (the practical limit; order-dependent);
   - the workbench (``wb.run`` on ``local``: prefix state restored per row, scoring, SQLite) — the target;
   - naive batching: 4 sequences decoded together (llama.cpp's continuous batching), kept only if it helps.
B. Determinism: the same rows forward, shuffled and as two subsets; how many outputs differ.
C. Accuracy with Wilson 95 % intervals: the cloze prompts, generation vs log-probability scoring, on the bundled
   24-row sets and the held-out test sets (these numbers justify the gates in ``workbench/course/gates.py``).
D. The multiple-choice exam in two forms, per subject: options listed and the letter scored (``exam_mc``), and the
   cloze form (``exam_cloze``: each option's text scored as the answer), each against chance.

Figures (pass counts with their intervals) go to ``benchmarks/results/bench_local.json``: the gates in
``workbench/course/gates.py`` name the ones they rest on.

Usage: python benchmarks/bench_local.py [--rows 200] [--skip-speed] [--skip-accuracy] [--skip-gates] [--skip-exam]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import workbench as wb
from workbench.compare import wilson_interval
from workbench.course.evidence import Figure, proportion, write_figures
from workbench.datasets import load_dataset
from workbench.errors import OutputParseError
from workbench.models.llama_engine import llama_params
from workbench.models.local import default_model_path
from workbench.reports import breakdown
from workbench.stats import binom_test

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import Section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).name
THREADS = max(1, min(4, os.cpu_count() or 1))


def bare_server(parallel: int = 1):
    import xllamacpp

    params = llama_params(default_model_path(), n_ctx=2048 * parallel, n_parallel=parallel, n_threads=THREADS)
    params.cache_ram_mib = 0
    params.hostnames = [os.path.join(tempfile.mkdtemp(), "bench.sock")]
    return xllamacpp.Server(params)


def body(template: wb.PromptTemplate, prompt: str, cache: bool) -> dict:
    p = template.model.parameters
    return {
        "prompt": prompt,
        "max_tokens": p["max_tokens"],
        "temperature": 0,
        "top_k": 1,
        "stop": p["stop"],
        "seed": 0,
        "cache_prompt": cache,
    }


def accuracy(template: wb.PromptTemplate, outputs: list[str], expected: list[str]) -> tuple[int, int]:
    right = 0
    for out, want in zip(outputs, expected, strict=True):
        with contextlib.suppress(OutputParseError):  # an unparsed output is a wrong answer
            right += template.parser.parse(out) == template.parser.normalize_label(want)
    return right, len(outputs)


def timed(fn: Callable[[list[str]], list[str]], texts: list[str]) -> tuple[float, list[str]]:
    start = time.perf_counter()
    outputs = fn(texts)
    return len(texts) / (time.perf_counter() - start), outputs


METHODS = {
    "reset": "bare llama.cpp (xllamacpp), each prompt whole from an empty cache — baseline",
    "reuse": "bare llama.cpp reusing the previous prompt's KV cache (the practical limit; order-dependent)",
    "workbench": "workbench `local`: prefix state restored per row (+ parsing, scoring, SQLite)",
    "batched": "naive batching: 4 sequences decoded together (continuous batching)",
}


def method_runner(method: str, template: wb.PromptTemplate) -> Callable[[list[str]], list[str]]:
    """One way of answering the rows; each runs in its own process so engines never share a machine's threads."""
    if method in ("reset", "reuse"):
        server = bare_server()
        return lambda items: [
            server.handle_completions(body(template, template.render(text=t), method == "reuse"))["choices"][0]["text"]
            for t in items
        ]
    if method == "workbench":

        def workbench_run(items: list[str]) -> list[str]:
            result = wb.run(
                template,
                [{"text": t, "expected": "positive"} for t in items],
                ["local"],
                store=Path(tempfile.mkdtemp()) / "bench.db",
                cache=False,
                progress=False,
            )
            return [r.output for r in result.records]

        return workbench_run
    return _batched(template)


def measure(method: str, rows: int) -> None:
    """Child process: time one method over the rows (after a warm-up), then answer them shuffled; print JSON."""
    template = wb.load_prompt("sentiment_cloze_zh")
    texts = [r["text"] for r in load_dataset(ROOT / "datasets/reviews_zh_test.csv").head(rows)]
    fn = method_runner(method, template)
    fn(texts[:3])  # load the model and evaluate the prefix once, outside the timing
    rate, outputs = timed(fn, texts)
    shuffled = texts[:]
    random.Random(7).shuffle(shuffled)
    again = dict(zip(shuffled, fn(shuffled), strict=True))
    subsets = {}
    if method == "workbench":
        for index, subset in enumerate((texts[1::2], texts[len(texts) // 2 :])):
            subsets.update({f"{t}#{index}": o for t, o in zip(subset, fn(subset), strict=True)})
    print(
        json.dumps(
            {"rate": rate, "outputs": outputs, "shuffled": [again[t] for t in texts], "subsets": subsets},
            ensure_ascii=False,
        )
    )


def speed_section(rows: int, rounds: int) -> None:
    out = Section(
        "bench_local.speed",
        "The embedded local model: speed and determinism",
        f"python benchmarks/bench_local.py --skip-accuracy --skip-exam --skip-gates --rows {rows} --rounds {rounds}",
    )
    out(f"{os.cpu_count()} cores, {THREADS} llama.cpp threads; each method in its own process.")
    template = wb.load_prompt("sentiment_cloze_zh")
    data = load_dataset(ROOT / "datasets/reviews_zh_test.csv").head(rows)
    texts, expected = [r["text"] for r in data], [r["expected"] for r in data]
    results: dict[str, list[dict]] = {m: [] for m in METHODS}
    for _ in range(rounds):  # interleaved rounds: a slow minute on a shared machine hits every method alike
        for method in METHODS:
            done = subprocess.run(
                [sys.executable, __file__, "--measure", method, "--rows", str(rows)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[method].append(json.loads(done.stdout.strip().splitlines()[-1]))
    out(
        f"\n### A. {template.ref} over {len(texts)} held-out reviews (datasets/reviews_zh_test.csv), "
        f"median of {rounds} interleaved rounds, each method in its own process\n"
    )
    out(
        "| method | rows/s | vs baseline | accuracy | 95% CI | outputs that change when the rows are shuffled |\n"
        "|---|---|---|---|---|---|"
    )
    rate = {m: statistics.median(r["rate"] for r in runs) for m, runs in results.items()}
    for method, runs in results.items():
        right, n = accuracy(template, runs[0]["outputs"], expected)
        changed = sum(a != b for a, b in zip(runs[0]["outputs"], runs[0]["shuffled"], strict=True))
        ci = wilson_interval(right, n)
        out(
            f"| {METHODS[method]} | {rate[method]:.2f} | {rate[method] / rate['reset']:.2f}× | "
            f"{right}/{n} = {right / n:.1%} | {ci[0]:.1%}–{ci[1]:.1%} | {changed}/{n} |"
        )
    first = results["workbench"][0]
    forward = dict(zip(texts, first["outputs"], strict=True))
    shuffled_differ = sum(a != b for a, b in zip(first["outputs"], first["shuffled"], strict=True))
    subsets_differ = sum(forward[key.rsplit("#", 1)[0]] != out for key, out in first["subsets"].items())
    out(
        f"\n### B. Determinism of the workbench path\n\nThe same rows forward and shuffled: {shuffled_differ} of "
        f"{len(texts)} outputs differ; as two subsets (every other row; the second half — {len(first['subsets'])} "
        f"outputs): {subsets_differ} differ."
    )
    out.save()


def _batched(template: wb.PromptTemplate) -> Callable[[list[str]], list[str]]:
    server = bare_server(parallel=4)

    def run(items: list[str]) -> list[str]:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            replies = pool.map(
                lambda t: server.handle_completions(body(template, template.render(text=t), True)), items
            )
            return [r["choices"][0]["text"] for r in replies]

    return run


def accuracy_section() -> None:
    out = Section(
        "bench_local.accuracy",
        "The local model's accuracy (greedy), with Wilson 95% intervals",
        "python benchmarks/bench_local.py --skip-speed --skip-exam --skip-gates",
    )
    out("| prompt | scoring | dataset | passed | accuracy | 95% CI | unparsed |")
    out("|---|---|---|---|---|---|---|")
    sets = {
        "sentiment_cloze_en": ["sentiment_en.csv", "reviews_en_test.csv"],
        "sentiment_cloze_zh@v1": ["sentiment_zh.csv", "reviews_zh_test.csv"],
        "sentiment_cloze_zh": ["sentiment_zh.csv", "reviews_zh_test.csv"],
    }
    store = Path(tempfile.mkdtemp()) / "acc.db"
    figures: list[Figure] = []
    for name, files in sets.items():
        base = wb.load_prompt(name)
        by_logprob = base.with_changes(output={**base.output, "method": "logprob"}, version=base.version + 100)
        variants = [("generate + label words", base), ("log-probability of the label words", by_logprob)]
        for method, template in variants:
            for file in files:
                result = wb.run(template, ROOT / "datasets" / file, ["local"], store=store, cache=False, progress=False)
                judged = [r for r in result.records if r.passed is not None]
                passed = sum(bool(r.passed) for r in judged)
                unparsed = sum(1 for r in result.records if r.parsed is None)
                ci = wilson_interval(passed, len(judged))
                out(
                    f"| {base.ref} | {method} | {file} | {passed}/{len(judged)} | {passed / len(judged):.1%} | "
                    f"{ci[0]:.1%}–{ci[1]:.1%} | {unparsed} |"
                )
                scoring = "generate" if template is base else "logprob"
                figure_id = f"local/{base.ref}/{Path(file).stem}/{scoring}"
                what = f"local, greedy: {base.ref} on datasets/{file} ({method})"
                ids = [r.row_id for r in judged]
                figures.append(
                    proportion(
                        figure_id, what, passed, len(judged), script=SCRIPT, dataset=f"datasets/{file}", row_ids=ids
                    )
                )
    write_figures(figures)
    out.save()


def gates_section() -> None:
    """Each label gate's prompt on exactly the rows each of its bars gates (the first 12 and 24 rows of the bundled
    set, the first 24 and 100 held-out reviews): the figures the bars rest on."""
    from workbench.course.gates import GATE_BARS

    out = Section(
        "bench_local.gates",
        "The figures the cloze gates rest on, each measured on the rows it gates",
        "python benchmarks/bench_local.py --skip-speed --skip-accuracy --skip-exam",
    )
    out("| gate | prompt | rows | passed | 95% CI | bar |\n|---|---|---|---|---|---|")
    store = Path(tempfile.mkdtemp()) / "gates.db"
    figures = []
    for key in GATE_BARS:
        gate, stem, n = key.split("/")
        template = wb.load_prompt(f"sentiment_{gate}")
        dataset = f"datasets/{stem}.csv"
        result = wb.run(template, ROOT / dataset, ["local"], store=store, limit=int(n), progress=False)
        judged = [r for r in result.records if r.passed is not None and r.error is None]
        passed = sum(bool(r.passed) for r in judged)
        what = f"local, greedy: {template.ref} on the first {n} rows of {dataset} (gate {gate})"
        figure = proportion(
            f"gate/{key}", what, passed, len(judged), script=SCRIPT, dataset=dataset, row_ids=[r.row_id for r in judged]
        )
        figures.append(figure)
        out(
            f"| {gate} | {template.ref} | first {n} of {dataset} | {passed}/{len(judged)} | "
            f"{figure.low:.1%}–{figure.high:.1%} | {GATE_BARS[key]:.0%} |"
        )
    out()
    out(
        "Each bar sits at or below the lower end of the interval measured on the rows it gates (`tests/test_gates.py`)."
    )
    write_figures(figures)
    out.save()


def exam_section() -> None:
    """The exam in its two forms: options listed and a letter scored (MMLU's form), and the cloze form — the
    question alone, each option's text scored as the answer (how lm-evaluation-harness scores ARC)."""
    out = Section(
        "bench_local.exam",
        "A multiple-choice exam on the local model (48 questions, English and Chinese), per subject",
        "python benchmarks/bench_local.py --skip-speed --skip-accuracy --skip-gates",
    )
    store = Path(tempfile.mkdtemp()) / "exam.db"
    letters = wb.load_prompt("exam_mc")
    forms = [
        ("exam_mc, options listed, the letter scored by log-probability", letters),
        ("exam_cloze, the question alone, each option's text scored by log-probability", wb.load_prompt("exam_cloze")),
    ]
    figures = []
    for label, template in forms:
        result = wb.run(template, ROOT / "datasets/exam_mc.jsonl", ["local"], store=store, cache=False, progress=False)
        passed = sum(bool(r.passed) for r in result.records)
        given = dict(sorted(Counter(r.parsed for r in result.records).items()))
        p_chance = binom_test(passed, len(result.records), 0.25, alternative="greater")
        out(
            f"{label}: {passed}/{len(result.records)} = {result.pass_rate:.1%}; vs chance 25% one-sided exact "
            f"binomial p = {p_chance:.3g}; answers given: {given}\n"
        )
        out("| subject | passed | accuracy | 95% CI |\n|---|---|---|---|")
        for _, line in breakdown(result.records, "subject").iterrows():
            out(
                f"| {line['subject']} | {line['passed']}/{line['n']} | {line['pass_rate']:.0%} | "
                f"{line['ci95'][0]:.0%}–{line['ci95'][1]:.0%} |"
            )
        out()
        what = f"local, greedy: {template.ref} on datasets/exam_mc.jsonl (scored by log-probability)"
        ids = [r.row_id for r in result.records]
        figure_id = f"local/{template.ref}/exam_mc/logprob"
        figures.append(
            proportion(figure_id, what, passed, len(ids), script=SCRIPT, dataset="datasets/exam_mc.jsonl", row_ids=ids)
        )
    out(
        "The letter form of the exam is at chance for this 270M model; the cloze form is the one above chance, which "
        "is why `06_evaluation` gates on `exam_cloze`."
    )
    write_figures(figures)
    out.save()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-exam", action="store_true")
    parser.add_argument("--skip-gates", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: one method, in a child process
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.rows)
        return
    if not args.skip_speed:
        speed_section(args.rows, args.rounds)
    if not args.skip_accuracy:
        accuracy_section()
    if not args.skip_gates:
        gates_section()
    if not args.skip_exam:
        exam_section()


if __name__ == "__main__":
    main()
