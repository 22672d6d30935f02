"""The test worker that runs beside llama.cpp yields the CPU to it — its own process, and the servers it starts.

Linux shares the CPU between sessions first ("autogroups") and applies nice values only inside one; a Jupyter kernel
and a PostgreSQL server (``pg_ctl``) each start a session of their own. So lowering a process's priority is not
enough: its session's group is lowered too, and a server started in a session of its own is given the same priority.
Measured (a 96-answer llama.cpp run in a session of its own, as in a kernel, beside one busy process): 13.6 s alone,
310 s beside a nice-10 process of another session, 15.9 s when that session is lowered.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

LIGHT_NICENESS = 10


def _autogroup(pid: int | str) -> Path:
    return Path("/proc") / str(pid) / "autogroup"  # "/autogroup-42 nice 0"


def yield_the_cpu(niceness: int = LIGHT_NICENESS) -> None:
    """This process (and what it starts from now on) at ``niceness``, unless it is already lower, in a session of its
    own whose scheduling group has that priority too (where the kernel has autogroups). A process may lower its
    priority but not raise it back."""
    if os.getpriority(os.PRIO_PROCESS, 0) >= niceness:
        return
    with contextlib.suppress(OSError):  # already a session leader: it keeps its session
        os.setsid()
    os.setpriority(os.PRIO_PROCESS, 0, niceness)
    with contextlib.suppress(OSError):  # no autogroups here (another OS, or a kernel without them)
        _autogroup("self").write_text(str(niceness), encoding="ascii")


def session_priority(pid: int | str = "self") -> int | None:
    """The nice value of a process's scheduling group (``None`` without autogroups)."""
    try:
        return int(_autogroup(pid).read_text(encoding="ascii").split("nice")[1])
    except (OSError, IndexError, ValueError):
        return None


def share_session_priority(pid: int) -> None:
    """Give a process that started a session of its own (a server) this session's lowered priority, if any."""
    ours = session_priority()
    if ours is not None and ours > 0 and (session_priority(pid) or 0) < ours:
        with contextlib.suppress(OSError):  # not ours to change: it keeps its priority
            _autogroup(pid).write_text(str(ours), encoding="ascii")
