"""Test doubles for the widgets (as :mod:`workbench.testing` has for the core): a library and store in a folder, and
a deterministic model provider, so tests drive the panels without a browser or a real model.

``uitest:NAME`` answers "terrible" when the last ``Text:`` mentions rain or failing and "great" otherwise: right on
some rows of the sentiment sets, wrong on others, always the same.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from workbench.models import register_provider
from workbench.models.types import ChunkSink, Generation, Request, prompt_as_text
from workbench.prompts import PromptLibrary
from workbench.store import Store
from workbench.testing.models import FunctionModel
from workbench.ui.state import WorkbenchState

TEMPLATES = ("sentiment_cloze_en", "rag_qa")


def sentiment_guess(prompt: str) -> str:
    """Says 'great' unless the last text mentions rain or failing: right on some rows, wrong on others."""
    last = prompt.rsplit("Text:", 1)[-1].lower()
    return " terrible" if ("rain" in last or "fail" in last) else " great"


class CountingModel(FunctionModel):
    """A :class:`FunctionModel` that reports tokens (words) as a real endpoint does, so views can show them."""

    def _call(self, request: Request, sink: ChunkSink | None) -> Generation:
        generation = super()._call(request, sink)
        prompt_tokens = len(prompt_as_text(request.prompt).split())
        return replace(generation, prompt_tokens=prompt_tokens, completion_tokens=len(generation.text.split()))


def register_test_provider() -> None:
    """Make ``uitest:NAME`` a model spec (idempotent)."""
    register_provider("uitest", lambda spec, **kw: CountingModel(sentiment_guess, spec=spec))


def make_state(folder: Path, repo: Path, templates: Iterable[str] = TEMPLATES, *, lang: str = "en") -> WorkbenchState:
    """A library with copies of the repository's ``templates``, a store and an exports folder in ``folder``, the
    repository's datasets, and the UI in ``lang`` (English unless a test asks: the machine's locale must not
    decide what a test reads)."""
    register_test_provider()
    library = folder / "lib"
    library.mkdir(exist_ok=True)
    for name in templates:
        shutil.copy(repo / "prompt_library" / f"{name}.prompty", library)
    state = WorkbenchState(
        library=PromptLibrary(library), store=Store(folder / "ui.db"), datasets_dir=repo / "datasets", lang=lang
    )
    state.exports_dir = folder / "exports"
    return state
