"""06_evaluation: the accuracy a guesser gets on the exam, and Cohen's kappa by hand."""

from __future__ import annotations

from collections import Counter
from typing import Any

from workbench.course.exercise import close, exercise


def _most_common_letter(context: dict[str, Any]) -> float:
    answers = [str(a) for a in context["answers"]]
    return Counter(answers).most_common(1)[0][1] / len(answers)


@exercise(
    "letter_baseline",
    solution=_most_common_letter,
    unfinished=(
        "set `letter_baseline` to the accuracy of always answering the exam's most common correct "
        "letter (use `exam_answers`).",
        "把 `letter_baseline` 设为“总是回答考试中最常见的正确选项字母”的准确率（用 `exam_answers`）。",
    ),
)
def _check_letter(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    wanted = _most_common_letter(context)
    if close(value, wanted):
        return None
    if float(value) > 1:
        return (
            "give a share between 0 and 1, not a count or a percentage.",
            "请给出 0 到 1 之间的比例，而不是个数或百分数。",
        )
    if close(value, 0.25):
        return (
            "0.25 is a uniform random guess; the question asks for always picking the most common letter.",
            "0.25 是均匀随机猜测；题目问的是总选最常见的那个字母。",
        )
    if close(value, wanted, 0.01):
        return (
            "close, but rounded: compute the share exactly (count / number of questions), do not type a rounded "
            "number.",
            "接近了，但被四舍五入了：直接计算这个比例（次数 / 题目数），不要手敲四舍五入后的数。",
        )
    answers = [str(a) for a in context["answers"]]
    counts = Counter(answers)
    best = counts.most_common(1)[0][1]
    for letter, count in sorted(counts.items()):
        if count < best and close(value, count / len(answers)):
            return (
                f"that is how often {letter} is correct, but {letter} is not the most common letter.",
                f"这是 {letter} 作为正确答案的比例，但 {letter} 不是最常见的字母。",
            )
    return (
        "count how often each letter is the correct answer; divide the largest count by the number of questions.",
        "数一数每个字母作为正确答案的次数；用最大的次数除以题目数。",
    )


def _kappa(context: dict[str, Any]) -> float:
    from statsmodels.stats.inter_rater import cohens_kappa

    return float(cohens_kappa(context["table"]).kappa)


@exercise(
    "kappa",
    solution=_kappa,
    unfinished=(
        "set `kappa` to Cohen's kappa for the 2×2 table `table` (rows: human, columns: judge): "
        "(observed agreement − chance agreement) / (1 − chance agreement).",
        "把 `kappa` 设为 2×2 表 `table`（行：人工，列：评审模型）的 Cohen's kappa："
        "(观测一致率 − 随机一致率) / (1 − 随机一致率)。",
    ),
)
def _check_kappa(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    # The reference is the definition itself, computed here (the solution asks statsmodels).
    table = context["table"]
    total = sum(sum(row) for row in table)
    labels = range(len(table))
    observed = sum(table[i][i] for i in labels) / total
    chance = sum(sum(table[i]) * sum(row[i] for row in table) for i in labels) / total**2
    wanted = (observed - chance) / (1 - chance)
    if close(value, wanted, 1e-3):
        return None
    if float(value) > 1:
        return (
            "kappa is at most 1: give it as a fraction, not a percentage.",
            "kappa 最大为 1：请给出小数，而不是百分数。",
        )
    if close(value, observed, 1e-3):
        return (
            "that is the observed agreement; kappa also subtracts the agreement expected by chance.",
            "这是观测一致率；kappa 还要减去随机情况下的期望一致率。",
        )
    if close(value, chance, 1e-3):
        return (
            "that is the chance agreement alone; kappa = (observed − chance) / (1 − chance).",
            "这只是随机一致率；kappa = (观测一致率 − 随机一致率) / (1 − 随机一致率)。",
        )
    if close(value, observed - chance, 1e-3):
        return (
            "you have observed − chance; now divide it by (1 − chance).",
            "你算出了 观测一致率 − 随机一致率；还要再除以 (1 − 随机一致率)。",
        )
    uniform = 1 / len(table)
    if chance != uniform and close(value, (observed - uniform) / (1 - uniform), 1e-3):
        return (
            f"that takes chance agreement as 1/{len(table)}; it depends on how often each rater uses each "
            "label: Σ over labels of (row share × column share).",
            f"这把随机一致率当成了 1/{len(table)}；它取决于两位评审各自使用每个标签的频率："
            "对每个标签求（行占比 × 列占比）之和。",
        )
    return (
        "chance agreement = Σ over labels of (row share × column share); check that term.",
        "随机一致率 = 对每个标签求（行占比 × 列占比）之和；检查这一项。",
    )
