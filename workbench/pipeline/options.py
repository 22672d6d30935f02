"""How a run is run: one frozen record of every option, checked before any model call.

``wb.run(prompts, data, models, concurrency=8, store="…")`` and ``wb.run(..., options=RunOptions(...))`` are the
same call; the CLI builds the same record. Every problem is reported at once, naming the option and the fix.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from workbench.errors import ConfigError

ORIGINS = ("python", "notebook", "cli", "nightly", "cluster", "ui", "recheck", "serve", "optimize")


@dataclass(frozen=True)
class RunOptions:
    """Every option of :func:`workbench.run` (defaults in brackets).

    - ``store``: a path or URL (``sqlite:///…``, ``postgresql://…``) or a Store [``WORKBENCH_STORE``, else
      ``.workbench/workbench.db``]; ``name``: a label for the run.
    - ``params``: generation parameters over the templates' (``temperature`` 0–2, ``max_tokens`` ≥ 1, ``stop``,
      ``seed``, ``top_p`` in (0, 1]); with ``temperature > 0`` each (row, repeat) gets its own seed.
    - ``repeats`` [1]: samples per cell; ``limit``: only the first N rows; ``id_column`` ["id"]: the column that
      names each row (ids must be unique).
    - ``concurrency``: requests in flight per model (adaptive: it backs off on 429/5xx) [the model's own];
      ``rate_limit``: requests per minute per model; ``timeout`` [120]: seconds per attempt; ``retries`` [6]:
      for 5xx, dropped connections and timeouts; ``retry_budget`` [300]: seconds of 429s without a success.
    - ``cache`` [True]: answer reproducible requests (temperature 0, or seeded) from the store's cache;
      ``preflight`` [True]: check each endpoint before the first call.
    - ``wait`` [False]: if a process is executing this same run, follow it instead of starting another run.
    - ``cluster``: a Dask scheduler address (``tcp://HOST:8786``) or a ``distributed.Client``
      [``WORKBENCH_CLUSTER``]; ``batch`` [False]: send the cells to the provider's batch API, looking at the
      batches every ``batch_poll`` [30] seconds until they are collected.
    - ``scorers``: scorers over the templates' assertions; ``model_options``: keyword options for model specs.
    - ``progress`` [True], ``on_result(record, done, total)``, ``cancel_event`` (a ``threading.Event``: Stop).
    - ``origin``: where the run comes from (notebook, cli, nightly, cluster, ui, recheck, optimize) [detected].
    - ``annotations``: JSON-able facts kept in the run's stored config (an optimisation records its id, the
      split and the run's role there); part of the configuration, so a resume finds the same run.
    """

    store: Any = None
    name: str | None = None
    params: Mapping[str, Any] | None = None
    repeats: int = 1
    limit: int | None = None
    id_column: str = "id"
    concurrency: int | None = None
    rate_limit: float | None = None
    timeout: float | None = 120.0
    retries: int | None = None
    retry_budget: float | None = None
    cache: bool = True
    preflight: bool = True
    wait: bool = False
    cluster: Any = None
    batch: bool = False
    batch_poll: float = 30.0
    scorers: Sequence[Any] | None = None
    model_options: Mapping[str, Any] | None = None
    progress: bool = True
    on_result: Callable[..., Any] | None = field(default=None, compare=False)
    cancel_event: threading.Event | None = field(default=None, compare=False)
    origin: str | None = None
    annotations: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, options: RunOptions | None = None, **overrides: Any) -> RunOptions:
        """``options`` with ``overrides`` applied; an unknown name is an error with the closest known one."""
        known = {f.name for f in fields(cls)}
        unknown = [name for name in overrides if name not in known]
        if unknown:
            hints = []
            for name in unknown:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise ConfigError(f"Unknown run option {', '.join(hints)}. Options: {', '.join(sorted(known))}.")
        merged = replace(options or cls(), **overrides)
        merged.check()
        return merged

    def invalid(self) -> list[tuple[str, Any, str]]:
        """Every invalid value as (option, value, what it must be)."""
        found = []
        checks = [
            ("repeats", self.repeats, lambda v: _int_at_least(v, 1), "a whole number ≥ 1"),
            ("limit", self.limit, lambda v: v is None or _int_at_least(v, 1), "a whole number ≥ 1 (or absent: all)"),
            ("concurrency", self.concurrency, lambda v: v is None or _int_at_least(v, 1), "a whole number ≥ 1"),
            ("rate_limit", self.rate_limit, _none_or_positive, "requests per minute, > 0"),
            ("timeout", self.timeout, _none_or_positive, "seconds per attempt, > 0"),
            ("retries", self.retries, lambda v: v is None or _int_at_least(v, 0), "a whole number ≥ 0"),
            ("batch_poll", self.batch_poll, _none_or_positive, "seconds between looks at batch jobs, > 0"),
            ("retry_budget", self.retry_budget, lambda v: v is None or (_number(v) and v >= 0), "seconds, ≥ 0"),
            ("origin", self.origin, lambda v: v is None or v in ORIGINS, f"one of {', '.join(ORIGINS)}"),
            ("id_column", self.id_column, lambda v: isinstance(v, str) and bool(v.strip()), "a dataset column"),
            ("annotations", self.annotations, lambda v: v is None or isinstance(v, Mapping), "a mapping"),
        ]
        for name, value, valid, wanted in checks:
            if not valid(value):
                found.append((name, value, wanted))
        found += param_problems(self.params)
        if self.batch and self.cluster is not None:
            found.append(("batch", True, "not combined with cluster (a batch job runs at the provider)"))
        return found

    def problems(self) -> list[str]:
        """Every invalid value, as a message naming the option and what it takes."""
        return [f"{name}={value!r}: must be {wanted}" for name, value, wanted in self.invalid()]

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError("Invalid run options: " + "; ".join(problems) + ".")


def param_problems(params: Mapping[str, Any] | None) -> list[tuple[str, Any, str]]:
    """What is wrong with generation parameters (unknown names, values out of range), as (name, value, wanted)."""
    if not params:
        return []
    if not isinstance(params, Mapping):
        return [("params", params, "a mapping such as {'temperature': 0.7}")]
    from pydantic import ValidationError

    from workbench.models.types import GenerationParams

    try:
        GenerationParams().merged(**dict(params))
    except ValidationError as exc:
        return [(_loc(e), e.get("input"), _pydantic_message(e)) for e in exc.errors()]
    return []


def _loc(error: Mapping[str, Any]) -> str:
    return ".".join(str(part) for part in error.get("loc", ())) or "?"


def _pydantic_message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        known = ("temperature", "max_tokens", "stop", "seed", "top_p")
        close = difflib.get_close_matches(_loc(error), known, n=1)
        hint = f" — did you mean {close[0]}?" if close else ""
        return f"a generation parameter: {', '.join(known)}{hint}"
    return str(error.get("msg", "invalid")).replace("Input should be ", "")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _none_or_positive(value: Any) -> bool:
    return value is None or (_number(value) and value > 0)


def _int_at_least(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum
