"""The detail of one matrix row: per column the output, parsed value, scores, facts and the rendered prompt."""

EN = {
    "detail.scores": "scores:",
    "detail.no_scores": "none (no assertions)",
    "detail.latency": "latency {latency}",
    "detail.tokens": "{prompt} prompt + {completion} completion tokens",
    "detail.cached": "answered from the cache",
    "detail.called": "called the model",
    "detail.attempts": "{n} attempts",
    "detail.worker": "worker {name}",
    "detail.parsed": "parsed value:",
    "detail.rendered": "Rendered prompt ({n} characters)",
    "detail.retrieved": "retrieved chunks:",
    "detail.distance": "distance {distance:.3f}",
}

ZH = {
    "detail.scores": "评分：",
    "detail.no_scores": "无（没有断言）",
    "detail.latency": "延迟 {latency}",
    "detail.tokens": "提示 {prompt} + 生成 {completion} 个词元",
    "detail.cached": "来自缓存",
    "detail.called": "调用了模型",
    "detail.attempts": "尝试 {n} 次",
    "detail.worker": "工作节点 {name}",
    "detail.parsed": "解析值：",
    "detail.rendered": "渲染后的提示词（{n} 个字符）",
    "detail.retrieved": "检索到的片段：",
    "detail.distance": "距离 {distance:.3f}",
}
