"""The console examples of a Markdown page, run as written: what ``tests/test_readme.py`` does for README and
``tests/test_docs.py`` for the documentation site — one machinery for both.

A page is read in order. A ```` ```console ```` block is a session: ``$ `` lines are commands, run one after the
other in one scratch folder, and the lines under a command are its output as the page shows it (each must appear in
what the command printed, spaces normalised; ``…`` inside a line stands for text that changes between runs, and a
line ``...`` for output the page leaves out). A code block with a title (```` ```yaml title="reviews.prompty" ````)
is a file the reader writes: it is written into the folder, where it stands in the page, before the commands after
it run — so a page that edits a file shows the new text in a second titled block.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

BLOCK = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
TITLE = re.compile(r'title="(?P<title>[^"]+)"')


@dataclass
class Example:
    """One command of a console block, with the output lines the page shows under it."""

    command: str
    shown: list[str] = field(default_factory=list)


@dataclass
class File:
    """A titled code block: a file the reader writes, at ``path`` relative to the folder the commands run in."""

    path: str
    text: str


def steps(markdown: str) -> list[File | Example]:
    """The page's files and commands, in the order a reader meets them."""
    found: list[File | Example] = []
    for block in BLOCK.finditer(markdown):
        info, body = block["info"].strip(), block["body"]
        title = TITLE.search(info)
        if title:
            found.append(File(title["title"], body))
        elif info.split(" ")[0] == "console":
            found += _session(body)
    return found


def examples(markdown: str) -> list[list[Example]]:
    """The console blocks of a page, each a list of its commands."""
    return [_session(block["body"]) for block in BLOCK.finditer(markdown) if block["info"].strip() == "console"]


def _session(body: str) -> list[Example]:
    session: list[Example] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            session.append(Example(line[2:].split("  #")[0].strip()))
        elif line.strip() and session:
            session[-1].shown.append(line)
    return session


def _normal(text: str) -> str:
    return " ".join(text.split())


def _pattern(line: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in _normal(line).split("…")))


def missing_lines(shown: list[str], printed: str) -> list[str]:
    """The lines a page shows that the output does not contain."""
    lines = [_normal(line) for line in printed.splitlines()]
    return [line for line in shown if line.strip() != "..." and not any(_pattern(line).search(p) for p in lines)]


def run_steps(items: list[File | Example], folder: Path, env: dict[str, str], *, timeout: float = 900) -> list[str]:
    """Write each file and run each ``workbench`` command in ``folder``; the problems found (empty: as shown)."""
    workbench = str(Path(sys.executable).with_name("workbench"))
    problems = []
    for item in items:
        if isinstance(item, File):
            target = folder / item.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(item.text, encoding="utf-8")
            continue
        argv = shlex.split(item.command)
        if argv[0] != "workbench":
            problems.append(f"$ {item.command}\n  not a workbench command: show it in a ```bash block instead")
            continue
        done = subprocess.run(
            [workbench, *argv[1:]], cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
        )
        missing = missing_lines(item.shown, done.stdout + done.stderr)
        if missing:
            problems.append(f"$ {item.command}\n  missing: {missing}\n  printed:\n{done.stdout}{done.stderr}")
    return problems


def like_a_clone(folder: Path, repo: Path) -> None:
    """``folder`` set up as a fresh clone looks to the examples: copies of the repository's ``prompt_library/``
    (without its version history) and ``datasets/`` — so a file a page writes or a version it saves lands in
    ``folder``, never in the repository (the library refuses files that only link into it)."""
    import shutil

    shutil.copytree(repo / "prompt_library", folder / "prompt_library", ignore=shutil.ignore_patterns("_versions"))
    shutil.copytree(repo / "datasets", folder / "datasets")


def console_env(store: Path, columns: int = 100) -> dict[str, str]:
    """The environment the examples run in: a store of their own, a fixed width, no colour."""
    env = {**os.environ, "COLUMNS": str(columns), "WORKBENCH_STORE": str(store), "NO_COLOR": "1"}
    env.pop("WORKBENCH_ROOT", None)
    return env
