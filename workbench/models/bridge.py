"""Calling async code from sync code, anywhere (a script, a Jupyter cell with its own loop running, a thread):
one private event loop in a daemon thread per process. Sync model calls (``model.generate``) run their one async
call path there, so a provider writes its call once."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_lock = threading.Lock()


def _bridge_loop() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            _loop = asyncio.new_event_loop()
            _thread = threading.Thread(target=_loop.run_forever, name="workbench-sync-bridge", daemon=True)
            _thread.start()
        return _loop


def submit(coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Schedule ``coroutine`` on the bridge loop; a future for its result."""
    if threading.current_thread() is _thread:
        coroutine.close()
        raise RuntimeError("A sync model call was made from inside an async one; await the async method instead.")
    return asyncio.run_coroutine_threadsafe(coroutine, _bridge_loop())


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion and return its result (its exception is raised here)."""
    return submit(coroutine).result()
