"""The one sentence a failed run logs before its traceback: which system and operation, what status, what was
already written, and whether anything is lost.

An operator reading the Logs tab should know what to do without reading 30 lines of traceback: "nothing
lost; retry when Mirakl answers" for an outage, a fix to make first for anything else. The sentence is told
once per exception, by whoever meets it first (the step that raised it or the run's report at the end).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress

from common.errors import ApiError, AuthError, ConfigurationError, DataError, TransientApiError
from tasks.reporting import run_logger
from tasks.summary_markdown import writes_text

__all__ = ["failure_sentence", "tell_failure"]

SYSTEM_NAMES = {"mirakl": "Mirakl", "bigcommerce": "BigCommerce", "erp": "the ERP"}
_TOLD = "_bcmirakl_failure_told"


def failure_sentence(exc: BaseException, stream: str, written: Mapping[str, object], currency: str = "") -> str:
    """Ids, statuses and counts only: an API's message may quote a record, so it is left to the traceback."""
    done = writes_text(dict(written), currency) or "nothing"
    if isinstance(exc, ApiError):
        system = SYSTEM_NAMES.get(exc.system or "", exc.system or "an API")
        status = f"answered {exc.status}" if exc.status else "did not answer"
        what = f"{stream} stopped: {system} {exc.operation} {status}"
        if isinstance(exc, TransientApiError):
            return (
                f"{what} after the HTTP layer's retries. Already written: {done}. "
                f"Nothing lost (the ledger and the queue keep the rest); retry when {system} answers."
            )
        if isinstance(exc, AuthError):
            return f"{what}. Already written: {done}. Nothing lost; fix the credential, then retry the run."
        return f"{what}. Already written: {done}. Nothing lost; see the request below, then retry the run."
    if isinstance(exc, DataError):
        return (
            f"{stream} stopped at a data-quality gate ({type(exc).__name__}). Already written: {done}. "
            "Nothing lost; fix the quarantined records (see the summary), then retry the run."
        )
    if isinstance(exc, ConfigurationError):
        return f"{stream} stopped before any call: configuration is invalid ({exc}). Fix it, then retry the run."
    return (
        f"{stream} stopped on an unexpected {type(exc).__name__}. Already written: {done}. "
        "Nothing lost (every write is in the ledger); retry the run once the cause below is fixed."
    )


def tell_failure(exc: BaseException, stream: str, written: Mapping[str, object], currency: str = "") -> str | None:
    """Log the sentence at ERROR unless this exception was already told; returns it when logged now."""
    if getattr(exc, _TOLD, False):
        return None
    sentence = failure_sentence(exc, stream, written, currency)
    run_logger().error(sentence)
    with suppress(AttributeError):  # a few builtin exceptions take no attributes; telling twice is the only cost
        setattr(exc, _TOLD, True)
    return sentence
