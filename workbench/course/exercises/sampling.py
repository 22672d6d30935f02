"""07_sampling: the unbiased pass@k estimator, and the nucleus top-p keeps."""

from __future__ import annotations

from typing import Any

from workbench.course.exercise import exercise, not_a_function

_CASES = [(5, 2, 1), (5, 2, 3), (10, 0, 5), (10, 10, 1), (20, 3, 10), (4, 1, 4)]


def _exact_pass_at_k(n: int, c: int, k: int) -> float:
    from scipy.special import comb

    return 1.0 if n - c < k else float(1 - comb(n - c, k, exact=True) / comb(n, k, exact=True))


def _none_correct(n: int, c: int, k: int) -> float:
    """The chance that k samples drawn one by one without replacement are all wrong — the definition, computed
    independently of the binomial coefficients the solution uses."""
    chance = 1.0
    for drawn in range(k):
        chance *= max(0, n - c - drawn) / (n - drawn)
    return chance


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
        always = n - c < k
        note = " (when n − c < k every draw contains a correct sample)" if always else ""
        note_zh = "（当 n − c < k 时每次抽取都含有正确样本）" if always else ""
        try:
            got = float(value(n, c, k))
        except Exception as exc:  # say which call failed, in plain words
            return (
                f"pass_at_k({n}, {c}, {k}) raised {type(exc).__name__}: {exc}{note}"
                + (": return 1.0 there." if always else "."),
                f"pass_at_k({n}, {c}, {k}) 抛出了 {type(exc).__name__}：{exc}{note_zh}"
                + ("：这时直接返回 1.0。" if always else "。"),
            )
        wanted = 1.0 - _none_correct(n, c, k)
        if abs(got - wanted) > 1e-6:
            return _pass_at_k_hint(n, c, k, got, wanted, note, note_zh)
    return None


def _pass_at_k_hint(n: int, c: int, k: int, got: float, wanted: float, note: str, note_zh: str) -> tuple[str, str]:
    call, call_zh = (
        f"pass_at_k({n}, {c}, {k}) = {got:.4f}, expected {wanted:.4f}",
        f"pass_at_k({n}, {c}, {k}) = {got:.4f}，应为 {wanted:.4f}",
    )
    if got > 1 and abs(got / 100 - wanted) <= 1e-6:
        return (
            f"{call}: return a probability between 0 and 1, not a percentage.",
            f"{call_zh}：请返回 0 到 1 之间的概率，而不是百分数。",
        )
    if abs(got - (1 - wanted)) <= 1e-6:
        return (
            f"{call}: that is the chance that none of the k samples is correct; pass@k is 1 minus it.",
            f"{call_zh}：这是 k 个样本全都不正确的概率；pass@k 是 1 减去它。",
        )
    if abs(got - (1 - (1 - c / n) ** k)) <= 1e-6:
        return (
            f"{call}: 1 − (1 − c/n)^k draws with replacement; pass@k draws k different samples out of the n, "
            "so use 1 − C(n−c, k) / C(n, k).",
            f"{call_zh}：1 − (1 − c/n)^k 是有放回抽样；pass@k 是从 n 个里抽 k 个不同的样本，"
            "要用 1 − C(n−c, k) / C(n, k)。",
        )
    if abs(got - c / n) <= 1e-6:
        return (
            f"{call}: c / n is pass@1; with k draws there are k chances to find a correct sample.",
            f"{call_zh}：c / n 只是 pass@1；抽 k 次就有 k 次机会抽到正确样本。",
        )
    return (f"{call}{note}.", f"{call_zh}{note_zh}。")


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
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        return (
            f"give the set of tokens kept, such as {{'{next(iter(context['probs']))}'}}, not {value!r}.",
            f"请给出保留下来的词的集合，例如 {{'{next(iter(context['probs']))}'}}，而不是 {value!r}。",
        )
    probs = context["probs"]
    wanted, got = _nucleus(context), set(value)
    if got == wanted:
        return None
    unknown = sorted(str(t) for t in got - set(probs))
    if unknown:
        return (
            f"{unknown} are not tokens in `probs`: use its keys, as they are written there.",
            f"{unknown} 不是 `probs` 里的词：请用它的键，照原样写。",
        )
    skipped = [t for t in probs if t not in got and any(probs[t] > probs[kept] for kept in got)]
    if skipped:
        return (
            f"{sorted(skipped)} are more likely than a token you kept: add tokens from the most likely down.",
            f"{sorted(skipped)} 比你保留的某个词概率更大：要从概率最大的词开始往下加。",
        )
    if got < wanted:
        return (
            f"too few: {sorted(got)} add up to {sum(context['probs'][t] for t in got):.2f} < top_p.",
            f"太少了：{sorted(got)} 的概率和为 {sum(context['probs'][t] for t in got):.2f}，小于 top_p。",
        )
    return (
        "too many: stop at the first token that brings the total to top_p.",
        "太多了：在概率和首次达到 top_p 的那个词处停下。",
    )
