"""The workbench in 简体中文 (issue 37, point 3) without a browser: every label, button, filter and message comes
from the catalogue; the verdict, the summary and the statistics words are Chinese; an English error from the core
gets a one-line Chinese hint above it; the language is chosen by lang=, else WORKBENCH_LANG, else the locale."""

import html
import re

import pytest

from workbench.errors import ConfigError
from workbench.i18n import catalogue
from workbench.pipeline import run
from workbench.ui import Workbench
from workbench.ui.table import DataTable
from workbench.ui.testing import make_state

ROWS = [
    {"id": f"r{i}", "text": text, "expected": expected}
    for i, (text, expected) in enumerate(
        [
            ("It rained all day.", "negative"),
            ("Lovely trip.", "positive"),
            ("I failed the exam.", "negative"),
            ("Rain again, but cosy.", "positive"),
        ]
    )
]
# words that stay as they are in Chinese text: names, formats, keys
KEEP = {"csv", "html", "sqlite", "postgresql", "ctrl", "cmd", "shift", "mac", "id", "url", "api", "local", "spec"}
KEEP |= {"prompt", "workbench", "mcnemar", "wilson", "wb", "run", "workbench_store", "openai", "model", "host", "port"}
KEEP |= {"http", "langchain"}


@pytest.fixture
def state(tmp_path, repo):
    return make_state(tmp_path, repo, lang="zh")


def _bench(state, **kw):
    return Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir, **kw)


def _two_versions(state):
    v1 = state.library.get("sentiment_cloze_en")
    v2 = state.library.save(v1.with_changes(body=v1.body.replace("Overall, it was", "All in all, it was"), version=1))
    return v1, v2


def _widgets(root):
    yield root
    for child in getattr(root, "children", ()):
        yield from _widgets(child)


def _labels(bench) -> list[str]:
    """What the UI words itself: descriptions, buttons, tooltips, placeholders, tab titles, the choices of fixed
    option lists, the table's words and headers (not data: template names, run labels, file names)."""
    texts = list(bench.tabs.titles)
    fixed = ("wb-review-status", "wb-runs-origin", "wb-filter", "wb-recheck-scope")
    for widget in _widgets(bench):
        texts += [getattr(widget, name, None) or "" for name in ("description", "placeholder")]
        if "wb-store-location" not in widget._dom_classes:  # its tooltip is the store's path
            texts.append(getattr(widget, "tooltip", None) or "")
        if set(fixed) & set(getattr(widget, "_dom_classes", ())):
            texts += [label for label, _ in widget.options]
        if isinstance(widget, DataTable):
            data = ("input",)  # the dataset's own column name
            texts += list(widget.labels.values())
            texts += [c["label"] for c in widget.columns if "@" not in c["key"] and c["key"] not in data]
            texts.append(widget.empty_text)
    return [t for t in texts if t not in ("A", "B")]


def _english_words(text: str) -> set[str]:
    text = re.sub(r"\{\w+\}", "", text)  # the table's {first}, {total}: filled in by the browser
    words = {word.casefold() for word in re.findall(r"[A-Za-z][A-Za-z_']{2,}", text)}
    return words - KEEP


def test_the_workbench_in_chinese_says_everything_in_chinese(state):
    run(list(_two_versions(state)), ROWS, ["uitest:a"], store=state.store, progress=False)
    bench = _bench(state, lang="zh")
    assert list(bench.tabs.titles) == ["模板", "运行", "结果", "运行记录", "坏例", "优化"]
    bench.runs.table.selected = bench.runs.runs[0]["id"]
    leaked = {text: _english_words(text) for text in _labels(bench) if _english_words(text)}
    assert leaked == {}, "English words in the Chinese UI"
    assert bench.run_panel.run_button.description == "运行" and bench.results.mark_button.description == "标记为坏例"
    assert [label for label, _ in bench.results.filter.options] == ["全部", "未通过", "出错", "结果翻转", "不稳定"]


