"""Progress for long command-line runs, so an operator can tell a slow run from a stuck one.

A flow run from `bcmirakl run` can take minutes (a full offer sync, a reconciliation backfill). On a terminal
a rich progress bar shows the run's elapsed time and a bar per long step (the offer push's changes, the
backfill's days) from the steps' `report_progress`; piped to a file or a log, a plain line on stderr every few
seconds says it is alive, for how long and how far the steps are, without mixing into the result on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from tasks.progress import listening

__all__ = ["ticking"]


@asynccontextmanager
async def ticking(label: str, every_s: float = 10.0, out: TextIO | None = None) -> AsyncIterator[None]:
    """Show the run's progress while the body runs on this event loop: bars on a terminal, lines elsewhere."""
    stream = out or sys.stderr
    if stream.isatty():
        async with _bars(label, stream):
            yield
        return
    async with _lines(label, every_s, stream):
        yield


@asynccontextmanager
async def _bars(label: str, stream: TextIO) -> AsyncIterator[None]:
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    steps: dict[str, TaskID] = {}
    with Progress(*columns, console=Console(file=stream), transient=True) as progress:
        progress.add_task(label, total=None)

        def show(what: str, done: float, total: float) -> None:
            if what not in steps:
                steps[what] = progress.add_task(what, total=total or None)
            progress.update(steps[what], completed=done, total=total or None)

        with listening(show):
            yield


@asynccontextmanager
async def _lines(label: str, every_s: float, stream: TextIO) -> AsyncIterator[None]:
    started = time.monotonic()
    steps: dict[str, tuple[float, float]] = {}

    def keep(what: str, done: float, total: float) -> None:
        steps[what] = (done, total)

    async def tick() -> None:
        while True:
            await asyncio.sleep(every_s)
            far = "".join(f"; {what} {done:.0f}/{total:.0f}" for what, (done, total) in steps.items())
            print(f"{label}: running for {time.monotonic() - started:.0f}s{far}", file=stream, flush=True)

    ticker = asyncio.create_task(tick())
    try:
        with listening(keep):
            yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
