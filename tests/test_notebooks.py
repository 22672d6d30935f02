"""Every notebook runs under papermill in each variant of the CI profile (English as shipped, Chinese with the
exercise solutions) and validates under nbval from fresh state, and every notebook that takes a model stops a
constant-answer endpoint at its gate — in `make test`. The other degenerate endpoints (random answers, Chinese
variants) run in `make nightly`."""

import re
import zlib

import nbformat
import pytest

from workbench.course.gates import GATES
from workbench.errors import ConfigError
from workbench.nightly import notebook_paths, run_nightly
from workbench.notebook_profiles import load_profile
from workbench.paths import project_root

pytestmark = pytest.mark.notebooks

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"\b(the|a|and|of|to|is)\b")
NAMES = [p.stem for p in notebook_paths(project_root() / "notebooks")]


def _read(path):
    return nbformat.read(path, as_version=4)


def test_every_notebook_is_bilingual_parameterised_and_has_exercises(repo):
    profile = load_profile(repo / "notebooks", "ci")
    assert len(NAMES) >= 8, NAMES
    for path in notebook_paths(repo / "notebooks"):
        nb = _read(path)
        tags = [tag for cell in nb.cells for tag in cell.metadata.get("tags", [])]
        assert "parameters" in tags, f"{path.name} has no cell tagged 'parameters'"
        params = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert "lang" in params, f"{path.name}: no `lang` parameter"
        assert "solutions" in params, f"{path.name}: no `solutions` parameter"
        assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), f"{path.name} has outputs"
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                assert CJK.search(cell.source) and ENGLISH.search(cell.source.lower()), (
                    f"{path.name}: a markdown cell is not in both English and Chinese: {cell.source[:80]!r}"
                )
        narrative = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert len(CJK.findall(narrative)) > 400, f"{path.name}: the Chinese narrative is too short"
        checks = re.findall(r'course\.check\("(\w+)"', "".join(c.source for c in nb.cells))
        assert len(set(checks)) >= 2, f"{path.name} has fewer than two exercises with checks: {checks}"
        assert any("NBVAL_CHECK_OUTPUT" in c.source for c in nb.cells), f"{path.name}: nbval compares nothing"
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        ending = "\n".join(code[-2:])
        named = [g for g in GATES if f'"{g}"' in ending or f'"{g.rsplit("_", 1)[0]}_{{lang}}"' in ending]
        assert named and "check_gate(" in ending and ".require()" in code[-1], (
            f"{path.name}: the notebook does not end on a named gate ({sorted(GATES)})"
        )
        assert path.stem in profile.notebooks, f"{path.name} has no CI profile in notebooks/profiles.yaml"
    languages = {variant.get("lang") for variant in profile.variants.values()}
    solved = {bool(variant.get("solutions")) for variant in profile.variants.values()}
    assert languages == {"en", "zh"} and solved == {True, False} and profile.validate, (
        "the CI profile runs both languages, the exercises as shipped and solved, and validates with nbval"
    )


def _check_outputs(path):
    """The printed line of every exercise check in an executed notebook, and any error output."""
    lines, errors = [], []
    for cell in _read(path).cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors.append(output.get("ename"))
            if "course.check(" in cell.source and output.get("output_type") == "stream":
                lines += [line for line in output["text"].splitlines() if line.startswith(("✓", "✗"))]
    return lines, errors


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_in_every_variant_and_validates(repo, tmp_path, name):
    outcomes = run_nightly("ci", tmp_path, only=[name])
    profile = load_profile(repo / "notebooks", "ci")
    assert [o.name for o in outcomes] == [f"{name}.{v}" for v in profile.variants]
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert all(o.name in summary for o in outcomes) and (tmp_path / "summary.html").exists(), "the summary lists them"
    for outcome in outcomes:
        assert outcome.status == "passed", f"{outcome.name}: {outcome.error}"
        variant = outcome.name.split(".", 1)[1]
        if variant in profile.validate:
            assert "passed" in outcome.validation, f"{outcome.name}: nbval {outcome.validation}"
        lines, errors = _check_outputs(outcome.executed)
        assert not errors and len(lines) >= 2, (outcome.name, lines, errors)
        if profile.variants[variant].get("solutions"):
            assert all(line.startswith("✓") for line in lines), lines
        else:  # untouched exercises: each check says what to do, in the notebook's language — no traceback
            marker = "还没完成" if profile.variants[variant].get("lang") == "zh" else "not done yet"
            assert all(line.startswith("✗") and marker in line and len(line) > 30 for line in lines), lines


