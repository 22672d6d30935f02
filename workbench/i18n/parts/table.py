"""The sortable table's own words (the pager, the header's tooltip, the scroll hint); the browser fills in
``{first}``, ``{last}``, ``{total}`` and ``{n}``."""

EN = {
    "table.prev": "◀ Previous",
    "table.next": "Next ▶",
    "table.per_page": "{n} per page",
    "table.rows_per_page": "rows per page",
    "table.range": "Rows {first}–{last} of {total}",
    "table.click_to_sort": "click to sort",
    "table.scroll_hint": "↔ The table scrolls sideways: more columns to the right.",
}

ZH = {
    "table.prev": "◀ 上一页",
    "table.next": "下一页 ▶",
    "table.per_page": "每页 {n} 行",
    "table.rows_per_page": "每页行数",
    "table.range": "第 {first}–{last} 行，共 {total} 行",
    "table.click_to_sort": "点击排序",
    "table.scroll_hint": "↔ 表格可以左右滚动：右侧还有更多列。",
}
