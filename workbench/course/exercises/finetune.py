"""03_finetune: how many parameters LoRA trains, and a chat fine-tuning record written by hand."""

from __future__ import annotations

from typing import Any

from workbench.course.exercise import exercise


def _lora_params(context: dict[str, Any]) -> int:
    return int(context["rank"]) * (int(context["d_in"]) + int(context["d_out"]))


@exercise(
    "lora_params",
    solution=_lora_params,
    unfinished=(
        "set `lora_params` to the number of parameters a rank-r LoRA adds to one d_in × d_out weight "
        "matrix (it learns B (d_out × r) and A (r × d_in)).",
        "把 `lora_params` 设为秩为 r 的 LoRA 给一个 d_in × d_out 权重矩阵增加的参数个数"
        "（它学习 B（d_out × r）和 A（r × d_in））。",
    ),
)
def _check_lora(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    wanted, got = _lora_params(context), int(value)
    if got == wanted:
        return None
    if got == int(context["d_in"]) * int(context["d_out"]):
        return (
            "that is the full matrix: LoRA trains two thin matrices instead.",
            "这是整个矩阵的参数量：LoRA 训练的是两个“细长”的矩阵。",
        )
    rank, d_in, d_out = int(context["rank"]), int(context["d_in"]), int(context["d_out"])
    if got in (rank * d_in, rank * d_out):
        return (
            "that is only one of the two matrices: add A (r × d_in) and B (d_out × r).",
            "这只是两个矩阵中的一个：要把 A（r × d_in）和 B（d_out × r）加起来。",
        )
    if got == wanted + d_in * d_out:
        return (
            "that also counts the frozen d_in × d_out matrix; count only what LoRA adds: A and B.",
            "这把冻结的 d_in × d_out 矩阵也算进去了；只算 LoRA 新增的 A 和 B。",
        )
    return ("count both matrices: d_out × r plus r × d_in.", "两个矩阵都要算：d_out × r 加上 r × d_in。")


def _record(context: dict[str, Any]) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": context["system"]},
            {"role": "user", "content": context["user"]},
            {"role": "assistant", "content": context["answer"]},
        ]
    }


@exercise(
    "chat_record",
    solution=_record,
    unfinished=(
        'set `record` to one line of an OpenAI chat fine-tuning file: {"messages": [system, user, '
        "assistant]} built from `system`, `user` and `answer`.",
        '把 `record` 设为 OpenAI 对话微调文件中的一行：{"messages": [system, user, assistant]}，'
        "用 `system`、`user` 和 `answer` 构造。",
    ),
)
def _check_record(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    if isinstance(value, str):
        return (
            "that is the JSON text of the line; give the record itself as a dict (`json.loads` turns the text "
            "back into one).",
            "这是这一行的 JSON 文本；请直接给出字典形式的记录（`json.loads` 可以把文本变回字典）。",
        )
    if isinstance(value, list):
        return (
            'that is the list of messages; wrap it in a record: {"messages": [...]}.',
            '这是消息列表本身；要把它放进记录里：{"messages": [...]}。',
        )
    if isinstance(value, dict) and {"prompt", "completion"} <= set(value):
        return (
            "that is the legacy prompt/completion format; a chat fine-tuning record is "
            '{"messages": [system, user, assistant]}.',
            '这是旧的 prompt/completion 格式；对话微调记录是 {"messages": [system, user, assistant]}。',
        )
    if not isinstance(value, dict) or not isinstance(value.get("messages"), list):
        return ("a record is a dict with a `messages` list.", "一条记录是包含 `messages` 列表的字典。")
    if not all(isinstance(m, dict) for m in value["messages"]):
        return (
            'each message is a dict: {"role": ..., "content": ...}.',
            '每条消息都是一个字典：{"role": ..., "content": ...}。',
        )
    roles = [m.get("role") for m in value["messages"]]
    if roles != ["system", "user", "assistant"]:
        return (
            f"roles are {roles}; the order is system, user, assistant.",
            f"角色顺序是 {roles}；应为 system、user、assistant。",
        )
    wanted = _record(context)
    if value == wanted:
        return None
    sources = {"system": "system", "user": "user", "assistant": "answer"}
    for got, right in zip(value["messages"], wanted["messages"], strict=True):
        if got.get("content") != right["content"]:
            role = right["role"]
            return (
                f"the roles are right but the {role} message's content differs: it should be `{sources[role]}`"
                + (", the answer the model should learn." if role == "assistant" else "."),
                f"角色对了，但 {role} 消息的内容不对：应为 `{sources[role]}`"
                + ("，即模型要学会的答案。" if role == "assistant" else "。"),
            )
    return (
        'the roles and contents are right but there is something extra: a record is just {"messages": [...]} '
        "and each message just role and content.",
        '角色和内容都对了，但多了别的东西：记录只有 {"messages": [...]}，每条消息只有 role 和 content。',
    )
