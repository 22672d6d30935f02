"""The CodeMirror code editor widget: traits, the bundled front-end, the save callback (no browser here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("anywidget")

from workbench.ui.code_editor import CodeEditor  # noqa: E402

UI_DIR = Path(__file__).resolve().parent.parent / "workbench" / "ui"
JS_DIR = UI_DIR / "js"
BUNDLE = UI_DIR / "static" / "code_editor.js"


def test_traits_and_defaults():
    editor = CodeEditor()
    assert editor.value == ""
    assert editor.markers == []
    assert editor.save_requests == 0
    assert editor.read_only is False
    assert editor.height == "420px"
    synced = set(editor.keys)
    assert {"value", "markers", "save_requests", "read_only", "height"} <= synced

    editor = CodeEditor(value="---\nname: x\n---\n{{ text }}\n", read_only=True, height="200px")
    editor.markers = [{"line": 4, "message": "undefined variable", "severity": "error"}]
    assert editor.value.startswith("---") and editor.read_only and editor.height == "200px"
    assert editor.markers[0]["line"] == 4


def test_esm_is_a_bundled_es_module():
    assert BUNDLE.is_file(), "build it: cd workbench/ui/js && npm ci && node build.mjs"
    source = BUNDLE.read_text(encoding="utf-8")
    # anywidget turns the class's `_esm = Path(...)` into the file's contents, synced as the `_esm` trait.
    assert str(CodeEditor._esm) == source
    assert CodeEditor().get_state()["_esm"] == source
    assert re.search(r"export\s*\{\s*\w+\s+as\s+default\s*\}|export\s+default\b", source)
    # One self-contained module: no static or dynamic import left for the browser to resolve.
    assert not re.search(r"(^|[;}\s])import\s*[\"'{*\w]", source)
    assert "import(" not in source
    assert len(source) > 10_000  # CodeMirror really is inside


def test_bundle_fetches_nothing_from_the_network():
    source = BUNDLE.read_text(encoding="utf-8")
    for url in re.findall(r"https?://[^\s\"'`)<>]+", source):
        # The only URLs CodeMirror carries are SVG namespace names inside inline data: URIs, never fetched.
        assert url == "http://www.w3.org/2000/svg", url
    assert not re.search(r"""\bimport\s*\(?\s*["'`]https?:""", source)
    assert not re.search(r"""\bfetch\s*\(""", source)


def test_on_save_called_once_per_increase():
    editor = CodeEditor(value="hello")
    calls: list[CodeEditor] = []
    editor.on_save(calls.append)
    editor.save_requests = 1
    assert calls == [editor]
    editor.save_requests = 1  # no change, no call
    assert len(calls) == 1
    editor.save_requests = 2
    assert len(calls) == 2
    editor.on_save(calls.append, remove=True)
    editor.save_requests = 3
    assert len(calls) == 2


def test_js_sources_are_pinned():
    import json

    package = json.loads((JS_DIR / "package.json").read_text(encoding="utf-8"))
    assert package["private"] is True
    deps = {**package["dependencies"], **package["devDependencies"]}
    for name in (
        "codemirror",
        "@codemirror/state",
        "@codemirror/view",
        "@codemirror/language",
        "@codemirror/legacy-modes",
        "@codemirror/search",
        "@codemirror/commands",
        "@codemirror/lint",
        "esbuild",
    ):
        assert re.fullmatch(r"\d+\.\d+\.\d+", deps[name]), (name, deps[name])
    assert (JS_DIR / "package-lock.json").is_file()
    assert (JS_DIR / "src" / "code_editor.js").is_file()
