"""Serving the sandbox over real HTTP on the loopback interface: in the foreground for `bcmirakl sandbox serve`,
in a background thread for the demo, so the bridge talks to it exactly as it would to the real services."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from sandbox.app import Sandbox, create_sandbox
from sandbox.mirakl import MiraklSandboxSettings
from sandbox.seed import SeedConfig

__all__ = ["BackgroundSandbox", "free_port", "serve_forever"]

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def serve_forever(port: int, seed: SeedConfig | None = None) -> None:
    """Run the sandbox on 127.0.0.1:`port` until interrupted."""
    sandbox = create_sandbox(seed=seed, base_url=f"http://{HOST}:{port}")
    uvicorn.run(sandbox.app, host=HOST, port=port, log_level="warning")


class BackgroundSandbox:
    """A sandbox served from a daemon thread; use as a context manager."""

    def __init__(
        self, port: int | None = None, seed: SeedConfig | None = None, mirakl: MiraklSandboxSettings | None = None
    ) -> None:
        self.port = port or free_port()
        self.sandbox: Sandbox = create_sandbox(seed=seed, base_url=f"http://{HOST}:{self.port}", mirakl=mirakl)
        config = uvicorn.Config(self.sandbox.app, host=HOST, port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="bcmirakl-sandbox", daemon=True)

    def __enter__(self) -> Sandbox:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"sandbox did not start on {HOST}:{self.port}")
            time.sleep(0.02)
        return self.sandbox

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
