import json

import pytest
from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()


def invoke(*args):
    from workbench.cli import main  # noqa: F401  (the same app main() runs)

    return runner.invoke(app, list(map(str, args)))


def test_prompts_list_show_render_diff(repo, tmp_path):
    lib = repo / "prompt_library"
    result = invoke("prompts", "list", "--library", lib)
    assert result.exit_code == 0 and "sentiment_cloze_zh" in result.output
    result = invoke("prompts", "show", "sentiment_cloze_zh", "--library", lib)
    assert "我感觉很" in result.output and "variables: text" in result.output
    result = invoke("prompts", "render", "sentiment_cloze_zh", "--library", lib, "--var", "text=我赢了。")
    assert result.output.rstrip().endswith("我赢了。我感觉很")
    result = invoke(
        "prompts",
        "render",
        "sentiment_cloze_en",
        "--library",
        lib,
        "--dataset",
        repo / "datasets/sentiment_en.csv",
        "--row",
        "2",
    )
    from workbench.datasets import load_dataset

    assert load_dataset(repo / "datasets/sentiment_en.csv").rows[2]["text"] in result.output

    from workbench.prompts import PromptLibrary

    scratch = PromptLibrary(tmp_path / "lib")
    v1 = scratch.save(PromptLibrary(lib).get("sentiment_cloze_en"))
    scratch.save(v1.with_changes(body=v1.body.replace("Overall, it was", "All in all, it was")))
    result = invoke("prompts", "diff", "sentiment_cloze_en", "1", "2", "--library", tmp_path / "lib")
    assert "+All in all, it was" in result.output
    assert invoke("prompts", "versions", "sentiment_cloze_en", "--library", tmp_path / "lib").output.split() == [
        "sentiment_cloze_en@v1",
        "sentiment_cloze_en@v2",
    ]


def equals_prompt_and_data(folder, csv_text):
    """A one-variable prompt scored with `equals`, a CSV for it, and a store path."""
    data = folder / "d.csv"
    data.write_text(csv_text, encoding="utf-8")
    prompt = folder / "p.prompty"
    prompt.write_text("---\nname: p\nassertions: [{type: equals}]\n---\n{{ text }}\n", encoding="utf-8")
    return prompt, data, folder / "s.db"


def test_run_export_runs_and_exit_codes(tmp_path, fake_server):
    prompt, data, store = equals_prompt_and_data(tmp_path, "text,expected\nhello,echo: hello\nbye,something else\n")
    out = tmp_path / "r.jsonl"
    args = ["run", prompt, "-d", data, "-m", fake_server.spec(), "--store", store]
    result = invoke(*args, "--out", out)
    assert result.exit_code == 0, result.output
    assert "2 model calls" in result.output and "pass rate" in result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["passed"] for r in rows] == [True, False] and rows[0]["text"] == "hello"
    again = invoke(*args, "--fail-under", "0.9")
    assert again.exit_code == 1 and "2 from cache" in again.output and "under --fail-under" in again.output
    listing = invoke("runs", "list", "--store", store)
    assert listing.exit_code == 0 and "completed" in listing.output
    shown = invoke("runs", "show", "latest", "--store", store, "--failed")
    assert "something else" in shown.output
    run_ids = [r["id"] for r in __import__("workbench").open_store(str(store)).runs()]
    compared = invoke("runs", "compare", run_ids[1], run_ids[0], "--store", store)
    assert "no significant difference" in compared.output and "0 pass only in B, 0 only in A" in compared.output
    assert invoke("runs", "export", "latest", tmp_path / "x.html", "--store", store).exit_code == 0


