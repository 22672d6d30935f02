"""Shared fixtures. Every test gets its own run store and working directory (never the user's)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_STORE", str(tmp_path / ".workbench" / "test.db"))
    monkeypatch.setenv("WORKBENCH_CHROMA_PATH", str(tmp_path / ".workbench" / "chroma"))
    return tmp_path


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def library():
    from workbench.prompts import PromptLibrary

    return PromptLibrary(REPO / "prompt_library")


@pytest.fixture
def store(tmp_path: Path):
    from workbench.store import Store

    s = Store(tmp_path / "store.db")
    yield s
    s.close()


@pytest.fixture
def fake_server():
    from workbench.testing.fake_openai import FakeOpenAIServer

    server = FakeOpenAIServer().start()
    yield server
    server.stop()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
