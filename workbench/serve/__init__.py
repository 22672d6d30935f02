"""Deploy: the prompt library as an OpenAI-compatible HTTP API (the [serve] extra: FastAPI + uvicorn)."""

from workbench.registry import reraise_missing_extra

try:
    from workbench.serve.app import Service, create_app
    from workbench.serve.protocol import RequestError
    from workbench.serve.thread import ServerThread
except ImportError as exc:  # without [serve]: an error that names it, not a bare ModuleNotFoundError
    reraise_missing_extra(exc, "workbench.serve (create_app, ServerThread)")

__all__ = ["RequestError", "ServerThread", "Service", "create_app"]
