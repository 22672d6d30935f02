"""Where the project's folders are, wherever a notebook or command happens to run from.

A notebook opened in ``notebooks/`` runs there; papermill and nbval may run a copy from a
scratch folder. ``project_root()`` looks upward from the working directory for a folder with a
``prompt_library/`` and otherwise uses the checkout this package was installed from.
"""

from __future__ import annotations

import os
from pathlib import Path

MARKER = "prompt_library"


def project_root(start: str | Path | None = None) -> Path:
    """``WORKBENCH_ROOT``, else the nearest folder upward with ``prompt_library/``, else the package's checkout."""
    override = os.environ.get("WORKBENCH_ROOT")
    if override:
        return Path(override).expanduser().resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_dir():
            return folder
    return Path(__file__).resolve().parent.parent
