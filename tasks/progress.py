"""Progress of a long step (the offer push, a reconciliation backfill) for whoever is watching the run.

In Prefect the offer push keeps a progress artifact; a person running `bcmirakl run` in a terminal watches a
progress bar instead. Steps say how far they are through `report_progress`; the command line listens with
`listening`. Nothing listens in a deployed worker, and a report then costs a loop over an empty list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["ProgressListener", "gather_counted", "listening", "report_progress"]

T = TypeVar("T")

ProgressListener = Callable[[str, float, float], None]  # (what, done, total)

_listeners: list[ProgressListener] = []


def report_progress(what: str, done: float, total: float) -> None:
    """`done` of `total` units of `what` (e.g. "offer push", changes); total 0 means not known yet."""
    for listener in list(_listeners):
        listener(what, done, total)


@contextmanager
def listening(listener: ProgressListener) -> Iterator[None]:
    """Call `listener` with every progress report made while the block runs (in this process)."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


async def gather_counted(what: str, awaitables: Sequence[Awaitable[T]]) -> list[T]:
    """`asyncio.gather`, reporting `what` as each awaitable finishes (days of a backfill, say); results in order."""
    done = 0

    async def counted(awaitable: Awaitable[T]) -> T:
        nonlocal done
        result = await awaitable
        done += 1
        report_progress(what, done, len(awaitables))
        return result

    return list(await asyncio.gather(*(counted(a) for a in awaitables)))
