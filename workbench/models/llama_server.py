"""llama.cpp's own OpenAI-compatible HTTP server, on a port you choose, serving a GGUF (the bundled Gemma by default).

    python -m workbench.models.llama_server --port 8081 --alias gemma-270m [--parallel 4] [--api-key-env VAR]

This is the engine the ``local`` provider embeds, but listening on TCP so that other programs — or the workbench's
own ``openai:gemma-270m@http://127.0.0.1:8081/v1`` provider — can call it. Unlike the embedded use (a private
Unix socket), this is a real network service: it listens on 127.0.0.1 unless told otherwise, and takes an API
key from an environment variable (never from the command line, where ``ps`` would show it).
"""

from __future__ import annotations

import argparse
import os
import signal
import threading

from workbench.models.llama_engine import llama_params
from workbench.models.local import default_model_path, default_threads


def serve(
    port: int,
    *,
    alias: str = "gemma-270m",
    host: str = "127.0.0.1",
    n_ctx: int = 2048,
    parallel: int = 1,
    api_key: str | None = None,
    model_path: str | None = None,
) -> None:
    """Start the server and block until SIGTERM / SIGINT."""
    import xllamacpp

    model = model_path or default_model_path()
    params = llama_params(model, n_ctx=n_ctx * parallel, n_parallel=parallel, n_threads=default_threads())
    params.model_alias = {alias}
    params.hostnames = [host]
    params.port = port
    if api_key:
        params.api_keys = [api_key]
    server = xllamacpp.Server(params)
    print(f"llama.cpp server: {alias} at http://{host}:{port}/v1 ({server.listening_address})", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--alias", default="gemma-270m", help="the model name clients ask for")
    parser.add_argument("--n-ctx", type=int, default=2048, help="context per sequence")
    parser.add_argument("--parallel", type=int, default=1, help="sequences decoded together (continuous batching)")
    parser.add_argument("--model", default=None, help="a GGUF file (default: the bundled Gemma 3 270M)")
    parser.add_argument("--api-key-env", default=None, help="require this environment variable's value as the key")
    args = parser.parse_args()
    key = os.environ.get(args.api_key_env) if args.api_key_env else None
    serve(
        args.port,
        alias=args.alias,
        host=args.host,
        n_ctx=args.n_ctx,
        parallel=args.parallel,
        api_key=key,
        model_path=args.model,
    )


if __name__ == "__main__":
    main()
