"""End to end in a real browser: JupyterLab on 127.0.0.1, driven in headless Debian Chromium by Playwright, through
the widgets only — the notebook cell just shows ``Workbench(...)``.

Select a template, type an edit in the code editor (live preview; an error marker on the right line; undo), save
v2, choose dataset / both versions / rows / model, run on the local model, sort and filter the matrix, open a
flipped row's diffs, mark a bad case, recheck it — then a Chinese run. A screenshot per step goes to
``test-artifacts/`` and nothing may be cut off at 1280 px. `make test` installs Chromium and a CJK font (apt) and
runs this; it is never skipped.
"""

import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.local_model]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def notebook(repo: Path, tmp: Path) -> dict:
    code = (
        "from workbench.ui import Workbench\n"
        f"Workbench(library={str(tmp / 'lib')!r}, store={str(tmp / 'ui.db')!r}, datasets={str(repo / 'datasets')!r})"
    )
    from workbench.nightly import kernel_name

    return {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code}],
        "metadata": {"kernelspec": {"name": kernel_name(), "display_name": "workbench", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture
def lab(repo, tmp_path):
    assert Path(CHROMIUM).exists(), "Chromium is missing: `make test` installs it (apt-get install chromium)."
    (tmp_path / "lib").mkdir()
    for name in ("sentiment_cloze_en", "sentiment_cloze_zh"):
        shutil.copy(repo / "prompt_library" / f"{name}.prompty", tmp_path / "lib")
    (tmp_path / "workbench_e2e.ipynb").write_text(json.dumps(notebook(repo, tmp_path)), encoding="utf-8")
    port = free_port()
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            f"--ServerApp.root_dir={tmp_path}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:]) from None
            time.sleep(0.5)
    yield url, tmp_path
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


class Steps:
    """Screenshots numbered by step, and the checks every step shares (nothing cut off at 1280 px)."""

    def __init__(self, page):
        self.page, self.n = page, 0

    def shot(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(ARTIFACTS / f"browser_{self.n:02d}_{name}.png"))
        cut = self.page.evaluate("""() => [...document.querySelectorAll('.wb-app button, .wb-app label')]
            .filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")
        assert cut == [], f"labels cut off at 1280 px: {cut}"

    def tab(self, title: str) -> None:
        self.page.locator(".wb-app .lm-TabBar-tab", has_text=title).first.click()


def _start(page, url):
    from playwright.sync_api import expect

    page.goto(f"{url}/lab/tree/workbench_e2e.ipynb")
    news = page.get_by_role("alert").get_by_role("button", name="No")
    with contextlib.suppress(Exception):  # JupyterLab's "get notified about news?" toast covers the widget's corner
        news.click(timeout=10_000)
    cell = page.locator(".jp-Notebook .jp-Cell").first
    expect(cell).to_be_visible()
    expect(
        page.get_by_text("Python (workbench) | Idle").or_(page.get_by_text("Python 3 (ipykernel) | Idle"))
    ).to_be_visible()
    prompt = cell.locator(".jp-InputPrompt")
    for _attempt in range(4):  # a keypress that lands before the kernel connects runs nothing: retry
        cell.click()
        page.keyboard.press("Shift+Enter")
        try:
            expect(prompt).to_have_text(re.compile(r"\[(\*|\d+)\]"), timeout=15_000)
            break
        except AssertionError:
            continue
    expect(page.locator(".wb-code-editor .cm-content")).to_be_visible()


def _edit_and_save(page, steps):
    from playwright.sync_api import expect

    page.locator(".wb-template-picker select").select_option("sentiment_cloze_en")
    content = page.locator(".wb-code-editor .cm-content")
    expect(content).to_contain_text("Overall, it was great.")
    steps.shot("template_selected")
    # turn the few-shot prompt into a zero-shot one: select the four examples with the keyboard and delete them
    page.get_by_text("Text: The food was delicious", exact=False).first.click()
    page.keyboard.press("Home")
    for _ in range(12):
        page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Delete")
    expect(page.locator(".wb-preview")).not_to_contain_text("The food was delicious", timeout=10_000)  # live
    page.keyboard.type("{{ ")  # a broken tag: the marker lands on the line the message names
    marker = page.locator(".wb-code-editor .cm-lintRange-error, .wb-code-editor .cm-lint-marker-error").first
    expect(marker).to_be_visible(timeout=10_000)
    expect(page.locator(".wb-preview .wb-error")).to_contain_text("Jinja syntax error")
    expect(page.locator(".wb-preview .wb-error")).to_contain_text(".prompty:23:")  # the line the marker is on
    gutter = page.locator(".wb-code-editor .cm-gutterElement", has=page.locator(".cm-lint-marker-error"))
    expect(gutter).to_have_count(1)
    steps.shot("error_marker")
    for _ in range(3):
        page.keyboard.press("Backspace")
    expect(page.locator(".wb-preview .wb-error")).to_have_count(0, timeout=10_000)
    expect(page.locator(".wb-code-editor .cm-lint-marker-error")).to_have_count(0)
    page.locator(".wb-code-editor .cm-content").click()
    page.keyboard.press("Control+s")
    expect(page.locator(".wb-editor-messages")).to_contain_text("Saved sentiment_cloze_en@v2")
    steps.shot("saved_v2")


def _run_both_versions(page, steps, rows: int):
    from playwright.sync_api import expect

    steps.tab("Run")
    page.locator(".wb-run-template select").select_option("sentiment_cloze_en")
    expect(page.locator(".wb-run-dataset select")).to_have_value(re.compile(r"sentiment_en\.csv$"))
    page.locator(".wb-run-versions select").select_option(["sentiment_cloze_en@v2", "sentiment_cloze_en@v1"])
    page.locator(".wb-run-limit input").fill(str(rows))
    page.locator(".wb-run-limit input").press("Enter")
    steps.shot("run_choices")
    page.locator(".wb-run").click()
    expect(page.locator(".wb-run-progress")).to_contain_text(f"{2 * rows} / {2 * rows}", timeout=240_000)


def _matrix_and_diffs(page, steps, rows: int):
    from playwright.sync_api import expect

    steps.tab("Results")
    table = page.locator(".wb-app .dt-container").first  # DataTables: a scrolling head table and a body table
    expect(table.locator(".dt-scroll-body tbody tr")).to_have_count(min(rows, 10))  # the first page of the matrix
    header = table.locator(".dt-scroll-head th", has_text="sentiment_cloze_en@v1/local")
    expect(header).to_be_visible()
    assert "✓" in table.inner_text() and "expected" in table.locator(".dt-scroll-head").inner_text()
    header.get_by_role("button").click()  # sort by the v1 column (DataTables' ordering control)
    expect(header).to_have_attribute("class", re.compile("dt-ordering-(asc|desc)|sorting_(asc|desc)"))
    expect(page.locator(".wb-column-a select")).to_have_value("sentiment_cloze_en@v1/local")  # A: the older
    expect(page.locator(".wb-column-b select")).to_have_value("sentiment_cloze_en@v2/local")
    verdict = page.locator(".wb-comparison")
    expect(verdict).to_contain_text("paired rows")
    expect(verdict).to_contain_text(re.compile("better than A|worse than A|no significant difference"))
    steps.shot("matrix_and_verdict")
    page.locator(".wb-filter button", has_text="flipped").click()
    expect(page.get_by_text(re.compile(r"\d+ of 12 rows \(flipped\)"))).to_be_visible()
    flipped_rows = table.locator(".dt-scroll-body tbody tr")
    expect(flipped_rows.first).to_be_visible()
    assert "No matching" not in flipped_rows.first.inner_text(), "the zero-shot v2 flips rows of the few-shot v1"
    flipped_rows.first.click()
    detail = page.locator(".wb-row-detail")
    expect(detail).to_contain_text("word diff")
    expect(detail.locator(".wb-template-diff")).to_contain_text("Text: The food was delicious")
    steps.shot("flipped_row_diff")
    page.locator(".wb-mark-column select").select_option("sentiment_cloze_en@v2/local")
    expect(page.locator(".wb-app input[placeholder='wrong label, format error']")).to_be_visible()
    page.locator(".wb-app input[placeholder='wrong label, format error']").fill("zero-shot")
    page.locator(".wb-mark-bad").click()
    expect(page.locator(".wb-results-messages")).to_contain_text("Bad case #1")


def _recheck(page, steps):
    from playwright.sync_api import expect

    steps.tab("Bad cases")
    expect(page.locator(".wb-bad-case")).to_contain_text("#1")
    expect(page.locator(".wb-recheck-prompt select")).to_have_value("sentiment_cloze_en@v2")  # the newest version
    page.locator(".wb-recheck-prompt select").select_option("sentiment_cloze_en@v1")
    page.locator(".wb-recheck").click()
    expect(page.locator(".wb-review-messages")).to_contain_text("fixed: 1", timeout=120_000)
    steps.shot("recheck_fixed")


def _chinese_run(page, steps):
    from playwright.sync_api import expect

    steps.tab("Run")
    page.locator(".wb-run-template select").select_option("sentiment_cloze_zh")
    page.locator(".wb-run-limit input").fill("6")
    page.locator(".wb-run-limit input").press("Enter")
    page.locator(".wb-run").click()
    expect(page.locator(".wb-run-progress")).to_contain_text("6 / 6", timeout=120_000)
    steps.tab("Results")
    table = page.locator(".wb-app .dt-container").first
    expect(table).to_contain_text("sentiment_cloze_zh@v2/local")
    assert re.search(r"[\u4e00-\u9fff]", table.inner_text()), "Chinese inputs and outputs in the matrix"
    steps.shot("chinese_run")


def test_the_whole_loop_through_the_widgets(lab):
    from playwright.sync_api import expect, sync_playwright

    url, tmp = lab
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=120_000)  # a kernel start, imports and the local model all take a while
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(120_000)
        steps = Steps(page)
        try:
            _start(page, url)
            _edit_and_save(page, steps)
            _run_both_versions(page, steps, rows=12)
            _matrix_and_diffs(page, steps, rows=12)
            _recheck(page, steps)
            _chinese_run(page, steps)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    from workbench.store import Store

    store = Store(tmp / "ui.db")
    assert (
        store.query(
            "SELECT COUNT(*) FROM results WHERE prompt='sentiment_cloze_en' AND run_id IN "
            "(SELECT id FROM runs WHERE name IS NULL) AND row_id NOT LIKE 'bad-%'"
        )[0][0]
        >= 24
    )
    assert store.query("SELECT status FROM bad_cases")[0][0] == "fixed"
    assert (tmp / "lib" / "_versions" / "sentiment_cloze_en" / "v2.prompty").exists()
