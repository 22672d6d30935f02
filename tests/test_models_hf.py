"""The GGUF → transformers conversion behind ``hf:base``: one parse of the GGUF per conversion, one converting
process at a time. The conversion itself runs on the real model in ``tests/test_finetune.py``."""

from __future__ import annotations

import threading
import time

import pytest

gguf = pytest.importorskip("gguf")
hf = pytest.importorskip("workbench.models.hf")


def _tiny_gguf(path):
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_array("tokenizer.ggml.tokens", ["a", "b", "c"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_one_reader_serves_every_open_of_a_file_during_a_conversion(tmp_path):
    path = _tiny_gguf(tmp_path / "tiny.gguf")
    other = _tiny_gguf(tmp_path / "other.gguf")
    original = gguf.GGUFReader
    with hf._one_gguf_parse():
        first = gguf.GGUFReader(path)
        assert gguf.GGUFReader(str(path)) is first, "the same file is parsed again"
        assert gguf.GGUFReader(other) is not first
        assert [bytes(first.fields["tokenizer.ggml.tokens"].parts[i]) for i in (-5, -3, -1)] == [b"a", b"b", b"c"]
    assert gguf.GGUFReader is original, "gguf-py is left as it was"
    assert gguf.GGUFReader(path) is not first


def test_two_processes_asking_at_once_convert_once(tmp_path, monkeypatch):
    """The second caller waits on the lock and then finds the first one's checkpoint (before: both converted into
    the same ``.partial`` folder at once)."""
    hf.require_finetune_extra()
    target = tmp_path / "hf" / "gemma-3-270m"
    monkeypatch.setattr(hf, "hf_cache_dir", lambda: target)
    conversions = []

    def slow_convert(folder):
        conversions.append(folder)
        time.sleep(0.5)
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        (folder / "model.safetensors").write_bytes(b"weights")

    monkeypatch.setattr(hf, "_convert", slow_convert)
    found = []
    callers = [threading.Thread(target=lambda: found.append(hf.base_model_dir())) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=30)
    assert found == [target, target] and conversions == [target]
