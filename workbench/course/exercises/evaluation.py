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
    if close(value, 0.25):
        return (
            "0.25 is a uniform random guess; the question asks for always picking the most common letter.",
            "0.25 是均匀随机猜测；题目问的是总选最常见的那个字母。",
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
    wanted = _kappa(context)
    if close(value, wanted, 1e-3):
        return None
    table = context["table"]
    total = sum(sum(row) for row in table)
    observed = (table[0][0] + table[1][1]) / total
    if close(value, observed, 1e-3):
        return (
            "that is the observed agreement; kappa also subtracts the agreement expected by chance.",
            "这是观测一致率；kappa 还要减去随机情况下的期望一致率。",
        )
    return (
        "chance agreement = Σ over labels of (row share × column share); check that term.",
        "随机一致率 = 对每个标签求（行占比 × 列占比）之和；检查这一项。",
    )
