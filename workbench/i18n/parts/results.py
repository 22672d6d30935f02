"""The Results tab: the run picker, the matrix and its filters, the row detail, marking bad cases, the comparison
of two columns, the summary and exports."""

EN = {
    "results.run": "Run",
    "results.refresh_tooltip": "pick up runs made in code or elsewhere",
    "results.filter.all": "all",
    "results.filter.failed": "failed",
    "results.filter.errors": "errors",
    "results.filter.flipped": "flipped",
    "results.filter.flaky": "flaky",
    "results.search_placeholder": "search inputs and outputs",
    "results.no_match": "No rows match the filter and the search.",
    "results.no_runs": (
        "No runs in this store yet. Run something first: in the Run tab choose a template, its dataset and a model, "
        "then press Run (or wb.run(...) in a notebook, workbench run in a terminal)."
    ),
    "results.count": "{shown} of {total} rows ({filter}{searched})",
    "results.searched": ", matching “{needle}”",
    "results.sorted_by": "sorted by {column}, {direction}",
    "results.ascending": "ascending",
    "results.descending": "descending",
    "results.file_order": "in the dataset's order (click a header to sort)",
    "results.col.row": "row",
    "results.col.row_title": "the dataset row's id",
    "results.col.input_title": "the row's {name}",
    "results.col.expected": "expected",
    "results.col.expected_title": "the expected answer",
    "results.selected_row": "Selected row",
    "results.mark_column": "Result of",
    "results.tags": "Tags",
    "results.tags_placeholder": "wrong label, format error",
    "results.note": "Note",
    "results.expected": "Expected",
    "results.mark": "Mark as bad case",
    "results.export_csv": "Export CSV",
    "results.export_html": "Export HTML",
    "results.compare_two": "Compare two columns",
    "results.summary": "Summary",
    "results.choose_two": "Choose two different columns to compare.",
    "results.click_row": "Click a row of the table to see it here in full.",
    "results.row_heading": "Row {row}",
    "results.expected_is": "expected: {expected}",
    "results.b_against_a": "B against A",
    "results.word_diff": "(word diff, {b} against {a}):",
    "results.what_changed": "What changed between the versions",
    "results.click_first": "Click a row of the table first, then choose the column whose result is wrong.",
    "results.no_result_in": "Row {row} has no result in {column}: choose another.",
    "results.marked": (
        "Bad case #{id} ({status}) for {column}, row {row}; tags: {tags}. Review it in the Bad cases tab."
    ),
    "results.case_updated": (
        "Row {row} already was bad case #{id} (found in {old}): updated it to the result of {column} ({status}); "
        "tags: {tags}. A case is one input of one prompt on one model, whichever version shows it."
    ),
    "results.no_run_export": "No run to export: run something first (Run tab), or pick a run above.",
    "results.exported": "Exported to {link} (also in the file browser).",
    "results.report_title": "Run {run_id}",
}

ZH = {
    "results.run": "运行",
    "results.refresh_tooltip": "读取在代码中或其他地方完成的运行",
    "results.filter.all": "全部",
    "results.filter.failed": "未通过",
    "results.filter.errors": "出错",
    "results.filter.flipped": "结果翻转",
    "results.filter.flaky": "不稳定",
    "results.search_placeholder": "搜索输入和输出",
    "results.no_match": "没有符合筛选和搜索条件的行。",
    "results.no_runs": (
        "这个存储还没有运行。请先运行：在“运行”页选择模板、数据集和模型，然后按“运行”"
        "（或在笔记本中调用 wb.run(...)，在终端中执行 workbench run）。"
    ),
    "results.count": "{total} 行中的 {shown} 行（{filter}{searched}）",
    "results.searched": "，匹配“{needle}”",
    "results.sorted_by": "按 {column} 排序，{direction}",
    "results.ascending": "升序",
    "results.descending": "降序",
    "results.file_order": "按数据集中的顺序（点击表头可排序）",
    "results.col.row": "行",
    "results.col.row_title": "数据集中该行的 id",
    "results.col.input_title": "该行的 {name}",
    "results.col.expected": "期望答案",
    "results.col.expected_title": "期望的答案",
    "results.selected_row": "选中的行",
    "results.mark_column": "标记哪一列",
    "results.tags": "标签",
    "results.tags_placeholder": "标签错误, 格式错误",
    "results.note": "备注",
    "results.expected": "期望答案",
    "results.mark": "标记为坏例",
    "results.export_csv": "导出 CSV",
    "results.export_html": "导出 HTML",
    "results.compare_two": "比较两列",
    "results.summary": "汇总",
    "results.choose_two": "请选择两个不同的列进行比较。",
    "results.click_row": "点击表格中的一行，在这里查看完整内容。",
    "results.row_heading": "行 {row}",
    "results.expected_is": "期望答案：{expected}",
    "results.b_against_a": "B 对比 A",
    "results.word_diff": "（逐词差异，{b} 对比 {a}）：",
    "results.what_changed": "两个版本之间的改动",
    "results.click_first": "请先点击表格中的一行，再选择结果错误的那一列。",
    "results.no_result_in": "行 {row} 在 {column} 中没有结果：请选择另一列。",
    "results.marked": "坏例 #{id}（{status}）：{column}，行 {row}；标签：{tags}。请在“坏例”页复查。",
    "results.case_updated": (
        "行 {row} 已经是坏例 #{id}（发现于 {old}）：已更新为 {column} 的结果（{status}）；标签：{tags}。"
        "一个坏例是某个提示词在某个模型上的一个输入，不论哪个版本出错。"
    ),
    "results.no_run_export": "没有可导出的运行：请先运行（“运行”页），或在上方选择一个运行。",
    "results.exported": "已导出到 {link}（也可在文件浏览器中找到）。",
    "results.report_title": "运行 {run_id}",
}
