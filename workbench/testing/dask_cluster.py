"""A real Dask cluster for tests and benchmarks: a scheduler and workers as separate processes, bound to
127.0.0.1 only, each stopped (or killed mid-run) by its PID.

Bound to loopback means every listening socket: ``--host`` binds the scheduler's and workers' own ports, but each
process also serves HTTP (health, metrics; the dashboard when it is on) on ``--dashboard-address``, which is
``0.0.0.0:8787`` (scheduler) or ``0.0.0.0:<random>`` (worker) even with ``--no-dashboard`` — so that is given too.

Workers run without a nanny (``--no-nanny``), so a killed worker stays dead and the scheduler must move its work
to the others — the fault a run has to survive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from workbench.testing.fake_openai import free_port

HOST = "127.0.0.1"


def _dask() -> list[str]:
    script = Path(sys.executable).with_name("dask")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dask"]


class DaskCluster:
    """``with DaskCluster(workers=2) as cluster: run(..., cluster=cluster.address)``."""

    def __init__(self, workers: int = 2, *, threads: int = 1, env: dict[str, str] | None = None):
        self.port = free_port()
        self.n_workers = workers
        self.threads = threads
        self.env = {**os.environ, **(env or {})}
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def address(self) -> str:
        return f"tcp://{HOST}:{self.port}"

    def start(self) -> DaskCluster:
        args = ["scheduler", "--host", HOST, "--port", str(self.port), "--no-dashboard"]
        args += ["--dashboard-address", f"{HOST}:0"]
        self.scheduler = subprocess.Popen([*_dask(), *args], env=self.env, stderr=subprocess.DEVNULL)
        for i in range(1, self.n_workers + 1):
            self.add_worker(f"w{i}")
        self.wait_for_workers(self.n_workers)
        return self

    def add_worker(self, name: str) -> None:
        args = ["worker", self.address, "--host", HOST, "--nthreads", str(self.threads), "--no-nanny"]
        args += ["--no-dashboard", "--dashboard-address", f"{HOST}:0", "--name", name, "--death-timeout", "60"]
        self.workers[name] = subprocess.Popen([*_dask(), *args], env=self.env, stderr=subprocess.DEVNULL)

    def wait_for_workers(self, n: int, timeout: float = 90.0) -> None:
        from distributed import Client

        deadline = time.time() + timeout
        client = Client(self.address, timeout=timeout, set_as_default=False)
        try:
            while len(client.scheduler_info(n_workers=-1)["workers"]) < n:
                if time.time() > deadline:
                    raise RuntimeError(f"{n} Dask workers did not register within {timeout:.0f} s")
                time.sleep(0.2)
        finally:
            client.close()

    def kill_worker(self, name: str) -> None:
        """SIGKILL one worker by its PID: it dies mid-task, as a machine that loses power."""
        process = self.workers[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in [*self.workers.values(), self.scheduler]:
            if process is not None and process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in [*self.workers.values(), self.scheduler]:
            if process is None:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def __enter__(self) -> DaskCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
