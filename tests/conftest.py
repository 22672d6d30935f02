"""Shared fixtures and the suite's own rules. Every test gets its own run store and working directory (never the
user's).

How `make test` runs the suite (pyproject's addopts and the Makefile): two pytest-xdist workers with
``--dist loadgroup``. Every test that loads llama.cpp (the real model, the notebooks, the browser walk) joins one
group, so they run one after another on one worker — two llama.cpp processes at once run 10–20x slower on 2 cores —
while the other worker runs the rest. Under ``WORKBENCH_STRICT=1`` (`make test` sets it) a test that skips because
something is missing fails instead, and the end of the run says how many tests of each real component ran.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest

# The llama.cpp tests: one xdist group, on one worker (hooks of a conftest are its module's hook functions).
from workbench.testing.one_llama_worker import (  # noqa: F401
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_runtest_setup,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(collector, name, obj):
    """LangChain's standard suites (``langchain-tests``) write their async tests unmarked, for pytest-asyncio's auto
    mode. We keep its strict mode, so no other test changes how it runs, and mark only theirs: a coroutine test
    defined in ``langchain_tests``, before pytest-asyncio looks at it."""
    if (
        inspect.iscoroutinefunction(obj)
        and getattr(obj, "__module__", "").startswith("langchain_tests.")
        and not any(mark.name == "asyncio" for mark in getattr(obj, "pytestmark", []))
    ):
        pytest.mark.asyncio(obj)
    return (yield)


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COLUMNS", raising=False)  # xdist's workers set 80: tests see what a plain run sees
    monkeypatch.setenv("WORKBENCH_STORE", str(tmp_path / ".workbench" / "test.db"))
    monkeypatch.setenv("WORKBENCH_CHROMA_PATH", str(tmp_path / ".workbench" / "chroma"))
    monkeypatch.setenv("WORKBENCH_LANG", "en")  # the UI's words in tests do not depend on the machine's locale
    return tmp_path


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def library():
    from workbench.prompts import PromptLibrary

    return PromptLibrary(REPO / "prompt_library")


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the session, on 127.0.0.1 and a free port, stopped by its PID at the end.
    Missing PostgreSQL fails under `make test` (WORKBENCH_REQUIRE_POSTGRES=1) and skips elsewhere."""
    from workbench.testing.postgres import PostgresServer, postgres_bin

    if postgres_bin() is None:
        if os.environ.get("WORKBENCH_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is not installed; `make test` installs Debian's postgresql package.")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer().start()
    yield server
    server.stop()


_databases = iter(range(1, 1_000_000))


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_server.create_database(f"wb_{next(_databases)}")


#: Test modules where the store is what is tested: their `store` / `store_url` tests run on SQLite *and* PostgreSQL.
#: Elsewhere a store is only where results go, and a SQLite file serves (the suite does not pay twice for them).
STORE_MODULES = {
    "test_store",
    "test_store_copy",
    "test_store_migrations",
    "test_integrity",
    "test_lease",
    "test_resume",
    "test_trend",
    "test_badcases",
    "test_cluster",
    "test_executor",
    "test_judge",
}
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    wanted = {"store", "store_url"} & set(metafunc.fixturenames)
    if wanted:
        backends = BACKENDS if metafunc.module.__name__.rpartition(".")[2] in STORE_MODULES else ["sqlite"]
        metafunc.parametrize("store_url", backends, indirect=True)


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store location: a SQLite file, or (in the store's own modules) a database on a real PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    server = request.getfixturevalue("postgres_server")
    return server.store_database(f"wb_{next(_databases)}")


@pytest.fixture
def store(store_url: str):
    from workbench.store import Store

    s = Store(store_url)
    yield s
    s.close()


@pytest.fixture
def fake_server():
    from workbench.testing.fake_openai import FakeOpenAIServer

    server = FakeOpenAIServer().start()
    yield server
    server.stop()


COUNTED = ("local_model", "postgres", "cluster", "notebooks", "browser")  # the real components a CI log must show


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    config._workbench_counts = {marker: {} for marker in COUNTED}  # type: ignore[attr-defined]


MISSING = ("could not import", "no module named", "not installed", "not found on path")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """Under `make test` (WORKBENCH_STRICT=1) a test that skips because something is missing fails instead:
    everything a test needs is installed there. (LangChain's standard suites skip the optional features a model
    declares it lacks — a declaration, not a missing dependency — and those skips stay skips.)"""
    outcome = yield
    report = outcome.get_result()
    reason = report.longrepr[2] if report.skipped and isinstance(report.longrepr, tuple) else str(report.longrepr)
    missing = report.skipped and any(word in reason.casefold() for word in MISSING)
    if os.environ.get("WORKBENCH_STRICT") and missing and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} skipped under `make test` ({reason}). `make test` installs every extra, PostgreSQL and "
            "Chromium: a skip here means a missing install step, not an optional test."
        )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count, per real component, the tests that ran (on the controller when xdist is used)."""
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    counts = getattr(_config, "_workbench_counts", None) if _config is not None else None
    if counts is None:
        return
    for marker in COUNTED:
        if marker in report.keywords:
            bucket = counts[marker]
            bucket[report.outcome] = bucket.get(report.outcome, 0) + 1


_config: pytest.Config | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    global _config
    _config = session.config
    from workbench.testing.models import register_test_models

    register_test_models()  # `mock` and `echo` specs, for unit tests only (not production providers)


def pytest_terminal_summary(terminalreporter: object, exitstatus: int, config: pytest.Config) -> None:
    counts = getattr(config, "_workbench_counts", None)
    if not counts or hasattr(config, "workerinput") or config.option.collectonly:
        return
    terminalreporter.section("real components exercised")  # type: ignore[attr-defined]
    for marker, outcomes in counts.items():
        shown = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "none ran"
        terminalreporter.write_line(f"{marker:12s} {shown}")  # type: ignore[attr-defined]
