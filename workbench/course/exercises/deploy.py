"""04_deploy: read a server-sent event stream by hand, and the 95th-percentile latency."""

from __future__ import annotations

import json
import statistics
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
    try:
        got = value(_STREAM)
    except json.JSONDecodeError:
        return (
            "json.loads failed on a line that is not JSON: skip blank lines, `:` comment lines and "
            "`data: [DONE]`; only the other `data:` lines carry JSON.",
            "json.loads 在一行不是 JSON 的内容上失败了：跳过空行、以 `:` 开头的注释行和 `data: [DONE]`；"
            "只有其余的 `data:` 行才是 JSON。",
        )
    except (KeyError, TypeError) as exc:
        if not (isinstance(exc, KeyError) and exc.args == ("content",)) and "NoneType" not in str(exc):
            raise
        return (
            "some events carry no text (the first only sets the role, the last only says `finish_reason`): "
            "use `delta.get('content') or ''`.",
            "有些事件不带文本（第一个只设置角色，最后一个只给出 `finish_reason`）：用 `delta.get('content') or ''`。",
        )
    if got == "Overall, 很好":
        return None
    if isinstance(got, list | tuple):
        return (
            "it returned the pieces as a list; join them into one string: `''.join(pieces)`.",
            "它返回的是片段列表；请把它们拼成一个字符串：`''.join(pieces)`。",
        )
    if isinstance(got, str) and "".join(got.split()) == "Overall,很好":
        return (
            f"the pieces are right but {got!r} joins them with spaces or newlines: join with '' — a piece "
            "can be part of a word.",
            f"片段都对，但 {got!r} 用空格或换行把它们连起来了：用 '' 连接——一个片段可能只是半个词。",
        )
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
    import numpy as np

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
    if abs(got - statistics.median(latencies)) < 1e-9:
        return (
            "that is the median (the 50th percentile); p95 is much further up, near the slow end.",
            "这是中位数（第 50 百分位）；p95 要高得多，靠近慢的那一端。",
        )
    if abs(got - float(np.percentile(latencies, 0.95))) < 1e-9:
        return (
            "numpy.percentile takes q from 0 to 100: 0.95 asks for the 0.95th percentile; use 95 "
            "(or numpy.quantile(latencies, 0.95)).",
            "numpy.percentile 的 q 取值是 0 到 100：0.95 求的是第 0.95 百分位；应该用 95"
            "（或 numpy.quantile(latencies, 0.95)）。",
        )
    if abs(got / 1000 - _p95(context)) <= spread * 0.1 + 1e-9:
        return (
            "that looks like milliseconds; `latencies` are in seconds, give p95 in seconds too.",
            "这看起来是毫秒；`latencies` 的单位是秒，p95 也要用秒。",
        )
    if got == latencies[-1]:
        return (
            "that is the slowest request (the maximum); this exercise uses numpy.percentile(latencies, 95), "
            "which interpolates between the sorted values and lands below the maximum.",
            "这是最慢的那个请求（最大值）；本练习用 numpy.percentile(latencies, 95)，"
            "它在排序后的值之间插值，结果低于最大值。",
        )
    return (
        "sort the latencies and take the value 95% of the way up (numpy.percentile(latencies, 95)).",
        "把延迟排序，取位于 95% 处的值（numpy.percentile(latencies, 95)）。",
    )
