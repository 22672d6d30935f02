"""The table widget without a browser: the browser only reports clicks (sort, page, selected row); Python keeps the
state, so new rows (a filter, the search) never lose the sort order or the selection."""

from workbench.ui.table import Column, DataTable, Row, sort_value

COLUMNS = [Column("name", "name"), Column("score", "score")]


def _rows(*pairs: tuple[str, float | None]) -> list[Row]:
    return [Row(name, {"name": name, "score": str(score)}, {"name": name, "score": score}) for name, score in pairs]


def _table(rows: list[Row], page_size: int = 10) -> DataTable:
    table = DataTable(page_size=page_size)
    table.set_columns(COLUMNS)
    table.set_rows(rows)
    return table


def test_a_header_click_sorts_up_then_down_with_empty_cells_last_going_up():
    table = _table(_rows(("b", 2.0), ("a", None), ("c", 1.0)))
    assert table.row_ids == ["b", "a", "c"], "the rows' own order until a header is clicked"
    table.sort = {"key": "score", "descending": False}  # what the browser sends on a click
    assert table.row_ids == ["c", "b", "a"]
    table.sort = {"key": "score", "descending": True}
    assert table.row_ids == ["a", "b", "c"], "reversed, the empty cell included"
    table.sort_by("name")
    assert table.row_ids == ["a", "b", "c"]


def test_new_rows_keep_the_sort_and_the_selected_rows_page():
    rows = _rows(*((f"r{i:02d}", float(i % 7)) for i in range(30)))
    table = _table(rows, page_size=10)
    table.sort_by("name", descending=True)
    table.select("r05")
    assert table.page == 2 and "r05" in table.page_ids, "the page the selected row is on"
    table.set_rows([r for r in rows if r.id != "r29"])  # a filter drops one row
    assert table.sort == {"key": "name", "descending": True} and table.row_ids[0] == "r28"
    assert table.selected == "r05" and "r05" in table.page_ids


def test_the_pager_shows_one_page_at_a_time():
    table = _table(_rows(*((f"r{i}", float(i)) for i in range(12))), page_size=5)
    assert table.total == 12 and table.page_ids == ["r0", "r1", "r2", "r3", "r4"]
    table.page = 2  # "Next" twice
    assert table.page_ids == ["r10", "r11"]
    table.page = 9  # past the end: the last page
    assert table.page == 2
    table.page_size = 25
    assert table.page == 0 and len(table.page_ids) == 12


def test_sort_values_order_numbers_text_and_empty_cells_without_comparing_types():
    values = ["b", None, 2, "A", 1.5, float("nan"), True]
    ordered = sorted(values, key=sort_value)
    assert ordered[:3] == [True, 1.5, 2] and ordered[3:5] == ["A", "b"]
    assert ordered[5] is None and ordered[6] != ordered[6]
