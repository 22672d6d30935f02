"""Deploy: the prompt library as an OpenAI-compatible HTTP API (the [serve] extra: FastAPI + uvicorn)."""

from workbench.serve.app import Service, create_app
from workbench.serve.protocol import RequestError
from workbench.serve.thread import ServerThread

__all__ = ["RequestError", "ServerThread", "Service", "create_app"]
