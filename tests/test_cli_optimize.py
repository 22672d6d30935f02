"""``workbench optimize`` on the command line: the report and its JSON, exit 0 whether or not a version is
accepted (1 with --fail-if-not-accepted), exit 2 on bad input before any call — against the stand-in endpoint."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.testing.fake_openai import FakeOpenAIServer
from workbench.testing.optimizer import PROPOSALS, RULE
from workbench.testing.optimizer import coin_responder as coin
from workbench.testing.optimizer import labelled_rows as rows
from workbench.testing.optimizer import rule_responder as responder

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(map(str, args)))


@pytest.fixture
def files(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(REPO / "prompt_library" / "sentiment_zeroshot_en.prompty", lib)
    data = tmp_path / "rows.csv"
    with data.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "text", "expected"])
        writer.writeheader()
        writer.writerows(rows())
    return lib / "sentiment_zeroshot_en.prompty", data, tmp_path / "s.db"


def test_an_accepted_winner_is_reported_saved_and_given_as_json(files):
    prompt, data, store = files
    with FakeOpenAIServer(responder=responder, proposals=PROPOSALS) as server:
        args = ["optimize", prompt, "-d", data, "-m", server.spec(), "--proposer", server.spec(), "--store", store]
        result = invoke(*args, "--generators", "instructions", "--no-save")
        assert result.exit_code == 0, result.output
        assert "estimated model calls" in result.output and "held-out (60 rows" in result.output
        assert f"+{RULE}" in result.output and "ACCEPTED: " in result.output and "v2 can be saved" in result.output
        result = invoke(*args, "--generators", "instructions", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["accepted"] is True and report["version"] == 2 and report["saved"] == "sentiment_zeroshot_en@v2"
    assert report["heldout"]["verdict"] == "better" and report["heldout"]["pairs"] == 60
    assert report["spent_calls"] == 0, "the second command replayed the first from the cache"
    assert (prompt.parent / "_versions" / "sentiment_zeroshot_en" / "v2.prompty").exists()


def test_not_accepted_exits_0_and_1_only_when_asked(files):
    prompt, data, store = files
    with FakeOpenAIServer(responder=coin) as server:
        args = ["optimize", prompt, "-d", data, "-m", server.spec(), "--store", store, "--generators", "demos"]
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert "NOT ACCEPTED: no candidate beat v1" in result.output
        again = invoke(*args, "--fail-if-not-accepted", "--format", "json")
    assert again.exit_code == 1 and json.loads(again.output)["accepted"] is False
    assert json.loads(again.output)["version"] is None


def test_bad_input_exits_2_before_any_call(files, tmp_path):
    prompt, data, store = files
    small = tmp_path / "small.csv"
    small.write_text("id,text,expected\n" + "".join(f"r{i},t {i},positive\n" for i in range(30)), encoding="utf-8")
    with FakeOpenAIServer(responder=responder) as server:
        base = ["optimize", prompt, "-m", server.spec(), "--store", store]
        cases = [
            ([*base, "-d", small], "30 rows is too few to optimise a prompt on three splits; it needs at least 100"),
            ([*base, "-d", data, "--budget", "50"], "--budget 50 cannot cover one candidate on dev"),
            ([*base, "-d", data, "--proposer", "openai:x@http://127.0.0.1:9/v1"], "--proposer openai:x@http"),
            ([*base, "-d", data, "--generators", "magic"], "generators magic: use demos, labels, instructions"),
            ([*base, "-d", data, "--generators", "instructions"], "needs --proposer SPEC"),
        ]
        for args, message in cases:
            result = invoke(*args)
            assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert server.requests == []
