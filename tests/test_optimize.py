"""``wb.optimize`` end to end through the real pipeline and store, against the local OpenAI-compatible stand-in:
the model under test answers well only when its prompt carries a rule, and the proposer (the same stand-in) serves
canned instructions — one with the rule, one without. No real model: these check the optimiser's bookkeeping
(splits, runs, budget, the held-out ledger, acceptance and saving); tests/test_optimize_local.py runs the local one.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

import workbench as wb
from workbench.errors import ConfigError, DatasetError, WorkbenchError
from workbench.optimization import prepare_optimization
from workbench.prompts import PromptLibrary
from workbench.store import open_store
from workbench.testing.fake_openai import FakeOpenAIServer
from workbench.testing.optimizer import PROPOSALS, RULE, coin_responder, labelled_rows, rule_responder

REPO = Path(__file__).resolve().parent.parent
responder, coin, rows = rule_responder, coin_responder, labelled_rows


@pytest.fixture
def server():
    with FakeOpenAIServer(responder=responder, proposals=PROPOSALS) as s:
        yield s


@pytest.fixture
def prompt_file(tmp_path) -> Path:
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(REPO / "prompt_library" / "sentiment_zeroshot_en.prompty", lib)
    return lib / "sentiment_zeroshot_en.prompty"


def common(server, tmp_path, **extra):
    return {"store": str(tmp_path / "s.db"), "progress": False, "proposer": server.spec(), **extra}


def test_an_instruction_that_holds_on_held_out_rows_is_accepted_and_saved_as_the_next_version(
    server, prompt_file, tmp_path
):
    report = wb.optimize(
        str(prompt_file), rows(), server.spec(), generators=["instructions"], **common(server, tmp_path)
    )
    assert report.accepted and report.version == 2 and report.saved_ref == "sentiment_zeroshot_en@v2"
    saved = PromptLibrary(prompt_file.parent).get("sentiment_zeroshot_en")
    assert (
        saved.version == 2
        and RULE in saved.body
        and saved.body.endswith(PromptLibrary(prompt_file.parent).get("sentiment_zeroshot_en", 1).body)
    )
    assert f"+{RULE}" in report.winner_diff and "-Text" not in report.winner_diff, "the diff is the edit, no more"
    h = report.heldout
    assert h["pairs"] == 60 and h["b_only"] == 60 and h["a_only"] == 0 and h["verdict"] == "better"
    assert len(h["flipped"]) == 60 and report.heldout_gain == 1.0
    assert report.optimism == pytest.approx(report.dev_gain - report.heldout_gain)
    by_generator = {c.generator: c for c in report.candidates}
    assert set(by_generator) == {"instructions:1", "instructions:2"}, "the third request repeats proposal 1: one copy"
    assert by_generator["instructions:1"].dev["pass_rate"] == 1.0 and by_generator["instructions:2"].dev["passed"] == 0
    assert all(c.dev["ci95"][0] < c.dev["pass_rate"] or c.dev["pass_rate"] == 0 for c in report.candidates)
    data = report.to_dict()
    assert data["accepted"] is True and data["version"] == 2 and data["heldout"]["p_value"] < 0.05
    assert data["splits"]["sizes"] == {"train": 24, "dev": 36, "heldout": 60}


def test_every_phase_is_an_ordinary_run_with_origin_optimize_and_its_split_recorded(server, prompt_file, tmp_path):
    report = wb.optimize(
        str(prompt_file), rows(), server.spec(), generators=["instructions"], **common(server, tmp_path)
    )
    store = open_store(str(tmp_path / "s.db"))
    runs = {r["id"]: r for r in store.runs(100, origin="optimize")}
    assert set(report.runs) == {"train", "propose", "dev", "heldout"} and set(report.runs.values()) <= set(runs)
    roles = {}
    for role, run_id in report.runs.items():
        meta = store.run(run_id)["config"]["annotations"]["optimize"]
        roles[role] = meta
        assert meta["id"] == report.optimization_id and meta["role"] == role
        assert meta["split"]["rows"]["heldout"] == report.splits["rows"]["heldout"]
    split = report.splits["rows"]
    assert not set(split["train"]) & set(split["dev"]) and not set(split["heldout"]) & (
        set(split["train"]) | set(split["dev"])
    )
    assert len(roles["heldout"]["fingerprints"]) == 60, "the held-out run records which rows it spent"
    assert {r.row_id for r in store.results(report.runs["heldout"])} == set(split["heldout"])
    assert {r.row_id for r in store.results(report.runs["dev"])} == set(split["dev"])
    proposals = store.results(report.runs["propose"])
    assert all(set(r.inputs["examples"].split("Inputs:")[1:]) for r in proposals)
    shown = " ".join(r.inputs["examples"] for r in proposals)
    assert not any(f"number {int(i[1:])}\n" in shown for i in split["dev"] + split["heldout"]), "only train rows"
    from workbench.trend import trend

    assert trend(store, "sentiment_zeroshot_en"), "the original's dev and held-out runs show in its trend"


def test_on_a_coin_flip_model_a_lucky_dev_winner_does_not_hold_and_nothing_is_saved(prompt_file, tmp_path):
    with FakeOpenAIServer(responder=coin, proposals=PROPOSALS) as server:
        report = wb.optimize(str(prompt_file), rows(), server.spec(), **common(server, tmp_path))
    assert report.dev_gain > 0, "choosing the best of several coin flips on dev looks like a gain"
    assert report.heldout["verdict"] == "no significant difference" and not report.accepted
    assert report.version is None and PromptLibrary(prompt_file.parent).versions("sentiment_zeroshot_en") == [1]
    assert report.optimism == pytest.approx(report.dev_gain - report.heldout_gain) and report.optimism > 0
    assert report.message.startswith(
        f"no candidate beat v1 on 60 held-out rows; best dev gain {report.dev_gain * 100:+.1f} points did not hold"
    )


def test_a_rerun_resumes_and_replays_from_the_cache_without_new_calls(server, prompt_file, tmp_path):
    options = common(server, tmp_path, generators=["instructions"], save=False)
    first = wb.optimize(str(prompt_file), rows(), server.spec(), **options)
    calls = len(server.requests)
    again = wb.optimize(str(prompt_file), rows(), server.spec(), **options)
    assert len(server.requests) == calls and again.spent_calls == 0
    assert again.optimization_id == first.optimization_id and again.heldout == first.heldout and again.accepted


def test_stopped_mid_run_then_resumed_calls_again_at_most_the_cells_in_flight(server, prompt_file, tmp_path):
    stop = threading.Event()

    def on_progress(kind, info):
        if kind == "cell" and info["phase"] == "dev" and info["done"] >= 10:
            stop.set()

    options = common(server, tmp_path, generators=["instructions"], save=False, concurrency=4)
    with pytest.raises(WorkbenchError, match="Stopped. Every finished run is stored"):
        wb.optimize(str(prompt_file), rows(), server.spec(), cancel_event=stop, on_progress=on_progress, **options)
    store = open_store(str(tmp_path / "s.db"))
    assert [r["status"] for r in store.runs(10, origin="optimize")][0] == "interrupted"
    report = wb.optimize(str(prompt_file), rows(), server.spec(), **options)
    assert report.accepted
    completions = [r["prompt"] for r in server.requests if "Write the new instruction" not in r["prompt"]]
    assert len(completions) - len(set(completions)) <= 4, "only cells in flight at the stop are called again"


def test_held_out_rows_are_spent_once_per_prompt(server, prompt_file, tmp_path):
    options = common(server, tmp_path, generators=["instructions"], save=False)
    first = wb.optimize(str(prompt_file), rows(), server.spec(), **options)
    second = wb.optimize(str(prompt_file), rows(), server.spec(), seed=1, **options)
    assert not set(first.splits["rows"]["heldout"]) & set(second.splits["rows"]["heldout"])
    assert second.splits["spent_before"] == 60
    calls = len(server.requests)
    with pytest.raises(DatasetError, match=r"spent as held-out rows of this prompt by optimisation .*0 fresh") as exc:
        wb.optimize(str(prompt_file), rows(), server.spec(), seed=2, **options)
    assert "needs ≥ 50 fresh rows" in str(exc.value) and len(server.requests) == calls


def test_bad_input_is_refused_before_any_call(server, prompt_file, tmp_path):
    options = common(server, tmp_path)
    with pytest.raises(DatasetError, match=r"24 rows is too few .* needs at least 100") as exc:
        prepare_optimization(str(prompt_file), rows(24), server.spec(), **options)
    assert "Held-out (50%) must have ≥ 50 rows" in str(exc.value)
    with pytest.raises(ConfigError, match=r"--budget 100 cannot cover one candidate on dev plus the held-out test"):
        prepare_optimization(str(prompt_file), rows(), server.spec(), budget=100, **options)
    bare = prompt_file.parent / "bare.prompty"
    bare.write_text("---\nname: bare\n---\nText: {{ text }}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no assertions, so there is nothing to optimise for"):
        prepare_optimization(str(bare), rows(), server.spec(), **options)
    with pytest.raises(ConfigError, match=r"--proposer openai:x@http://127\.0\.0\.1:9/v1: .*Cannot reach"):
        prepare_optimization(
            str(prompt_file), rows(), server.spec(), **{**options, "proposer": "openai:x@http://127.0.0.1:9/v1"}
        )
    assert server.requests == [], "no model call was made"
    assert open_store(str(tmp_path / "s.db")).runs(10) == []


def test_the_estimate_counts_every_part_and_a_budget_leaves_out_what_does_not_fit(server, prompt_file, tmp_path):
    options = common(server, tmp_path, save=False, generators=["demos", "instructions"])
    plan = prepare_optimization(str(prompt_file), rows(), server.spec(), **options)
    phases = [p.phase for p in plan.estimate.parts]
    assert set(phases) == {"train", "propose", "dev", "heldout"}
    # dev: the original, 3 demonstration candidates, 3 instructions (36 rows each); held-out: both (60 rows each)
    assert plan.estimate.calls == 24 + 3 + 36 * 7 + 60 * 2
    assert plan.estimate.minimum == 36 + 36 + 60 * 2, "the original and one candidate on dev, then the test"
    full = plan.run()
    assert full.spent_calls <= plan.estimate.calls == full.estimate["calls"]
    tight = plan.estimate.minimum + 40
    with FakeOpenAIServer(responder=responder, proposals=PROPOSALS) as other:
        options.update(store=str(tmp_path / "other.db"), proposer=other.spec(), budget=tight)
        small = wb.optimize(str(prompt_file), rows(), other.spec(), **options)
        calls = len(other.requests)
    evaluated = [c for c in small.candidates if c.status == "evaluated"]
    assert len(evaluated) == 1 and sum(c.status == "skipped (budget)" for c in small.candidates) >= 3
    assert small.spent_calls == calls <= tight


def test_demonstrations_are_drawn_from_train_rows_only(server, prompt_file, tmp_path):
    report = wb.optimize(
        str(prompt_file), rows(), server.spec(), generators=["demos"], **common(server, tmp_path, save=False)
    )
    train = set(report.splits["rows"]["train"])
    assert {c.generator for c in report.candidates} >= {"demos:random", "demos:nearest"}
    for candidate in report.candidates:
        shown = [int(line.split("number ")[1]) for line in candidate.diff.splitlines() if line.startswith("+Text:")]
        assert shown and {f"r{i:03d}" for i in shown} <= train, candidate.generator
    assert "no candidate beat v1 on dev" in report.message and "were not spent" in report.message
    assert "heldout" not in report.runs, "with no dev winner the held-out rows are not spent"


@pytest.mark.cluster
def test_every_evaluation_runs_on_a_dask_cluster_when_the_run_options_say_so(server, prompt_file, tmp_path):
    from workbench.testing.dask_cluster import DaskCluster

    with DaskCluster(workers=1) as dask:
        options = common(server, tmp_path, generators=["instructions"], save=False, cluster=dask.address)
        report = wb.optimize(str(prompt_file), rows(), server.spec(), **options)
    assert report.accepted
    store = open_store(str(tmp_path / "s.db"))
    for role in ("dev", "heldout"):
        run = store.run(report.runs[role])
        assert run["origin"] == "optimize" and run["provenance"]["cluster"] == dask.address
        assert {r.worker for r in store.results(run["id"])} == {"w1"}


def test_your_own_candidates_are_ranked_and_tested_the_same_way(server, prompt_file, tmp_path):
    original = PromptLibrary(prompt_file.parent).get("sentiment_zeroshot_en")
    good = original.with_changes(body=f"{RULE}\n\n{original.body}")
    bad = original.with_changes(body=f"Be brief.\n\n{original.body}")
    options = common(server, tmp_path, save=False)
    report = wb.optimize(str(prompt_file), rows(), server.spec(), candidates=[bad, good], **options)
    assert [c.generator for c in report.candidates] == ["given:1", "given:2"]
    assert report.winner == report.candidates[1].name and report.accepted and report.next_version == 2
    assert set(report.runs) == {"dev", "heldout"}, "no generator ran: no train run, no proposals"
    assert f"+{RULE}" in report.winner_diff
    only_random = wb.optimize(str(prompt_file), rows(), server.spec(), generators=["demos:random"], **options)
    assert [c.generator for c in only_random.candidates] == ["demos:random"] and "train" not in only_random.runs


def test_saving_later_is_refused_when_the_prompt_moved_on_meanwhile(server, prompt_file, tmp_path):
    from workbench.errors import ConflictError

    report = wb.optimize(
        str(prompt_file), rows(), server.spec(), generators=["instructions"], **common(server, tmp_path, save=False)
    )
    assert report.accepted and report.next_version == 2
    library = PromptLibrary(prompt_file.parent)
    current = library.get("sentiment_zeroshot_en")
    library.save(current.with_changes(description="someone else's edit"))
    with pytest.raises(ConflictError, match="changed since you opened it"):
        report.save(library)
    assert library.versions("sentiment_zeroshot_en") == [1, 2] and report.version is None


def test_the_estimate_prices_a_priced_endpoint(server, prompt_file, tmp_path, monkeypatch):
    monkeypatch.setitem(
        __import__("workbench.models.openai_compat", fromlist=["PRICES"]).PRICES, "fake-model", (2.0, 8.0)
    )
    plan = prepare_optimization(
        str(prompt_file), rows(), server.spec(), generators=["demos:random"], **common(server, tmp_path)
    )
    dev = next(p for p in plan.estimate.parts if p.phase == "dev" and p.exact)
    # the original on 36 dev rows: the rendered prompt's characters / 4 in at $2/M, max_tokens (3) out at $8/M each
    assert dev.cost_usd is not None and 36 * 3 * 8 / 1e6 < dev.cost_usd < 36 * (60 * 2 + 3 * 8) / 1e6
    assert plan.estimate.cost_usd is not None and f"(≈ ${plan.estimate.cost_usd:.4f})" in str(plan.estimate)
    assert server.requests == []
