"""Optimize panel: choose a template, datasets, a model, the generators and a budget; **Estimate** shows the splits
and the calls it will take before anything is spent; **Start** runs the optimisation (progress per phase), then lists
every candidate with its dev pass rate, interval and diff, and the held-out verdict. **Save as vN** appears only when
the held-out test accepted the winner.

In JupyterLab the optimisation runs in a worker thread, so the notebook stays responsive; **Stop** ends it between
cells, every finished run stays stored, and Start with the same choices resumes. Without a kernel loop (tests,
scripts) Start runs to completion. Everything is the library's :func:`workbench.optimization.prepare_optimization`.
"""

from __future__ import annotations

import asyncio
import html
import threading
from typing import Any

import ipywidgets as w

from workbench import i18n
from workbench.errors import WorkbenchError
from workbench.ui.diff import unified_diff_html
from workbench.ui.state import WIDE, Messages, WorkbenchState, button
from workbench.ui.styles import as_panel, style_widget

GENERATORS = ("demos", "labels", "instructions")


class OptimizePanel(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, *, lang: str | None = None, **kwargs: Any):
        if state is None:
            state = WorkbenchState(lang=lang) if lang else WorkbenchState()
        self.state = state
        # the catalogue's words (workbench/i18n/parts/optimize.py), in the workbench's language unless lang= says
        self.say = i18n.Messages(lang) if lang else state.t
        self.lang = self.say.lang
        t = self.t
        wide = w.Layout(width="min(640px, 100%)")
        self.template = w.Dropdown(description=t("optimize.template"), style=WIDE, layout=wide)
        self.datasets = w.SelectMultiple(description=t("optimize.datasets"), rows=4, style=WIDE, layout=wide)
        self.model = w.Text(description=t("optimize.model"), value="local", style=WIDE, layout=wide)
        self.generator_boxes = {
            g: w.Checkbox(
                description=t(f"optimize.gen.{g}"), value=g != "instructions", style=WIDE, layout=w.Layout(width="auto")
            )
            for g in GENERATORS
        }
        self.proposer = w.Text(
            description=t("optimize.proposer"), placeholder=t("optimize.proposer_placeholder"), style=WIDE, layout=wide
        )
        self.budget = w.BoundedIntText(description=t("optimize.budget"), min=0, max=10_000_000, value=0, style=WIDE)
        self.seed = w.BoundedIntText(description=t("optimize.seed"), min=0, max=2**31 - 1, value=0, style=WIDE)
        self.target_gain = w.BoundedFloatText(
            description=t("optimize.target_gain"), min=0.01, max=1.0, step=0.01, value=0.12, style=WIDE
        )
        self.estimate_button = button(t("optimize.estimate"), icon="calculator")
        self.start_button = button(t("optimize.start"), icon="play", button_style="success")
        self.stop_button = button(t("optimize.stop"), icon="stop", button_style="danger", disabled=True)
        self.save_button = button(t("optimize.save_as", version="?"), icon="save", button_style="primary")
        self.save_button.layout.display = "none"
        self.plan = w.HTML()
        self.progress = w.IntProgress(min=0, max=1, value=0)
        self.progress_label = w.HTML()
        self.candidates = w.HTML()
        self.verdict = w.HTML()
        self.messages = Messages()
        self.report: Any = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._phase = ""
        for widget, name in (
            (self.template, "template"),
            (self.datasets, "datasets"),
            (self.model, "model"),
            (self.proposer, "proposer"),
            (self.budget, "budget"),
            (self.seed, "seed"),
            (self.target_gain, "target"),
            (self.estimate_button, "estimate"),
            (self.start_button, "start"),
            (self.stop_button, "stop"),
            (self.save_button, "save"),
            (self.plan, "plan"),
            (self.progress_label, "progress"),
            (self.candidates, "candidates"),
            (self.verdict, "verdict"),
            (self.messages, "messages"),
        ):
            widget.add_class(f"wb-opt-{name}")
        for g, box in self.generator_boxes.items():
            box.add_class(f"wb-opt-gen-{g}")
        self.template.observe(self._on_template, "value")
        self.estimate_button.on_click(self.estimate)
        self.start_button.on_click(self.start)
        self.stop_button.on_click(self.stop)
        self.save_button.on_click(self.save)
        self.state.on("template_saved", lambda template: self.refresh())
        row = w.Layout(flex_flow="row wrap", align_items="center")
        super().__init__(
            [
                style_widget(),
                self.template,
                self.datasets,
                w.HTML(f"<div class='wb-hint'>{html.escape(t('optimize.datasets_hint'))}</div>"),
                self.model,
                w.HTML(f"<b>{html.escape(t('optimize.generators'))}</b>"),
                w.HBox(list(self.generator_boxes.values()), layout=row),
                self.proposer,
                w.HBox([self.budget, self.seed, self.target_gain], layout=row),
                w.HBox([self.estimate_button, self.start_button, self.stop_button], layout=row),
                self.plan,
                w.HBox([self.progress, self.progress_label], layout=row),
                self.candidates,
                self.verdict,
                self.save_button,
                self.messages,
            ],
            **kwargs,
        )
        as_panel(self, "wb-optimize-panel")
        self.refresh()

    def t(self, key: str, **fields: Any) -> str:
        return self.say(key, **fields)

    # -- choices ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the library and the datasets folder; the template and the datasets chosen stay."""
        chosen, names = self.template.value, self.state.library.names()
        self.template.options = names
        if chosen in names:
            self.template.value = chosen
        kept = tuple(self.datasets.value)
        self.datasets.options = self.state.dataset_options()
        values = [value for _, value in self.datasets.options]
        self.datasets.value = tuple(v for v in kept if v in values)
        if not self.datasets.value:
            self._on_template()

    def _on_template(self, change: Any = None) -> None:
        if not self.template.value:
            return
        template = self.state.library.get(self.template.value)
        own = self.state.dataset_of(template)
        self.datasets.options = self.state.dataset_options()
        self.datasets.value = (own,) if own else ()
        self.model.value = template.model.spec or "local"
        self._clear()

    def _clear(self) -> None:
        self.plan.value = self.candidates.value = self.verdict.value = ""
        self.save_button.layout.display = "none"
        self.messages.clear()

    def _arguments(self) -> dict[str, Any]:
        generators = [g for g, box in self.generator_boxes.items() if box.value]
        if not self.template.value:
            raise WorkbenchError("Choose a template.")
        if not self.datasets.value:
            raise WorkbenchError(f"Choose one or more datasets (from {self.state.datasets_dir}).")
        return {
            "prompt": self.state.library.get(self.template.value),
            "dataset": list(self.datasets.value),
            "model": self.model.value.strip() or None,
            "generators": generators,
            "proposer": self.proposer.value.strip() or None,
            "budget": self.budget.value or None,
            "seed": self.seed.value,
            "target_gain": self.target_gain.value,
            "save": False,  # a person decides: "Save as vN" appears when the held-out test accepted the winner
            "library": self.state.library,
            "store": self.state.store,
            "progress": False,
            "cancel_event": self._cancel,
        }

    def _prepare(self) -> Any:
        from workbench.optimization import prepare_optimization

        arguments = self._arguments()
        optimization = prepare_optimization(arguments.pop("prompt"), arguments.pop("dataset"), **arguments)
        sizes = optimization.splits.sizes()
        estimate = optimization.estimate
        budget = self.t("optimize.no_budget") if estimate.budget is None else str(estimate.budget)
        text = self.t(
            "optimize.plan",
            seed=optimization.splits.seed,
            calls=estimate.calls,
            budget=budget,
            minimum=estimate.minimum,
            **sizes,
        )
        if optimization.splits.spent:
            text += " " + self.t("optimize.spent_before", n=optimization.splits.spent)
        self.plan.value = f"<div class='wb-info'>{html.escape(text)}</div>"
        return optimization

    def estimate(self, button: Any = None) -> Any:
        """The splits and the calls, before any call (a bad input is a message, not a traceback)."""
        self._clear()
        try:
            return self._prepare()
        except WorkbenchError as exc:
            self.messages.error(exc)
            return None

    # -- running ---------------------------------------------------------------------------------
    def start(self, button: Any = None) -> None:
        self._cancel.clear()
        self.progress_label.value = html.escape(self.t("optimize.starting"))
        optimization = self.estimate()
        if optimization is None:
            self.progress_label.value = ""
            return
        self.start_button.disabled, self.stop_button.disabled = True, False
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no kernel loop (tests, scripts): run to completion here
            self._work(optimization)
            return
        self._thread = threading.Thread(target=self._work, args=(optimization,), name="workbench-optimize", daemon=True)
        self._thread.start()

    def _work(self, optimization: Any) -> None:
        try:
            report = optimization.run(self._on_progress)
        except WorkbenchError as exc:
            if self._cancel.is_set():
                self.messages.info(self.t("optimize.stopped"))
            else:
                self.messages.error(exc)
        except Exception as exc:  # a bug must not leave the buttons disabled
            self.messages.error(f"{type(exc).__name__}: {exc}")
        else:
            self.show(report)
        finally:
            self.start_button.disabled, self.stop_button.disabled = False, True

    def _on_progress(self, kind: str, info: dict[str, Any]) -> None:
        if kind == "phase":
            self.progress.max, self.progress.value = max(1, info["rows"] * len(info["prompts"])), 0
            self._phase = self.t(f"optimize.phase.{info['phase']}")
            self.progress_label.value = html.escape(
                self.t("optimize.phase", phase=self._phase, done=0, total=self.progress.max)
            )
        elif kind == "cell":
            self.progress.max, self.progress.value = max(1, info["total"]), info["done"]
            self.progress_label.value = html.escape(
                self.t("optimize.phase", phase=self._phase, done=info["done"], total=info["total"])
            )
        elif kind == "dev":
            self.candidates.value = self._candidates_html(info["original"], info["candidates"], winner=None)

    def stop(self, button: Any = None) -> None:
        self._cancel.set()

    # -- the report ------------------------------------------------------------------------------
    def show(self, report: Any) -> None:
        """The candidates with their diffs, the held-out verdict, and Save as vN when the winner was accepted."""
        self.report = report
        self.progress_label.value = html.escape(self.t("optimize.done", calls=report.spent_calls))
        candidates = [c.to_dict() for c in report.candidates]
        self.candidates.value = self._candidates_html(report.original_dev, candidates, winner=report.winner)
        self.verdict.value = self._verdict_html(report)
        accepted = report.accepted and report.version is None and report.library is not None
        self.save_button.description = self.t("optimize.save_as", version=report.next_version)
        self.save_button.layout.display = None if accepted else "none"

    def _candidates_html(self, original: dict, candidates: list[dict], winner: str | None) -> str:
        t = self.t
        head = "".join(
            f"<th>{html.escape(t(k))}</th>"
            for k in ("optimize.col.candidate", "optimize.col.generator", "optimize.col.dev", "optimize.col.ci")
        )
        head += f"<th class='wb-number'>{html.escape(t('optimize.col.gain'))}</th>"
        head += f"<th>{html.escape(t('optimize.col.status'))}</th>"
        rows = []
        for c in candidates:
            dev, gain = c.get("dev") or {}, c.get("dev_gain")
            mark = f" ★ {html.escape(t('optimize.winner'))}" if c["name"] == winner else ""
            status = t("optimize.status.evaluated" if c["status"] == "evaluated" else "optimize.status.skipped")
            rate = f"{dev['passed']}/{dev['n']} = {dev['pass_rate']:.1%}" if dev else "–"
            ci = f"{dev['ci95'][0]:.0%}–{dev['ci95'][1]:.0%}" if dev.get("ci95") else ""
            diff = unified_diff_html(c["diff"])
            shown_gain = "" if gain is None else f"{gain * 100:+.1f}"
            rows.append(
                f"<tr class='wb-opt-candidate'><td><code>{html.escape(c['name'])}</code>{mark}"
                f"<div class='wb-hint'>{html.escape(c['description'])}</div>"
                f"<details class='wb-opt-diff'><summary>{html.escape(t('optimize.diff'))}</summary>{diff}</details>"
                f"</td><td>{html.escape(c['generator'])}</td><td>{rate}</td><td>{ci}</td>"
                f"<td class='wb-number'>{shown_gain}</td><td>{html.escape(status)}</td>"
                "</tr>"
            )
        title = t("optimize.candidates", original=_rate(original))
        return (
            f"<div class='wb-block'><b>{html.escape(title)}</b><table class='wb-plain'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )

    def _verdict_html(self, report: Any) -> str:
        t, version = self.t, report.prompt.rsplit("@v", 1)[-1]
        if report.heldout is None:
            message = html.escape(t("optimize.verdict.no_winner", version=version))
            return f"<div class='wb-block wb-opt-rejected'>{message}</div>"
        h = report.heldout
        lines = [
            t(
                "optimize.verdict.heldout",
                pairs=h["pairs"],
                original=_rate(h["original"]),
                winner=_rate(h["winner"]),
                b_only=h["b_only"],
                a_only=h["a_only"],
                p=h["p_value"],
            ),
            t(
                "optimize.verdict.optimism",
                dev=f"{report.dev_gain * 100:+.1f}",
                heldout=f"{report.heldout_gain * 100:+.1f}",
                optimism=f"{report.optimism * 100:+.1f}",
            ),
        ]
        decision = t("optimize.verdict.accepted" if report.accepted else "optimize.verdict.rejected", version=version)
        css = "wb-opt-accepted" if report.accepted else "wb-opt-rejected"
        flipped = "".join(
            f"<li><code>{html.escape(f['row_id'])}</code>: {html.escape(str(f['a']['output']).strip())} → "
            f"{html.escape(str(f['b']['output']).strip())}</li>"
            for f in h["flipped"][:20]
        )
        summary = t("optimize.flipped", n=len(h["flipped"]))
        return (
            f"<div class='wb-block'>{'<br>'.join(html.escape(line) for line in lines)}"
            f"<div class='{css}'><b>{html.escape(decision)}</b></div>"
            f"<details><summary>{html.escape(summary)}</summary><ul>{flipped}</ul></details></div>"
        )

    def save(self, button: Any = None) -> None:
        try:
            saved = self.report.save(self.state.library)
        except WorkbenchError as exc:
            self.messages.error(exc)
            return
        self.save_button.layout.display = "none"
        self.messages.info(self.t("optimize.saved", ref=saved.ref))
        self.state.emit("template_saved", saved)


def _rate(entry: dict | None) -> str:
    if not entry or entry.get("pass_rate") is None:
        return "–"
    return f"{entry['passed']}/{entry['n']} = {entry['pass_rate']:.1%}"
