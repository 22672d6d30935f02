"""The store picker in the header: where the runs are read and written."""

EN = {
    "store.label": "Store",
    "store.placeholder": "path/to/workbench.db  or  postgresql://user@host:5432/workbench",
    "store.open": "Open store",
    "store.open_tooltip": "read and write runs in this store",
    "store.create": "Create it",
    "store.kind.sqlite": "SQLite file",
    "store.kind.postgresql": "PostgreSQL (shared)",
    "store.default": "the project's store",
    "store.already": "Already using {url}.",
    "store.failed": "Could not open {text}; still using {url}.",
    "store.password_removed": "The password was left out: type it again, or put the URL in WORKBENCH_STORE.",
    "store.offer_create": (
        "There is no store at {path} yet (a typo?). Press “Create it” to start a new, empty store there; "
        "still using {url}."
    ),
    "store.now_using": "Now using {url}.",
    "store.new": (
        "A new, empty store: {url}. Nothing has been run into it yet; runs made in this project (notebooks, the CLI, "
        "wb.run) are stored here."
    ),
    "store.empty": "This store has no runs yet: {url}.",
    "store.busy": "A run is still going into {url}: stop it or let it finish before you open another store.",
}

ZH = {
    "store.label": "存储",
    "store.placeholder": "路径/workbench.db  或  postgresql://用户@主机:5432/workbench",
    "store.open": "打开存储",
    "store.open_tooltip": "在这个存储中读写运行",
    "store.create": "创建",
    "store.kind.sqlite": "SQLite 文件",
    "store.kind.postgresql": "PostgreSQL（共享）",
    "store.default": "项目的存储",
    "store.already": "已在使用 {url}。",
    "store.failed": "无法打开 {text}；仍在使用 {url}。",
    "store.password_removed": "密码已被移除：请重新输入，或把该 URL 写入 WORKBENCH_STORE。",
    "store.offer_create": "{path} 还没有存储（是否拼写错误？）。按“创建”在那里新建一个空存储；仍在使用 {url}。",
    "store.now_using": "现在使用 {url}。",
    "store.new": "新的空存储：{url}。还没有任何运行；本项目中的运行（笔记本、命令行、wb.run）都保存在这里。",
    "store.empty": "这个存储还没有运行：{url}。",
    "store.busy": "仍有一个运行在写入 {url}：请先停止它或等它结束，再打开另一个存储。",
}
