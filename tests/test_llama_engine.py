"""How every llama.cpp server here is started (:func:`workbench.models.llama_engine.llama_params`); the engine's
behaviour on the real model is in ``tests/test_local_model.py``."""

from workbench.models.llama_engine import llama_params


def test_every_llama_server_starts_without_the_gpu_fitting_pass():
    """llama.cpp's ``fit_params`` loads the model twice to fit it to GPU memory: on a CPU it only doubles each load."""
    params = llama_params("/models/any.gguf", n_ctx=4096, n_parallel=2, n_threads=3)
    assert params.fit_params is False
    assert params.model.path == "/models/any.gguf" and params.n_ctx == 4096 and params.n_parallel == 2
    assert params.cpuparams.n_threads == params.cpuparams_batch.n_threads == 3
    assert params.swa_full is True, "Gemma 3's sliding-window layers must keep the full cache for prefix states"
    assert params.warmup is False
