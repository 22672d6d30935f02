"""`workbench store copy`: a personal SQLite store into the team's PostgreSQL, idempotent; `store stats`."""

import json

import pytest
from typer.testing import CliRunner

from workbench.badcases import BadCaseTracker
from workbench.cli import app
from workbench.pipeline import run
from workbench.prompts import PromptTemplate
from workbench.store import Store
from workbench.testing.models import FunctionModel

T = PromptTemplate.from_string("---\nname: cp\nassertions: [{type: equals}]\n---\nQ: {{ q }}")
ROWS = [{"q": f"q{i}", "expected": "right"} for i in range(5)]


def _personal_store(path) -> Store:
    store = Store(path)
    wrong = FunctionModel(lambda p: "wrong" if p.endswith(("q1", "q3")) else "right", spec="function:copy")
    result = run(T, ROWS, [wrong], store=store, progress=False)
    tracker = BadCaseTracker(store)
    tracker.capture_failures(result)
    tracker.recheck(T, [wrong], progress=False)
    store.add_feedback(result.records[0].id, "down", note="meh", bad_case_id=tracker.list()[0].id)
    return store


@pytest.mark.postgres
def test_copying_a_personal_store_into_postgresql_twice_adds_nothing_the_second_time(tmp_path, postgres_url):
    source = _personal_store(tmp_path / "mine.db")
    cli = CliRunner()
    first = cli.invoke(app, ["store", "copy", str(tmp_path / "mine.db"), postgres_url])
    assert first.exit_code == 0, first.output
    second = cli.invoke(app, ["store", "copy", str(tmp_path / "mine.db"), postgres_url])
    assert second.exit_code == 0 and "already there" in second.output
    import re

    counted = {name: int(n) for name, n in re.findall(r"(\w+) (-?\d+)", first.output.split(";")[0])}
    again = {name: int(n) for name, n in re.findall(r"(\w+) (-?\d+)", second.output.split(";")[0])}
    source_counts = {k: v for k, v in source.stats().items() if k in counted}
    assert {k: counted[k] for k in source_counts} == source_counts, f"the first copy adds every row: {first.output}"
    assert set(again.values()) == {0}, f"the second adds none (never a negative count): {second.output}"
    shown = int(re.search(r"already there: (\d+)", second.output).group(1))
    assert shown == sum(source_counts.values()) + counted.get("run_batches", 0)
    stats = json.loads(cli.invoke(app, ["store", "stats", "--store", postgres_url, "--format", "json"]).stdout)
    assert {k: v for k, v in stats.items() if k != "schema_revision"} == {
        k: v for k, v in source.stats().items() if k != "schema_revision"
    }
    team = Store(postgres_url)
    run_ids = [r["id"] for r in source.runs()]
    for run_id in run_ids:
        assert [r.output for r in team.results(run_id)] == [r.output for r in source.results(run_id)]
    cases = BadCaseTracker(team).list()
    assert [(c.inputs, c.status) for c in cases] == [(c.inputs, c.status) for c in BadCaseTracker(source).list()]
    assert team.feedback()[0]["bad_case_id"] == cases[0].id, "references point at the copied rows"
    assert len(BadCaseTracker(team).get(cases[0].id).checks) == 1