def test_the_verdict_summary_and_statistics_words_are_chinese(state):
    run(list(_two_versions(state)), ROWS, ["uitest:a"], store=state.store, progress=False)
    bench = _bench(state, lang="zh")
    verdict = html.unescape(re.sub(r"<[^>]+>", "", bench.results.comparison.value))
    assert "McNemar 精确检验 p = " in verdict and "个配对行" in verdict and "仅 B 通过" in verdict
    assert re.search(r"95% 置信区间 \d+%–\d+%", verdict)
    assert "无显著差异" in verdict or "B 优于 A" in verdict or "B 劣于 A" in verdict
    assert "no significant difference" not in verdict and "paired rows" not in verdict
    summary = bench.results.summary.value
    for word in ("通过率", "95% 置信区间", "单元格", "已判定"):
        assert f"<th>{word}</th>" in summary, word
    assert "行（全部）" in bench.results.count.value and "按数据集中的顺序" in bench.results.count.value
    bench.results.select_row("r1")
    detail = html.unescape(bench.results.detail.value)
    assert "渲染后的提示词" in detail and "解析值" in detail and "评分" in detail and "逐词差异" in detail


def test_a_run_message_and_a_core_error_with_a_chinese_hint_above_it(state):
    bench = _bench(state, lang="zh")
    panel = bench.run_panel
    panel.template.value = "sentiment_cloze_en"
    panel.models.value = "uitest:a"
    panel.limit.value = 3
    panel.run_button.click()
    assert "通过率" in panel.messages.value and "个单元格" in panel.messages.value
    assert panel.progress_label.value == "3 / 3 · 完成"
    panel.models.value = "no-such-provider:x"
    panel.run_button.click()
    message = html.unescape(panel.messages.value)
    hint, details = message.split("<div style='color:#b00020;white-space:pre-wrap", 1)
    assert "wb-error-hint" in hint and "详细信息（英文）如下" in hint, "one Chinese line above the English error"
    assert "no-such-provider" in details, "the core's error itself stays English (it names the spec and the fix)"
    panel.models.value = ""
    panel.run_button.click()
    assert "请至少填写一个模型" in panel.messages.value and "wb-error-hint" not in panel.messages.value


def test_in_english_errors_have_no_hint(tmp_path, repo):
    state = make_state(tmp_path, repo, lang="en")
    bench = _bench(state)
    bench.run_panel.models.value = "no-such-provider:x"
    bench.run_panel.run_button.click()
    assert (
        "no-such-provider" in bench.run_panel.messages.value and "wb-error-hint" not in bench.run_panel.messages.value
    )


def test_the_language_comes_from_lang_then_workbench_lang_then_the_locale(state, monkeypatch):
    for name in ("WORKBENCH_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert _bench(state, lang=None).state.lang == "zh"
    monkeypatch.setenv("WORKBENCH_LANG", "en")
    assert _bench(state).state.lang == "en"
    assert _bench(state, lang="zh").state.lang == "zh" and _bench(state, lang="zh").tabs.titles[0] == "模板"
    with pytest.raises(ConfigError, match="lang= 'fr'"):
        _bench(state, lang="fr")


def test_every_ui_message_exists_in_both_languages():
    """The catalogue's own check (tests/test_i18n.py) covers the UI's parts: here, that they are there at all."""
    en, zh = catalogue()["en"], catalogue()["zh"]
    for part in ("app", "store", "editor", "run", "results", "detail", "charts", "runs", "review", "table"):
        keys = [k for k in en if k.startswith(f"{part}.")]
        assert keys and all(k in zh for k in keys), part


def test_chinese_chart_labels_render_in_a_cjk_font(state, recwarn):
    """The charts' Chinese words are drawn with a CJK font, not as boxes (matplotlib falls back only across the
    families listed in font.family)."""
    from workbench.plotting import use_cjk_font

    if use_cjk_font() is None:
        pytest.skip("no CJK font installed (make test installs fonts-noto-cjk)")
    run(list(_two_versions(state)), ROWS, ["uitest:a"], store=state.store, progress=False)
    bench = _bench(state, lang="zh")
    assert "<svg" in bench.results.charts.value
    missing = [str(w.message) for w in recwarn.list if "missing from font" in str(w.message)]
    assert missing == []
