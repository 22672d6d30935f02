"""The documentation site: the console examples of the pages a newcomer follows first run as written and print
what the pages show (the machinery of ``tests/test_readme.py``: :mod:`workbench.testing.console`), and the site's
own build (`mkdocs build --strict`) is a `make test` step of its own (``make docs``)."""

from __future__ import annotations

import pytest

from workbench.testing.console import Example, File, console_env, like_a_clone, run_steps, steps

# The pages whose every console example runs as written, each in a fresh folder (as a fresh clone) with a store of
# its own, and the least each must hold (a page that lost its examples fails).
PAGES = {"getting-started.md": 5, "first-template.md": 10}


@pytest.mark.local_model
@pytest.mark.parametrize("page", PAGES)
def test_the_pages_examples_print_what_the_page_shows(repo, tmp_path, page):
    items = steps((repo / "docs" / page).read_text(encoding="utf-8"))
    assert sum(isinstance(item, Example) for item in items) >= PAGES[page], f"{page} lost its console examples"
    like_a_clone(tmp_path, repo)
    problems = run_steps(items, tmp_path, console_env(tmp_path / ".workbench" / "workbench.db"))
    assert not problems, "\n\n".join(problems)


def test_titled_blocks_are_files_and_console_blocks_are_commands_in_page_order():
    page = (
        'Write it:\n\n```text title="d.csv"\nid,text\n```\n\nRun it:\n\n```console\n$ workbench run p -d d.csv'
        "  # a comment\nrun …: 1 cells\n...\n```\n\n```bash\nmake demo\n```\n"
    )
    assert steps(page) == [File("d.csv", "id,text\n"), Example("workbench run p -d d.csv", ["run …: 1 cells", "..."])]
