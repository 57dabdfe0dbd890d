"""Progress lines for long command-line runs, so an operator can tell a slow run from a stuck one.

A flow run from `bcmirakl run` can take minutes (a full offer sync); a line on stderr every few seconds
says it is alive and for how long, without mixing into the result printed on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

__all__ = ["ticking"]


@asynccontextmanager
async def ticking(label: str, every_s: float = 10.0, out: TextIO | None = None) -> AsyncIterator[None]:
    """Print `label: running for Ns` every `every_s` seconds while the body runs on this event loop."""
    stream = out or sys.stderr
    started = time.monotonic()

    async def tick() -> None:
        while True:
            await asyncio.sleep(every_s)
            print(f"{label}: running for {time.monotonic() - started:.0f}s", file=stream, flush=True)

    ticker = asyncio.create_task(tick())
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
