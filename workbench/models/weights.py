"""The identity of model weights: the sha256 of a file (a GGUF) or of a folder (a LoRA adapter, a checkpoint).

Why it matters: the response cache and provenance key on it, so a ``local`` model pointed at another GGUF, or an
``hf:PATH`` adapter retrained in place, is never answered from another model's cached outputs. Hashing 250 MB
takes a noticeable fraction of a second, so each file's digest is computed once and remembered — by path, size
and modification time — in ``~/.cache/workbench/sha256.json`` (``WORKBENCH_CACHE_DIR`` moves it): a file that
changes gets hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

_lock = threading.Lock()


def memo_path() -> Path:
    base = os.environ.get("WORKBENCH_CACHE_DIR") or Path.home() / ".cache" / "workbench"
    return Path(base) / "sha256.json"


def _load() -> dict[str, dict]:
    try:
        return json.loads(memo_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save(memo: dict[str, dict]) -> None:
    path = memo_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        scratch.write_text(json.dumps(memo, indent=0, sort_keys=True), encoding="utf-8")
        os.replace(scratch, path)
    except OSError:
        pass  # a read-only home: hash again next time, never fail the run for it


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The file's sha256, from the memo when its size and mtime are what they were when it was hashed."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    with _lock:
        memo = _load()
        seen = memo.get(str(resolved))
        if seen and {k: seen.get(k) for k in stamp} == stamp:
            return seen["sha256"]
        digest = hashlib.sha256()
        with open(resolved, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        memo[str(resolved)] = {**stamp, "sha256": digest.hexdigest()}
        _save(memo)
        return digest.hexdigest()


def folder_sha256(folder: str | os.PathLike[str]) -> str:
    """One digest for every file of a folder (names and contents), in a stable order."""
    root = Path(folder).resolve()
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + file_sha256(path).encode() + b"\n")
    return digest.hexdigest()
