"""The package's shape: a light import, an exact public API, no import cycles, small modules and functions."""

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import workbench

PACKAGE = Path(workbench.__file__).parent
HEAVY = (
    "llama_cpp",
    "xllamacpp",
    "chromadb",
    "torch",
    "langchain_core",
    "openai",
    "pandas",
    "scipy",
    "ipywidgets",
    "IPython",
    "fastapi",
    "matplotlib",
)


def test_import_is_light():
    code = (
        "import sys, workbench, workbench.prompts, workbench.pipeline, workbench.store; "
        f"import json; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    heavy = json.loads(subprocess.check_output([sys.executable, "-c", code], text=True))
    assert heavy == [], f"import workbench (and its pipeline) pulled in {heavy}"


def test_the_public_api_is_exactly_what_all_lists():
    """Everything in __all__ resolves; dir() shows nothing else; the lazy table and __all__ agree."""
    exported = set(workbench.__all__) - {"__version__"}
    assert exported == set(workbench._EXPORTS)
    assert sorted(dir(workbench)) == sorted(workbench.__all__)
    for name in exported:
        value = getattr(workbench, name)
        assert value is not None and getattr(value, "__module__", "").startswith("workbench"), name
    with pytest.raises(AttributeError):
        _ = workbench.not_a_thing
    for package in ("models", "prompts", "pipeline", "store", "serve", "rag", "ui", "scoring"):
        module = importlib.import_module(f"workbench.{package}")
        for name in getattr(module, "__all__", []):
            assert hasattr(module, name), f"workbench.{package}.__all__ lists {name} but it does not exist"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every workbench module ``path`` imports — at the top level and inside functions (lazy imports too)."""
    name = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative
                base = ".".join(name.split(".")[: -node.level] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules and m != name}


def test_there_is_no_import_cycle():
    graph = {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py") if "js" not in p.parts}
    visiting, done, cycles = set(), set(), []

    def visit(node: str, trail: list[str]) -> None:
        if node in done:
            return
        if node in visiting:
            cycles.append(trail[trail.index(node) :] + [node])
            return
        visiting.add(node)
        for target in sorted(graph.get(node, ())):  # no exemptions: a package importing its submodules counts
            visit(target, trail + [target])
        visiting.discard(node)
        done.add(node)

    for module in sorted(graph):
        visit(module, [module])
    assert cycles == [], "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_modules_and_core_functions_stay_small():
    too_long = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > 400:
            too_long.append(f"{path.relative_to(PACKAGE)}: {lines} lines")
        if {"ui", "cli", "testing"} & set(path.relative_to(PACKAGE).parts):
            continue  # the core: everything but the UI, the CLI and the test doubles
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno >= 60:
                too_long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}()")
    assert too_long == []


def test_the_core_never_imports_the_ui():
    ui_modules = ("workbench.ui", "ipywidgets", "IPython", "anywidget", "itables")
    for path in PACKAGE.rglob("*.py"):
        if {"ui", "js"} & set(path.relative_to(PACKAGE).parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not [m for m in names if m.startswith(ui_modules)], f"{path} imports the UI"
