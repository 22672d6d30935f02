"""The lease a process holds on the run it executes, renewed by a heartbeat thread (see
:mod:`workbench.store.runs`). If another process takes the lease over (ours looked dead: the heartbeat stalled
for longer than the lease lasts), ``lost`` is set and the run stops instead of writing beside the new owner.

Two ways to find out: the heartbeat's renewal is refused (somebody else holds the run), or a result write is
refused in its own transaction (:meth:`workbench.store.Store.write_results` ``fence=``). A heartbeat that cannot
reach the store keeps trying, but once it has failed for as long as a lease lasts another process may rightly have
taken the run over, so the lease counts as lost then too — with the error that kept it from renewing.
"""

from __future__ import annotations

import threading
import time

from workbench.store import Store
from workbench.store.runs import HEARTBEAT_SECONDS, LEASE_SECONDS, new_lease_owner


class Lease:
    def __init__(self, store: Store, run_id: str, owner: str | None = None):
        self.store = store
        self.run_id = run_id
        self.owner = owner or new_lease_owner()
        self.lost = threading.Event()
        self.reason = ""  # why the lease was lost, for the error the run ends with
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Lease:
        self._thread = threading.Thread(target=self._beat, name=f"workbench-lease-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    def lose(self, reason: str) -> None:
        """Mark the lease lost (first reason wins); the run stops writing."""
        if not self.lost.is_set():
            self.reason = reason
            self.lost.set()

    def _beat(self) -> None:
        renewed = time.monotonic()
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                held = self.store.heartbeat(self.run_id, self.owner)
            except Exception as exc:  # the store is unreachable: try again, but not for longer than a lease lasts
                if time.monotonic() - renewed >= LEASE_SECONDS:
                    self.lose(
                        f"its lease could not be renewed for {LEASE_SECONDS:.0f} s ({type(exc).__name__}: {exc}), "
                        "so another process may have taken it over"
                    )
                    return
                continue
            if not held:
                self.lose("another process took it over")
                return
            renewed = time.monotonic()

    def release(self, status: str) -> None:
        """Stop the heartbeat and give the run back with its final status (a lost run is not ours to mark)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.set_run_status(self.run_id, status, release=self.owner)
