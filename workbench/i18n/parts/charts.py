"""The charts: pass rate per column with its interval, latency, pass rate per version."""

EN = {
    "charts.rate_of": "{rate:.0%} of {n}",
    "charts.no_judged": "no judged rows ({errors} errors)",
    "charts.pass_rate_axis": "pass rate (bars: 95% confidence interval)",
    "charts.pass_rate_title": "Pass rate per prompt version × model",
    "charts.latency_title": "Latency per call",
    "charts.no_timed": "{title}: no timed calls (all answered from the cache)",
    "charts.latency_axis": "latency (ms)",
    "charts.calls": "calls",
    "charts.latency_heading": "{title} (n = {n}, median {median:.0f} ms)",
    "charts.version_axis": "prompt version",
    "charts.pass_rate_ci_axis": "pass rate (bars: 95% CI)",
    "charts.per_version_title": "{prompt}: pass rate per version",
    "charts.per_version_title_on": "{prompt}: pass rate per version on {dataset}",
    "charts.per_run_title": "{prompt} per run on {dataset}",
}

ZH = {
    "charts.rate_of": "{n} 行中 {rate:.0%}",
    "charts.no_judged": "没有已判定的行（{errors} 个错误）",
    "charts.pass_rate_axis": "通过率（误差线：95% 置信区间）",
    "charts.pass_rate_title": "各提示词版本 × 模型的通过率",
    "charts.latency_title": "每次调用的延迟",
    "charts.no_timed": "{title}：没有计时的调用（全部来自缓存）",
    "charts.latency_axis": "延迟（毫秒）",
    "charts.calls": "调用次数",
    "charts.latency_heading": "{title}（n = {n}，中位数 {median:.0f} 毫秒）",
    "charts.version_axis": "提示词版本",
    "charts.pass_rate_ci_axis": "通过率（误差线：95% 置信区间）",
    "charts.per_version_title": "{prompt}：各版本的通过率",
    "charts.per_version_title_on": "{prompt}：各版本在 {dataset} 上的通过率",
    "charts.per_run_title": "{prompt} 每次运行（数据集 {dataset}）",
}
