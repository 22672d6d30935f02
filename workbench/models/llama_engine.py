"""The llama.cpp engine behind the ``local`` provider: xllamacpp's server, run in-process, with no TCP port.

Why xllamacpp rather than llama-cpp-python (measured, see BENCHMARKS.md and ``benchmarks/bench_local.py``):
it ships prebuilt wheels, so a first setup needs no compiler and installs in seconds instead of compiling
llama.cpp for minutes; it runs the same GGUF with the same greedy outputs; its prompt evaluation is faster.

It embeds llama.cpp's own HTTP server. We bind that server to a Unix socket inside a private (0700) temporary
folder, protected by a random API key, so nothing listens on a network port (``tests/test_local_model.py``
checks); completions are called in-process through ``Server.handle_completions``. The socket is used only
to tokenize a template's fixed prefix once.

Deterministic prefix reuse (the reason for :meth:`LlamaEngine.complete_after_prefix`): llama.cpp keeps the KV
cache of the previous prompt and reuses its longest common prefix with the next one. Left to itself that makes
greedy output depend on which prompt ran before (the common prefix may reach into the previous row's text,
evaluated in a differently shaped batch). We instead (1) evaluate the template's fixed prefix alone, from an
empty cache, once, and save that KV state (llama.cpp's slot save, ~18 KB per token, kept in the private
folder); (2) before every row, restore it (0.5 ms, against ~15 ms to re-evaluate a token); (3) send prefix
tokens + the row's text, so only the row's text is evaluated. Every row then starts from the same state
whatever ran before it, forward, shuffled or as a subset (tested byte for byte).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, ModelError

#: How many alternatives llama.cpp reports per position for label scoring. A label word outside the top
#: ``TOP_LOGPROBS`` gets the smallest reported log-probability (an upper bound): with this many, that only
#: happens to words the model all but rules out. Measured cost: +10 ms per request against 10 alternatives.
TOP_LOGPROBS = 1000


def llama_params(model_path: str | Path, *, n_ctx: int, n_parallel: int, n_threads: int) -> Any:
    """xllamacpp's ``CommonParams`` as every llama.cpp server here starts it (in-process engine, ``workbench serve``'s
    llama.cpp server, the benchmarks): ``n_ctx`` tokens in all, shared by ``n_parallel`` sequences.

    - ``swa_full``: Gemma 3's sliding-window layers keep a full cache, so a saved prefix state can be reused.
    - no warm-up run and no log lines: a load is paid in every process (notebook kernel, CLI call) that uses the model.
    - ``fit_params`` off: llama.cpp first loads the model a second time without allocating, to fit layers and context
      to free *GPU* memory. On a CPU there is nothing to fit, and it doubled every load (``benchmarks/bench_load.py``);
      the generated text is the same.
    """
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path)
    params.n_ctx = n_ctx
    params.n_parallel = n_parallel
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads
    params.swa_full = True
    params.warmup = False
    params.verbosity = 0
    params.fit_params = False
    return params


class LlamaEngine:
    """One loaded GGUF in one llama.cpp server context (one sequence slot: requests are queued)."""

    def __init__(self, model_path: Path, *, n_ctx: int, n_threads: int):
        try:
            import xllamacpp
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ConfigError("The local model needs xllamacpp: pip install xllamacpp") from exc
        self.model_path = model_path
        self.n_ctx = n_ctx
        self._folder = tempfile.mkdtemp(prefix="workbench-llama-")  # mkdtemp makes it 0700
        self._socket = os.path.join(self._folder, "llama.sock")
        self._states = os.path.join(self._folder, "states") + os.sep  # llama.cpp joins it with the file name as is
        os.makedirs(self._states)
        self._key = secrets.token_urlsafe(24)
        params = llama_params(model_path, n_ctx=n_ctx, n_parallel=1, n_threads=n_threads)
        params.cache_ram_mib = 0  # no host-memory prompt cache: it would restore states out of our control
        params.hostnames = [self._socket]  # a Unix socket, not 127.0.0.1:PORT
        params.api_keys = [self._key]
        params.endpoint_slots = True  # slot save/restore of prefix states, reachable only through our socket
        params.slot_save_path = self._states
        params.endpoint_props = False
        params.endpoint_metrics = False
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:
            raise ModelError(f"llama.cpp could not load {model_path}: {exc}", spec="local") from exc
        self._prefix_tokens: dict[str, list[int]] = {}
        self._saved_states: set[str] = set()
        self._prefix_lock = threading.Lock()
        self._http: Any = None
        atexit.register(self.close)

    @property
    def listening_address(self) -> str:
        return str(self._server.listening_address)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A request to the server's own HTTP routes through the private socket (tokenize, slot states)."""
        import httpx

        if self._http is None:
            self._http = httpx.Client(
                transport=httpx.HTTPTransport(uds=self._socket),
                base_url="http://llama",
                timeout=60.0,
                headers={"Authorization": f"Bearer {self._key}"},
            )
        response = self._http.post(path, json=body)
        if response.status_code != 200:
            detail = f"HTTP {response.status_code} {response.text[:200]}"
            raise ModelError(f"llama.cpp refused {path}: {detail}", spec="local")
        return response.json()

    # -- calls ------------------------------------------------------------------------------
    def complete(self, body: dict[str, Any], on_piece: Callable[[str], Any] | None = None) -> dict[str, Any]:
        """One completion (OpenAI ``/v1/completions`` body and answer); errors become :class:`ModelError`.

        With ``on_piece``, the text is streamed to it piece by piece; if it raises, generation stops (the request
        is dropped) and the error is re-raised here. The answer is assembled as a non-streamed one would be
        (text, finish reason, usage, timings), so callers handle one shape.
        """
        if on_piece is None:
            response = self._server.handle_completions(body)
            _raise_for_error(response, self.n_ctx)
            return response
        pieces: list[str] = []
        last: dict[str, Any] = {}
        stopped: list[BaseException] = []

        def on_chunk(chunk: dict[str, Any]) -> bool:
            _raise_for_error(chunk, self.n_ctx)
            last.update(chunk)
            text = chunk["choices"][0].get("text") or ""
            if text and not stopped:
                pieces.append(text)
                try:
                    on_piece(text)
                except BaseException as exc:  # the reader is gone: tell llama.cpp to stop
                    stopped.append(exc)
            return bool(stopped)

        self._server.handle_completions({**body, "stream": True}, on_chunk)
        if stopped:
            raise stopped[0]
        choice = dict((last.get("choices") or [{}])[0])
        choice["text"] = "".join(pieces)
        return {"choices": [choice], "usage": last.get("usage"), "timings": last.get("timings")}

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        """Token ids, from the server's own tokenizer (through the private socket)."""
        body = {"content": text, "add_special": add_special, "parse_special": True}
        return list(self._post("/tokenize", body)["tokens"])

    def prefix_tokens(self, prefix: str) -> list[int]:
        """The fixed prefix's tokens (with BOS), tokenized once; the first time, the prefix is evaluated alone."""
        with self._prefix_lock:
            tokens = self._prefix_tokens.get(prefix)
            if tokens is None:
                tokens = self.tokenize(prefix, add_special=True)
                self._prefix_tokens[prefix] = tokens
        return tokens

    def reset_to_prefix(self, tokens: list[int]) -> None:
        """Put the KV cache in the state "exactly ``tokens``, evaluated alone from an empty cache"."""
        name = self._save_prefix_state(tokens)
        self._post("/slots/0?action=restore", {"filename": name})

    def prepare_prefix(self, prefix: str) -> bool:
        """Evaluate ``prefix`` alone and save its state, ahead of the rows that start with it (the caller holds the
        request lock). ``True`` when it did the work, ``False`` when the state existed already."""
        tokens = self.prefix_tokens(prefix)
        known = self._state_name(tokens) in self._saved_states
        self._save_prefix_state(tokens)
        return not known

    def _state_name(self, tokens: list[int]) -> str:
        return hashlib.sha256(json.dumps(tokens).encode()).hexdigest()[:32] + ".bin"

    def _save_prefix_state(self, tokens: list[int]) -> str:
        name = self._state_name(tokens)
        if name not in self._saved_states:
            self.complete({"prompt": tokens, "max_tokens": 1, "temperature": 0, "cache_prompt": False})
            self._post("/slots/0?action=save", {"filename": name})
            self._saved_states.add(name)
        return name

    def complete_after_prefix(
        self, prefix: str, suffix: list[Any] | str, body: dict[str, Any], on_piece: Callable[[str], Any] | None = None
    ) -> dict[str, Any]:
        """Complete ``prefix + suffix`` from the fixed state "prefix evaluated alone" (see the module docstring).

        ``suffix`` is text or a list of text pieces and token ids (llama.cpp tokenizes text pieces on their
        own). The caller holds the engine's request lock so the reset and the request are not interleaved.
        """
        tokens = self.prefix_tokens(prefix)
        self.reset_to_prefix(tokens)
        pieces = [suffix] if isinstance(suffix, str) else list(suffix)
        return self.complete({**body, "prompt": [*tokens, *pieces], "cache_prompt": True}, on_piece)


