"""The lease a process holds on the run it executes, renewed by a heartbeat thread (see
:mod:`workbench.store.runs`). If another process takes the lease over (ours looked dead: the heartbeat stalled
for longer than the lease lasts), ``lost`` is set and the run stops instead of writing beside the new owner."""

from __future__ import annotations

import threading

from workbench.store import Store
from workbench.store.runs import HEARTBEAT_SECONDS, new_lease_owner


class Lease:
    def __init__(self, store: Store, run_id: str, owner: str | None = None):
        self.store = store
        self.run_id = run_id
        self.owner = owner or new_lease_owner()
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Lease:
        self._thread = threading.Thread(target=self._beat, name=f"workbench-lease-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                if not self.store.heartbeat(self.run_id, self.owner):
                    self.lost.set()
                    return
            except Exception:  # a store that is briefly unreachable: try again at the next beat
                continue

    def release(self, status: str) -> None:
        """Stop the heartbeat and give the run back with its final status."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.set_run_status(self.run_id, status, release=self.owner)
