"""Every error the workbench raises on purpose, so callers can catch one family.

The messages are written for a student reading them in a notebook: each names the
file, line, row, column or model spec at fault and says what to do next.

    WorkbenchError
    ├── TemplateError            a prompt file cannot be read, parsed or rendered
    │   └── MissingVariablesError  rendering without a value the template needs
    ├── DatasetError             a dataset file or its rows do not fit the template
    ├── OutputParseError         a model output does not fit the template's parser
    ├── ScorerError              a scorer could not give a verdict (the cell is an error, not a failure)
    ├── StoreError               the run store (SQLite or PostgreSQL) refuses an operation
    │   ├── NotFoundError          no run, result, request or bad case with that id
    │   ├── ConflictError          a change made from a stale view (someone else changed it first)
    │   └── LeaseLostError         another process took over the run this one was executing
    ├── ConfigError              an unknown name: model spec, scorer, parser, prompt
    │   └── MissingExtraError      an optional part whose libraries are not installed (also an ImportError)
    └── ModelError               a model call failed (carries the model spec)
        ├── ModelNotFoundError     the endpoint does not serve that model name
        ├── AuthenticationError    the key is missing or refused
        ├── EndpointUnreachableError  nothing answers at the base URL (found before a run starts)
        └── RetryableModelError    worth retrying: 429, 5xx, timeouts, malformed bodies, dropped connections
            ├── RateLimitError       429, with the server's Retry-After when it sent one
            ├── ModelTimeoutError    the call took longer than the timeout
            └── EndpointConnectionError  a connection refused, reset or dropped during a run
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class TemplateError(WorkbenchError):
    """A prompt template file is malformed or cannot be rendered."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(where + message)


class MissingVariablesError(TemplateError):
    """Rendering was asked for without values the template needs."""

    def __init__(self, missing: list[str], *, path: str | None = None, line: int | None = None):
        self.missing = missing
        names = ", ".join(missing)
        super().__init__(
            f"Missing variables: {names}. Pass a value for each (or add a dataset column of that name).",
            path=path,
            line=line,
        )


class DatasetError(WorkbenchError):
    """A dataset cannot be loaded or does not fit the template it is used with."""


class OutputParseError(WorkbenchError):
    """A model output could not be parsed by the template's output parser."""


class ScorerError(WorkbenchError):
    """A scorer raised instead of judging (an LLM judge's endpoint failed, a bug in a Python check).

    The cell becomes an error — retried like any cell when ``retryable`` — never a failed verdict or a bad case.
    """

    def __init__(self, message: str, *, scorer: str = "", retryable: bool = False):
        self.scorer = scorer
        self.retryable = retryable
        super().__init__(message)


class StoreError(WorkbenchError):
    """The run store refused an operation (unknown run, immutable version, ...)."""


class NotFoundError(StoreError):
    """The store has no run, result, served request or bad case with that id."""


class ConflictError(StoreError):
    """Somebody else changed the row since it was read; nothing was overwritten."""


class LeaseLostError(StoreError):
    """Another process took over the run this process was executing (its lease looked dead). This process writes
    nothing more to the run: the write that found out was refused in the same transaction."""

    def __init__(self, message: str, *, holder: str | None = None):
        super().__init__(message)
        self.holder = holder


class ConfigError(WorkbenchError):
    """An unknown or invalid name: model spec, scorer, parser or prompt."""


class MissingExtraError(ConfigError, ImportError):
    """An optional part (``[rag]``, ``[serve]``, ``[ui]``…) was used without its extra installed; the message says
    which ``pip install`` brings it. Also an :class:`ImportError`, so code that probes for an optional part with
    ``except ImportError`` keeps working."""

    def __init__(self, message: str, *, extra: str | None = None, module: str | None = None):
        super().__init__(message)
        self.extra = extra
        self.name = module  # ImportError's own attribute: the module that is missing


class ModelError(WorkbenchError):
    """A model call failed. ``spec`` names the model as the user wrote it; the message shows it redacted (a
    password in a URL, a key-shaped string) because messages reach notebooks, logs and the store."""

    def __init__(self, message: str, *, spec: str = "", status_code: int | None = None):
        from workbench.secrets import redact

        self.spec = spec
        self.status_code = status_code
        prefix = f"[{redact(spec)}] " if spec else ""
        super().__init__(redact(prefix + message) or "")


class ModelNotFoundError(ModelError):
    """The endpoint answered but does not know the model name."""


class AuthenticationError(ModelError):
    """The API key is missing or was refused."""


class EndpointUnreachableError(ModelError):
    """Nothing answered at the endpoint's base URL."""


class RetryableModelError(ModelError):
    """A failure that may pass: rate limits, server errors, timeouts, malformed bodies."""

    def __init__(
        self,
        message: str,
        *,
        spec: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, spec=spec, status_code=status_code)
        self.retry_after = retry_after


class RateLimitError(RetryableModelError):
    """HTTP 429. ``retry_after`` holds the seconds the server asked us to wait, if any."""


class ModelTimeoutError(RetryableModelError):
    """The model call exceeded its timeout."""


class EndpointConnectionError(RetryableModelError):
    """A connection was refused, reset or dropped during a run (the endpoint answered before)."""
