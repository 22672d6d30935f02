import subprocess
import sys
import textwrap

import pytest

from workbench.badcases import BadCaseTracker, fingerprint
from workbench.datasets import load_dataset
from workbench.errors import StoreError
from workbench.pipeline import run
from workbench.prompts import PromptTemplate
from workbench.store import Store
from workbench.testing.models import FunctionModel, MockModel

T = PromptTemplate.from_string("---\nname: bc\nassertions: [{type: equals}]\n---\nQ: {{ q }}")
ROWS = [{"q": f"q{i}", "expected": "right"} for i in range(6)]


def answers(wrong: set[int]):
    """A model that gets the rows in ``wrong`` wrong (its own spec, so the cache keeps them apart)."""
    spec = "function:wrong-" + "-".join(map(str, sorted(wrong)))
    return FunctionModel(lambda p: "wrong" if int(p.split("q")[-1]) in wrong else "right", spec=spec)


def version(n: int) -> PromptTemplate:
    """Version n of the prompt: its text says which version it is, so one model can answer each differently."""
    return T.with_changes(version=n, body=f"V{n} Q: {{{{ q }}}}")


WRONG_PER_VERSION = {"V1": {1, 2, 3}, "V2": {3}, "V3": {1, 3}}
ORACLE = FunctionModel(
    lambda p: "wrong" if int(p.split("q")[-1]) in WRONG_PER_VERSION[p.split()[0]] else "right", spec="function:oracle"
)


def test_capture_dedup_and_manual_marks(store):
    tracker = BadCaseTracker(store)
    result = run(T, ROWS, [answers({1, 2})], store=store, progress=False)
    tracker.capture_failures(result)
    cases = tracker.list()
    assert [c.inputs["q"] for c in cases] == ["q1", "q2"]
    assert cases[0].tags == ("scorer:equals",) and cases[0].found_in_run == result.run_id
    tracker.capture_failures(run(T, ROWS, [answers({1, 2})], store=store, progress=False, cache=False))
    assert len(tracker.list()) == 2, "the same failing inputs are one case"
    other_model = run(T, ROWS, [answers({1})], store=store, progress=False)
    tracker.capture_failures(other_model)
    assert len(tracker.list()) == 3, "the same input failing on another model is another case"
    assert {c.model for c in tracker.list() if c.inputs["q"] == "q1"} == {"function:wrong-1-2", "function:wrong-1"}
    ok_record = result.records[0]
    case = tracker.mark_bad(ok_record.id, tags=["hallucination"], note="sounds right, is not", expected="RIGHT")
    assert case.status == "open" and case.expected == "RIGHT" and case.source == "manual"
    assert tracker.mark_bad(ok_record, tags=["refusal"]).tags == ("hallucination", "refusal")
    report = tracker.report()
    assert report.loc["scorer:equals", "open"] == 3
    timeline = tracker.over_time()
    assert int(timeline["open"].sum()) == 3 + 1  # three captured failures and one manual mark, all opened today


def test_status_transitions_including_regression(store):
    tracker = BadCaseTracker(store)
    tracker.capture_failures(run(version(1), ROWS, [ORACLE], store=store, progress=False))
    fixed_some = tracker.recheck(version(2), [ORACLE], progress=False)  # each case on its own model
    assert fixed_some.counts() == {"fixed": 2, "still failing": 1}
    statuses = {c.inputs["q"]: c.status for c in tracker.list()}
    assert statuses == {"q1": "fixed", "q2": "fixed", "q3": "open"}
    with pytest.raises(StoreError, match="found on: function:oracle"):
        tracker.recheck(version(3), ["function:someone-else"], progress=False)
    again = tracker.recheck(version(3), [ORACLE], progress=False)
    assert again.outcomes == {1: "regressed", 2: "still fixed", 3: "still failing"}
    case = tracker.get(1)
    assert case.status == "regressed" and [c["outcome"] for c in case.checks] == ["fixed", "regressed"]
    tracker.set_status(3, "wontfix")
    with pytest.raises(StoreError, match="Unknown status"):
        tracker.set_status(3, "done")
    assert {c.id for c in tracker.list(status="wontfix")} == {3}


