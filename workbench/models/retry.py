"""Retries of a production client: which failures are retried, how long, and how the wait is chosen.

- Connection errors and resets, HTTP 5xx, timeouts and malformed bodies: retried up to ``retries`` more times
  with exponential backoff and full jitter (``initial_wait`` doubling, capped at ``max_wait``).
- HTTP 429 (rate limited): retried for as long as the endpoint keeps answering *something* — until ``budget``
  seconds pass with no successful answer from that model in this run — honouring ``Retry-After`` (capped at
  ``max_wait``). A run that meets a busy endpoint slows down instead of losing rows; one that gets nothing but
  429s for the whole budget stops.

The runner adds a final sweep over cells that still failed with a retryable error, and backs its concurrency
off when the endpoint pushes back (:mod:`workbench.pipeline.limiter`). Built on tenacity.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # tenacity is imported on the first failure: most runs never need it
    from tenacity import RetryCallState, RetryError


from workbench.errors import ModelError, ModelTimeoutError, RateLimitError, RetryableModelError

T = TypeVar("T")

DEFAULT_RETRIES = 6
DEFAULT_BUDGET = 300.0


@dataclass(frozen=True)
class RetryPolicy:
    """How a failed call is retried (see the module docstring). Defaults: 6 retries, a 300-second 429 budget."""

    retries: int = DEFAULT_RETRIES
    budget: float = DEFAULT_BUDGET
    initial_wait: float = 0.5
    max_wait: float = 30.0

    def backoff(self, failures: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(max_wait, initial * 2**(n-1))]."""
        ceiling = min(self.max_wait, self.initial_wait * 2 ** max(0, failures - 1))
        return random.uniform(0.0, ceiling) + min(0.05, ceiling)


@dataclass
class RetryBudget:
    """The 429 budget shared by every call to one model in one run: it is renewed by each success."""

    seconds: float = DEFAULT_BUDGET
    last_success: float = field(default_factory=lambda: time.monotonic())

    def succeeded(self) -> None:
        self.last_success = time.monotonic()

    def allows(self, wait: float) -> bool:
        return time.monotonic() + wait <= self.last_success + self.seconds


class Retrier:
    """Runs one call with a policy; counts attempts; shares a :class:`RetryBudget` across a run's calls.

    In a run, each attempt also goes through the model's ``gate`` (the run's concurrency limiter, which holds
    a slot only during the attempt and hears about push-back) and is bounded by ``timeout`` seconds.
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        budget: RetryBudget | None = None,
        *,
        gate: Any = None,
        timeout: float | None = None,
        spec: str = "",
    ):
        self.policy = policy or RetryPolicy()
        self.budget = budget or RetryBudget(self.policy.budget)
        self.gate = gate
        self.timeout = timeout
        self.spec = spec

    def _controls(self, failed_first: BaseException | None = None) -> dict[str, object]:
        other_failures = 0 if failed_first is None or isinstance(failed_first, RateLimitError) else 1

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            retry_after = getattr(error, "retry_after", None)
            if isinstance(error, RateLimitError) and retry_after is not None:
                return min(float(retry_after), self.policy.max_wait)
            return self.policy.backoff(state.attempt_number)

        def stop(state: RetryCallState) -> bool:
            nonlocal other_failures
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, RateLimitError):
                return not self.budget.allows(wait(state))
            other_failures += 1
            return other_failures > self.policy.retries

        from tenacity import retry_if_exception_type

        return {"retry": retry_if_exception_type(RetryableModelError), "stop": stop, "wait": wait, "reraise": False}

    async def _attempt(self, fn: Callable[[], Awaitable[T]]) -> T:
        async with self.gate if self.gate is not None else contextlib.nullcontext():
            if self.timeout is None:
                return await fn()
            try:
                return await asyncio.wait_for(fn(), self.timeout)
            except TimeoutError:
                raise ModelTimeoutError(f"No answer within {self.timeout:g}s.", spec=self.spec) from None

    async def acall(self, fn: Callable[[], Awaitable[T]]) -> tuple[T, int]:
        """Most calls succeed at once: try once directly, and set up tenacity's machinery only after a failure."""
        try:
            result = await self._attempt(fn)
        except RetryableModelError as first:
            failed_first: RetryableModelError = first
        else:
            self.budget.succeeded()
            return result, 1
        if self._gives_up(failed_first):
            raise type(failed_first)(
                f"{_message(failed_first)} (gave up after 1 attempts)",
                spec=failed_first.spec,
                status_code=failed_first.status_code,
                retry_after=failed_first.retry_after,
            ) from failed_first
        await asyncio.sleep(self._first_wait(failed_first))
        from tenacity import AsyncRetrying, RetryError

        try:
            async for attempt in AsyncRetrying(**self._controls(failed_first)):
                with attempt:
                    result = await self._attempt(fn)
        except RetryError as exc:
            raise exhausted(exc, offset=1) from exc.last_attempt.exception()
        self.budget.succeeded()
        return result, attempt.retry_state.attempt_number + 1

    def _first_wait(self, error: RetryableModelError) -> float:
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            return min(float(error.retry_after), self.policy.max_wait)
        return self.policy.backoff(1)

    def _gives_up(self, error: RetryableModelError) -> bool:
        if isinstance(error, RateLimitError):
            return not self.budget.allows(self._first_wait(error))
        return self.policy.retries < 1


def _message(exc: ModelError) -> str:
    """The error's message without its ``[spec]`` prefix (the new error adds it back)."""
    from workbench.secrets import redact

    text = str(exc)
    prefix = f"[{redact(exc.spec)}] "
    return text[len(prefix) :] if exc.spec and text.startswith(prefix) else text


def exhausted(retry_error: RetryError, offset: int = 0) -> ModelError:
    """The last error, saying how many attempts were made (``offset``: attempts made before tenacity's)."""
    attempts = retry_error.last_attempt.attempt_number + offset
    exc = retry_error.last_attempt.exception()
    assert isinstance(exc, RetryableModelError)
    return type(exc)(
        f"{_message(exc)} (gave up after {attempts} attempts)",
        spec=exc.spec,
        status_code=exc.status_code,
        retry_after=exc.retry_after,
    )
