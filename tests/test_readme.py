"""README's command-line examples, run as written in a fresh folder, print what README shows.

Every ```console block is a session: ``$ `` lines are commands, run in order in one scratch folder that holds the
library and the datasets (as a fresh clone does) and one store; the lines under a command are its output as README
shows it. Each shown line must appear in what the command printed (spaces normalised); ``…`` inside a line stands for
text that changes between runs (run ids, dates), and a line ``...`` for output README leaves out. The machinery is
:mod:`workbench.testing.console`, shared with ``tests/test_docs.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from workbench.testing.console import console_env, examples, missing_lines, run_steps

pytestmark = pytest.mark.local_model

# The files README's "When input is wrong" example runs on (a typo in a template, a dataset with a repeated id).
FIXTURES = {
    "typo.prompty": "---\nname: typo\nasertions: [{type: label}]\n---\n{{ text }}\n",
    "dup.csv": "id,text,expected\nr1,a,positive\nr1,b,negative\n",
}


def test_missing_lines_reads_wildcards_and_elisions():
    printed = "run 20261202-1: 24 cells\n│ a │  b │\n"
    assert missing_lines(["run …: 24 cells", "...", "│ a │ b │"], printed) == []
    assert missing_lines(["run …: 12 cells"], printed) == ["run …: 12 cells"]


def test_the_readme_examples_print_what_the_readme_shows(repo, tmp_path):
    sessions = examples((repo / "README.md").read_text(encoding="utf-8"))
    assert sum(len(s) for s in sessions) >= 8, "README lost its command-line examples"
    for name in ("prompt_library", "datasets"):
        (tmp_path / name).symlink_to(repo / name)
    for name, text in FIXTURES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = console_env(tmp_path / "readme.db")
    problems = run_steps([example for session in sessions for example in session], tmp_path, env)
    assert not problems, "\n\n".join(problems)


def test_the_readme_langchain_example_prints_what_the_readme_shows(repo, tmp_path):
    """README's "LangChain, both ways" Python example, run as written, prints the output README shows under it."""
    section = (
        (repo / "README.md").read_text(encoding="utf-8").split("## LangChain, both ways", 1)[1].split("\n## ", 1)[0]
    )
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    shown = re.search(r"It printed[^\n]*:\n\n```text\n(.*?)```", section, re.DOTALL).group(1).splitlines()
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(shown) >= 4 and missing_lines(shown, done.stdout) == [], done.stdout
