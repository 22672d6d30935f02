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
    if not isinstance(value, dict) or not isinstance(value.get("messages"), list):
        return ("a record is a dict with a `messages` list.", "一条记录是包含 `messages` 列表的字典。")
    roles = [m.get("role") for m in value["messages"]]
    if roles != ["system", "user", "assistant"]:
        return (
            f"roles are {roles}; the order is system, user, assistant.",
            f"角色顺序是 {roles}；应为 system、user、assistant。",
        )
    if value != _record(context):
        return (
            "the roles are right but a message's content differs: the assistant's content is the answer "
            "the model should learn.",
            "角色对了，但某条消息内容不对：assistant 的内容应是模型要学会的答案。",
        )
    return None
