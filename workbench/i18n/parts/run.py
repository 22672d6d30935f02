"""The Run tab: what to run, progress, Stop, and what the run did."""

EN = {
    "run.template": "Template",
    "run.versions": "Versions",
    "run.versions_hint": (
        "Ctrl-click (⌘-click on a Mac) or Shift-click to choose several versions; each one is a column."
    ),
    "run.dataset": "Dataset",
    "run.limit": "Rows (0 = all)",
    "run.of_rows": "of {n} rows in this dataset",
    "run.cannot_read": "cannot read it: {error}",
    "run.models": "Models",
    "run.models_placeholder": "one spec per line",
    "run.use_template_params": "use the template's parameters",
    "run.temperature": "Temperature",
    "run.repeats": "Repeats",
    "run.concurrency": "Concurrency (0 = the model's)",
    "run.run": "Run",
    "run.stop": "Stop",
    "run.need_model": "Give at least one model spec (e.g. local, or openai:MODEL@http://HOST:PORT/v1).",
    "run.need_version": "Choose at least one prompt version.",
    "run.no_dataset": "No dataset chosen (none found in {folder}).",
    "run.checking": "checking the inputs and the endpoints…",
    "run.progress": "{done} / {total} · {rate:.2f} rows/s · {errors} errors",
    "run.progress_done": "{total} / {total} · done",
    "run.progress_stopped": "{stored} / {total} · stopped",
    "run.finished": (
        "Run {run_id}: {total} cells, pass rate {rate}, {errors} errors ({called} model calls, {cached} cached, "
        "{resumed} resumed)."
    ),
    "run.stopped_run": (
        "Stopped: {stored} of {total} cells of run {run_id} are stored and shown in Results. Press Run again with "
        "the same choices to resume: only the missing cells are called."
    ),
    "run.stopped": (
        "Stopped: {stored} of {total} cells are stored. Press Run again with the same choices to resume: only the "
        "missing cells are called."
    ),
}

ZH = {
    "run.template": "模板",
    "run.versions": "版本",
    "run.versions_hint": "按住 Ctrl（Mac 上按 ⌘）或 Shift 点击可选择多个版本；每个版本是一列。",
    "run.dataset": "数据集",
    "run.limit": "行数（0 = 全部）",
    "run.of_rows": "（该数据集共 {n} 行）",
    "run.cannot_read": "无法读取：{error}",
    "run.models": "模型",
    "run.models_placeholder": "每行一个模型",
    "run.use_template_params": "使用模板自带的参数",
    "run.temperature": "温度",
    "run.repeats": "重复次数",
    "run.concurrency": "并发数（0 = 模型默认）",
    "run.run": "运行",
    "run.stop": "停止",
    "run.need_model": "请至少填写一个模型（例如 local，或 openai:MODEL@http://HOST:PORT/v1）。",
    "run.need_version": "请至少选择一个提示词版本。",
    "run.no_dataset": "没有选择数据集（在 {folder} 中没有找到）。",
    "run.checking": "正在检查输入和模型端点……",
    "run.progress": "{done} / {total} · 每秒 {rate:.2f} 行 · {errors} 个错误",
    "run.progress_done": "{total} / {total} · 完成",
    "run.progress_stopped": "{stored} / {total} · 已停止",
    "run.finished": (
        "运行 {run_id}：{total} 个单元格，通过率 {rate}，{errors} 个错误（调用模型 {called} 次，缓存命中 {cached} 个，"
        "续跑沿用 {resumed} 个）。"
    ),
    "run.stopped_run": (
        "已停止：运行 {run_id} 的 {total} 个单元格中已有 {stored} 个保存，并显示在“结果”中。"
        "用相同的选择再按一次“运行”即可续跑：只调用缺少的单元格。"
    ),
    "run.stopped": (
        "已停止：{total} 个单元格中已有 {stored} 个保存。用相同的选择再按一次“运行”即可续跑：只调用缺少的单元格。"
    ),
}
