"""OpenAI's Batch API through the official client: requests as JSONL lines, ``files.create(purpose="batch")``,
``batches.create``, ``batches.retrieve``, ``files.content`` — the calls a batch run makes, with the same error
translation as a model's own calls.

Limits (OpenAI's): at most 50,000 requests and 200 MB per input file; results come back within the 24 h window,
in any order, matched by ``custom_id``. Batch requests cost half of the synchronous price.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import replace
from typing import Any

from workbench.models.types import Generation, Request

MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
PRICE_FACTOR = 0.5  # the Batch API's price against the synchronous API's
DONE = ("completed", "failed", "expired", "cancelled")


def custom_id(cell_key: str) -> str:
    """A request's id in the batch: stable, short, and free of the characters a cell key may hold."""
    return "cell-" + hashlib.sha256(cell_key.encode("utf-8")).hexdigest()[:24]


def request_line(model: Any, cell_key: str, request: Request) -> tuple[str, str]:
    """(endpoint, JSONL line) of one cell's request."""
    kind, args = model._request(request.prompt, request.params)
    endpoint = "/v1/chat/completions" if kind == "chat" else "/v1/completions"
    line = {"custom_id": custom_id(cell_key), "method": "POST", "url": endpoint, "body": args}
    return endpoint, json.dumps(line, ensure_ascii=False)


async def submit(model: Any, endpoint: str, lines: list[str], metadata: dict[str, str]) -> dict[str, Any]:
    """Upload the lines and start a batch job; the job as the API describes it."""
    client = model._async_client()
    content = ("\n".join(lines) + "\n").encode("utf-8")
    try:
        upload = await client.files.create(file=("requests.jsonl", io.BytesIO(content)), purpose="batch")
        batch = await client.batches.create(
            input_file_id=upload.id, endpoint=endpoint, completion_window="24h", metadata=metadata
        )
    except Exception as exc:
        raise model._translate(exc) from exc
    return batch.model_dump()


async def find_by_intent(model: Any, intent: str, *, scan: int = 1000) -> dict[str, Any] | None:
    """The provider's batch tagged with ``intent`` (its metadata), among the newest ``scan`` batches, if any: the
    batch a killed process created but never recorded."""
    try:
        seen = 0
        async for batch in model._async_client().batches.list(limit=100):
            if (batch.metadata or {}).get("workbench_intent") == intent:
                return batch.model_dump()
            seen += 1
            if seen >= scan:
                return None
    except Exception as exc:
        raise model._translate(exc) from exc
    return None


async def probe(model: Any) -> None:
    """Refuse an endpoint without a Batch API before anything is uploaded (vLLM, Ollama and the llama.cpp server
    have none: they answer 404 to ``GET /v1/batches``)."""
    import openai

    from workbench.errors import ConfigError

    try:
        await model._async_client().batches.list(limit=1)
    except (openai.NotFoundError, openai.UnprocessableEntityError) as exc:
        raise ConfigError(
            f"--batch: {model.display_url} has no Batch API (GET /batches answered HTTP {exc.status_code}). Batch jobs "
            "are OpenAI's API (and compatible servers', such as `workbench serve`); vLLM, Ollama and the llama.cpp "
            "server have none. Run without --batch. Nothing was uploaded."
        ) from None
    except openai.APIStatusError as exc:
        if exc.status_code == 405:
            raise ConfigError(
                f"--batch: {model.display_url} has no Batch API (GET /batches: HTTP 405). Run without --batch."
            ) from None
        raise model._translate(exc) from exc
    except Exception as exc:
        raise model._translate(exc) from exc


async def retrieve(model: Any, batch_id: str) -> dict[str, Any]:
    try:
        return (await model._async_client().batches.retrieve(batch_id)).model_dump()
    except Exception as exc:
        raise model._translate(exc) from exc


async def content(model: Any, file_id: str) -> str:
    try:
        return (await model._async_client().files.content(file_id)).text
    except Exception as exc:
        raise model._translate(exc) from exc


def parse_output(model: Any, endpoint: str, text: str) -> dict[str, Generation | str]:
    """custom_id → the generation in each output line, or the error text for a line that failed."""
    kind = "chat" if endpoint.endswith("/chat/completions") else "completion"
    found: dict[str, Generation | str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        response, error = item.get("response") or {}, item.get("error")
        if error or response.get("status_code", 200) >= 400:
            detail = error or (response.get("body") or {}).get("error") or response
            found[item["custom_id"]] = f"[{model.spec}] the batch request failed: {json.dumps(detail)[:300]}"
            continue
        generation = model._to_generation(kind, response.get("body") or {}, 0.0)
        found[item["custom_id"]] = replace(generation, latency_ms=None)  # no per-request latency in a batch
    return found
