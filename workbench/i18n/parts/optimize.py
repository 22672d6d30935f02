"""The Optimize panel (``workbench/ui/optimize_panel.py``): its choices, buttons, progress, the candidates table and
the held-out verdict."""

EN = {
    "optimize.template": "Template",
    "optimize.datasets": "Datasets",
    "optimize.datasets_hint": "Ctrl-click (⌘-click) to use several files together: at least 100 rows with answers.",
    "optimize.model": "Model",
    "optimize.generators": "Candidates from",
    "optimize.gen.demos": "few-shot demonstrations",
    "optimize.gen.labels": "label words (log-probability)",
    "optimize.gen.instructions": "instruction rewrites (needs a proposer)",
    "optimize.proposer": "Proposer",
    "optimize.proposer_placeholder": "openai:MODEL@http://HOST:PORT/v1",
    "optimize.budget": "Budget (model calls, 0 = no limit)",
    "optimize.seed": "Seed",
    "optimize.target_gain": "Target gain",
    "optimize.estimate": "Estimate",
    "optimize.start": "Start",
    "optimize.stop": "Stop",
    "optimize.save_as": "Save as v{version}",
    "optimize.plan": (
        "Splits (seed {seed}): train {train} · dev {dev} · held-out {heldout} rows. Estimated model calls: at most "
        "{calls} (budget: {budget}); the least that means anything: {minimum}."
    ),
    "optimize.no_budget": "no limit",
    "optimize.spent_before": {
        "one": "{n} row was spent as held-out before: it stays out of held-out.",
        "other": "{n} rows were spent as held-out before: they stay out of held-out.",
    },
    "optimize.phase": "{phase}: {done} / {total} cells",
    "optimize.phase.train": "train",
    "optimize.phase.probe": "label-word probe",
    "optimize.phase.propose": "proposals",
    "optimize.phase.dev": "dev ranking",
    "optimize.phase.heldout": "held-out test",
    "optimize.starting": "checking the inputs and the endpoints…",
    "optimize.done": "done: {calls} model calls",
    "optimize.stopped": "Stopped. Every finished run is stored; press Start again to resume.",
    "optimize.candidates": "Candidates on dev — the original passes {original}",
    "optimize.col.candidate": "candidate",
    "optimize.col.generator": "from",
    "optimize.col.dev": "dev pass rate",
    "optimize.col.ci": "95% CI",
    "optimize.col.gain": "gain",
    "optimize.col.status": "status",
    "optimize.status.evaluated": "ranked",
    "optimize.status.skipped": "left out: budget",
    "optimize.diff": "diff",
    "optimize.winner": "winner",
    "optimize.verdict.heldout": (
        "Held-out ({pairs} rows no generator or ranking saw): the original {original}, the winner {winner}. "
        "{b_only} pass only with the winner, {a_only} only with the original; exact McNemar p = {p:.4g}."
    ),
    "optimize.verdict.optimism": "Optimism: dev gain {dev} − held-out gain {heldout} = {optimism} points.",
    "optimize.verdict.accepted": "Accepted: the winner is better than v{version} on the held-out rows.",
    "optimize.verdict.rejected": "Not accepted: the dev gain did not hold on the held-out rows. Nothing was saved.",
    "optimize.verdict.no_winner": (
        "Not accepted: no candidate beat v{version} on dev; the held-out rows were not spent."
    ),
    "optimize.flipped": {"one": "{n} flipped row", "other": "{n} flipped rows"},
    "optimize.saved": "Saved {ref}.",
}

ZH = {
    "optimize.template": "模板",
    "optimize.datasets": "数据集",
    "optimize.datasets_hint": "按住 Ctrl（Mac 上为 ⌘）点击可同时使用多个文件：至少 100 行带答案的数据。",
    "optimize.model": "模型",
    "optimize.generators": "候选来源",
    "optimize.gen.demos": "少样本示例",
    "optimize.gen.labels": "标签词（按对数概率）",
    "optimize.gen.instructions": "改写指令（需要提议模型）",
    "optimize.proposer": "提议模型",
    "optimize.proposer_placeholder": "openai:MODEL@http://HOST:PORT/v1",
    "optimize.budget": "预算（模型调用次数，0 = 不限）",
    "optimize.seed": "随机种子",
    "optimize.target_gain": "目标提升",
    "optimize.estimate": "估算",
    "optimize.start": "开始",
    "optimize.stop": "停止",
    "optimize.save_as": "保存为 v{version}",
    "optimize.plan": (
        "数据划分（种子 {seed}）：训练 {train} · 开发 {dev} · 留出 {heldout} 行。预计模型调用：最多 {calls} 次"
        "（预算：{budget}）；有意义的最低需要：{minimum} 次。"
    ),
    "optimize.no_budget": "不限",
    "optimize.spent_before": "有 {n} 行以前已用作留出集：它们不会再进入留出集。",
    "optimize.phase": "{phase}：{done} / {total} 个单元格",
    "optimize.phase.train": "训练集",
    "optimize.phase.probe": "标签词探测",
    "optimize.phase.propose": "指令提议",
    "optimize.phase.dev": "开发集排名",
    "optimize.phase.heldout": "留出集检验",
    "optimize.starting": "正在检查输入和模型端点……",
    "optimize.done": "完成：{calls} 次模型调用",
    "optimize.stopped": "已停止。完成的运行都已保存；再按“开始”即可继续。",
    "optimize.candidates": "开发集上的候选——原版本通过 {original}",
    "optimize.col.candidate": "候选",
    "optimize.col.generator": "来源",
    "optimize.col.dev": "开发集通过率",
    "optimize.col.ci": "95% 置信区间",
    "optimize.col.gain": "提升",
    "optimize.col.status": "状态",
    "optimize.status.evaluated": "已排名",
    "optimize.status.skipped": "未评估：预算不足",
    "optimize.diff": "差异",
    "optimize.winner": "胜者",
    "optimize.verdict.heldout": (
        "留出集（{pairs} 行，任何生成器和排名都没见过）：原版本 {original}，胜者 {winner}。"
        "{b_only} 行只有胜者答对，{a_only} 行只有原版本答对；McNemar 精确检验 p = {p:.4g}。"
    ),
    "optimize.verdict.optimism": "乐观偏差：开发集提升 {dev} − 留出集提升 {heldout} = {optimism} 个百分点。",
    "optimize.verdict.accepted": "已接受：在留出集上，胜者比 v{version} 更好。",
    "optimize.verdict.rejected": "未接受：开发集上的提升在留出集上没有成立。没有保存任何版本。",
    "optimize.verdict.no_winner": "未接受：开发集上没有候选胜过 v{version}；留出集没有被使用。",
    "optimize.flipped": "{n} 个翻转的行",
    "optimize.saved": "已保存 {ref}。",
}
