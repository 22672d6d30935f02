"""Where the project is and where its default run store lives, from any folder (issue 37, point 2): a notebook in
``notebooks/``, a CLI command or ``wb.run`` in a subfolder all find the project's ``.workbench/workbench.db``, as
they find its prompt library; without a project, the working directory; a relative path typed means the working
directory."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import workbench.paths as paths
from workbench.store import Store, default_store_path, parse_location


@pytest.fixture
def project(tmp_path, repo, monkeypatch):
    """A project folder (its prompt library, a notebooks/ subfolder), nothing pointing anywhere else."""
    root = tmp_path / "course"
    (root / "prompt_library").mkdir(parents=True)
    shutil.copy(repo / "prompt_library" / "sentiment_cloze_en.prompty", root / "prompt_library")
    (root / "notebooks").mkdir()
    for name in ("WORKBENCH_STORE", "WORKBENCH_ROOT"):
        monkeypatch.delenv(name, raising=False)
    return root


def test_the_project_is_found_upward_from_a_subfolder(project, monkeypatch):
    monkeypatch.chdir(project / "notebooks")
    assert paths.find_project() == project == paths.project_root()
    assert default_store_path() == project / ".workbench" / "workbench.db"
    where = parse_location(None)
    assert where.path == project / ".workbench" / "workbench.db", "the same store as at the root"
    assert where.display == str(project / ".workbench" / "workbench.db"), "said as an absolute path"


def test_a_relative_path_the_user_types_means_the_working_directory(project, monkeypatch):
    monkeypatch.chdir(project / "notebooks")
    assert parse_location("mine.db").path == project / "notebooks" / "mine.db"
    assert parse_location("sqlite:///sub/mine.db").path == project / "notebooks" / "sub" / "mine.db"
    monkeypatch.setenv("WORKBENCH_STORE", "team.db")
    assert parse_location(None).path == project / "notebooks" / "team.db", "WORKBENCH_STORE wins over the default"


def test_without_a_project_the_working_directory(tmp_path, monkeypatch):
    """A pip install used from any folder: no prompt_library/ above, the package not in a checkout."""
    for name in ("WORKBENCH_STORE", "WORKBENCH_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(paths, "package_checkout", lambda: tmp_path / "site-packages")
    folder = tmp_path / "anywhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    assert paths.find_project() is None and paths.project_root() == folder
    assert parse_location(None).path == folder / ".workbench" / "workbench.db"


def test_the_store_stays_put_when_the_process_changes_folder(project, monkeypatch):
    """The URL the engine connects to is absolute: a kernel that changes folder later keeps its store."""
    monkeypatch.chdir(project / "notebooks")
    store = Store("rel.db")
    assert store.location.url == f"sqlite:///{project / 'notebooks' / 'rel.db'}" and store.url == str(store.path)


def test_wb_run_from_a_subfolder_stores_in_the_projects_store(project, monkeypatch):
    import workbench as wb

    monkeypatch.chdir(project / "notebooks")
    rows = [{"id": "a", "text": "It rained.", "expected": "negative"}]
    result = wb.run("sentiment_cloze_en", rows, ["echo"], progress=False)
    assert result.store.path == project / ".workbench" / "workbench.db"
    assert not (project / "notebooks" / ".workbench").exists(), "no second, empty store in the subfolder"


def test_the_cli_from_a_subfolder_uses_the_projects_store(project):
    Store(project / ".workbench" / "workbench.db")  # the store the project already has (the CLI only reads it here)
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_STORE", "WORKBENCH_ROOT")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(
        [sys.executable, "-m", "workbench", "store", "stats"],
        cwd=project / "notebooks",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert f"store {project / '.workbench' / 'workbench.db'}" in " ".join(out.stdout.split())
    assert not (project / "notebooks" / ".workbench").exists()
