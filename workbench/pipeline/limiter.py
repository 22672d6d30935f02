"""How many calls a run keeps in flight per model: an AIMD limiter, plus an optional requests/minute cap.

Additive increase, multiplicative decrease (TCP's congestion control, and what promptfoo does for rate
limits): the limit starts at the run's concurrency; when the endpoint pushes back (429, 5xx, a dropped
connection) it halves — at most once per ``cooldown`` seconds, so one burst of errors counts once — and each
success raises it by ``1/limit``, so it climbs back by about one per round of calls, up to the configured
concurrency. One gate per model per run; a call holds a slot only while it is in flight, never while it
waits to retry.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from workbench.errors import RetryableModelError


class AdaptiveLimiter:
    """An async context manager: ``async with limiter:`` around one attempt of one call."""

    def __init__(
        self,
        limit: int,
        *,
        minimum: int = 1,
        cooldown: float = 1.0,
        rate_limit: float | None = None,
        cancel_event: Any = None,
    ):
        self.maximum = max(1, limit)
        self.minimum = max(1, min(minimum, self.maximum))
        self.limit = float(self.maximum)
        self.cooldown = cooldown
        self.in_flight = 0
        self.pushbacks = 0
        self._last_decrease = 0.0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.cancel_event = cancel_event  # a threading.Event: Stop / kernel interrupt, checked once a slot is free
        self._rate = None
        if rate_limit:
            from aiolimiter import AsyncLimiter

            self._rate = AsyncLimiter(rate_limit, 60.0)

    @property
    def current(self) -> int:
        return max(self.minimum, int(self.limit))

    async def __aenter__(self) -> AdaptiveLimiter:
        if self.in_flight < self.current and not self._waiters and not self._cancelled():
            self.in_flight += 1  # a free slot and nobody queued: take it (one thread, no await: atomic)
        else:
            await self._queue_for_slot()
        if self._rate is not None:
            await self._rate.acquire()
        return self

    async def _queue_for_slot(self) -> None:
        """Wait in line (first come, first served) until a slot is free; a cancel while waiting passes it on."""
        loop = asyncio.get_running_loop()
        while True:
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                else:
                    self._wake()  # we were woken and leave: the slot goes to the next in line
                raise
            if self._cancelled():
                self._wake()  # the next waiter sees the cancel too
                raise asyncio.CancelledError
            if self.in_flight < self.current:
                self.in_flight += 1
                return

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is None:
            self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)
        elif isinstance(exc, RetryableModelError):
            self.pushback()
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        """Wake as many waiters as there are free slots (or one, to pass a cancel on)."""
        free = max(1, self.current - self.in_flight) if self._cancelled() else self.current - self.in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1

    def _cancelled(self) -> bool:
        return self.cancel_event is not None and self.cancel_event.is_set()

    def pushback(self) -> None:
        """The endpoint said "too much": halve the limit (once per cooldown)."""
        now = time.monotonic()
        if now - self._last_decrease >= self.cooldown:
            self._last_decrease = now
            self.limit = max(float(self.minimum), self.limit / 2)
            self.pushbacks += 1
