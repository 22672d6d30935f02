"""The Optimize panel without a browser: Estimate shows the splits and the calls before any call, Start runs the
optimisation and lists the candidates with dev scores and diffs and the held-out verdict, "Save as vN" appears only
when the winner was accepted — against the stand-in endpoint (model and proposer)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from workbench.prompts import PromptLibrary
from workbench.store import Store
from workbench.testing.fake_openai import FakeOpenAIServer
from workbench.testing.optimizer import PROPOSALS, RULE, coin_responder, labelled_rows, rule_responder
from workbench.ui import OptimizePanel, Workbench, WorkbenchState

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def state(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(REPO / "prompt_library" / "sentiment_zeroshot_en.prompty", lib)
    data = tmp_path / "datasets"
    data.mkdir()
    for name, rows in (("things.csv", labelled_rows()), ("few.csv", labelled_rows(30))):
        with (data / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=["id", "text", "expected"])
            writer.writeheader()
            writer.writerows(rows)
    return WorkbenchState(library=PromptLibrary(lib), store=Store(tmp_path / "ui.db"), datasets_dir=data)


def choose(panel: OptimizePanel, server: FakeOpenAIServer, dataset: str = "things.csv", **extra) -> None:
    panel.template.value = "sentiment_zeroshot_en"
    panel.datasets.value = (str(panel.state.datasets_dir / dataset),)
    panel.model.value = server.spec()
    panel.proposer.value = server.spec()
    for name, box in panel.generator_boxes.items():
        box.value = name in extra.get("generators", ("instructions",))


def test_estimate_then_start_shows_candidates_the_verdict_and_save_as_the_next_version(state):
    panel = OptimizePanel(state)
    with FakeOpenAIServer(responder=rule_responder, proposals=PROPOSALS) as server:
        choose(panel, server)
        panel.estimate_button.click()
        assert "train 24 · dev 36 · held-out 60 rows" in panel.plan.value and "at most" in panel.plan.value
        assert server.requests == [] and panel.save_button.layout.display == "none", "nothing spent to estimate"
        panel.start_button.click()
    assert panel.report.accepted and panel.report.version is None, "the panel asks before it saves"
    assert panel.candidates.value.count("wb-opt-candidate") == 2 and "★" in panel.candidates.value
    assert RULE in panel.candidates.value and "100.0%" in panel.candidates.value, "the winner's diff and dev score"
    assert "60 rows" in panel.verdict.value and "Accepted" in panel.verdict.value and "p = " in panel.verdict.value
    assert panel.save_button.layout.display is None and panel.save_button.description == "Save as v2"
    assert "done" in panel.progress_label.value and not panel.start_button.disabled
    saved = []
    state.on("template_saved", saved.append)
    panel.save_button.click()
    assert (
        state.library.versions("sentiment_zeroshot_en") == [1, 2]
        and RULE in state.library.get("sentiment_zeroshot_en").body
    )
    assert "Saved sentiment_zeroshot_en@v2" in panel.messages.value and panel.save_button.layout.display == "none"
    assert saved and saved[0].version == 2


def test_when_nothing_is_accepted_there_is_no_save_button(state):
    panel = OptimizePanel(state)
    with FakeOpenAIServer(responder=coin_responder) as server:
        choose(panel, server, generators=("demos",))
        panel.start_button.click()
    assert not panel.report.accepted and panel.save_button.layout.display == "none"
    assert "Not accepted" in panel.verdict.value
    assert state.library.versions("sentiment_zeroshot_en") == [1]


def test_bad_input_is_a_message_before_any_call_and_the_panel_speaks_chinese(state):
    panel = OptimizePanel(state, lang="zh")
    assert panel.start_button.description == "开始" and panel.budget.description.startswith("预算")
    with FakeOpenAIServer(responder=rule_responder) as server:
        choose(panel, server, dataset="few.csv", generators=("demos",))
        panel.start_button.click()
        assert "30 rows is too few" in panel.messages.value and server.requests == []
        choose(panel, server, generators=("demos",))
        panel.budget.value = 10
        panel.start_button.click()
        assert "--budget 10 cannot cover" in panel.messages.value and server.requests == []
    assert not panel.start_button.disabled


def test_the_workbench_has_an_optimize_tab_that_follows_saves(state):
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    assert bench.tabs.titles[-1] == "Optimize" and bench.optimizer.template.options == ("sentiment_zeroshot_en",)
    template = state.library.get("sentiment_zeroshot_en")
    PromptLibrary(state.library.root).save(template.with_changes(name="copy", path=None))
    bench.refresh()
    assert "copy" in bench.optimizer.template.options
