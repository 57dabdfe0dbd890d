"""The retry rule for Prefect tasks: repeat only what the error taxonomy calls transient.

HTTP-level retries already happen inside the connectors; a task-level retry is the outer net for a batch
that failed after those (a long outage, a malformed page). A 4xx or a data error is never retried: it is
quarantined by the code that met it.
"""

from __future__ import annotations

from typing import Any

from common.errors import TransientApiError

__all__ = ["TASK_RETRY", "retry_on_transient"]


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """`retry_condition_fn` for `@task`: True only when the task failed on a transient API error.

    The engine hands over a Failed state whose data is the exception; `State.result()` would return a
    coroutine inside async tasks, so the exception is read directly and `result` is only the fallback.
    """
    data = getattr(state, "data", None)
    if isinstance(data, BaseException):
        return isinstance(data, TransientApiError)
    try:
        state.result(_sync=True)
    except TransientApiError:
        return True
    except Exception:
        return False
    return False


# Keyword arguments for connector-facing tasks: two outer retries, jittered, transient errors only.
TASK_RETRY: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [5, 30],
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_on_transient,
}
