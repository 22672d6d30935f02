"""The workbench's frame: its tabs and header."""

EN = {
    "app.tab.template": "Template",
    "app.tab.run": "Run",
    "app.tab.results": "Results",
    "app.tab.runs": "Runs",
    "app.tab.bad_cases": "Bad cases",
    "app.refresh_tooltip": "re-read the library, runs and bad cases (your choices stay)",
}

ZH = {
    "app.tab.template": "模板",
    "app.tab.run": "运行",
    "app.tab.results": "结果",
    "app.tab.runs": "运行记录",
    "app.tab.bad_cases": "坏例",
    "app.refresh_tooltip": "重新读取模板库、运行和坏例（你的选择保持不变）",
}
