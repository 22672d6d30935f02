"""00_quickstart: render a prompt by hand, list the failures, compute the baseline a gate must beat."""

from __future__ import annotations

from collections import Counter
from typing import Any

from workbench.course.exercise import close, exercise, row_ids


def _rendered(context: dict[str, Any]) -> str:
    return str(context["template"].render_text(text=context["text"]))


@exercise(
    "render",
    solution=_rendered,
    unfinished=(
        "set `my_prompt` to the template rendered for the sentence above (hint: `template.render_text(text=...)`).",
        "把 `my_prompt` 设为模板对上面那句话渲染的结果（提示：`template.render_text(text=...)`）。",
    ),
)
def _check_render(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    wanted = _rendered(context)
    if not isinstance(value, str):
        return (
            f"`my_prompt` should be a string, not {type(value).__name__}.",
            f"`my_prompt` 应该是字符串，而不是 {type(value).__name__}。",
        )
    if "{{" in value or "{%" in value:
        return (
            "the template's placeholders are still there: render it with `template.render_text(text=...)` "
            "instead of copying its source.",
            "模板里的占位符还在：用 `template.render_text(text=...)` 渲染它，而不是复制模板源码。",
        )
    if context["text"] not in value:
        return (
            "the sentence is not in your prompt: pass it as the `text` variable.",
            "你的提示里没有这句话：把它作为 `text` 变量传入。",
        )
    if value.strip() != wanted.strip():
        return (
            "close, but it differs from what the model receives: render the whole template, examples included.",
            "接近了，但和模型实际收到的不同：要渲染整个模板，包括示例。",
        )
    return None


def _failures(context: dict[str, Any]) -> list[str]:
    return sorted(r.row_id for r in context["result"].records if r.passed is False)


@exercise(
    "failures",
    solution=_failures,
    unfinished=(
        "set `failed_rows` to the row ids the model got wrong (a list; hint: `record.passed`).",
        "把 `failed_rows` 设为模型答错的行号列表（提示：`record.passed`）。",
    ),
)
def _check_failures(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    if isinstance(value, str | int):
        return (
            "give a list of row ids, e.g. ['r2', 'r7'], even when only one row failed.",
            "请给出行号列表，例如 ['r2', 'r7']，即使只有一行答错。",
        )
    if any(not isinstance(v, str | int) for v in value):
        return (
            "list the row ids (`record.row_id`), not the records themselves.",
            "列出行号（`record.row_id`），而不是记录对象本身。",
        )
    wanted = _failures(context)
    got = row_ids(value)
    if got == wanted:
        return None
    records = context["result"].records
    unjudged = sorted(set(got) & {str(r.row_id) for r in records if r.passed is None})
    if unjudged:
        return (
            f"{unjudged} were not judged (`passed` is None): only rows whose `passed` is False failed.",
            f"{unjudged} 没有被评判（`passed` 是 None）：只有 `passed` 为 False 的行才算答错。",
        )
    if wanted and got == sorted(str(r.row_id) for r in records if r.passed is True):
        return (
            "those are the rows that passed; you want the ones whose `passed` is False.",
            "这些是答对的行；要找的是 `passed` 为 False 的行。",
        )
    extra, missing = sorted(set(got) - set(wanted)), sorted(set(wanted) - set(got))
    return (
        f"not quite: {len(wanted)} row(s) failed; listed but passed: {extra}; missed: {missing}.",
        f"不完全对：共有 {len(wanted)} 行答错；你列了但其实答对的：{extra}；漏掉的：{missing}。",
    )


def _majority(context: dict[str, Any]) -> float:
    counts = Counter(str(r.inputs["expected"]) for r in context["result"].records)
    return max(counts.values()) / sum(counts.values())


@exercise(
    "majority_baseline",
    solution=_majority,
    unfinished=(
        "set `baseline` to the pass rate of a model that always answers the most common label "
        "on these rows (a number between 0 and 1).",
        "把 `baseline` 设为“总是回答最常见标签”的模型在这些行上的通过率（0 到 1 之间的数）。",
    ),
)
def _check_majority(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    wanted = _majority(context)
    if close(value, wanted):
        return None
    if float(value) > 1:
        return (
            "give a share between 0 and 1, not a count or a percentage.",
            "请给出 0 到 1 之间的比例，而不是个数或百分数。",
        )
    if close(value, wanted, 0.01):
        return (
            "close, but rounded: compute the share exactly (e.g. 2 / 3), do not type a rounded number.",
            "接近了，但被四舍五入了：直接计算这个比例（例如 2 / 3），不要手敲四舍五入后的数。",
        )
    records = context["result"].records
    judged = [r.passed for r in records if r.passed is not None]
    if judged and close(value, sum(judged) / len(judged)):
        return (
            "that is the model's own pass rate; the baseline ignores the model and always answers the most "
            "common expected label.",
            "这是模型自己的通过率；基线不看模型，总是回答最常见的期望标签。",
        )
    labels = {str(r.inputs["expected"]) for r in records}
    if len(labels) > 1 and close(value, 1 / len(labels)):
        return (
            f"that is a random guess among the {len(labels)} labels; the baseline always answers the most common one.",
            f"这是在 {len(labels)} 个标签中随机猜；基线总是回答最常见的那个标签。",
        )
    return (
        "count each expected label over the rows; the baseline is the largest count divided by the row count.",
        "数一数每个期望标签出现的次数；基线 = 最多的那个次数 ÷ 行数。",
    )
