import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter

import pytest

from workbench.errors import DatasetError, TemplateError
from workbench.models import RetryPolicy
from workbench.models.base import Capabilities
from workbench.pipeline import plan_run, run
from workbench.prompts import PromptTemplate
from workbench.store import Store
from workbench.testing.fake_openai import FakeOpenAIServer
from workbench.testing.models import FunctionModel, MockModel

TEMPLATE = PromptTemplate.from_string(
    "---\nname: label\noutput: {parser: label, labels: [positive, negative]}\nassertions: [{type: label}]\n---\n"
    "Text: {{ text }}\nLabel:"
)
ROWS = [{"text": f"row {i}", "expected": "positive" if i % 2 else "negative"} for i in range(10)]


def labeler(prompt: str) -> str:
    number = int(prompt.split("row ")[1].split("\n")[0])
    return " positive" if number % 2 else " negative"


def test_run_scores_stores_and_summarises(store):
    model = FunctionModel(labeler)
    result = run(TEMPLATE, ROWS, [model], store=store, progress=False)
    assert len(result.records) == 10 and result.pass_rate == 1.0
    assert all(r.id is not None for r in result.records)
    assert store.results(result.run_id)[3].parsed == "positive"
    summary = result.summary()
    assert summary.loc[0, "pass_rate"] == 1.0 and summary.loc[0, "cells"] == 10
    df = result.to_dataframe()
    assert {
        "text",
        "expected",
        "prompt",
        "version",
        "model",
        "output",
        "passed",
        "score",
        "latency_ms",
        "error",
    } <= set(df.columns)


def test_rerun_is_answered_from_cache(store):
    mock = MockModel(default="positive")
    first = run(TEMPLATE, ROWS, [mock], store=store, progress=False)
    assert mock.calls == 10 and first.stats["called"] == 10
    second = run(TEMPLATE, ROWS, [mock], store=store, progress=False)
    assert mock.calls == 10, "a re-run must not call the model"
    assert second.stats["cached"] == 10 and second.run_id != first.run_id
    assert [r.output for r in second.records] == [r.output for r in first.records]
    run(TEMPLATE, ROWS, [mock], store=store, progress=False, cache=False)
    assert mock.calls == 20


def test_sampled_repeats_have_their_own_seeds_and_a_rerun_replays_them_from_the_cache(store):
    mock = MockModel(default="positive")
    options = dict(store=store, progress=False, repeats=3, params={"temperature": 0.8})
    first = run(TEMPLATE, ROWS[:3], [mock], **options)
    seeds = [params.seed for _, params in mock.history]
    assert mock.calls == 9 and len(set(seeds)) == 9, "each (row, repeat) sample gets its own seed"
    again = run(TEMPLATE, ROWS[:3], [mock], **options)
    assert mock.calls == 9 and again.stats["cached"] == 9, "a sampled run re-run is answered from the cache"
    assert [r.output for r in again.records] == [r.output for r in first.records]
    run(TEMPLATE, ROWS[:3], [mock], cache=False, **options)
    assert [params.seed for _, params in mock.history[9:]] == seeds, "the seeds are stable across runs"


def test_missing_column_fails_before_any_model_call(store):
    mock = MockModel(default="x")
    with pytest.raises(DatasetError, match="no column 'text'.*sentence"):
        run(TEMPLATE, [{"sentence": "hi"}], [mock], store=store, progress=False)
    with pytest.raises(DatasetError, match=r"row 1 \(column 'text'\)"):
        run(TEMPLATE, [{"text": "ok"}, {"text": ""}], [mock], store=store, progress=False)
    assert mock.calls == 0 and store.runs() == []


def test_render_error_names_the_row_before_any_call(store):
    template = PromptTemplate.from_string("{{ text.upper() }}", name="upper")
    mock = MockModel(default="x")
    with pytest.raises(TemplateError, match="row 1"):
        plan_run(template, [{"text": "a"}, {"text": [1, 2]}], [mock])
    assert mock.calls == 0


def test_interrupted_run_resumes_only_missing_cells(store):
    calls = Counter()
    started = threading.Event()
    cancel = threading.Event()

    def slow(prompt: str) -> str:
        calls[prompt] += 1
        if sum(calls.values()) == 4:
            cancel.set()  # like a kernel interrupt after 4 rows
        started.set()
        return labeler(prompt)

    model = FunctionModel(slow, concurrency=1)
    with pytest.raises(asyncio.CancelledError):
        run(TEMPLATE, ROWS, [model], store=store, progress=False, cancel_event=cancel)
    (run_row,) = store.runs()
    assert run_row["status"] == "interrupted" and 1 <= run_row["done"] < 10
    done_before = run_row["done"]
    result = run(TEMPLATE, ROWS, [model], store=store, progress=False)
    assert result.run_id == run_row["id"] and result.stats["resumed"] == done_before
    assert len(result.records) == 10 and result.pass_rate == 1.0
    assert all(n == 1 for n in calls.values()), "no cell may be generated twice"


