"""One redaction boundary: a secret in the environment, in a model spec's URL and in a dataset row reaches no file,
console or log — through the CLI, the Python API, a notebook under papermill, the server and the bad-case export."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from workbench.secrets import redact, redact_value
from workbench.testing.fake_openai import FakeOpenAIServer, free_port

ENV_CANARY = "canary-env-7f3a9c2e1b04"
URL_CANARY = "canary-url-pass-5d2e9a"
ROW_CANARY = "sk-canaryrowsecret0123456789"
CANARIES = (ENV_CANARY, URL_CANARY, ROW_CANARY)
REPO = Path(__file__).resolve().parent.parent


def test_redact_masks_env_values_key_shapes_and_url_passwords(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", ENV_CANARY)
    text = f"key {ENV_CANARY} at http://bob:{URL_CANARY}@host/v1 and {ROW_CANARY}"
    assert redact(text) == "key *** at http://***@host/v1 and ***"
    assert redact_value({"a": [ENV_CANARY, 1], ENV_CANARY: (ROW_CANARY,)}) == {"a": ["***", 1], "***": ("***",)}


def _grep(folder: Path, extra: dict[str, str]) -> list[str]:
    leaks = []
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "rows.csv":  # the input file holds them on purpose
            data = path.read_bytes()
            leaks += [f"{path.relative_to(folder)}: {c}" for c in CANARIES if c.encode() in data]
    leaks += [f"{name}: {c}" for name, text in extra.items() for c in CANARIES if c in text]
    return leaks


@pytest.mark.timeout(400)
def test_no_canary_reaches_any_artefact(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CANARY_TOKEN", ENV_CANARY)
    out = tmp_path / "out"
    out.mkdir()
    store = out / "store.db"
    data = out / "rows.csv"
    data.write_text(
        "id,text,expected\n"
        f"r1,My key is {ROW_CANARY} please keep it,positive\n"
        f"r2,The env secret {ENV_CANARY} leaked into a review,negative\n"
        "r3,A plain review with nothing secret,positive\n",
        encoding="utf-8",
    )
    captured: dict[str, str] = {}
    with FakeOpenAIServer() as server:  # echoes the prompt's last line: outputs carry the canaries too
        spec = f"openai:fake-model@http://canary:{URL_CANARY}@127.0.0.1:{server.port}/v1"
        env = {**os.environ, "WORKBENCH_CANARY_TOKEN": ENV_CANARY, "WORKBENCH_STORE": str(store)}

        def cli(*args: str) -> None:
            done = subprocess.run(
                [sys.executable, "-m", "workbench.cli", *args],
                capture_output=True,
                text=True,
                env=env,
                cwd=out,
                timeout=120,
            )
            captured[f"workbench {args[0]} {args[1]} stdout"] = done.stdout
            captured[f"workbench {args[0]} {args[1]} stderr"] = done.stderr

        # the CLI: a run with exports and bad cases, then every export command
        cli(
            "run",
            "sentiment_cloze_en",
            "--dataset",
            str(data),
            "--model",
            spec,
            "--out",
            str(out / "run.html"),
            "--capture-bad-cases",
        )
        cli("runs", "show", "latest", "--matrix")
        cli("runs", "export", "latest", str(out / "export.csv"))
        cli("badcases", "list")
        cli("badcases", "export", str(out / "badcases.jsonl"))
        assert "echo" in captured["workbench runs show stdout"], captured["workbench runs show stderr"]
        # an endpoint that refuses: the error message names the spec, redacted
        cli(
            "run",
            "sentiment_cloze_en",
            "--dataset",
            str(data),
            "--model",
            f"openai:m@http://canary:{URL_CANARY}@127.0.0.1:{free_port()}/v1",
        )
        assert "Cannot reach" in captured["workbench run sentiment_cloze_en stderr"]

        # the Python API: results, DataFrames and exports
        import workbench as wb

        result = wb.run("sentiment_cloze_en", data, [spec], store=out / "api.db", progress=False, cache=False)
        result.to_dataframe().to_csv(out / "frame.csv")
        (out / "repr.txt").write_text(repr(result) + str(result.summary()) + repr(result.records[0]), encoding="utf-8")
        result.export(out / "api.jsonl")

        # a notebook under papermill (the nightly runner's), pointed at the same endpoint and rows; an echo model
        # fails the quickstart's gate, and the executed notebook is written and grepped all the same
        from workbench.nightly import execute_notebook

        outcome = execute_notebook(
            REPO / "notebooks/00_quickstart.ipynb",
            out / "nb",
            {"model": spec, "dataset": str(data), "n_rows": 3},
            validate=False,
        )
        captured["notebook error"] = outcome.error

        # the server: requests, a stream, a thumbs-down that becomes a bad case; its logs captured
        port = free_port()
        log = (tmp_path / "serve.log").open("w")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workbench.cli",
                "serve",
                "sentiment_cloze_en",
                "--model",
                spec,
                "--port",
                str(port),
                "--store",
                str(out / "serve.db"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=out,
        )
        try:
            base = f"http://127.0.0.1:{port}/v1"
            for _ in range(200):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            reply = httpx.post(
                f"{base}/completions",
                json={"model": "sentiment_cloze_en", "prompt": f"token {ENV_CANARY} and {ROW_CANARY}"},
                timeout=30,
            ).json()
            captured["serve reply"] = str(reply)
            with httpx.stream(
                "POST",
                f"{base}/chat/completions",
                timeout=30,
                json={
                    "model": "sentiment_cloze_en",
                    "stream": True,
                    "messages": [{"role": "user", "content": f"again {ROW_CANARY}"}],
                },
            ) as stream:
                captured["serve stream"] = "".join(stream.iter_text())
            thumbs_down = {"id": reply["id"], "rating": "down", "note": f"leaked {ENV_CANARY}", "expected": "negative"}
            feedback = httpx.post(f"{base}/feedback", json=thumbs_down, timeout=30).json()
            assert feedback["bad_case_id"], feedback
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            log.close()
        captured["serve log"] = (tmp_path / "serve.log").read_text(encoding="utf-8")
        env["WORKBENCH_STORE"] = str(out / "serve.db")
        cli("badcases", "export", str(out / "served_badcases.csv"))

    produced = sorted(p.name for p in out.iterdir())
    for expected in (
        "store.db",
        "run.html",
        "export.csv",
        "badcases.jsonl",
        "api.db",
        "frame.csv",
        "api.jsonl",
        "nb",
        "serve.db",
        "served_badcases.csv",
    ):
        assert expected in produced, f"{expected} was not produced: {produced}"
    assert (out / "nb" / "00_quickstart.ipynb").exists()
    assert "***" in (out / "export.csv").read_text(encoding="utf-8"), "the secrets were there, and masked"
    assert _grep(out, captured) == []
