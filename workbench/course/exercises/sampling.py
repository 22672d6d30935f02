"""07_sampling: the unbiased pass@k estimator, and the nucleus top-p keeps."""

from __future__ import annotations

from typing import Any

from workbench.course.exercise import exercise, not_a_function

_CASES = [(5, 2, 1), (5, 2, 3), (10, 0, 5), (10, 10, 1), (20, 3, 10), (4, 1, 4)]


def _exact_pass_at_k(n: int, c: int, k: int) -> float:
    from scipy.special import comb

    return 1.0 if n - c < k else float(1 - comb(n - c, k, exact=True) / comb(n, k, exact=True))


def _solution_pass_at_k(context: dict[str, Any]) -> Any:
    return _exact_pass_at_k


@exercise(
    "pass_at_k",
    solution=_solution_pass_at_k,
    unfinished=(
        "define `pass_at_k(n, c, k)`: the chance that at least one of k samples drawn from n "
        "(c of them correct) is correct — 1 − C(n−c, k) / C(n, k).",
        "定义 `pass_at_k(n, c, k)`：从 n 个样本（其中 c 个正确）里抽 k 个，至少一个正确的概率——"
        "1 − C(n−c, k) / C(n, k)。",
    ),
)
def _check_pass_at_k(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    if not callable(value):
        return not_a_function("pass_at_k")
    for n, c, k in _CASES:
        got, wanted = float(value(n, c, k)), _exact_pass_at_k(n, c, k)
        if abs(got - wanted) > 1e-6:
            return (
                f"pass_at_k({n}, {c}, {k}) = {got:.4f}, expected {wanted:.4f}"
                + (" (when n − c < k every draw contains a correct sample)" if n - c < k else "")
                + ".",
                f"pass_at_k({n}, {c}, {k}) = {got:.4f}，应为 {wanted:.4f}"
                + ("（当 n − c < k 时每次抽取都含有正确样本）" if n - c < k else "")
                + "。",
            )
    return None


def _nucleus(context: dict[str, Any]) -> set[str]:
    probs, top_p = context["probs"], context["top_p"]
    kept, total = set(), 0.0
    for token, p in sorted(probs.items(), key=lambda item: -item[1]):
        kept.add(token)
        total += p
        if total >= top_p:
            break
    return kept


@exercise(
    "nucleus",
    solution=_nucleus,
    unfinished=(
        "set `kept` to the set of tokens top-p sampling keeps: the most likely first, until their "
        "probabilities add up to at least `top_p`.",
        "把 `kept` 设为 top-p 采样保留的词集合：按概率从大到小加入，直到概率之和至少为 `top_p`。",
    ),
)
def _check_nucleus(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    wanted, got = _nucleus(context), set(value)
    if got == wanted:
        return None
    if got < wanted:
        return (
            f"too few: {sorted(got)} add up to {sum(context['probs'][t] for t in got):.2f} < top_p.",
            f"太少了：{sorted(got)} 的概率和为 {sum(context['probs'][t] for t in got):.2f}，小于 top_p。",
        )
    return (
        "too many: stop at the first token that brings the total to top_p.",
        "太多了：在概率和首次达到 top_p 的那个词处停下。",
    )