def test_bad_input_exits_2_before_any_call(tmp_path, fake_server):
    data = tmp_path / "d.csv"
    data.write_text("sentence\nhello\n", encoding="utf-8")
    prompt = tmp_path / "p.prompty"
    prompt.write_text("{{ text }}", encoding="utf-8")
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "run",
            str(prompt),
            "-d",
            str(data),
            "-m",
            fake_server.spec(),
            "--store",
            str(tmp_path / "s.db"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "no column 'text'" in proc.stderr and "Traceback" not in proc.stderr
    assert fake_server.requests == []


def test_badcases_cli(tmp_path, fake_server):
    prompt, data, store = equals_prompt_and_data(tmp_path, "text,expected\nhello,nope\n")
    invoke("run", prompt, "-d", data, "-m", fake_server.spec(), "--store", store, "--capture-bad-cases")
    listing = invoke("badcases", "list", "--store", store)
    assert "scorer:equals" in listing.output and "open" in listing.output
    tagged = invoke("badcases", "tag", "1", "--add", "wrong label", "--note", "checked", "--store", store)
    assert "wrong label" in tagged.output
    assert "output:   echo: hello" in invoke("badcases", "show", "1", "--store", store).output
    recheck = invoke("badcases", "recheck", str(prompt), "-m", fake_server.spec(), "--store", store)
    assert "#1: still failing" in recheck.output
    out = tmp_path / "reg.csv"
    assert invoke("badcases", "export", out, "--store", store).exit_code == 0
    assert "hello" in out.read_text(encoding="utf-8")


def _two_versions_run(tmp_path):
    """A run of two versions × two models on 8 rows with known verdicts (v2 fixes rows 0-5 on model a)."""
    from workbench.pipeline import run
    from workbench.prompts import PromptTemplate
    from workbench.testing.models import FunctionModel

    v1 = PromptTemplate.from_string("---\nname: cmp\nassertions: [{type: equals}]\n---\nv1 {{ text }}")
    v2 = v1.with_changes(body="v2 {{ text }}", version=2)
    rows = [{"id": f"r{i}", "text": f"t{i}", "expected": "yes"} for i in range(8)]

    def answer(prompt: str) -> str:
        version, text = prompt.split()
        return "yes" if version == "v2" or text in ("t6", "t7") else "no"

    models = [FunctionModel(answer, spec="function:a"), FunctionModel(lambda p: "yes", spec="function:b")]
    return run([v1, v2], rows, models, store=tmp_path / "c.db", progress=False)


def test_runs_compare_json_fields_and_fail_if_worse(tmp_path):
    result = _two_versions_run(tmp_path)
    store = tmp_path / "c.db"
    out = invoke(
        "runs",
        "compare",
        result.run_id,
        "--a",
        "cmp@v1/function:a",
        "--b",
        "cmp@v2/function:a",
        "--format",
        "json",
        "--store",
        store,
    )
    data = json.loads(out.stdout)
    assert {"a", "b", "pairs", "a_only", "b_only", "p_value", "verdict", "flipped"} <= set(data)
    assert set(data["a"]) >= {"column", "n", "passed", "pass_rate", "ci95"} and len(data["a"]["ci95"]) == 2
    assert (data["pairs"], data["a_only"], data["b_only"], data["verdict"]) == (8, 0, 6, "better")
    assert data["p_value"] == 0.03125 and {f["row_id"] for f in data["flipped"]} == {f"r{i}" for i in range(6)}
    assert set(data["flipped"][0]) == {"row_id", "a", "b"} and set(data["flipped"][0]["a"]) == {"output", "passed"}
    worse = invoke(
        "runs",
        "compare",
        result.run_id,
        "--a",
        "cmp@v2/function:a",
        "--b",
        "cmp@v1/function:a",
        "--fail-if-worse",
        "--store",
        store,
    )
    assert worse.exit_code == 1 and "B is worse than A" in worse.output
    ambiguous = invoke("runs", "compare", result.run_id, "--store", store)
    assert ambiguous.exit_code == 2 and "Pass --a COLUMN" in ambiguous.output and "Traceback" not in ambiguous.output


def test_runs_show_matrix_stability_and_trend(tmp_path):
    result = _two_versions_run(tmp_path)
    store = tmp_path / "c.db"
    shown = invoke("runs", "show", result.run_id, "--matrix", "--store", store)
    assert shown.exit_code == 0 and "cmp@v1/function:a" in shown.output and "cmp@v2/function:b" in shown.output
    table_lines = [line for line in shown.output.splitlines() if line.startswith("│ r")]
    assert len(table_lines) == 8 and table_lines[0].startswith("│ r0"), "one line per row, flipped rows first"
    stable = invoke("runs", "stability", result.run_id, "--format", "json", "--store", store)
    columns = json.loads(stable.stdout)["columns"]
    assert [c["column"] for c in columns] == [
        "cmp@v1/function:a",
        "cmp@v1/function:b",
        "cmp@v2/function:a",
        "cmp@v2/function:b",
    ]
    assert set(columns[0]) == {"column", "k", "rows", "pass_rate", "pass_at_k", "pass_all_k", "flaky", "agreement"}
    trend = invoke("runs", "trend", "cmp", "--plot", tmp_path / "trend.png", "--format", "json", "--store", store)
    data = json.loads(trend.output.split("plot saved")[0])
    assert {v["version"] for v in data["versions"]} == {1, 2} and (tmp_path / "trend.png").stat().st_size > 1000


@pytest.mark.local_model
def test_the_demo_commands_pass_their_gates_on_the_local_model(repo, tmp_path):
    """The exact commands `make demo` runs (read from the Makefile), on the local model, with their gates."""
    import os
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    recipe, inside = [], False
    for line in (repo / "Makefile").read_text(encoding="utf-8").splitlines():
        if line.startswith("demo:"):
            inside = True
            continue
        if inside:
            if not line.startswith("\t"):
                break
            recipe.append(line.strip())
    assert len(recipe) == 2 and all("--fail-under" in c and "--gate" in c and "--model local" in c for c in recipe)
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "WORKBENCH_ROOT": str(repo)}
    for command in recipe:
        args = shlex.split(command.replace("$(BIN)", bin_dir))
        done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "gate cloze_" in done.stdout and "PASSED" in done.stdout and "24 model calls" in done.stdout


