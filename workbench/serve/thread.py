"""Run a served app in a background thread (notebooks and tests): ``ServerThread(app, port=...).start()``."""

from __future__ import annotations

import threading
import time
from typing import Any

from workbench.errors import WorkbenchError


class ServerThread:
    """Run the app with uvicorn in a background thread (for notebooks and tests); ``stop()`` ends it."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 8000):
        import uvicorn

        self.host, self.port = host, port
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name="workbench-serve", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self, timeout: float = 20.0) -> ServerThread:
        self.thread.start()
        deadline = time.time() + timeout
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise WorkbenchError(f"The server did not start on {self.host}:{self.port} (port in use?).")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
