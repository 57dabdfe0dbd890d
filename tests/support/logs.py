"""What a failed run's Logs tab shows, as the tests read it from `caplog`."""

from __future__ import annotations

import logging

import pytest

__all__ = ["told_once_before_the_traceback"]


def told_once_before_the_traceback(caplog: pytest.LogCaptureFixture, sentence: str) -> bool:
    """True when `sentence` is logged at ERROR exactly once, and before the first traceback: an operator reads
    what to do before 30 lines of stack."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    told = [n for n, r in enumerate(errors) if r.getMessage() == sentence]
    tracebacks = [n for n, r in enumerate(errors) if r.exc_info or "Traceback" in r.getMessage()]
    return len(told) == 1 and bool(tracebacks) and told[0] < tracebacks[0]
