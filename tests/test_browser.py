"""End to end in a real browser: JupyterLab on 127.0.0.1, driven in headless Debian Chromium by Playwright.

Opens a notebook, renders the workbench, edits and saves a template, runs it on the local model, sees the
results table, marks a bad case, and saves a screenshot (test-artifacts/jupyterlab_workbench.png).
`make test` installs Chromium (apt) and runs this; it is never skipped.
"""

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
        f"ui = Workbench(library={str(tmp / 'lib')!r}, store={str(tmp / 'ui.db')!r},\n"
        f"               datasets={str(repo / 'datasets')!r})\n"
        "ui.editor.template_picker.value = 'sentiment_cloze_en'\n"
        f"ui.run_panel.dataset.value = {str(repo / 'datasets' / 'sentiment_en.csv')!r}\n"
        "ui.run_panel.limit.value = 3\n"
        "ui"
    )
    from workbench.nightly import kernel_name

    return {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code}],
        "metadata": {"kernelspec": {"name": kernel_name(), "display_name": "workbench", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip


@pytest.fixture
def lab(repo, tmp_path):
    assert Path(CHROMIUM).exists(), "Chromium is missing: `make test` installs it (apt-get install chromium)."
    (tmp_path / "lib").mkdir()
    shutil.copy(repo / "prompt_library" / "sentiment_cloze_en.prompty", tmp_path / "lib")
    (tmp_path / "workbench_e2e.ipynb").write_text(json.dumps(notebook(repo, tmp_path)), encoding="utf-8")
    port = free_port()
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
         "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={tmp_path}", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
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


def test_workbench_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright

    url, tmp = lab
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=120_000)  # a kernel start, imports and the local model all take a while
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"])  # fmt: skip
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        try:
            page.goto(f"{url}/lab/tree/workbench_e2e.ipynb")
            cell = page.locator(".jp-Notebook .jp-Cell").first
            expect(cell).to_be_visible()
            expect(page.get_by_text("Python (workbench) | Idle").or_(page.get_by_text("Python 3 (ipykernel) | Idle"))
                   ).to_be_visible()  # fmt: skip
            prompt = cell.locator(".jp-InputPrompt")
            for _attempt in range(4):  # a keypress that lands before the kernel connects runs nothing: retry
                cell.click()
                page.keyboard.press("Shift+Enter")
                try:
                    expect(prompt).to_have_text(re.compile(r"\[(\*|\d+)\]"), timeout=15_000)
                    break
                except AssertionError:
                    continue

            editor = page.locator(".wb-template-text textarea")
            expect(editor).to_be_visible()
            text = editor.input_value()
            assert "Overall, it was" in text
            editor.fill(text.replace("Overall, it was", "All in all, it was"))
            editor.blur()  # the textarea syncs on blur (continuous_update=False)
            page.locator(".wb-save").click()
            expect(page.get_by_text("Saved sentiment_cloze_en@v2")).to_be_visible()

            page.locator(".widget-tab .lm-TabBar-tab", has_text="Run").click()
            page.locator(".wb-run").click()
            results = page.locator(".wb-results-table table")
            expect(results).to_be_visible(timeout=180_000)  # the view switches to Results when the run ends
            expect(results.locator("tbody tr")).to_have_count(3)
            assert "sentiment_cloze_en" in results.inner_text()

            page.locator(".wb-mark-bad").click()
            expect(page.get_by_text("Bad case #1")).to_be_visible()
            results.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "jupyterlab_workbench.png"))

            page.locator(".widget-tab .lm-TabBar-tab", has_text="Bad cases").click()
            expect(page.locator(".wb-bad-case")).to_contain_text("#1")
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "jupyterlab_workbench_failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    from workbench.store import Store

    store = Store(tmp / "ui.db")
    assert store.query("SELECT COUNT(*) FROM results")[0][0] == 3
    assert store.query("SELECT COUNT(*) FROM bad_cases")[0][0] == 1
    assert (tmp / "lib" / "_versions" / "sentiment_cloze_en" / "v2.prompty").exists()