def test_export_then_run_as_dataset_round_trip(store, tmp_path):
    tracker = BadCaseTracker(store)
    tracker.capture_failures(run(T, ROWS, [answers({4, 5})], store=store, progress=False))
    tracker.tag(1, add=["format error"])
    for suffix in (".jsonl", ".csv"):
        path = tracker.export(tmp_path / f"regression{suffix}")
        data = load_dataset(path)
        assert [r["q"] for r in data] == ["q4", "q5"] and all(r["expected"] == "right" for r in data)
        result = run(T, path, [answers(set())], store=store, progress=False)
        assert result.pass_rate == 1.0
        assert fingerprint(result.records[0].inputs) == fingerprint(tracker.get(1).inputs)


def test_tags_and_notes(store):
    tracker = BadCaseTracker(store)
    result = run(T, ROWS[:1], [MockModel(default="x")], store=store, progress=False)
    case = tracker.mark_bad(result.records[0].id, tags=["off-language"])
    case = tracker.tag(case.id, add=["too long"], remove=["off-language"])
    assert case.tags == ("too long",)
    assert tracker.annotate(case.id, note="n", expected="e").note == "n"
    assert not tracker.dataframe(tag="too long").empty
    with pytest.raises(StoreError, match="No bad case #99"):
        tracker.get(99)


WRITER = textwrap.dedent("""
    import sys
    from workbench.badcases import BadCaseTracker
    from workbench.testing.models import MockModel
    from workbench.prompts import PromptTemplate
    from workbench.pipeline import run
    from workbench.store import Store
    store = Store(sys.argv[1])
    tag = sys.argv[2]
    t = PromptTemplate.from_string("---\\nname: bc\\nassertions: [{type: equals}]\\n---\\nQ: {{ q }}")
    rows = [{"q": f"{tag}-{i}", "expected": "right"} for i in range(40)]
    result = run(t, rows, [MockModel(default="wrong")], store=store, progress=False, concurrency=1)
    tracker = BadCaseTracker(store)
    for record in result.records:
        tracker.mark_bad(record.id, tags=[tag])
""")


def test_two_processes_write_one_store_without_loss(tmp_path, store_url):
    db = store_url
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    Store(db).close()
    procs = [subprocess.Popen([sys.executable, str(script), str(db), tag]) for tag in ("a", "b")]
    assert [p.wait(timeout=180) for p in procs] == [0, 0]
    store = Store(db)
    assert store.stats()["results"] == 80
    cases = BadCaseTracker(store).list()
    assert len(cases) == 80 and {c.tags[0] for c in cases} == {"a", "b"}


def test_a_recheck_does_not_overwrite_a_case_a_person_changed_meanwhile(store):
    """A person closes a case while a recheck of it is running: the recheck's status change is refused with the
    same conflict message as an edit from a stale view, and the person's change stands."""
    from workbench.errors import ConflictError

    tracker = BadCaseTracker(store)
    tracker.capture_failures(run(version(1), ROWS, [ORACLE], store=store, progress=False))
    case = tracker.list()[0]
    person = BadCaseTracker(store)
    changed = []

    def answer(prompt: str) -> str:
        if not changed:  # the recheck has read the cases; now someone else edits one
            changed.append(person.set_status(case.id, "wontfix"))
        return ORACLE.generate(prompt).text

    racing = FunctionModel(answer, spec="function:oracle")
    with pytest.raises(
        ConflictError, match=rf"Bad case #{case.id} was changed by someone else.*Nothing was overwritten"
    ):
        tracker.recheck(version(2), [racing], cache=False, progress=False)
    assert tracker.get(case.id).status == "wontfix", "the person's change stands"
    assert store.bad_case_checks(case.id) == [], "no check was half written"
