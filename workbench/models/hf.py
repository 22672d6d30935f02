"""``hf:`` models: the bundled Gemma (or a LoRA adapter on it) through transformers, for fine-tuning work.

``hf:base`` is the bundled GGUF converted to a transformers checkpoint (cached after the first, slow
conversion); ``hf:PATH`` is a LoRA adapter folder (``adapter_config.json``) or a merged checkpoint. The
[finetune] extra (torch, transformers, peft, gguf) is imported only when such a model is used.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.models.base import Model, elapsed_ms
from workbench.models.types import Capabilities, ChunkSink, Generation, Request
from workbench.registry import missing_extra


def hf_cache_dir() -> Path:
    from workbench.models.local import model_cache_dir

    return model_cache_dir().parent / "hf" / "gemma-3-270m"


def require_finetune_extra() -> None:
    """torch, transformers and peft, or an error naming the [finetune] extra (install torch's CPU build first)."""
    try:
        import peft  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise missing_extra(exc, "Fine-tuning (install torch==2.13.0, the CPU build, first)") from exc


def base_model_dir() -> Path:
    """The bundled GGUF converted to a transformers checkpoint, cached after the first (slow) conversion. A file lock
    lets one process convert while another waits for its result (two at once both wrote the same ``.partial``)."""
    require_finetune_extra()
    target = hf_cache_dir()
    if _converted(target):
        return target
    from filelock import FileLock  # comes with transformers (huggingface_hub)

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not _converted(target):  # another process may have converted it while this one waited
            _convert(target)
    return target


def _converted(target: Path) -> bool:
    return (target / "config.json").exists() and any(target.glob("*.safetensors"))


def _convert(target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from workbench.models.local import default_model_path

    gguf = default_model_path()
    with _one_gguf_parse():
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype="float32")
    # The weights are dequantized to float32 on load, but the model stays flagged as GGUF-quantized, which
    # save_pretrained refuses; clear the flag so the plain checkpoint can be cached.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(target.name + ".partial")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if target.exists():
        import shutil

        shutil.rmtree(target)
    tmp.replace(target)


@contextlib.contextmanager
def _one_gguf_parse() -> Iterator[None]:
    """transformers opens the GGUF three times for one conversion (the tokenizer's config, the model's config, the
    weights), and gguf-py's reader walks the 262k-token vocabulary each time. The reader only reads its
    memory-mapped file, so one reader per path serves all three: the conversion took 70 s from an empty cache on 2
    cores, 29.7 s so (the same checkpoint, byte for byte)."""
    import gguf

    make_reader = gguf.GGUFReader
    readers: dict[tuple[str, str], Any] = {}

    def shared_reader(path: Any, mode: str = "r") -> Any:
        key = (str(path), mode)
        if key not in readers:
            readers[key] = make_reader(path, mode)
        return readers[key]

    gguf.GGUFReader = shared_reader
    try:
        yield
    finally:
        gguf.GGUFReader = make_reader


def load_hf_model(path: str) -> tuple[Any, Any]:
    """A base checkpoint or a LoRA adapter folder (adapter_config.json) on top of the cached base. Loaded once per
    version of the folder's files: an adapter retrained in place is loaded again."""
    from workbench.models.weights import folder_sha256

    return _load_hf_model(path, folder_sha256(path))


@functools.lru_cache(maxsize=4)
def _load_hf_model(path: str, digest: str) -> tuple[Any, Any]:
    require_finetune_extra()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    folder = Path(path)
    if (folder / "adapter_config.json").exists():
        from peft import PeftModel

        base = AutoModelForCausalLM.from_pretrained(str(base_model_dir()), dtype=torch.float32)
        model = PeftModel.from_pretrained(base, str(folder)).merge_and_unload()
        tokenizer = AutoTokenizer.from_pretrained(str(base_model_dir()))
    else:
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model.eval()
    return model, tokenizer


class HFModel(Model):
    """``hf:base`` (the bundled model via transformers) or ``hf:PATH`` (a LoRA adapter or merged checkpoint)."""

    provider = "hf"
    capabilities = Capabilities(in_process=True, chat_template=False, price=(0.0, 0.0))  # the base model's weights
    max_concurrency = 1

    def __init__(self, spec: str):
        super().__init__(spec)
        target = spec.split(":", 1)[1] if ":" in spec else "base"
        self.path = base_model_dir() if target == "base" else Path(target).expanduser()
        if target != "base" and not self.path.is_dir():
            raise ConfigError(f"{spec}: no folder at {self.path}. Give a LoRA adapter or checkpoint folder.")

    def identity(self) -> dict[str, Any]:
        from workbench.models.weights import folder_sha256

        identity = {"provider": "hf", "weights_sha256": folder_sha256(self.path)}
        if (self.path / "adapter_config.json").exists():
            identity["base_sha256"] = folder_sha256(base_model_dir())
        return identity

    async def load(self, prefixes: Sequence[str] = ()) -> float | None:
        """Load the weights (once per process and version of the folder) before the run's first timed call."""
        import asyncio

        def load() -> float | None:
            misses = _load_hf_model.cache_info().misses
            start = time.perf_counter()
            load_hf_model(str(self.path))
            return round(time.perf_counter() - start, 3) if _load_hf_model.cache_info().misses > misses else None

        return await asyncio.to_thread(load)

    def _call(self, request: Request, sink: ChunkSink | None) -> Generation:
        import torch

        prompt, params = request.prompt, request.params
        if not isinstance(prompt, str):
            from workbench.models.local import format_gemma_chat

            prompt = format_gemma_chat(list(prompt))
        model, tokenizer = load_hf_model(str(self.path))
        start = time.perf_counter()
        inputs = tokenizer(prompt, return_tensors="pt")
        with _LOCK, torch.no_grad():
            if params.temperature > 0:
                torch.manual_seed(params.seed if params.seed is not None else 0)  # seeded samples reproduce
            out = model.generate(
                **inputs,
                max_new_tokens=params.max_tokens,
                do_sample=params.temperature > 0,
                temperature=params.temperature or None,
                top_p=params.top_p,
                pad_token_id=tokenizer.eos_token_id,
            )
        new_tokens = out[0][inputs["input_ids"].shape[1] :]
        text = tokenizer.decode(new_tokens, skip_special_tokens=True)
        for stop in params.stop:
            if stop and stop in text:
                text = text[: text.index(stop)]
        return Generation(
            text=text,
            model=self.spec,
            prompt_tokens=int(inputs["input_ids"].shape[1]),
            completion_tokens=int(len(new_tokens)),
            latency_ms=elapsed_ms(start),
        )


_LOCK = threading.Lock()  # one generation at a time per process (torch's global seed, the shared weights)