def test_errors_are_recorded_per_cell_and_retried_on_resume(store):
    mock = MockModel(default="positive")
    from workbench.errors import ModelError

    mock.enqueue(ModelError("endpoint said no"))
    mock.retry_policy = RetryPolicy(retries=0)
    first = run(TEMPLATE, ROWS[:3], [mock], store=store, progress=False, concurrency=1)
    assert len(first.errors) == 1 and "endpoint said no" in first.errors[0].error
    assert first.errors[0].output is None
    second = run(TEMPLATE, ROWS[:3], [mock], store=store, progress=False)
    assert second.errors == [] and second.stats["called"] == 1 and second.stats["cached"] == 2


def test_changed_text_under_a_used_version_is_refused(store):
    mock = MockModel(default="positive")
    run(TEMPLATE, ROWS[:1], [mock], store=store, progress=False)
    edited = TEMPLATE.with_changes(body="Something else {{ text }}")
    with pytest.raises(Exception, match="immutable"):
        run(edited, ROWS[:1], [mock], store=store, progress=False)


def test_run_inside_a_running_event_loop(store):
    async def notebook_cell():
        return run(TEMPLATE, ROWS[:2], [MockModel(default="positive")], store=store, progress=False)

    assert len(asyncio.run(notebook_cell()).records) == 2


FAULTS = {1: ("429", 0.01), 2: "500", 3: "malformed", 5: "timeout"}


def fault_plan(prompt: str, attempt: int):
    """Every row fails differently on its first attempts; some rows never recover."""
    number = int(prompt.split("row ")[1].split("\n")[0])
    if number == 7:
        return "500"  # always broken: must end with its error recorded
    if number % 3 == 0:
        return FAULTS.get(attempt)
    if number % 3 == 1:
        return {1: "timeout"}.get(attempt)
    return {1: ("429", 0.02)}.get(attempt)


def test_fault_injection_loses_and_duplicates_nothing(store):
    rows = [{"text": f"row {i}", "expected": "positive"} for i in range(12)]
    # Margins are wide on purpose: a normal answer must never look like a timeout on a busy CI machine,
    # or the server would count a second success for that prompt.
    with FakeOpenAIServer(faults=fault_plan, hang_seconds=3.0, responder=lambda p: "positive") as server:
        from workbench.models.openai_compat import OpenAICompatibleModel

        model = OpenAICompatibleModel(server.spec(), timeout=1.0, concurrency=6)
        model.retry_policy = RetryPolicy(retries=3, initial_wait=0.01, max_wait=0.1)
        result = run(TEMPLATE, rows, [model], store=store, progress=False)
        successes = server.successes()
    stored = store.results(result.run_id)
    assert len(stored) == 12 and len({r.cell_key for r in stored}) == 12
    by_row = {r.row_id: r for r in stored}
    assert by_row["7"].error and "HTTP 500" in by_row["7"].error and "gave up after 4" in by_row["7"].error
    for row_id, record in by_row.items():
        if row_id != "7":
            assert record.error is None and record.output == "positive", (row_id, record.error)
    assert all(count == 1 for count in successes.values()), "each prompt answered successfully exactly once"
    assert by_row["3"].attempts == 4 and by_row["1"].attempts == 2


KILL_SCRIPT = textwrap.dedent("""
    import sys
    from workbench.models.openai_compat import OpenAICompatibleModel
    from workbench.prompts import PromptTemplate
    from workbench.pipeline import run
    template = PromptTemplate.from_string("Text: {{ text }}", name="kill")
    rows = [{"text": f"row {i}"} for i in range(40)]
    model = OpenAICompatibleModel(f"openai:fake-model@{sys.argv[1]}", concurrency=2)
    run(template, rows, [model], store=sys.argv[2], progress=False)
    print("finished")
""")


def test_killed_process_resumes_only_missing_rows(tmp_path):
    db = tmp_path / "kill.db"
    script = tmp_path / "job.py"
    script.write_text(KILL_SCRIPT)
    with FakeOpenAIServer(latency=0.1) as server:  # 40 rows at 2 concurrent: ~2 s, so the kill lands mid-run
        proc = subprocess.Popen([sys.executable, str(script), server.base_url, str(db)])
        deadline = time.time() + 60
        while time.time() < deadline:
            time.sleep(0.05)
            if db.exists() and Store(db).stats()["results"] >= 10:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        store = Store(db)
        done = store.stats()["results"]
        assert 10 <= done < 40, done
        before = len(server.requests)
        finished = subprocess.run(
            [sys.executable, str(script), server.base_url, str(db)], capture_output=True, text=True, timeout=120
        )
        assert finished.returncode == 0, finished.stderr
        new_prompts = [r["prompt"] for r in server.requests[before:]]
    assert len(new_prompts) == 40 - done, "only the missing rows may be called"
    (run_row,) = store.runs()
    assert run_row["status"] == "completed" and run_row["done"] == 40
    assert len({r.cell_key for r in store.results(run_row["id"])}) == 40


