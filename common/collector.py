"""The garbage collector's pace during a flow run.

A run allocates containers by the hundred thousand (decoded pages, pandas rows, SQLAlchemy parameters) and keeps
most of them for seconds at most, and almost none in reference cycles. At CPython's default pace (a young
collection every 700 net allocations, the older generations every 10) the collector re-walks the run's
survivors over and over: on the 20,000-offer benchmark the bridge spent 20.2 s of CPU at the default thresholds
and 17.2 s at (50,000, 20, 100). A young collection every 200,000 allocations lets most of a page's objects die
before the collector ever walks them: on 100,000 offers the run's collections took 2.3 s of CPU instead of 3.6 s
(`benchmarks/README.md`). The thresholds only space collections out; cycles are still found, a little later.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["RUN_THRESHOLDS", "run_pace"]

RUN_THRESHOLDS = (200_000, 50, 100)

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def run_pace() -> Iterator[None]:
    """Space collections out for the body; the process's own thresholds come back when the last run leaves.

    Runs may overlap in one process (a served deployment, the test suite): the first to enter sets the pace and
    the last to leave restores it.
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(*RUN_THRESHOLDS)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
