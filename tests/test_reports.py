import json

import pytest

from workbench.models.testing import MockModel
from workbench.prompts import PromptTemplate
from workbench.reports import compare_records, estimate_cost, export_results, flips, register_price
from workbench.runner import run

T = PromptTemplate.from_string("---\nname: r\nassertions: [{type: equals}]\n---\n{{ text }}")
ROWS = [{"text": f"t{i}", "expected": "yes"} for i in range(4)]


def test_compare_shows_flips(store):
    before = run(
        T,
        ROWS,
        [MockModel(default="yes").enqueue("no", "yes", "no", "yes")],
        store=store,
        progress=False,
        concurrency=1,
    )
    after = run(
        T.with_changes(version=2),
        ROWS,
        [MockModel(default="yes").enqueue("yes", "no", "no", "yes")],
        store=store,
        progress=False,
        concurrency=1,
        cache=False,
    )
    table = compare_records(before.records, after.records)
    assert flips(table) == {"fail→pass": 1, "pass→fail": 1, "still pass": 1, "still fail": 1}
    assert {"output_before", "output_after", "passed_before", "passed_after", "change", "text"} <= set(table.columns)


def test_exports_have_dataset_columns_and_result_columns(store, tmp_path):
    result = run(T, ROWS, [MockModel(default="yes")], store=store, progress=False)
    required = {"text", "expected", "prompt", "version", "model", "output", "passed", "score", "latency_ms", "error"}
    csv_path = export_results(result.records, tmp_path / "r.csv")
    header = csv_path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert required <= set(header)
    jsonl = export_results(result.records, tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(jsonl) == 4 and required <= set(json.loads(jsonl[0]))
    html = export_results(result.records, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h1>Summary</h1>" in html and "t3" in html
    with pytest.raises(Exception, match="csv, .jsonl or .html"):
        export_results(result.records, tmp_path / "r.xlsx")


def test_cost_table_is_extensible():
    assert estimate_cost("local", 1000, 1000) == 0
    assert estimate_cost("openai:gpt-4o-mini", 1_000_000, 0) == pytest.approx(0.15)
    assert estimate_cost("openai:my-model@http://x/v1", 10, 10) is None
    register_price("my-model", 1.0, 2.0)
    assert estimate_cost("openai:my-model@http://x/v1", 1_000_000, 1_000_000) == pytest.approx(3.0)