def test_rate_limit_is_consulted_once_per_model_call(store, monkeypatch):
    """Counts, not seconds: tests never assert on wall time (the limiter's pacing is aiolimiter's own, tested there)."""
    import aiolimiter

    acquired = []
    original = aiolimiter.AsyncLimiter.acquire

    async def counting(self, amount=1):
        acquired.append((self.max_rate, self.time_period))
        return await original(self, amount)

    monkeypatch.setattr(aiolimiter.AsyncLimiter, "acquire", counting)
    mock = MockModel(default="positive")
    run(TEMPLATE, ROWS[:5], [mock], store=store, progress=False, rate_limit=600)
    assert acquired == [(600, 60.0)] * 5 and mock.calls == 5
    run(TEMPLATE, ROWS[:5], [mock], store=store, progress=False, rate_limit=600)  # answered from the cache
    assert len(acquired) == 5, "cached rows do not spend the rate budget"


def test_runs_store_their_provenance(store, repo):
    from workbench.testing.models import MockModel

    result = run(TEMPLATE, ROWS[:2], [MockModel(default="positive")], store=store, progress=False)
    origin = store.run(result.run_id)["provenance"]
    assert origin["git"].get("commit") and isinstance(origin["git"]["dirty"], bool)
    assert origin["packages"]["prompt-workbench"] and origin["python"] and origin["host"]["name"]
    assert origin["models"] == [{"spec": "mock", "provider": "mock"}]


def test_capabilities_not_types_decide_what_a_model_does():
    from workbench.models import get_model
    from workbench.models.local import LocalModel
    from workbench.models.openai_compat import OpenAICompatibleModel

    local = LocalModel()  # not loaded: capabilities are declared, not discovered
    assert local.capabilities.logprob_labels and local.capabilities.prefix_cache and local.capabilities.price == (0, 0)
    priced = OpenAICompatibleModel("openai:gpt-4o-mini@http://127.0.0.1:9/v1")
    assert priced.capabilities.price == (0.15, 0.60) and not priced.capabilities.logprob_labels
    assert OpenAICompatibleModel("openai:my-own@http://127.0.0.1:9/v1").capabilities.price is None
    assert not get_model("mock").capabilities.logprob_labels


class _SchemaModel(FunctionModel):
    """Records the schema each call was constrained to (a model that can constrain decoding, like llama.cpp)."""

    capabilities = Capabilities(structured_output=True, price=(0.0, 0.0))

    def __init__(self):
        super().__init__(lambda prompt: '{"name": "Ada"}', spec="schema-model")
        self.schemas = []

    def _call(self, request, sink):
        self.schemas.append(request.json_schema)
        return super()._call(request, sink)


def _json_template(constrain: bool) -> PromptTemplate:
    return PromptTemplate.from_string(
        f"---\nname: extract\nversion: {2 if constrain else 1}\noutput:\n  parser: json\n"
        f"  constrain: {str(constrain).lower()}\n"
        "  schema: {type: object, required: [name], properties: {name: {type: string}}}\n---\nText: {{ text }}\nJSON:"
    )


def test_a_constrained_json_template_hands_its_schema_to_a_model_that_can_use_it(store):
    model = _SchemaModel()
    result = run(_json_template(True), ROWS[:2], [model], store=store, progress=False)
    assert model.schemas == [{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}] * 2
    assert [r.parsed for r in result.records] == [{"name": "Ada"}] * 2

    unconstrained = _SchemaModel()
    run(_json_template(False), ROWS[:2], [unconstrained], store=store, progress=False)
    assert unconstrained.schemas == [None, None], "without constrain: true the model decodes freely"
    plain = FunctionModel(lambda p: "{}", spec="no-grammar")  # a model that cannot constrain never gets the hint
    run(_json_template(True), ROWS[:1], [plain], store=store, progress=False)


def test_constraining_changes_the_cache_key(store):
    first = run(_json_template(False), ROWS[:2], [_SchemaModel()], store=store, progress=False)
    second = run(_json_template(True), ROWS[:2], [_SchemaModel()], store=store, progress=False)
    assert first.stats["called"] == 2 and second.stats["called"] == 2, "a constrained answer is not the free one"


def test_the_exam_runs_on_an_openai_compatible_endpoint_by_generation(store, repo):
    """Without log-probabilities the choice is parsed from the generated letter; per-subject accuracy follows."""
    with FakeOpenAIServer(responder=lambda prompt: " B") as server:
        result = run("exam_mc", repo / "datasets" / "exam_mc.jsonl", [server.spec()], store=store, progress=False)
    assert len(result.records) == 48 and not result.errors
    assert {r.parsed for r in result.records} == {"B"}
    assert [r.passed for r in result.records] == [r.inputs["expected"] == "B" for r in result.records]
    frame = result.to_dataframe()
    per_subject = frame.groupby("subject")["passed"].mean()
    assert set(per_subject.index) == {"arithmetic", "biology", "computing", "geography"}
