"""Exercises that catch mistakes: for every registered exercise, the typical wrong answers a student gives each get
the hint that names that mistake (in English and in Chinese), and the right answer — stated literally here, worked
out by hand or with scipy, never by calling the exercise's own solution — passes."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from types import SimpleNamespace

import pytest

from workbench.course import teaching
from workbench.course.exercise import REGISTRY
from workbench.prompts import PromptTemplate


def _record(row_id, passed, expected="positive"):
    return SimpleNamespace(row_id=row_id, passed=passed, inputs={"expected": expected})


def _run(*flags):
    return SimpleNamespace(records=[_record(f"r{i}", passed) for i, passed in enumerate(flags, 1)])


class _KB:
    """A stand-in knowledge base: LoRA questions in English find the English note, 低秩 ones the Chinese note."""

    def query(self, question, k=3):
        if "LoRA" in question:
            sources = ["en_lora.md", "en_finetuning_overview.md", "zh_lora.md"]
        elif "低秩" in question:
            sources = ["zh_lora.md", "zh_finetuning_overview.md", "en_lora.md"]
        else:
            sources = ["en_rag.md", "en_vector_db.md", "en_chunking.md"]
        return [SimpleNamespace(source=s) for s in sources[:k]]


TEMPLATE = PromptTemplate.from_string("---\nname: review\n---\nExample: fine\nText: {{ text }}\nOverall, it was")
RENDER = {"template": TEMPLATE, "text": "The soup was cold."}
RENDERED = "Example: fine\nText: The soup was cold.\nOverall, it was"

# r1 passed, r2 and r3 failed, r4 was not judged (passed is None), r5 passed
FAILURES = {"result": _run(True, False, False, None, True)}
# expected labels: positive ×4, negative, neutral -> baseline 4/6; the model passed 3 of 6
MAJORITY = {
    "result": SimpleNamespace(
        records=[
            _record("r1", True),
            _record("r2", False),
            _record("r3", True),
            _record("r4", False),
            _record("r5", True, "negative"),
            _record("r6", False, "neutral"),
        ]
    )
}
# r1 and r5 go fail -> pass, r3 pass -> fail, r2 fails twice, r4 passes twice
FIXED = {"before": _run(False, False, True, True, False), "after": _run(True, False, False, True, True)}
# the expected note is at rank 1, 2, 3, 4, nowhere, and (the second of two expected notes) at rank 3
HIT = {
    "rows": [
        (["a"], ["a", "x", "y", "z", "w"]),
        (["b"], ["x", "b", "y", "z", "w"]),
        (["c"], ["x", "y", "c", "z", "w"]),
        (["d"], ["x", "y", "z", "d", "w"]),
        (["e"], ["x", "y", "z", "w", "v"]),
        (["f", "g"], ["x", "y", "g", "z", "w"]),
    ],
    "k": 3,
}
NOTE_EN = {"kb": _KB(), "target": "en_lora.md"}
NOTE_ZH = {"kb": _KB(), "target": "zh_lora.md"}
LORA = {"rank": 8, "d_in": 640, "d_out": 1024}
CHAT = {"system": "Be brief.", "user": "Great food!", "answer": "positive"}
RECORD = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Great food!"},
        {"role": "assistant", "content": "positive"},
    ]
}
LATENCIES = {"latencies": [0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 2.0]}
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "email": {"type": "string"}, "phone": {"type": "string"}},
    "required": ["name", "email", "phone"],
    "additionalProperties": False,
}
LETTERS = {"answers": list("AABBBCD")}  # B is right 3 times out of 7
KAPPA = {"table": [[20, 5], [10, 15]]}  # observed 0.7, chance 0.5·0.6 + 0.5·0.4 = 0.5, κ = 0.2 / 0.5 = 0.4
KAPPA_2 = {"table": [[45, 15], [25, 15]]}  # observed 0.6, chance 0.6·0.7 + 0.4·0.3 = 0.54, κ = 0.06 / 0.46
NUCLEUS = {"probs": {"good": 0.5, "great": 0.3, "fine": 0.15, "bad": 0.05}, "top_p": 0.75}
NUCLEUS_ZH = {"probs": {"开心": 0.46, "高兴": 0.24, "难过": 0.17, "累": 0.08, "饿": 0.05}, "top_p": 0.8}


def _with(messages):
    return {"messages": messages}


def _schema(**changes):
    return {**SCHEMA, **changes}


def _no_none(answers):
    return Counter(a for a in answers if a is not None)


def _sse_loads_every_data_line(raw):
    return "".join(
        choice["delta"].get("content") or ""
        for line in raw.splitlines()
        if line.startswith("data:")
        for choice in json.loads(line[5:])["choices"]
    )


def _sse_loads_every_line(raw):
    pieces = []
    for line in raw.splitlines():
        if line.strip() and "[DONE]" not in line:
            pieces.append(json.loads(line.removeprefix("data:"))["choices"][0]["delta"].get("content") or "")
    return "".join(pieces)


def _sse_events(raw):
    """The JSON events of a stream (a helper the wrong answers below share)."""
    lines = [line[5:] for line in raw.splitlines() if line.startswith("data:") and "[DONE]" not in line]
    return [json.loads(line)["choices"][0] for line in lines]


def _factorial_comb(a, b):
    return math.factorial(a) // (math.factorial(b) * math.factorial(a - b))


def _right_pass_at_k(n, c, k):
    return 1 - math.comb(n - c, k) / math.comb(n, k)  # math.comb is 0 when k > n - c


def _routed(expected, made, passed):
    """A record of the tool-routing run: what it expected, what it called, whether tool_calls passed."""
    from types import SimpleNamespace

    return SimpleNamespace(inputs={"expected_tool_calls": expected}, tool_calls=made, passed=passed)


_W, _S = {"name": "get_weather", "arguments": {"city": "Oslo"}}, {"name": "web_search", "arguments": {"query": "x"}}
ROUTED = {
    "records": [
        _routed([_W], [_W], True),
        _routed([_W], [{"name": "get_weather", "arguments": {"city": "Rome"}}], False),  # right tool, wrong city
        _routed([_S], [_W], False),
        _routed("[]", [], True),
        _routed("[]", [_S], False),
    ]
}  # choice: 3/5 = 0.6; tool_calls passed: 2/5; among rows that expect a call: 2/3
DECLARATION = {
    "name": "convert_units",
    "description": "Convert between units",
    "parameters": {
        "type": "object",
        "properties": {"value": {"type": "number"}, "from_unit": {"type": "string"}, "to_unit": {"type": "string"}},
        "required": ["value", "from_unit", "to_unit"],
    },
}


def _declared(**parameters):
    return {**DECLARATION, "parameters": {**DECLARATION["parameters"], **parameters}}


# (id, key, context, wrong answer, a phrase (or phrases) of its English hint, a phrase of its Chinese hint)
WRONG = [
    # -- render --
    ("render-template-object", "render", RENDER, TEMPLATE, "should be a string, not PromptTemplate", "应该是字符串"),
    ("render-uncalled", "render", RENDER, TEMPLATE.render_text, "should be a string, not method", "而不是 method"),
    (
        "render-source",
        "render",
        RENDER,
        "Example: fine\nText: {{ text }}\nOverall, it was",
        "placeholders are still there",
        "占位符还在",
    ),
    (
        "render-other-language",
        "render",
        RENDER,
        "Example: fine\nText: 汤是凉的。\nOverall, it was",
        "the sentence is not in your prompt",
        "你的提示里没有这句话",
    ),
    ("render-partial", "render", RENDER, "Text: The soup was cold.", "render the whole template", "包括示例"),
    # -- failures --
    ("failures-one-string", "failures", FAILURES, "r2", "even when only one row failed", "即使只有一行答错"),
    (
        "failures-records",
        "failures",
        FAILURES,
        FAILURES["result"].records[1:3],
        "not the records themselves",
        "而不是记录对象本身",
    ),
    ("failures-not-passed", "failures", FAILURES, ["r2", "r3", "r4"], "['r4'] were not judged", "没有被评判"),
    ("failures-inverted", "failures", FAILURES, ["r1", "r5"], "those are the rows that passed", "这些是答对的行"),
    ("failures-partial", "failures", FAILURES, ["r2"], "missed: ['r3']", "漏掉的：['r3']"),
    ("failures-extra", "failures", FAILURES, ["r1", "r2", "r3"], "listed but passed: ['r1']", "其实答对的：['r1']"),
    # -- majority_baseline --
    ("majority-count", "majority_baseline", MAJORITY, 4, "not a count or a percentage", "而不是个数或百分数"),
    ("majority-percent", "majority_baseline", MAJORITY, 66.67, "not a count or a percentage", "而不是个数或百分数"),
    ("majority-rounded", "majority_baseline", MAJORITY, 0.67, "close, but rounded", "四舍五入"),
    ("majority-pass-rate", "majority_baseline", MAJORITY, 0.5, "the model's own pass rate", "模型自己的通过率"),
    ("majority-uniform", "majority_baseline", MAJORITY, 1 / 3, "random guess among the 3 labels", "3 个标签中随机猜"),
    ("majority-minority", "majority_baseline", MAJORITY, 1 / 6, "the largest count divided", "最多的那个次数 ÷ 行数"),
    # -- fixed_rows --
    ("fixed-pass-after", "fixed_rows", FIXED, ["r1", "r4", "r5"], "rows that passed both times", "两次都答对"),
    ("fixed-changed", "fixed_rows", FIXED, ["r1", "r3", "r5"], "keep only fail → pass", "只保留“错 → 对”的行"),
    ("fixed-broken", "fixed_rows", FIXED, ["r3"], "pass → fail (version 2 broke them)", "版本 2 把它们改坏了"),
    ("fixed-partial", "fixed_rows", FIXED, ["r1"], "2 row(s) went from fail to pass; you listed 1", "你列了 1 行"),
    ("fixed-empty", "fixed_rows", FIXED, [], "you listed 0", "你列了 0 行"),
    # -- min_flips: two-sided p = 2 · 0.5^d: 0.25 (3), 0.0625 (5), 0.03125 (6) --
    ("flips-one-sided", "min_flips", {}, 5, "one-sided p = 0.031 < 0.05, but McNemar's test is two-sided", "双侧"),
    ("flips-too-few", "min_flips", {}, 3, "with 3 flips p = 0.250, still ≥ 0.05: too few", "太少了"),
    ("flips-too-many", "min_flips", {}, 7, "6 flips already give p = 0.031 < 0.05", "要找最少的那个数"),
    ("flips-alpha", "min_flips", {}, 0.05, "a whole number, not 0.05", "应为整数"),
    ("flips-fraction", "min_flips", {}, 5.5, "a whole number", "应为整数"),
    # -- hit_at_k: hits at k = 3 are questions 1, 2, 3 and 6 --
    ("hit-count", "hit_at_k", HIT, 4, "the number of questions with a hit (4)", "命中的问题个数（4）"),
    ("hit-percent", "hit_at_k", HIT, 66.67, "not a percentage", "而不是百分数"),
    ("hit-at-1", "hit_at_k", HIT, 1 / 6, "that is hit@1", "这是 hit@1"),
    ("hit-k-minus-1", "hit_at_k", HIT, 2 / 6, "that is hit@2", "这是 hit@2"),
    ("hit-k-plus-1", "hit_at_k", HIT, 5 / 6, "that is hit@4", "这是 hit@4"),
    ("hit-first-expected", "hit_at_k", HIT, 3 / 6, "several expected notes", "多个期望笔记"),
    ("hit-zero", "hit_at_k", HIT, 0.0, "any of its first k sources", "就算命中"),
    # -- find_note --
    ("note-empty", "find_note", NOTE_EN, "  ", "a non-empty string", "非空字符串"),
    ("note-list", "find_note", NOTE_EN, ["What does LoRA train?"], "a non-empty string", "非空字符串"),
    ("note-elsewhere", "find_note", NOTE_EN, "What is RAG?", "retrieves ['en_rag.md'", "检索到了 ['en_rag.md'"),
    (
        "note-other-language",
        "find_note",
        NOTE_ZH,
        "What does LoRA train?",
        "en_lora.md, the same note in the other language",
        "另一种语言的同一篇笔记",
    ),
    # -- lora_params: 8 · (640 + 1024) = 13312 --
    ("lora-full", "lora_params", LORA, 640 * 1024, "that is the full matrix", "整个矩阵"),
    ("lora-a-only", "lora_params", LORA, 8 * 640, "only one of the two matrices", "两个矩阵中的一个"),
    ("lora-b-only", "lora_params", LORA, 8 * 1024, "only one of the two matrices", "两个矩阵中的一个"),
    ("lora-plus-frozen", "lora_params", LORA, 640 * 1024 + 13312, "also counts the frozen", "冻结的"),
    ("lora-no-rank", "lora_params", LORA, 640 + 1024, "count both matrices", "两个矩阵都要算"),
    # -- chat_record --
    ("chat-json-text", "chat_record", CHAT, json.dumps(RECORD), "the JSON text of the line", "JSON 文本"),
    ("chat-bare-list", "chat_record", CHAT, RECORD["messages"], "wrap it in a record", "放进记录里"),
    (
        "chat-legacy",
        "chat_record",
        CHAT,
        {"prompt": "Great food!", "completion": "positive"},
        "legacy prompt/completion format",
        "旧的 prompt/completion 格式",
    ),
    ("chat-typo", "chat_record", CHAT, {"message": RECORD["messages"]}, "a `messages` list", "`messages` 列表的字典"),
    (
        "chat-tuples",
        "chat_record",
        CHAT,
        _with([("system", "Be brief."), ("user", "Great food!"), ("assistant", "positive")]),
        "each message is a dict",
        "每条消息都是一个字典",
    ),
    (
        "chat-no-system",
        "chat_record",
        CHAT,
        _with(RECORD["messages"][1:]),
        "roles are ['user', 'assistant']",
        "角色顺序是 ['user', 'assistant']",
    ),
    (
        "chat-order",
        "chat_record",
        CHAT,
        _with([RECORD["messages"][1], RECORD["messages"][0], RECORD["messages"][2]]),
        "the order is system, user, assistant",
        "应为 system、user、assistant",
    ),
    (
        "chat-bot-role",
        "chat_record",
        CHAT,
        _with([*RECORD["messages"][:2], {"role": "bot", "content": "positive"}]),
        "'bot'",
        "'bot'",
    ),
    (
        "chat-copied-user",
        "chat_record",
        CHAT,
        _with([*RECORD["messages"][:2], {"role": "assistant", "content": "Great food!"}]),
        "the assistant message's content differs",
        "assistant 消息的内容不对",
    ),
    (
        "chat-wrong-system",
        "chat_record",
        CHAT,
        _with([{"role": "system", "content": "You are helpful."}, *RECORD["messages"][1:]]),
        "the system message's content differs",
        "system 消息的内容不对",
    ),
    (
        "chat-extra-key",
        "chat_record",
        CHAT,
        _with([*RECORD["messages"][:2], {"role": "assistant", "content": "positive", "weight": 1}]),
        "there is something extra",
        "多了别的东西",
    ),
    # -- sse_text --
    ("sse-not-a-function", "sse_text", {}, "Overall, 很好", "should be a function", "应该是一个函数"),
    ("sse-identity", "sse_text", {}, lambda raw: raw, "instead of 'Overall, 很好'", "而不是 'Overall, 很好'"),
    ("sse-done", "sse_text", {}, _sse_loads_every_data_line, "json.loads failed", "不是 JSON"),
    ("sse-comment", "sse_text", {}, _sse_loads_every_line, "`:` comment lines", "注释行"),
    (
        "sse-key-error",
        "sse_text",
        {},
        lambda raw: "".join(e["delta"]["content"] for e in _sse_events(raw)),
        "some events carry no text",
        "有些事件不带文本",
    ),
    (
        "sse-none-content",
        "sse_text",
        {},
        lambda raw: "".join(e["delta"].get("content") for e in _sse_events(raw)),
        "delta.get('content') or ''",
        "有些事件不带文本",
    ),
    (
        "sse-list",
        "sse_text",
        {},
        lambda raw: [e["delta"].get("content") or "" for e in _sse_events(raw)],
        "join them into one string",
        "拼成一个字符串",
    ),
    (
        "sse-spaces",
        "sse_text",
        {},
        lambda raw: " ".join(e["delta"]["content"] for e in _sse_events(raw) if e["delta"].get("content")),
        "joins them with spaces or newlines",
        "用空格或换行",
    ),
    # -- p95: numpy's linear interpolation: position 0.95 · 9 = 8.55, 0.8 + 0.55 · (2.0 − 0.8) = 1.46 --
    ("p95-mean", "p95", LATENCIES, 0.58, "that is the mean", "这是平均值"),
    ("p95-median", "p95", LATENCIES, 0.45, "that is the median", "这是中位数"),
    ("p95-q-fraction", "p95", LATENCIES, 0.1 + 0.0855 * 0.1, "takes q from 0 to 100", "q 取值是 0 到 100"),
    ("p95-milliseconds", "p95", LATENCIES, 1460, "looks like milliseconds", "毫秒"),
    ("p95-max", "p95", LATENCIES, 2.0, "that is the slowest request", "最慢的那个请求"),
    ("p95-off-by-one", "p95", LATENCIES, 0.8, "95% of the way up", "取位于 95% 处的值"),
    # -- majority_vote --
    ("vote-not-a-function", "majority_vote", {}, "4", "should be a function", "应该是一个函数"),
    ("vote-first", "majority_vote", {}, lambda a: a[0], "None means the parser could not read", "计数时要忽略它"),
    (
        "vote-counts-none",
        "majority_vote",
        {},
        lambda a: Counter(a).most_common(1)[0][0],
        "returned None, expected '3': None means",
        "None 表示解析器没读出答案",
    ),
    ("vote-pairs", "majority_vote", {}, lambda a: _no_none(a).most_common(1), "not (answer, count)", "（答案，次数）"),
    (
        "vote-pair",
        "majority_vote",
        {},
        lambda a: _no_none(a).most_common(1)[0],
        "most_common(1)[0][0]",
        "（答案，次数）",
    ),
    (
        "vote-count",
        "majority_vote",
        {},
        lambda a: _no_none(a).most_common(1)[0][1],
        "how often the answer appears",
        "答案出现的次数",
    ),
    (
        "vote-int",
        "majority_vote",
        {},
        lambda a: int(_no_none(a).most_common(1)[0][0]),
        "without converting it",
        "不要转换类型",
    ),
    (
        "vote-sorts-none",
        "majority_vote",
        {},
        lambda a: sorted(a)[len(a) // 2],
        "drop the None answers before counting",
        "先去掉 None 再计数",
    ),
    ("vote-max", "majority_vote", {}, max, "returned '5', expected '4'", "返回了 '5'，应为 '4'"),
    # -- contact_schema --
    ("schema-object", "contact_schema", {}, {"type": "object"}, "accepts a record without a phone", "缺少 phone"),
    ("schema-json-text", "contact_schema", {}, json.dumps(SCHEMA), "that is JSON text", "这是 JSON 文本"),
    ("schema-list", "contact_schema", {}, ["name", "email", "phone"], "a JSON schema is a dict", "是一个字典"),
    (
        "schema-python-types",
        "contact_schema",
        {},
        _schema(properties={"name": str, "email": str, "phone": str}),
        "not Python types such as str",
        "而不是 Python 类型 str",
    ),
    (
        "schema-str",
        "contact_schema",
        {},
        _schema(properties={f: {"type": "str"} for f in ("name", "email", "phone")}),
        'calls the type "string", not Python\'s "str"',
        '这个类型叫 "string"',
    ),
    (
        "schema-required-per-field",
        "contact_schema",
        {},
        {"type": "object", "properties": {f: {"type": "string", "required": True} for f in ("name", "email", "phone")}},
        "`required` is one list on the object",
        "是对象上的一个列表",
    ),
    ("schema-required-str", "contact_schema", {}, _schema(required="name"), "not a valid JSON schema", "不是合法的"),
    (
        "schema-number-phone",
        "contact_schema",
        {},
        _schema(properties={**SCHEMA["properties"], "phone": {"type": "number"}}),
        "a correct record is rejected",
        "一条正确的记录被拒绝了",
    ),
    (
        "schema-untyped",
        "contact_schema",
        {},
        _schema(properties={"name": {}, "email": {}, "phone": {}}),
        'a phone that is a number; give each field {"type": "string"}',
        "phone 是数字的记录",
    ),
    (
        "schema-open",
        "contact_schema",
        {},
        {k: v for k, v in SCHEMA.items() if k != "additionalProperties"},
        'an extra field `age`; add "additionalProperties": False',
        "多了字段 `age` 的记录",
    ),
    (
        "schema-additional-true",
        "contact_schema",
        {},
        _schema(additionalProperties=True),
        "an extra field `age`",
        "多了字段 `age`",
    ),
    # -- letter_baseline: B is the answer 3 times of 7 --
    ("letter-uniform", "letter_baseline", LETTERS, 0.25, "uniform random guess", "均匀随机猜测"),
    ("letter-count", "letter_baseline", LETTERS, 3, "not a count or a percentage", "而不是个数或百分数"),
    ("letter-percent", "letter_baseline", LETTERS, 42.86, "not a count or a percentage", "而不是个数或百分数"),
    ("letter-rounded", "letter_baseline", LETTERS, 0.43, "close, but rounded", "四舍五入"),
    ("letter-first", "letter_baseline", LETTERS, 2 / 7, "how often A is correct", "这是 A 作为正确答案的比例"),
    ("letter-rarest", "letter_baseline", LETTERS, 1 / 7, "how often C is correct", "这是 C 作为正确答案的比例"),
    ("letter-other", "letter_baseline", LETTERS, 0.5, "divide the largest count", "用最大的次数除以题目数"),
    # -- kappa --
    ("kappa-observed", "kappa", KAPPA, 0.7, "that is the observed agreement", "这是观测一致率"),
    ("kappa-chance", "kappa", KAPPA, 0.5, "the chance agreement alone", "这只是随机一致率"),
    ("kappa-undivided", "kappa", KAPPA, 0.2, "divide it by (1 − chance)", "还要再除以 (1 − 随机一致率)"),
    ("kappa-undivided-2", "kappa", KAPPA_2, 0.06, "divide it by (1 − chance)", "还要再除以 (1 − 随机一致率)"),
    ("kappa-percent", "kappa", KAPPA, 40, "not a percentage", "而不是百分数"),
    ("kappa-uniform-chance", "kappa", KAPPA_2, 0.2, "takes chance agreement as 1/2", "随机一致率当成了 1/2"),
    # chance from the off-diagonal products 0.6·0.3 + 0.4·0.7 = 0.46: (0.6 − 0.46) / 0.54
    ("kappa-off-diagonal", "kappa", KAPPA_2, 0.14 / 0.54, "row share × column share", "行占比 × 列占比"),
    # -- pass_at_k: pass@3 of 5 samples with 2 correct = 1 − C(3,3)/C(5,3) = 0.9 --
    ("pass-not-a-function", "pass_at_k", {}, 0.9, "should be a function", "应该是一个函数"),
    ("pass-rate", "pass_at_k", {}, lambda n, c, k: c / n, "pass_at_k(5, 2, 3) = 0.4000, expected 0.9000", "pass@1"),
    (
        "pass-with-replacement",
        "pass_at_k",
        {},
        lambda n, c, k: 1 - (1 - c / n) ** k,
        "draws with replacement",
        "有放回抽样",
    ),
    (
        "pass-complement",
        "pass_at_k",
        {},
        lambda n, c, k: math.comb(n - c, k) / math.comb(n, k),
        "the chance that none of the k samples is correct",
        "全都不正确的概率",
    ),
    (
        "pass-percent",
        "pass_at_k",
        {},
        lambda n, c, k: 100 * _right_pass_at_k(n, c, k),
        "not a percentage",
        "而不是百分数",
    ),
    (
        "pass-factorials",
        "pass_at_k",
        {},
        lambda n, c, k: 1 - _factorial_comb(n - c, k) / _factorial_comb(n, k),
        ("pass_at_k(10, 10, 1) raised ValueError", "every draw contains a correct sample): return 1.0 there."),
        "这时直接返回 1.0",
    ),
    (
        "pass-off-by-one",
        "pass_at_k",
        {},
        lambda n, c, k: 1 - math.comb(n - c, k - 1) / math.comb(n, k - 1),
        "pass_at_k(5, 2, 1) = 0.0000, expected 0.4000",
        "应为 0.4000",
    ),
    # -- nucleus: 0.5 + 0.3 ≥ 0.75 keeps {good, great} --
    ("nucleus-too-few", "nucleus", NUCLEUS, {"good"}, "too few: ['good'] add up to 0.50", "太少了"),
    ("nucleus-too-many", "nucleus", NUCLEUS, {"good", "great", "fine"}, "too many", "太多了"),
    ("nucleus-skipped", "nucleus", NUCLEUS, {"good", "fine"}, "['great'] are more likely", "概率更大"),
    ("nucleus-least-first", "nucleus", NUCLEUS, {"bad", "fine", "great"}, "['good'] are more likely", "概率更大"),
    ("nucleus-string", "nucleus", NUCLEUS, "good", "give the set of tokens kept", "保留下来的词的集合"),
    ("nucleus-total", "nucleus", NUCLEUS, 0.8, "not 0.8", "而不是 0.8"),
    (
        "nucleus-other-language",
        "nucleus",
        NUCLEUS_ZH,
        {"great", "good", "terrible"},
        "are not tokens in `probs`",
        "不是 `probs` 里的词",
    ),
    # -- tool_declaration --
    ("declaration-string", "tool_declaration", {}, "convert_units", "give a dict", "请给出一个字典"),
    ("declaration-name", "tool_declaration", {}, {**DECLARATION, "name": "units"}, "name it convert_units", "命名为"),
    (
        "declaration-bad-schema",
        "tool_declaration",
        {},
        _declared(properties={"value": {"type": "float"}}),
        "the workbench refuses it: `parameters` of tool 'convert_units' is not a valid JSON Schema",
        "工作台不接受它",
    ),
    (
        "declaration-missing-property",
        "tool_declaration",
        {},
        _declared(properties={"value": {"type": "number"}, "to_unit": {"type": "string"}}),
        "`properties` lacks ['from_unit']",
        "缺少",
    ),
    (
        "declaration-value-text",
        "tool_declaration",
        {},
        _declared(properties={**DECLARATION["parameters"]["properties"], "value": {"type": "string"}}),
        "`value` is a number",
        "是数字",
    ),
    ("declaration-not-required", "tool_declaration", {}, _declared(required=["value"]), "not in `required`", "必填"),
    # -- choice_accuracy: 3 of 5 --
    ("choice-pass-rate", "choice_accuracy", ROUTED, 0.4, "that is the pass rate of tool_calls", "通过率"),
    ("choice-percent", "choice_accuracy", ROUTED, 60, "not a percentage", "百分数"),
    ("choice-no-empty", "choice_accuracy", ROUTED, 2 / 3, "left out the rows that expect no call", "漏掉"),
    ("choice-count", "choice_accuracy", ROUTED, 3, "3.000 is not it", "不对"),
    ("choice-text", "choice_accuracy", ROUTED, "60%", "give a number between 0 and 1", "请给出"),
]


@pytest.mark.parametrize(("key", "context", "value", "en", "zh"), [pytest.param(*c[1:], id=c[0]) for c in WRONG])
def test_a_typical_mistake_gets_the_hint_for_it(key, context, value, en, zh, capsys):
    for lang, label, phrase in (("en", "not right yet: ", en), ("zh", "还不对：", zh)):
        assert teaching.check(key, value, lang=lang, **context) is False
        out = capsys.readouterr().out
        assert out.startswith(f"✗ {key} — {label}"), out
        for part in phrase if isinstance(phrase, tuple) else (phrase,):
            assert part in out, out
        assert "could not be checked" not in out and "无法检查" not in out, out


# -- the right answers, stated literally --------------------------------------------------------------------------
def _right_sse(raw):
    text = ""
    for line in raw.split("\n"):
        payload = line.removeprefix("data: ")
        if payload.startswith("{"):
            text += "".join(c["delta"].get("content", "") or "" for c in json.loads(payload)["choices"])
    return text


def _right_vote(answers):
    counts = {}
    for answer in answers:
        if answer is not None:
            counts[answer] = counts.get(answer, 0) + 1
    return max(counts, key=counts.get) if counts else None


def _stable_pass_at_k(n, c, k):
    # Chen et al.'s numerically stable form: 1 − Π_{i = n−c+1}^{n} (1 − k / i)
    return 1.0 if n - c < k else 1.0 - math.prod(1 - k / i for i in range(n - c + 1, n + 1))


def _brute_pass_at_k(n, c, k):
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(i < c for i in subset) for subset in subsets) / len(subsets)


RIGHT = [
    ("render", RENDER, RENDERED),
    ("render", RENDER, RENDERED + "\n"),
    ("failures", FAILURES, ["r2", "r3"]),
    ("failures", FAILURES, ("r3", "r2")),
    ("majority_baseline", MAJORITY, 4 / 6),
    ("fixed_rows", FIXED, ["r5", "r1"]),
    ("min_flips", {}, 6),
    ("min_flips", {}, 6.0),
    ("hit_at_k", HIT, 4 / 6),
    ("find_note", NOTE_EN, "What does LoRA train?"),
    ("find_note", NOTE_ZH, "低秩适配训练哪些参数？"),
    ("lora_params", LORA, 13312),
    ("lora_params", LORA, 13312.0),
    ("chat_record", CHAT, RECORD),
    ("sse_text", {}, _right_sse),
    ("p95", LATENCIES, 1.46),
    ("p95", LATENCIES, 1.4),  # numpy's "midpoint" method: within the tolerance for other interpolations
    ("majority_vote", {}, _right_vote),
    ("contact_schema", {}, SCHEMA),
    ("letter_baseline", LETTERS, 3 / 7),
    ("kappa", KAPPA, 0.4),
    ("kappa", KAPPA_2, 3 / 23),
    ("kappa", KAPPA_2, 0.1304),
    ("pass_at_k", {}, _right_pass_at_k),
    ("pass_at_k", {}, _stable_pass_at_k),
    ("pass_at_k", {}, _brute_pass_at_k),
    ("nucleus", NUCLEUS, {"good", "great"}),
    ("nucleus", NUCLEUS, ["great", "good"]),
    ("nucleus", NUCLEUS_ZH, {"开心", "高兴", "难过"}),
    ("tool_declaration", {}, DECLARATION),
    ("tool_declaration", {}, {"type": "function", "function": _declared(required=["to_unit", "value", "from_unit"])}),
    ("choice_accuracy", ROUTED, 0.6),
    ("choice_accuracy", ROUTED, 3 / 5),
]


@pytest.mark.parametrize(("key", "context", "value"), RIGHT, ids=[f"{c[0]}-{i}" for i, c in enumerate(RIGHT)])
def test_the_right_answer_passes(key, context, value, capsys):
    assert teaching.check(key, value, lang="en", **context) is True
    assert capsys.readouterr().out == f"✓ {key}: correct!\n"
    assert teaching.check(key, value, lang="zh", **context) is True
    assert capsys.readouterr().out == f"✓ {key}: 正确！\n"


def test_every_exercise_has_several_mistakes_and_a_right_answer():
    mistakes = Counter(c[1] for c in WRONG)
    assert set(mistakes) == set(REGISTRY) == {c[0] for c in RIGHT}
    assert len(REGISTRY) == 19
    assert all(count >= 3 for count in mistakes.values()), mistakes


# -- the worked solutions against the same literal answers --------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "context", "wanted"),
    [
        ("render", RENDER, RENDERED),
        ("failures", FAILURES, ["r2", "r3"]),
        ("majority_baseline", MAJORITY, 4 / 6),
        ("fixed_rows", FIXED, ["r1", "r5"]),
        ("min_flips", {}, 6),
        ("hit_at_k", HIT, 4 / 6),
        ("lora_params", LORA, 13312),
        ("chat_record", CHAT, RECORD),
        ("p95", LATENCIES, 1.46),
        ("contact_schema", {}, SCHEMA),
        ("letter_baseline", LETTERS, 3 / 7),
        ("kappa", KAPPA, 0.4),
        ("kappa", KAPPA_2, 3 / 23),
        ("nucleus", NUCLEUS, {"good", "great"}),
        ("choice_accuracy", ROUTED, 0.6),
    ],
)
def test_each_worked_solution_gives_the_stated_answer(key, context, wanted):
    got = teaching.solution(key, **context)
    assert got == (pytest.approx(wanted, abs=1e-9) if isinstance(wanted, float) else wanted)


def test_each_worked_solution_function_gives_the_stated_answers():
    stream = 'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\n: ping\n\ndata: {"choices": [{"delta": {}}]}\n\n'
    assert teaching.solution("sse_text")(stream + "data: [DONE]\n\n") == "Hi"
    vote = teaching.solution("majority_vote")
    assert [vote(["b", "a", "b"]), vote([None, None, "x"]), vote([None])] == ["b", "x", None]
    pass_at_k = teaching.solution("pass_at_k")
    assert pass_at_k(5, 2, 3) == pytest.approx(0.9)  # 1 − C(3,3)/C(5,3)
    assert pass_at_k(6, 1, 2) == pytest.approx(1 / 3)  # 1 − C(5,2)/C(6,2) = 1 − 10/15
    assert [pass_at_k(4, 0, 2), pass_at_k(4, 3, 2)] == [0.0, 1.0]


def test_a_student_function_that_crashes_is_reported_not_raised(capsys):
    assert teaching.check("sse_text", lambda: "no argument", lang="en") is False
    out = capsys.readouterr().out
    assert "could not be checked (TypeError" in out and "Traceback" not in out
    assert teaching.check("majority_vote", lambda answers: answers["first"], lang="zh") is False
    assert "无法检查（TypeError" in capsys.readouterr().out
