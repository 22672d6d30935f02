"""The response cache: a model's answer to an exact request (model identity, parameters, prompt, evaluation mode),
so a repeated request is answered from the store instead of the model."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from workbench.secrets import redact, secret_values
from workbench.store.base import StoreBase
from workbench.store.clock import now
from workbench.store.records import to_json
from workbench.store.schema import cache

CHUNK = 500  # keys per IN (...) lookup: well under SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class CacheEntry:
    """One cached answer: the request's key, the model that gave it, the parameters and prompt, the response."""

    key: str
    model: str
    params: dict[str, Any]
    prompt: str
    response: dict[str, Any]


class CacheMixin(StoreBase):
    def cache_get(self, key: str) -> dict[str, Any] | None:
        return self.cache_get_many([key]).get(key)

    def cache_get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The cached responses for those keys that have one (one query per few hundred keys)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            for row in self._rows(select(cache.c.key, cache.c.response).where(cache.c.key.in_(chunk))):
                found[row["key"]] = json.loads(row["response"])
        return found

    def cache_put(self, key: str, *, model: str, params: dict[str, Any], prompt: str, response: dict[str, Any]) -> None:
        entry = CacheEntry(key, model, params, prompt, response)
        self._write(lambda connection: self._cache_put_many(connection, [entry], secret_values()))

    def _cache_put_many(self, connection: Connection, entries: list[CacheEntry], secrets: list[str]) -> None:
        stamp = now()
        rows = [
            {
                "key": entry.key,
                "model": redact(entry.model, secrets),
                "params": to_json(entry.params),
                "prompt": redact(entry.prompt, secrets),
                "response": redact(to_json(entry.response), secrets),
                "created_at": stamp,
                "hits": 0,
            }
            for entry in entries
        ]
        connection.execute(self._upsert_cache(), rows)

    def _upsert_cache(self) -> Any:
        if self._cache_upsert is None:
            statement = self._dialect_insert(cache)
            excluded = statement.excluded
            self._cache_upsert = statement.on_conflict_do_update(
                index_elements=["key"],
                set_={"model": excluded.model, "response": excluded.response, "created_at": excluded.created_at},
            )
        return self._cache_upsert

    def cache_size(self) -> int:
        return int(self._scalar(select(func.count()).select_from(cache)) or 0)
