"""05_prompt_techniques: a majority vote over samples, and a JSON schema that decoding can be held to."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
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
        try:
            got = value(list(answers))
        except TypeError as exc:
            if "NoneType" not in str(exc):
                raise
            return (
                f"majority_vote({answers}) raised TypeError ({exc}): drop the None answers before counting.",
                f"majority_vote({answers}) 抛出了 TypeError（{exc}）：先去掉 None 再计数。",
            )
        if got != wanted:
            return _vote_hint(answers, wanted, got)
    return None


def _vote_hint(answers: list[Any], wanted: Any, got: Any) -> tuple[str, str]:
    call = f"majority_vote({answers}) returned {got!r}, expected {wanted!r}"
    call_zh = f"majority_vote({answers}) 返回了 {got!r}，应为 {wanted!r}"
    if isinstance(got, tuple | list):
        return (
            f"{call}: return the answer itself, not (answer, count) pairs — `most_common(1)[0][0]`.",
            f"{call_zh}：返回答案本身，而不是（答案，次数）对——`most_common(1)[0][0]`。",
        )
    if isinstance(got, int) and not isinstance(got, bool) and got == answers.count(wanted) and str(got) != wanted:
        return (
            f"{call}: that is how often the answer appears; return the answer.",
            f"{call_zh}：这是答案出现的次数；要返回答案本身。",
        )
    if got is None and None in answers:
        return (
            f"{call}: None means the parser could not read an answer; ignore it when counting.",
            f"{call_zh}：None 表示解析器没读出答案；计数时要忽略它。",
        )
    if got is not None and str(got) == wanted:
        return (
            f"{call}: return the answer as it was given (the string {wanted!r}), without converting it.",
            f"{call_zh}：按原样返回答案（字符串 {wanted!r}），不要转换类型。",
        )
    return (f"{call}.", f"{call_zh}。")


def _solution_schema(context: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"name": {"type": "string"}, "email": {"type": "string"}, "phone": {"type": "string"}},
        "required": ["name", "email", "phone"],
        "additionalProperties": False,
    }


_GOOD = {"name": "Ada", "email": "ada@example.com", "phone": "555-0100"}
_BAD = [
    (
        {"name": "Ada", "email": "ada@example.com"},
        ("a record without a phone", 'list all three fields in `required`: ["name", "email", "phone"]'),
        ("缺少 phone 的记录", '把三个字段都列进 `required`：["name", "email", "phone"]'),
    ),
    (
        {**_GOOD, "phone": 5550100},
        ("a phone that is a number", 'give each field {"type": "string"} under `properties`'),
        ("phone 是数字的记录", '在 `properties` 里给每个字段加上 {"type": "string"}'),
    ),
    (
        {**_GOOD, "age": 36},
        ("a record with an extra field `age`", 'add "additionalProperties": False'),
        ("多了字段 `age` 的记录", '加上 "additionalProperties": False'),
    ),
]
_PYTHON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object"}


def _walk(schema: Any) -> Iterator[tuple[Any, Any]]:
    """Every (key, value) pair in a nested schema."""
    if isinstance(schema, dict):
        for key, item in schema.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(schema, list):
        for item in schema:
            yield from _walk(item)


def _shape_hint(value: Any) -> tuple[str, str] | None:
    """What is wrong with a schema's shape before it can validate anything (None: nothing)."""
    if isinstance(value, str):
        return (
            "that is JSON text; give the schema as a Python dict (`json.loads` turns the text into one).",
            "这是 JSON 文本；请把 schema 写成 Python 字典（`json.loads` 可以把文本变成字典）。",
        )
    if not isinstance(value, dict):
        return (
            'a JSON schema is a dict, such as {"type": "object", "properties": {...}}.',
            'JSON schema 是一个字典，例如 {"type": "object", "properties": {...}}。',
        )
    pairs = list(_walk(value))
    if any(isinstance(item, type) for _, item in pairs):
        return (
            'write JSON Schema types as strings such as "string", not Python types such as str.',
            'JSON Schema 的类型要写成字符串，例如 "string"，而不是 Python 类型 str。',
        )
    for key, item in pairs:
        if key == "type" and isinstance(item, str) and item in _PYTHON_TYPES:
            return (
                f'JSON Schema calls the type "{_PYTHON_TYPES[item]}", not Python\'s "{item}".',
                f'JSON Schema 里这个类型叫 "{_PYTHON_TYPES[item]}"，而不是 Python 的 "{item}"。',
            )
        if key == "required" and isinstance(item, bool):
            return (
                '`required` is one list on the object (["name", "email", "phone"]), not True on each field.',
                '`required` 是对象上的一个列表（["name", "email", "phone"]），而不是在每个字段上写 True。',
            )
    return None


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

    problem = _shape_hint(value)
    if problem:
        return problem
    try:
        jsonschema.validate(_GOOD, value)
    except jsonschema.SchemaError as exc:
        return (f"that is not a valid JSON schema: {exc.message}.", f"这不是合法的 JSON schema：{exc.message}。")
    except jsonschema.ValidationError as exc:
        return (f"a correct record is rejected: {exc.message}.", f"一条正确的记录被拒绝了：{exc.message}。")
    for record, (what, fix), (what_zh, fix_zh) in _BAD:
        try:
            jsonschema.validate(record, value)
        except jsonschema.ValidationError:
            continue
        return (f"your schema accepts {what}; {fix}.", f"你的 schema 接受了{what_zh}；{fix_zh}。")
    return None
