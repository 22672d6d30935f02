"""In-process notifications from the core — "a run finished", "bad cases changed" — for views that want to follow
what the notebook, the CLI code or another panel did. The core only emits; it never imports a listener's module.

Listeners are held weakly when they are bound methods (a closed widget does not stay alive for them), and a
listener that raises is logged (``workbench.events``) without affecting the run or the other listeners.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

RUN_FINISHED = "run_finished"
BAD_CASES_CHANGED = "bad_cases_changed"

log = logging.getLogger("workbench.events")
_listeners: dict[str, list[Any]] = {}
_lock = threading.Lock()


def on(event: str, callback: Callable[..., Any]) -> None:
    """Call ``callback(payload)`` on ``event``; bound methods are referenced weakly."""
    ref = weakref.WeakMethod(callback) if hasattr(callback, "__self__") else (lambda cb=callback: cb)
    with _lock:
        _listeners.setdefault(event, []).append(ref)


def emit(event: str, payload: Any = None) -> None:
    with _lock:
        refs = list(_listeners.get(event, []))
    alive = []
    for ref in refs:
        callback = ref()
        if callback is None:
            continue
        alive.append(ref)
        try:
            callback(payload)
        except Exception:  # a view's bug must not break the run that notified it — but it is not hidden either
            log.exception("A listener of %r failed (%r); the notification went on to the others.", event, callback)
            continue
    with _lock:
        _listeners[event] = [r for r in _listeners.get(event, []) if r in alive or r not in refs]
