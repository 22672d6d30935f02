import pandas as pd
import pytest

from workbench.datasets import load_dataset, write_dataset
from workbench.errors import DatasetError


def test_csv_and_jsonl_load_with_unicode(tmp_path):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text('text,expected\n我今天考砸了。,negative\n"good, really",positive\n', encoding="utf-8")
    data = load_dataset(csv_path)
    assert len(data) == 2 and data.columns == ("text", "expected")
    assert data.rows[1]["text"] == "good, really"
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text('{"text": "你好", "expected": "hi"}\n\n{"text": "再见", "expected": "bye"}\n', encoding="utf-8")
    assert [r["text"] for r in load_dataset(jsonl)] == ["你好", "再见"]


def test_malformed_jsonl_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\n{"text": oops}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.jsonl line 2: not valid JSON"):
        load_dataset(path)


def test_csv_with_extra_fields_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,expected\nfine,positive\nnot, quoted, here\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.csv line 3: more fields"):
        load_dataset(path)


def test_missing_column_names_columns_and_fix(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("sentence,expected\nhello,positive\n", encoding="utf-8")
    data = load_dataset(path)
    with pytest.raises(DatasetError) as info:
        data.check_columns(["text"], template_name="prompt s@v1")
    message = str(info.value)
    assert "no column 'text'" in message and "sentence" in message and "Rename a column" in message


def test_empty_values_name_rows(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,expected\nhello,positive\n,negative\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"d\.csv line 3 \(column 'text'\)"):
        load_dataset(path).check_columns(["text"])


def test_dataframe_and_records_sources():
    df = pd.DataFrame({"text": ["a", "b"], "expected": ["x", None]})
    data = load_dataset(df)
    assert data.columns == ("text", "expected") and data.rows[1]["expected"] is None
    assert len(load_dataset([{"text": "a"}])) == 1


def test_unknown_format_and_missing_file(tmp_path):
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(DatasetError, match="unsupported dataset format"):
        load_dataset(tmp_path / "d.xlsx")
    with pytest.raises(DatasetError, match="No dataset file"):
        load_dataset(tmp_path / "nope.csv")


def test_write_round_trip(tmp_path):
    rows = [{"text": "我", "expected": {"a": 1}}, {"text": "you", "expected": "b"}]
    for suffix in (".jsonl", ".csv"):
        path = write_dataset(rows, tmp_path / f"out{suffix}")
        back = load_dataset(path)
        assert [r["text"] for r in back] == ["我", "you"]
