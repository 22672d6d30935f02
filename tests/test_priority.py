"""The worker beside llama.cpp yields the CPU: its process, its session's scheduling group and the servers it starts
in sessions of their own (a kernel, ``pg_ctl``) — checked in a child process, since a process cannot raise its
priority back."""

from __future__ import annotations

import json
import subprocess
import sys

from workbench.testing.priority import LIGHT_NICENESS, session_priority

CHILD = """
import json, os, subprocess
from workbench.testing.priority import share_session_priority, session_priority, yield_the_cpu

yield_the_cpu()
server = subprocess.Popen(["sleep", "30"], start_new_session=True)  # a session of its own, like pg_ctl's server
before = session_priority(server.pid)
share_session_priority(server.pid)
print(json.dumps({"nice": os.getpriority(os.PRIO_PROCESS, 0), "group": session_priority(), "server_before": before,
                  "server": session_priority(server.pid), "leader": os.getsid(0) == os.getpid()}))
server.kill()
"""


def test_a_worker_that_yields_lowers_itself_its_session_and_the_servers_it_starts():
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert seen["nice"] >= LIGHT_NICENESS and seen["leader"], seen
    if session_priority() is not None:  # Linux's autogroups (without them nice values are the whole story)
        assert seen["group"] >= LIGHT_NICENESS, seen
        assert seen["server_before"] == 0 and seen["server"] == seen["group"], seen
