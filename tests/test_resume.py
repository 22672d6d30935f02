"""Resuming a stored run (`workbench runs resume`): it continues with exactly the rows it planned — the first N of
a `--limit N` run — calling models only for the cells not stored, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from workbench.store import Store
from workbench.testing.fake_openai import FakeOpenAIServer

PROMPT = "---\nname: rec\nassertions: [{type: contains, value: echo}]\n---\nSay: {{ text }}\n"


def _files(tmp_path: Path, n: int) -> tuple[Path, Path]:
    prompt = tmp_path / "rec.prompty"
    prompt.write_text(PROMPT, encoding="utf-8")
    data = tmp_path / "rows.csv"
    data.write_text("id,text\n" + "".join(f"r{i},row {i}\n" for i in range(n)), encoding="utf-8")
    return prompt, data


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "workbench", *map(str, args)]


def _wait_for(store: str, n: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if Store(store).stats()["results"] >= n:
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} results after {timeout} s")


def test_a_limit_run_killed_mid_way_resumes_with_its_own_rows(tmp_path, store_url):
    prompt, data = _files(tmp_path, 40)
    with FakeOpenAIServer(latency=0.1) as server:
        args = ["run", prompt, "-d", data, "-m", server.spec(), "--store", store_url, "--limit", "30", "-q"]
        victim = subprocess.Popen(_cli(*args, "--concurrency", "2"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_for(store_url, 6)
        victim.kill()
        victim.wait()
        (run,) = Store(store_url).runs()
        done = subprocess.run(
            _cli("runs", "resume", run["id"], "--store", store_url, "-q"), capture_output=True, text=True
        )
        calls = Counter(r["prompt"] for r in server.requests)
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
    (run,) = Store(store_url).runs()
    records = Store(store_url).results(run["id"])
    assert run["done"] == 30 and run["status"] == "completed" and len({r.row_id for r in records}) == 30
    assert {r.row_id for r in records} == {f"r{i}" for i in range(30)}, "the first 30 rows, as planned"
    assert len(calls) == 30 and sum(calls.values()) <= 30 + 2, "each row paid once (two were in flight at the kill)"
    import re

    line = re.search(r"30 cells — (\d+) model calls \((\d+) by this process; (\d+) requests", done.stdout)
    assert line, done.stdout[-800:]
    whole, now = int(line.group(1)), int(line.group(2))
    assert whole == 30 and 0 < now < 30, "one count of model calls for the run, and the part this process made"
    from workbench.reports import stored_summary_rows, summary_rows

    counted = sum(row["calls"] for row in stored_summary_rows(Store(store_url), run["id"]))
    assert sum(row["calls"] for row in summary_rows(records)) == counted == whole
    assert stored_summary_rows(Store(store_url), run["id"]) == summary_rows(records), "one summary, either way"
