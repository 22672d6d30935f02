"""Where the project's folders are, wherever a notebook or command happens to run from.

A notebook opened in ``notebooks/`` runs there; papermill and nbval may run a copy from a scratch folder; a CLI
command or ``wb.run`` may start in any subfolder. ``project_root()`` looks upward from the working directory for
a folder with a ``prompt_library/`` — the same answer from every subfolder, so templates, datasets and the default
run store (``.workbench/workbench.db``, :mod:`workbench.store.location`) all come from one place. Where there is
no project above, it uses the checkout this package was installed from (an editable install), and where that is
no project either (a ``pip install`` used from any folder) the working directory itself.
"""

from __future__ import annotations

import os
from pathlib import Path

MARKER = "prompt_library"


def find_project(start: str | Path | None = None) -> Path | None:
    """``WORKBENCH_ROOT``, else the nearest folder upward from ``start`` (the working directory) with
    ``prompt_library/``, else the package's checkout when it has one; ``None`` when there is no project."""
    override = os.environ.get("WORKBENCH_ROOT")
    if override:
        return Path(override).expanduser().resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_dir():
            return folder
    checkout = package_checkout()
    return checkout if (checkout / MARKER).is_dir() else None


def package_checkout() -> Path:
    """The folder this package sits in: a checkout for an editable install, ``site-packages`` otherwise."""
    return Path(__file__).resolve().parent.parent


def project_root(start: str | Path | None = None) -> Path:
    """The project's folder (:func:`find_project`), else the working directory."""
    return find_project(start) or Path(start or Path.cwd()).resolve()
