import json

import pytest

from workbench.exports import export_results
from workbench.pipeline import run
from workbench.prompts import PromptTemplate
from workbench.reports import summarize
from workbench.testing.models import MockModel

T = PromptTemplate.from_string("---\nname: r\nassertions: [{type: equals}]\n---\n{{ text }}")
ROWS = [{"text": f"t{i}", "expected": "yes"} for i in range(4)]


def test_summary_gives_each_pass_rate_its_interval(store):
    result = run(
        T,
        ROWS,
        [MockModel(default="yes").enqueue("no", "yes", "yes", "yes")],
        store=store,
        progress=False,
        concurrency=1,
    )
    line = summarize(result.records).iloc[0]
    assert line["column"] == "r@v1/mock" and (line["passed"], line["judged"], line["pass_rate"]) == (3, 4, 0.75)
    low, high = line["ci95"]
    assert low == pytest.approx(0.3006, abs=1e-3) and high == pytest.approx(0.9544, abs=1e-3)  # Wilson, n=4
    assert line["min_detectable_diff"] == 1.0  # capped: 4 rows can never show a difference to be real (6 flips)
    assert line["cost_usd"] == 0.0


def test_exports_have_dataset_columns_and_result_columns(store, tmp_path):
    result = run(T, ROWS, [MockModel(default="yes")], store=store, progress=False)
    required = {
        "text",
        "expected",
        "column",
        "prompt",
        "version",
        "model",
        "output",
        "passed",
        "score",
        "latency_ms",
        "error",
    }
    csv_path = export_results(result.records, tmp_path / "r.csv")
    header = csv_path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert required <= set(header)
    jsonl = export_results(result.records, tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(jsonl) == 4 and required <= set(json.loads(jsonl[0]))
    html = export_results(result.records, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>Summary</h2>" in html and "<h2>Matrix</h2>" in html and "t3" in html and "✓" in html
    with pytest.raises(Exception, match="csv, .jsonl or .html"):
        export_results(result.records, tmp_path / "r.xlsx")


def test_cost_comes_from_the_models_declared_price(store):
    from workbench.models import Capabilities

    class Priced(MockModel):
        capabilities = Capabilities(price=(1.0, 2.0), cacheable=False)

    model = Priced(default="yes")  # the mock counts whitespace-separated words as tokens
    result = run(T, ROWS[:2], [model], store=store, progress=False)
    assert summarize(result.records).iloc[0]["cost_usd"] == pytest.approx(2 * (1 * 1.0 + 1 * 2.0) / 1e6)
    unknown = MockModel(default="yes")
    unknown.capabilities = Capabilities(price=None, cacheable=False)
    result = run(T, ROWS[:2], [unknown], store=store, progress=False)
    assert summarize(result.records).iloc[0]["cost_usd"] is None  # unknown price: no made-up number
