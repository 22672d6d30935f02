"""Resuming a stored run by its id: rebuild its call from what the run recorded (prompt versions, models, dataset,
parameters), check that nothing it depends on changed, and run it again — the run picks up where it stopped
(its lease is free), calling models only for the missing cells and collecting any batch jobs it left."""

from __future__ import annotations

from typing import Any

from workbench.errors import ConfigError, DatasetError


def resume(run_id: str, store: Any, **options: Any) -> Any:
    """Continue run ``run_id`` of ``store``; its :class:`~workbench.results.RunResult`."""
    from workbench.datasets import load_dataset
    from workbench.pipeline.runner import run

    stored = store.run(run_id)
    config = stored["config"]
    if "serve" in config:
        raise ConfigError(f"Run {stored['id']} logged a server's requests; there is nothing to resume.")
    if config.get("scorers"):
        raise ConfigError(
            f"Run {stored['id']} was given scorers from Python ({', '.join(config['scorers'])}); resume it from "
            "Python with the same call and scorers."
        )
    templates = [_template(p["ref"], p["hash"], store) for p in config["prompts"]]
    data = load_dataset(stored["dataset"]).with_id_column(config.get("id_column", "id"))
    limit = config.get("limit")
    used = data.head(limit) if limit else data  # the rows the run planned: its first `limit` rows
    if used.content_hash != config["dataset"]:
        which = f"its first {limit} rows" if limit else "its rows"
        raise DatasetError(
            f"{stored['dataset']} changed since run {stored['id']} started ({which} are not the ones the run "
            "planned): a resumed run would mix two datasets. Start a new run instead."
        )
    batch = bool(store.batches(stored["id"]))
    options = {
        "store": store,
        "params": config.get("params") or None,
        "repeats": config.get("repeats", 1),
        "id_column": config.get("id_column", "id"),
        "limit": limit,
        "batch": batch,
        **options,
    }
    return run(templates, data, config["models"], **options)


def _template(ref: str, content_hash: str, store: Any) -> Any:
    """The exact version a run used: from the library if it still has that text, else from the store's record."""
    from workbench.identity import PromptRef
    from workbench.prompts import PromptTemplate, load_prompt

    try:
        template = load_prompt(ref)
        if template.content_hash == content_hash:
            return template
    except ConfigError:
        pass
    parsed = PromptRef.parse(ref)
    source = store.prompt_version_source(parsed.name, parsed.version)
    if source is None:
        raise ConfigError(f"Prompt version {ref} is neither in the library nor recorded in the store.")
    return PromptTemplate.from_string(source, name=parsed.name)