def test_a_template_with_tools_runs_from_the_cli_and_bad_tool_input_exits_2(repo, tmp_path):
    """The library's tool router against an endpoint that always calls get_weather for Paris: the calls are shown,
    scored and exported; then each bad tool input stops with exit 2, naming the file and line or the row, before any
    call."""
    from workbench.testing.fake_openai import FakeOpenAIServer

    store, out = tmp_path / "s.db", tmp_path / "r.jsonl"
    paris = [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    with FakeOpenAIServer(tool_responder=lambda body: paris) as server:
        result = invoke("run", "tool_router_en", "-m", server.spec(), "--limit", 8, "--store", store, "--out", out)
        assert result.exit_code == 0, result.output
        assert 'get_weather({"city": "Paris"})' in result.output and "12.5%" in result.output  # 1 of 8 rows
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert rows[0]["tool_calls"] == paris and rows[0]["passed"] is True and rows[6]["passed"] is False
        assert rows[6]["reason"] == 'tool_calls: get_weather: argument city = "Paris", expected "London"'
        assert rows[5]["reason"].startswith("tool_calls: expected no tool call; made get_weather")
        calls_before = len(server.requests)

        template = (repo / "prompt_library" / "tool_router_en.prompty").read_text(encoding="utf-8")
        doubled = tmp_path / "doubled.prompty"
        doubled.write_text(template.replace("name: web_search", "name: add_event"), encoding="utf-8")
        line = next(i for i, text in enumerate(template.splitlines(), 1) if "name: web_search" in text)
        bad = invoke("run", doubled, "-m", server.spec(), "--store", store)
        assert bad.exit_code == 2 and f"doubled.prompty:{line}: two tools are named 'add_event'" in bad.output

        unknown = tmp_path / "unknown.prompty"
        unknown.write_text(template.replace("tools:\n", "tools:\n  - lookup_order\n", 1), encoding="utf-8")
        bad = invoke("run", unknown, "-m", server.spec(), "--store", store)
        assert (
            bad.exit_code == 2
            and "unknown.prompty:" in bad.output
            and "No tool registered as 'lookup_order'" in bad.output
        )

        data = tmp_path / "rows.csv"
        data.write_text('query,expected_tool_calls\nhi,[]\nrain?,"[{""name"": ""get_wether""}]"\n', encoding="utf-8")
        bad = invoke("run", "tool_router_en", "-d", data, "-m", server.spec(), "--store", store)
        assert (
            bad.exit_code == 2
            and "rows.csv line 3: column 'expected_tool_calls' expects a call of 'get_wether'" in bad.output
        )
        assert len(server.requests) == calls_before, "no bad input reached the endpoint"
