"""08_agents: declare a tool as an OpenAI-style function, and measure tool-choice accuracy from a run's records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.course.exercise import close, exercise

UNITS_PARAMETERS = ("value", "from_unit", "to_unit")


def _declaration(context: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "convert_units",
        "description": "Convert a measurement between units (km, mi, kg, lb, C, F)",
        "parameters": {
            "type": "object",
            "properties": {
                "value": {"type": "number"},
                "from_unit": {"type": "string"},
                "to_unit": {"type": "string"},
            },
            "required": list(UNITS_PARAMETERS),
        },
    }


@exercise(
    "tool_declaration",
    solution=_declaration,
    unfinished=(
        "set `declaration` to a dict {name, description, parameters} for convert_units(value, from_unit, to_unit): "
        "parameters is a JSON Schema of an object whose three properties are all required.",
        "把 `declaration` 设为 convert_units(value, from_unit, to_unit) 的字典 {name, description, parameters}："
        "parameters 是一个对象的 JSON Schema，三个属性都必填。",
    ),
)
def _check_declaration(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    from workbench.tools.declarations import definition_problem

    if not isinstance(value, Mapping):
        return (
            f"give a dict such as {{'name': 'convert_units', 'parameters': {{...}}}}, not {type(value).__name__}.",
            f"请给出一个字典，例如 {{'name': 'convert_units', 'parameters': {{...}}}}，而不是 {type(value).__name__}。",
        )
    problem = definition_problem(dict(value))
    if problem is not None:
        return (f"the workbench refuses it: {problem}.", f"工作台不接受它：{problem}。")
    body = value.get("function", value)
    if body.get("name") != "convert_units":
        return (
            f"the tool is named {body.get('name')!r}: name it convert_units, as the model will call it.",
            f"工具名是 {body.get('name')!r}：请命名为 convert_units，模型会按这个名字调用它。",
        )
    parameters = body.get("parameters") or {}
    properties = parameters.get("properties") or {}
    missing = [p for p in UNITS_PARAMETERS if p not in properties]
    if missing:
        return (
            f"`properties` lacks {missing}: describe each argument the function takes.",
            f"`properties` 缺少 {missing}：函数的每个参数都要描述。",
        )
    if (properties["value"] or {}).get("type") not in ("number", "integer"):
        return (
            '`value` is a number (JSON Schema type: number), or the model may send "5 km" as text.',
            '`value` 是数字（JSON Schema 类型 number），否则模型可能把 "5 km" 当文本发送。',
        )
    not_required = [p for p in UNITS_PARAMETERS if p not in (parameters.get("required") or [])]
    if not_required:
        return (
            f"{not_required} are not in `required`: a call without them cannot be converted, so require all three.",
            f"{not_required} 不在 `required` 中：缺了它们就无法换算，三个都要必填。",
        )
    return None


def _first_tool(calls: Any) -> str:
    from workbench.tools.expected import parse_expected

    parsed = parse_expected(calls) if not isinstance(calls, list) else calls
    return str(parsed[0]["name"]) if parsed else "(no call)"


def _choice_accuracy(context: dict[str, Any]) -> float:
    records = context["records"]
    right = sum(_first_tool(r.tool_calls or []) == _first_tool(r.inputs["expected_tool_calls"]) for r in records)
    return right / len(records)


@exercise(
    "choice_accuracy",
    solution=_choice_accuracy,
    unfinished=(
        "set `accuracy` to the share of rows whose first call is the expected first tool (a row expecting [] is right "
        "when nothing was called): compare r.tool_calls with r.inputs['expected_tool_calls'].",
        "把 `accuracy` 设为第一个调用就是期望的第一个工具的行所占比例（期望 [] 的行在没有任何调用时算对）："
        "比较 r.tool_calls 与 r.inputs['expected_tool_calls']。",
    ),
)
def _check_choice_accuracy(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return (f"give a number between 0 and 1, not {value!r}.", f"请给出 0 到 1 之间的数，而不是 {value!r}。")
    records = context["records"]
    wanted = _choice_accuracy(context)
    if close(value, wanted):
        return None
    n = len(records)
    if close(value / 100, wanted):
        return ("give a share between 0 and 1, not a percentage.", "请给出 0 到 1 之间的比例，而不是百分数。")
    if close(value, sum(bool(r.passed) for r in records) / n):
        return (
            "that is the pass rate of tool_calls, which also checks the arguments: compare only the tools' names.",
            "这是 tool_calls 的通过率，它还检查了参数：这里只比较工具名。",
        )
    called = [r for r in records if _first_tool(r.inputs["expected_tool_calls"]) != "(no call)"]
    if called and close(
        value,
        sum(_first_tool(r.tool_calls or []) == _first_tool(r.inputs["expected_tool_calls"]) for r in called)
        / len(called),
    ):
        return (
            "you left out the rows that expect no call ([]): they count too, right when nothing was called.",
            "你漏掉了期望不调用任何工具（[]）的行：它们也要算，没有调用时算对。",
        )
    return (
        f"{value:.3f} is not it: count the rows whose first call's name equals the first expected name, over all "
        f"{n} rows.",
        f"{value:.3f} 不对：统计第一个调用的名字等于期望的第一个名字的行，再除以全部 {n} 行。",
    )
