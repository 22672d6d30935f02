"""02_rag: hit@k computed by hand, and a question that retrieves the note you want."""

from __future__ import annotations

from typing import Any

from workbench.course.exercise import close, exercise


def _hits(rows: list[Any], k: int, first_expected_only: bool = False) -> int:
    return sum(bool(set(list(e)[:1] if first_expected_only else e) & set(s[:k])) for e, s in rows)


def _hit_at_k(context: dict[str, Any]) -> float:
    rows, k = context["rows"], context["k"]
    return sum(bool(set(expected) & set(sources[:k])) for expected, sources in rows) / len(rows)


@exercise(
    "hit_at_k",
    solution=_hit_at_k,
    unfinished=(
        "set `my_hit_at_k` to the share of questions whose expected note is among their top k "
        "retrieved sources (`rows` holds (expected notes, retrieved sources) per question).",
        "把 `my_hit_at_k` 设为：期望的笔记出现在前 k 个检索结果中的问题所占比例"
        "（`rows` 里每个问题是（期望笔记，检索到的来源））。",
    ),
)
def _check_hit(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    wanted = _hit_at_k(context)
    if close(value, wanted):
        return None
    rows, k = context["rows"], context["k"]
    if len(rows) > 1 and close(value, _hits(rows, k)):
        return (
            f"that is the number of questions with a hit ({_hits(rows, k)}); divide it by the number of "
            f"questions ({len(rows)}).",
            f"这是命中的问题个数（{_hits(rows, k)}）；还要除以问题总数（{len(rows)}）。",
        )
    if float(value) > 1:
        return ("give a share between 0 and 1, not a percentage.", "请给出 0 到 1 之间的比例，而不是百分数。")
    if close(value, _hits(rows, 1) / len(rows)) and k > 1:
        return (
            f"that is hit@1: look at the first {k} sources, not only the first.",
            f"这是 hit@1：要看前 {k} 个来源，而不只是第一个。",
        )
    for other in (k - 1, k + 1):
        if other >= 1 and close(value, _hits(rows, other) / len(rows)):
            return (
                f"that is hit@{other}: count the first {k} sources (`sources[:{k}]`), no more and no fewer.",
                f"这是 hit@{other}：要看前 {k} 个来源（`sources[:{k}]`），不多也不少。",
            )
    if any(len(e) > 1 for e, _ in rows) and close(value, _hits(rows, k, first_expected_only=True) / len(rows)):
        return (
            "some questions list several expected notes: a hit is any of them among the first k sources, "
            "not only the first one.",
            "有些问题列了多个期望笔记：前 k 个来源中出现其中任意一个就算命中，而不只看第一个。",
        )
    return (
        "count a question as a hit if any of its first k sources is one of its expected notes, then divide "
        "by the number of questions.",
        "只要前 k 个来源中有一个是期望笔记就算命中，然后除以问题总数。",
    )


def _question(context: dict[str, Any]) -> str:
    return context["solution_question"]


@exercise(
    "find_note",
    solution=_question,
    unfinished=(
        "set `my_question` to a question (English or Chinese) whose top retrieved chunk comes from "
        "the note named in `target`.",
        "把 `my_question` 设为一个问题（中英文均可），使检索到的第一个片段来自 `target` 指定的笔记。",
    ),
)
def _check_question(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    if not isinstance(value, str) or not value.strip():
        return ("`my_question` should be a non-empty string.", "`my_question` 应该是非空字符串。")
    top = context["kb"].query(value, k=3)
    target = context["target"]
    if top and top[0].source == target:
        return None
    got = [c.source for c in top]
    if top and "_" in target and "_" in top[0].source:
        (lang, note), (found_lang, found_note) = target.split("_", 1), top[0].source.split("_", 1)
        if note == found_note and lang != found_lang:
            return (
                f"your question finds {top[0].source}, the same note in the other language: ask in the language "
                f"of {target}.",
                f"你的问题找到的是 {top[0].source}，即另一种语言的同一篇笔记：用 {target} 的语言来提问。",
            )
    return (
        f"your question retrieves {got}; use words the note {target} itself uses.",
        f"你的问题检索到了 {got}；试试用笔记 {target} 里自己用的词。",
    )
