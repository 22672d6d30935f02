"""01_prompt_tuning: which rows a new version fixed, and how many flips a difference needs to be real."""

from __future__ import annotations

import itertools
from typing import Any

from workbench.course.exercise import exercise, row_ids

ALPHA = 0.05


def _fixed(context: dict[str, Any]) -> list[str]:
    before = {r.row_id: r.passed for r in context["before"].records}
    return sorted(r.row_id for r in context["after"].records if r.passed and before.get(r.row_id) is False)


@exercise(
    "fixed_rows",
    solution=_fixed,
    unfinished=(
        "set `fixed_rows` to the row ids that failed with version 1 and pass with version 2.",
        "把 `fixed_rows` 设为版本 1 答错、版本 2 答对的行号列表。",
    ),
)
def _check_fixed(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    wanted = _fixed(context)
    got = row_ids(value)
    if got == wanted:
        return None
    if set(got) > set(wanted):
        return (
            "you also listed rows that passed both times (or failed after): keep only fail → pass.",
            "你还列了两次都答对（或之后答错）的行：只保留“错 → 对”的行。",
        )
    after = {r.row_id: r.passed for r in context["after"].records}
    broken = sorted(str(r.row_id) for r in context["before"].records if r.passed and after.get(r.row_id) is False)
    if got and got == broken:
        return (
            "those rows went the other way, pass → fail (version 2 broke them); you want fail → pass.",
            "这些行是反方向变化的，对 → 错（版本 2 把它们改坏了）；要找的是“错 → 对”的行。",
        )
    return (
        f"{len(wanted)} row(s) went from fail to pass; you listed {len(got)}. Compare `passed` row by row.",
        f"共有 {len(wanted)} 行从错变对，你列了 {len(got)} 行。逐行比较 `passed`。",
    )


def _min_flips(context: dict[str, Any]) -> int:
    from workbench.stats import min_discordant

    return min_discordant()


@exercise(
    "min_flips",
    solution=_min_flips,
    unfinished=(
        "set `min_flips` to the fewest rows that must flip, all the same way, before McNemar's exact "
        "test calls a difference significant at 0.05 (try `mcnemar_exact(0, d)` for d = 1, 2, ...).",
        "把 `min_flips` 设为：在 0.05 水平上让 McNemar 精确检验判为显著，至少要有多少行（全部同向）翻转"
        "（试试对 d = 1, 2, ... 计算 `mcnemar_exact(0, d)`）。",
    ),
)
def _check_min_flips(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    # The reference comes from scipy's exact binomial test, not from workbench.stats (which the solution uses).
    from scipy.stats import binomtest

    def p_value(d: int, alternative: str = "two-sided") -> float:
        return 1.0 if d <= 0 else float(binomtest(0, d, 0.5, alternative=alternative).pvalue)

    wanted = next(d for d in itertools.count(1) if p_value(d) < ALPHA)
    if float(value) != int(value):
        return (
            f"`min_flips` is a number of rows: a whole number, not {value!r}.",
            f"`min_flips` 是行数：应为整数，而不是 {value!r}。",
        )
    got = int(value)
    if got == wanted:
        return None
    if 0 < got < wanted and p_value(got, "less") < ALPHA:
        return (
            f"with {got} flips the one-sided p = {p_value(got, 'less'):.3f} < 0.05, but McNemar's test is "
            f"two-sided: p = {p_value(got):.3f}, still ≥ 0.05.",
            f"{got} 行翻转时单侧 p = {p_value(got, 'less'):.3f} < 0.05，但 McNemar 检验是双侧的："
            f"p = {p_value(got):.3f}，仍然 ≥ 0.05。",
        )
    if got < wanted:
        return (
            f"with {got} flips p = {p_value(got):.3f}, still ≥ 0.05: too few.",
            f"{got} 行翻转时 p = {p_value(got):.3f}，仍然 ≥ 0.05：太少了。",
        )
    return (
        f"{got - 1} flips already give p = {p_value(got - 1):.3f} < 0.05: look for the fewest.",
        f"{got - 1} 行翻转时 p = {p_value(got - 1):.3f} 已经 < 0.05：要找最少的那个数。",
    )
