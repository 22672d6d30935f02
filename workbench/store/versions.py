"""Prompt versions a run used: the exact text of each (name, version), immutable once recorded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from workbench.errors import StoreError
from workbench.secrets import redact
from workbench.store.base import StoreBase
from workbench.store.clock import now
from workbench.store.schema import prompt_versions


class VersionsMixin(StoreBase):
    def record_prompt_version(
        self, name: str, version: int, content_hash: str, source: str, where: str | None = None
    ) -> None:
        """Remember the exact text of a version a run used; refuse a changed text under the same number."""

        def work(connection: Connection) -> None:
            key = (prompt_versions.c.name == name) & (prompt_versions.c.version == version)
            seen = connection.execute(select(prompt_versions.c.content_hash).where(key)).scalar()
            if seen is None:
                statement = self._dialect_insert(prompt_versions).values(
                    name=name, version=version, content_hash=content_hash, source=redact(source), created_at=now()
                )
                connection.execute(statement.on_conflict_do_nothing())
            elif seen != content_hash:
                raise StoreError(
                    f"{where or name}: version {version} of prompt {name!r} was already used by a run with "
                    "different text, and used versions are immutable. Save your edit as a new version "
                    f"(`workbench prompts save {where or name}`, or PromptLibrary.save), which keeps v{version}."
                )

        self._write(work)

    def prompt_version_source(self, name: str, version: int) -> str | None:
        statement = select(prompt_versions.c.source).where(
            prompt_versions.c.name == name, prompt_versions.c.version == version
        )
        return self._scalar(statement)

    def used_versions(self, name: str) -> list[int]:
        statement = (
            select(prompt_versions.c.version).where(prompt_versions.c.name == name).order_by(prompt_versions.c.version)
        )
        return [row["version"] for row in self._rows(statement)]

    def prompt_version_rows(self, name: str) -> list[dict[str, Any]]:
        """Every recorded version of a prompt with its hash, text and when it was first used."""
        statement = select(prompt_versions).where(prompt_versions.c.name == name).order_by(prompt_versions.c.version)
        return self._rows(statement)
