"""Every notebook runs under papermill (CI profile) and validates under nbval. Runs in `make test`."""

import pytest

from workbench.nightly import execute_notebook, load_profiles, notebook_paths, run_nightly
from workbench.paths import project_root

pytestmark = pytest.mark.notebooks


def _notebooks(repo_root):
    return notebook_paths(repo_root / "notebooks")


def test_every_notebook_has_a_parameters_cell_and_no_outputs(repo):
    import nbformat

    notebooks = _notebooks(repo)
    assert notebooks, "no notebooks found"
    profiles = load_profiles(repo / "notebooks")
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        tags = [tag for cell in nb.cells for tag in cell.metadata.get("tags", [])]
        assert "parameters" in tags, f"{path.name} has no cell tagged 'parameters'"
        assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), f"{path.name} has outputs"
        assert any("assert" in cell.source for cell in nb.cells[-3:]), f"{path.name} ends without assertions"
        assert path.stem in profiles["ci"], f"{path.name} has no CI profile in notebooks/profiles.yaml"


@pytest.mark.parametrize("name", [p.stem for p in notebook_paths(project_root() / "notebooks")])
def test_notebook_runs_and_validates(repo, tmp_path, name):
    path = repo / "notebooks" / f"{name}.ipynb"
    params = load_profiles(repo / "notebooks")["ci"].get(name) or {}
    outcome = execute_notebook(path, tmp_path, params)
    assert outcome.status == "passed", outcome.error
    assert "passed" in outcome.validation


def test_nightly_summary_lists_every_notebook(repo, tmp_path):
    outcomes = run_nightly("ci", tmp_path, only=["00_quickstart"], validate=False)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert [o.status for o in outcomes] == ["passed"] and "00_quickstart" in summary
    assert (tmp_path / "summary.html").exists()
    with pytest.raises(Exception, match="No profile 'weekly'"):
        run_nightly("weekly", tmp_path)