def _raise_for_error(response: Any, n_ctx: int) -> None:
    if not isinstance(response, dict):
        raise ModelError(f"llama.cpp returned {type(response).__name__}, not a JSON object.", spec="local")
    error = response.get("error") if "error" in response else (response if "code" in response else None)
    if error is None:
        return
    if isinstance(error, dict) and error.get("type") == "exceed_context_size_error":
        raise ModelError(
            f"The prompt is {error.get('n_prompt_tokens')} tokens, over the context window of {n_ctx}. "
            "Shorten the prompt (fewer examples) or lower max_tokens.",
            spec="local",
        )
    message = error.get("message") if isinstance(error, dict) else str(error)
    raise ModelError(f"llama.cpp refused the request: {message}", spec="local")


@functools.lru_cache(maxsize=4)
def load_engine(path: str, n_ctx: int, n_threads: int) -> LlamaEngine:
    """Load a GGUF once per process and keep it (load ~1.5 s, ~400 MB resident)."""
    return LlamaEngine(Path(path), n_ctx=n_ctx, n_threads=n_threads)


def parse_top_logprobs(response: dict[str, Any]) -> dict[int, float]:
    """token id -> log-probability at the first generated position (from ``n_probs``)."""
    content = ((response["choices"][0].get("logprobs") or {}).get("content")) or []
    if not content:
        raise ModelError("llama.cpp returned no log-probabilities (n_probs).", spec="local")
    return {int(item["id"]): float(item["logprob"]) for item in content[0].get("top_logprobs") or []}
