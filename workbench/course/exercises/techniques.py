"""05_prompt_techniques: a majority vote over samples, and a JSON schema that decoding can be held to."""

from __future__ import annotations

from collections import Counter
from typing import Any

from workbench.course.exercise import exercise, not_a_function

_VOTES = [(["4", "5", "4"], "4"), (["12", "12", "7", "7", "12"], "12"), (["9"], "9"), ([None, "3", None, "3"], "3")]


def _solution_vote(context: dict[str, Any]) -> Any:
    def majority_vote(answers: list[Any]) -> Any:
        counts = Counter(a for a in answers if a is not None)
        return counts.most_common(1)[0][0] if counts else None

    return majority_vote


@exercise(
    "majority_vote",
    solution=_solution_vote,
    unfinished=(
        "define `majority_vote(answers)` returning the most common answer, ignoring None "
        "(answers the parser could not read).",
        "定义 `majority_vote(answers)`，返回出现最多的答案，忽略 None（解析失败的答案）。",
    ),
)
def _check_vote(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    if not callable(value):
        return not_a_function("majority_vote")
    for answers, wanted in _VOTES:
        got = value(list(answers))
        if got != wanted:
            return (
                f"majority_vote({answers}) returned {got!r}, expected {wanted!r}.",
                f"majority_vote({answers}) 返回了 {got!r}，应为 {wanted!r}。",
            )
    return None


def _solution_schema(context: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"name": {"type": "string"}, "email": {"type": "string"}, "phone": {"type": "string"}},
        "required": ["name", "email", "phone"],
        "additionalProperties": False,
    }


_GOOD = {"name": "Ada", "email": "ada@example.com", "phone": "555-0100"}
_BAD = [
    ({"name": "Ada", "email": "ada@example.com"}, "a record without a phone", "缺少 phone 的记录"),
    ({**_GOOD, "phone": 5550100}, "a phone that is a number", "phone 是数字的记录"),
    ({**_GOOD, "age": 36}, "a record with an extra field `age`", "多了字段 `age` 的记录"),
]


@exercise(
    "contact_schema",
    solution=_solution_schema,
    unfinished=(
        "set `contact_schema` to a JSON schema for an object with string fields name, email and phone, "
        "all required, nothing else allowed.",
        "把 `contact_schema` 设为一个 JSON schema：对象，含字符串字段 name、email、phone，都必填，不允许其它字段。",
    ),
)
def _check_schema(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    import jsonschema

    try:
        jsonschema.validate(_GOOD, value)
    except jsonschema.ValidationError as exc:
        return (f"a correct record is rejected: {exc.message}.", f"一条正确的记录被拒绝了：{exc.message}。")
    for record, what, what_zh in _BAD:
        try:
            jsonschema.validate(record, value)
        except jsonschema.ValidationError:
            continue
        return (
            f"your schema accepts {what}; tighten `required`, `type` or `additionalProperties`.",
            f"你的 schema 接受了{what_zh}；检查 `required`、`type` 或 `additionalProperties`。",
        )
    return None
