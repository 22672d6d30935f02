"""The Template tab: the editor, its preview, saving, the "changed on disk" warning and version diffs."""

EN = {
    "editor.template": "Template",
    "editor.new_template": "(new template)",
    "editor.examples": "(the template's examples)",
    "editor.preview_with": "Preview with",
    "editor.row": "row",
    "editor.save": "Save as new version",
    "editor.save_tooltip": "Ctrl/Cmd+S in the editor does the same",
    "editor.discard": "Discard my edits",
    "editor.keep": "Keep editing",
    "editor.diff": "Diff",
    "editor.against": "against",
    "editor.diff_rendered": "rendered with the examples",
    "editor.unsaved": "{name} has unsaved edits.",
    "editor.the_new_template": "The new template",
    "editor.a_new_template": "a new template",
    "editor.open_anyway": "Open {target} anyway?",
    "editor.unsaved_marker": "● unsaved edits",
    "editor.reloaded": "Reloaded {name} from disk (v{version}).",
    "editor.variables": "Variables:",
    "editor.kind": "kind:",
    "editor.no_variables": "(none)",
    "editor.preview": "Preview",
    "editor.with_examples": "with the template's examples",
    "editor.row_of": "row {index} of {total} in {name}",
    "editor.row_id": "id {id}",
    "editor.row_expected": "expected {expected}",
    "editor.one_version": "Only one version so far: save an edit to compare versions.",
    "editor.not_saved": "Not saved.",
    "editor.changed_refused": (
        "{file} changed on disk since you opened it. Reload it, look at the difference, or save yours as the next "
        "version (the buttons above)."
    ),
    "editor.name_taken": (
        "The library already has a template named {name!r} (v{version}). Give this one another name on its `name:` "
        "line, or open {name} from the Template list to edit it."
    ),
    "editor.no_changes": "No changes: {ref} is already saved as it is.",
    "editor.saved": "Saved {ref} to {path}",
    "editor.disk.reload": "Reload from disk",
    "editor.disk.reload_tooltip": "your unsaved edits are replaced",
    "editor.disk.show_diff": "Show the difference",
    "editor.disk.save_mine": "Save mine as the next version",
    "editor.disk.changed": "{file} changed on disk",
    "editor.disk.explain": (
        "since you opened it here (you opened v{opened}, the file is now v{now}: saved by another editor, notebook "
        "or process). Reload it (your unsaved edits are replaced), look at the difference, or save yours as the next "
        "version on top of it."
    ),
    "editor.disk.on_disk": "on disk (v{version})",
    "editor.disk.in_editor": "in this editor",
    "editor.disk.no_diff": "(no differences)",
    "editor.diff.same": "No differences apart from the version number (v{a} → v{b}).",
    "editor.diff.version_line": "The version: line changes with every save (v{a} → v{b}).",
}

ZH = {
    "editor.template": "模板",
    "editor.new_template": "（新模板）",
    "editor.examples": "（模板自带的示例）",
    "editor.preview_with": "预览数据",
    "editor.row": "行",
    "editor.save": "另存为新版本",
    "editor.save_tooltip": "在编辑器中按 Ctrl/Cmd+S 效果相同",
    "editor.discard": "放弃我的修改",
    "editor.keep": "继续编辑",
    "editor.diff": "比较",
    "editor.against": "与",
    "editor.diff_rendered": "用示例渲染后比较",
    "editor.unsaved": "{name} 有未保存的修改。",
    "editor.the_new_template": "新模板",
    "editor.a_new_template": "新模板",
    "editor.open_anyway": "仍要打开 {target} 吗？",
    "editor.unsaved_marker": "● 有未保存的修改",
    "editor.reloaded": "已从磁盘重新载入 {name}（v{version}）。",
    "editor.variables": "变量：",
    "editor.kind": "类型：",
    "editor.no_variables": "（无）",
    "editor.preview": "预览",
    "editor.with_examples": "使用模板自带的示例",
    "editor.row_of": "{name} 的第 {index} 行（共 {total} 行）",
    "editor.row_id": "id {id}",
    "editor.row_expected": "期望答案 {expected}",
    "editor.one_version": "目前只有一个版本：保存一次修改后即可比较版本。",
    "editor.not_saved": "未保存。",
    "editor.changed_refused": (
        "{file} 在你打开之后已在磁盘上被修改。请重新载入、查看差异，或把你的修改另存为下一个版本（见上方按钮）。"
    ),
    "editor.name_taken": (
        "模板库中已有名为 {name!r} 的模板（v{version}）。请在 `name:` 行给这个模板另取一个名字，或从模板列表"
        "中打开 {name} 进行编辑。"
    ),
    "editor.no_changes": "没有改动：{ref} 已按原样保存。",
    "editor.saved": "已将 {ref} 保存到 {path}",
    "editor.disk.reload": "从磁盘重新载入",
    "editor.disk.reload_tooltip": "你未保存的修改将被替换",
    "editor.disk.show_diff": "显示差异",
    "editor.disk.save_mine": "把我的修改另存为下一个版本",
    "editor.disk.changed": "{file} 已在磁盘上被修改",
    "editor.disk.explain": (
        "（你在这里打开的是 v{opened}，文件现在是 v{now}：由另一个编辑器、笔记本或进程保存）。"
        "请重新载入（你未保存的修改将被替换）、查看差异，或把你的修改作为下一个版本保存在它之上。"
    ),
    "editor.disk.on_disk": "磁盘上（v{version}）",
    "editor.disk.in_editor": "本编辑器中",
    "editor.disk.no_diff": "（没有差异）",
    "editor.diff.same": "除版本号外没有差异（v{a} → v{b}）。",
    "editor.diff.version_line": "version: 行每次保存都会变化（v{a} → v{b}）。",
}
