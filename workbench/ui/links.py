"""Links to files the Jupyter server can open, for messages such as "Exported to …".

Why: a plain path is not clickable, and the server refuses files in hidden folders (``.workbench/``). The kernel
does not know which URL serves a file, but every running Jupyter server records its root folder and base URL
(``jupyter_server.serverapp.list_running_servers``): the file's URL is ``{base_url}files/{path under the root}``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote


def running_servers() -> list[dict[str, Any]]:
    """The Jupyter servers of this user on this machine ([] outside Jupyter)."""
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:
        return []
    try:
        return list(list_running_servers())
    except Exception:  # a stale or unreadable runtime file must not break an export
        return []


def server_url(path: Path, servers: Iterable[dict[str, Any]] | None = None) -> str | None:
    """The URL path (``/files/exports/x.csv``) under which a Jupyter server serves ``path``, or None."""
    target = Path(path).resolve()
    for server in running_servers() if servers is None else servers:
        root = server.get("root_dir") or server.get("notebook_dir")
        if not root:
            continue
        root_path = Path(root).expanduser().resolve()
        if target.is_relative_to(root_path):
            relative = target.relative_to(root_path).as_posix()
            base = server.get("base_url") or "/"
            return f"{base.rstrip('/')}/files/{quote(relative)}"
    return None


def file_link_html(path: Path, servers: Iterable[dict[str, Any]] | None = None) -> str:
    """``<a>`` to open ``path`` in a new browser tab through the Jupyter server; the relative path as a fallback
    (JupyterLab resolves it against the notebook's folder, where the kernel runs)."""
    try:
        shown = Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        shown = str(path)
    url = server_url(path, servers) or quote(shown)
    return f"<a href='{html.escape(url)}' target='_blank' rel='noopener' class='wb-file-link'>{html.escape(shown)}</a>"
