"""Runs that survive real endpoints: bursts against a small accept backlog, 429/500 on a schedule, an endpoint that
is down from the start, the 429 budget, the final sweep and the adaptive concurrency limit."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest

from workbench.errors import EndpointUnreachableError, RateLimitError, RetryableModelError
from workbench.models.retry import RetryBudget
from workbench.pipeline import run
from workbench.pipeline.limiter import AdaptiveLimiter
from workbench.prompts import PromptTemplate
from workbench.testing.fake_openai import FakeOpenAIServer, free_port, wait_for_port
from workbench.testing.models import FunctionModel

T = PromptTemplate.from_string("---\nname: burst\nassertions: [{type: contains, value: echo}]\n---\nRow {{ i }}")


@contextmanager
def stdlib_endpoint(**options: object):
    """The standard library's http.server as "a server no one here wrote", in its own process."""
    port = free_port()
    args = [sys.executable, "-m", "workbench.testing.stdlib_openai", "--port", str(port)]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    proc = subprocess.Popen(args)
    try:
        wait_for_port(port, timeout=20, process=proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def stats(port: int) -> dict:
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10))


@pytest.mark.timeout(420)
@pytest.mark.parametrize("repetitions", [3, pytest.param(10, marks=pytest.mark.nightly)])
def test_bursts_against_a_small_backlog_with_429s_and_500s_lose_nothing(tmp_path, repetitions):
    """640 rows at concurrency 32 against a backlog of 5, every 7th request 429 and every 11th 500, three times over
    (ten in make nightly: ten took 51 s of make test, beside the llama.cpp tests): every cell ends answered and every
    prompt succeeded exactly once on the server."""
    with stdlib_endpoint(backlog=5, latency=0.02, every_429=7, every_500=11, retry_after_ms=100) as port:
        spec = f"openai:stdlib-model@http://127.0.0.1:{port}/v1"
        retried_by_the_client = 0
        for repetition in range(repetitions):
            rows = [{"i": f"{repetition}-{i}"} for i in range(640)]
            result = run(T, rows, [spec], store=tmp_path / f"r{repetition}.db", concurrency=32, progress=False)
            assert result.errors == [] and len(result.records) == 640 and result.pass_rate == 1.0
            server = stats(port)
            mine = {k: v for k, v in server["succeeded"].items() if k.startswith(f"Row {repetition}-")}
            assert len(mine) == 640 and set(mine.values()) == {1}, "each cell succeeded exactly once, server-side"
            retried_by_the_client += sum(r.attempts - 1 for r in result.records)
        assert stats(port)["requests"] >= repetitions * 640 * (1 + 1 / 7 + 1 / 11) * 0.95  # the faults happened
        assert retried_by_the_client > repetitions * 640 / 7, "429s and 500s were retried, not lost"


def test_an_endpoint_that_is_down_from_the_start_fails_fast_before_any_cell(tmp_path, store):
    spec = f"openai:m@http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with pytest.raises(EndpointUnreachableError, match="Cannot reach .* Is the server running"):
        run(T, [{"i": 1}, {"i": 2}], [spec], store=store, progress=False)
    assert store.runs() == [], "no run was started, no cell spent"


def test_the_429_budget_is_renewed_by_success_and_spent_without_it(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    budget = RetryBudget(60.0)
    assert budget.allows(30)
    clock[0] += 50
    assert not budget.allows(30), "no success for 50 s: only 10 s of the budget are left"
    budget.succeeded()
    assert budget.allows(30), "a success renews it"


def test_a_rate_limited_run_keeps_retrying_within_the_budget(store):
    seen: dict[str, int] = {}

    def busy(prompt: str) -> str:
        seen[prompt] = seen.get(prompt, 0) + 1
        if seen[prompt] <= 12:  # far more than `retries`: 429s are governed by the budget, not the count
            raise RateLimitError("slow down", retry_after=0.001)
        return "echo ok"

    model = FunctionModel(busy, spec="function:busy")
    result = run(T, [{"i": i} for i in range(3)], [model], store=store, progress=False, retries=2, retry_budget=30)
    assert result.errors == [] and {r.attempts for r in result.records} == {13}


def test_the_final_sweep_retries_cells_that_still_failed(store):
    failures: dict[str, int] = {}

    def flaky(prompt: str) -> str:
        failures[prompt] = failures.get(prompt, 0) + 1
        if failures[prompt] == 1 and prompt.endswith(("1", "3")):
            raise RetryableModelError("server error", status_code=503)
        return "echo ok"

    model = FunctionModel(flaky, spec="function:flaky")
    result = run(T, [{"i": i} for i in range(5)], [model], store=store, progress=False, retries=0)
    assert result.errors == [] and result.stats["retried"] == 2 and result.stats["errors"] == 0
    assert [failures[f"Row {i}"] for i in range(5)] == [1, 2, 1, 2, 1]
    stored = store.results(result.run_id)
    assert all(r.error is None for r in stored), "the sweep's answers replaced the errors in the store"


def test_the_limiter_backs_off_on_pushback_and_recovers():
    async def scenario() -> list[float]:
        limiter = AdaptiveLimiter(32, cooldown=0.05)
        seen = [limiter.limit]
        limiter.pushback()
        limiter.pushback()  # within the cooldown: one burst counts once
        seen.append(limiter.limit)
        await asyncio.sleep(0.06)
        limiter.pushback()
        seen.append(limiter.limit)
        for _ in range(1000):  # additive increase: about +1 per `limit` successes
            async with limiter:
                pass
        seen.append(limiter.limit)
        return seen

    assert asyncio.run(scenario()) == [32.0, 16.0, 8.0, 32.0]


def test_the_limiter_never_lets_more_than_its_limit_in_flight():
    """Counted by the tasks themselves, not by the limiter's own bookkeeping."""

    async def scenario() -> int:
        limiter = AdaptiveLimiter(4)
        inside = peak = 0

        async def one() -> None:
            nonlocal inside, peak
            async with limiter:
                inside += 1
                peak = max(peak, inside)
                await asyncio.sleep(0.001)
                inside -= 1

        await asyncio.gather(*(one() for _ in range(50)))
        return peak

    assert asyncio.run(scenario()) == 4


def test_a_run_never_has_more_requests_in_flight_than_its_concurrency(tmp_path):
    """Measured where it matters, at the endpoint: 40 rows at --concurrency 4 against a slow server."""
    with FakeOpenAIServer(latency=0.05) as server:
        result = run(
            T,
            [{"i": i} for i in range(40)],
            [server.spec()],
            store=tmp_path / "s.db",
            concurrency=4,
            progress=False,
        )
    assert not result.errors and len(server.successes()) == 40
    assert server.peak_in_flight == 4
