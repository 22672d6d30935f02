import json

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
    assert "It rained all day" in result.output

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
    run_ids = [r["id"] for r in __import__("workbench").Store(store).runs()]
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
