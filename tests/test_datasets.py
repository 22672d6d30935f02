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
    (tmp_path / "d.docx").write_text("x")
    with pytest.raises(DatasetError, match="unsupported dataset format '.docx'"):
        load_dataset(tmp_path / "d.docx")
    (tmp_path / "fake.xlsx").write_text("not a workbook")
    with pytest.raises(DatasetError, match="fake.xlsx: cannot open this workbook"):
        load_dataset(tmp_path / "fake.xlsx")
    with pytest.raises(DatasetError, match="No dataset file"):
        load_dataset(tmp_path / "nope.csv")


SIMPLIFIED = [("zh01", "我今天考砸了，心情很糟。", "negative"), ("zh02", "老板当众表扬了我的方案！", "positive")]
TRADITIONAL = [("tw01", "我今天考砸了，心情很糟。", "negative"), ("tw02", "老闆當眾表揚了我的方案！", "positive")]


def _csv(rows, encoding: str, delimiter: str = ",") -> bytes:
    lines = [delimiter.join(("id", "text", "expected"))] + [delimiter.join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.mark.parametrize(
    "encoding, rows, reported",
    [
        ("gbk", SIMPLIFIED, "gb18030"),  # what Excel writes for "CSV" on Chinese Windows
        ("gb18030", SIMPLIFIED, "gb18030"),
        ("big5", TRADITIONAL, "big5"),  # Excel on Traditional Chinese Windows
        ("utf-8-sig", SIMPLIFIED, "utf-8-sig"),  # Excel's "CSV UTF-8"
        ("utf-16", SIMPLIFIED, "utf-16"),
        ("utf-8", SIMPLIFIED, "utf-8"),
    ],
)
def test_csv_in_the_encodings_users_have_loads_with_the_right_text(tmp_path, encoding, rows, reported):
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(_csv(rows, encoding))
    data = load_dataset(path)
    assert [r["text"] for r in data] == [text for _, text, _ in rows]
    assert data.encoding == reported and data.describe_row(1) == f"{path} line 3"


def test_tsv_parquet_and_xlsx(tmp_path):
    tsv = tmp_path / "d.tsv"
    tsv.write_bytes(_csv(SIMPLIFIED, "gbk", "\t"))
    assert [r["text"] for r in load_dataset(tsv)] == [t for _, t, _ in SIMPLIFIED]
    import openpyxl
    import pandas as pd

    pd.DataFrame(SIMPLIFIED, columns=["id", "text", "expected"]).to_parquet(tmp_path / "d.parquet")
    assert load_dataset(tmp_path / "d.parquet").rows[1]["text"] == SIMPLIFIED[1][1]
    book = openpyxl.Workbook()
    first = book.active
    first.title = "简体"
    for row in [("id", "text", "expected"), *SIMPLIFIED]:
        first.append(row)
    second = book.create_sheet("繁體")
    for row in [("id", "text", "expected"), ("tw01", "", "negative"), *TRADITIONAL[1:]]:
        second.append(row)
    book.save(tmp_path / "d.xlsx")
    data = load_dataset(tmp_path / "d.xlsx")
    assert [r["text"] for r in data] == [t for _, t, _ in SIMPLIFIED] and data.sheet == "简体"
    other = load_dataset(tmp_path / "d.xlsx", sheet="繁體")
    assert other.rows[1]["text"] == "老闆當眾表揚了我的方案！"
    with pytest.raises(DatasetError, match="sheet '繁體' row 2 \\(column 'text'\\)"):
        other.check_columns(["text"])
    with pytest.raises(DatasetError, match="no sheet 'Sheet9'. Sheets: 简体, 繁體"):
        load_dataset(tmp_path / "d.xlsx", sheet="Sheet9")


def test_an_undecodable_file_names_the_byte_and_the_fix(tmp_path):
    import random

    rng = random.Random(3)
    path = tmp_path / "binary.csv"
    path.write_bytes(b"id,text\n1," + bytes(rng.randrange(128, 256) for _ in range(400)) + b"\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    message = str(info.value)
    assert str(path) in message and "byte 10" in message and "CSV UTF-8" in message


def test_write_round_trip(tmp_path):
    rows = [{"text": "我", "expected": {"a": 1}}, {"text": "you", "expected": "b"}]
    for suffix in (".jsonl", ".csv"):
        path = write_dataset(rows, tmp_path / f"out{suffix}")
        back = load_dataset(path)
        assert [r["text"] for r in back] == ["我", "you"]