def test_nightly_refuses_a_run_or_profile_it_does_not_have(repo, tmp_path):
    with pytest.raises(ConfigError, match=r"--only 00_quickstart\.fr: no such notebook or run in profile 'ci'"):
        run_nightly("ci", tmp_path, only=["00_quickstart.fr"])
    with pytest.raises(Exception, match="No profile 'weekly'"):
        run_nightly("weekly", tmp_path)


def _always(word: str):
    return lambda prompt: f" {word}"


def _random_letter(prompt: str) -> str:  # seeded by the prompt: the same question gets the same random letter
    return " " + "ABCD"[zlib.crc32(prompt.encode()) % 4]


def _random_word(prompt: str) -> str:
    return " " + ("great", "terrible")[zlib.crc32(prompt.encode()) % 2]


# (notebook, language, what the endpoint always does, the gate that must stop it): a constant answer for every
# notebook that takes a model runs in `make test`; the rest in `make nightly`.
CONSTANT = [
    ("00_quickstart", "en", "great", "cloze_en"),
    ("01_prompt_tuning", "en", "great", "cloze_en"),
    ("02_rag", "en", "great", "rag_answers"),
    ("04_deploy", "en", "great", "cloze_en"),
    ("05_prompt_techniques", "en", "great", "cloze_en"),
    ("06_evaluation", "en", "B", "exam_cloze"),
    ("07_sampling", "en", "great", "cloze_en"),
    ("08_agents", "en", "great", "tools_en"),  # never calls a tool
    ("08_agents", "zh", "always get_weather", "tools_zh"),  # always calls the same tool
]
OTHER_DEGENERATE = [
    ("00_quickstart", "zh", "开心", "cloze_zh"),
    ("00_quickstart", "en", "random words", "cloze_en"),
    ("06_evaluation", "en", "random letters", "exam_cloze"),
    ("06_evaluation", "zh", "开心", "exam_cloze"),
]
DEGENERATE = [*CONSTANT, *(pytest.param(*case, marks=pytest.mark.nightly) for case in OTHER_DEGENERATE)]
RESPONDERS = {"random letters": _random_letter, "random words": _random_word}
TOOL_RESPONDERS = {"always get_weather": lambda body: [{"name": "get_weather", "arguments": {"city": "Paris"}}]}


def test_every_notebook_that_takes_a_model_is_tried_with_a_degenerate_endpoint(repo):
    takes_a_model = set()
    for name in NAMES:
        nb = _read(repo / "notebooks" / f"{name}.ipynb")
        params = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        if re.search(r"^model\s*=", params, re.MULTILINE):
            takes_a_model.add(name)
    assert takes_a_model == {name for name, *_ in CONSTANT}, "add the notebook to CONSTANT with its gate"


@pytest.mark.no_llama
@pytest.mark.parametrize(
    "name, lang, answer, gate",
    DEGENERATE,
    ids=[f"{n}.{lang}-{a}" for n, lang, a, _ in [*CONSTANT, *OTHER_DEGENERATE]],
)
def test_a_degenerate_endpoint_fails_the_notebook_on_its_gate(repo, tmp_path, monkeypatch, name, lang, answer, gate):
    """An endpoint that always gives the same answer (or answers at random) runs the whole notebook and is stopped
    by its gate — not by an earlier error, and not let through. The kernel cannot load llama.cpp (its model file
    points nowhere: a load would end the notebook on that error instead), so these runs go beside the llama group."""
    from workbench.nightly import execute_notebook
    from workbench.testing.fake_openai import FakeOpenAIServer

    monkeypatch.setenv("WORKBENCH_LOCAL_MODEL", str(tmp_path / "no-llama-in-this-test.gguf"))

    responder = RESPONDERS.get(answer) or _always(answer)
    with FakeOpenAIServer(responder=responder, tool_responder=TOOL_RESPONDERS.get(answer)) as server:
        outcome = execute_notebook(
            repo / "notebooks" / f"{name}.ipynb", tmp_path, {"model": server.spec(), "lang": lang}, validate=False
        )
    assert outcome.status == "failed"
    assert "GateFailed" in outcome.error and f"Gate {gate!r} failed" in outcome.error, outcome.error
