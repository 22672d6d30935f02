"""04_deploy: read a server-sent event stream by hand, and the 95th-percentile latency."""

from __future__ import annotations

import json
from typing import Any

from workbench.course.exercise import exercise, not_a_function

_STREAM = (
    'data: {"choices": [{"delta": {"role": "assistant"}}]}\n\n'
    'data: {"choices": [{"delta": {"content": "Over"}}]}\n\n'
    ": keep-alive comment\n\n"
    'data: {"choices": [{"delta": {"content": "all, 很好"}}]}\n\n'
    'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\n'
    "data: [DONE]\n\n"
)


def _solution_sse(context: dict[str, Any]) -> Any:
    def text_of_stream(raw: str) -> str:
        pieces = []
        for line in raw.splitlines():
            if not line.startswith("data:") or line[5:].strip() == "[DONE]":
                continue
            for choice in json.loads(line[5:])["choices"]:
                pieces.append(choice.get("delta", {}).get("content") or "")
        return "".join(pieces)

    return text_of_stream


@exercise(
    "sse_text",
    solution=_solution_sse,
    unfinished=(
        "define `text_of_stream(raw)` that returns the text carried by an SSE chat stream: the "
        "`delta.content` of every `data:` line, skipping comments and `[DONE]`.",
        "定义 `text_of_stream(raw)`，返回 SSE 对话流携带的文本：每个 `data:` 行的 `delta.content`，"
        "跳过注释行和 `[DONE]`。",
    ),
)
def _check_sse(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    if not callable(value):
        return not_a_function("text_of_stream")
    got = value(_STREAM)
    if got == "Overall, 很好":
        return None
    return (
        f"on a sample stream it returned {got!r} instead of 'Overall, 很好': skip lines that are not `data:`, "
        "skip `[DONE]`, and treat a missing `content` as empty.",
        f"在示例流上它返回了 {got!r}，而不是 'Overall, 很好'："
        "跳过非 `data:` 行和 `[DONE]`，缺少 `content` 时当作空串。",
    )


def _p95(context: dict[str, Any]) -> float:
    import numpy as np

    return float(np.percentile(context["latencies"], 95))


@exercise(
    "p95",
    solution=_p95,
    unfinished=(
        "set `p95` to the 95th-percentile latency of `latencies` (seconds): 95% of requests were at least this fast.",
        "把 `p95` 设为 `latencies`（秒）的第 95 百分位延迟：95% 的请求不慢于这个值。",
    ),
)
def _check_p95(value: Any, context: dict[str, Any]) -> tuple[str, str] | None:
    latencies = sorted(context["latencies"])
    got = float(value)
    spread = latencies[-1] - latencies[0]
    if latencies[0] <= got <= latencies[-1] and abs(got - _p95(context)) <= spread * 0.1 + 1e-9:
        return None
    if abs(got - sum(latencies) / len(latencies)) < 1e-9:
        return (
            "that is the mean; a tail percentile looks at the slow end.",
            "这是平均值；尾部百分位看的是慢的那一端。",
        )
    return (
        "sort the latencies and take the value 95% of the way up (numpy.percentile(latencies, 95)).",
        "把延迟排序，取位于 95% 处的值（numpy.percentile(latencies, 95)）。",
    )
