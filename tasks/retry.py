"""The retry rule for Prefect tasks: one retry budget, spent by the HTTP layer; tasks repeat only what it did not.

The HTTP layer (`connectors/http/retry.py`) repeats a transient failure up to 6 attempts within about 20 s
(plus any wait the API asks for). A task retry on top of that multiplied it: a 503 took 80 s to fail, and
the run's Logs tab filled with repeated tracebacks. So a task is retried only for a transient error that did
not go through that loop (`ApiError.attempts == 1`: say a page whose body turned out malformed after the
call). A 4xx or a data error is never retried: it is quarantined by the code that met it.
"""

from __future__ import annotations

from typing import Any

from common.errors import TransientApiError

__all__ = ["TASK_RETRY", "retry_on_transient"]


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """`retry_condition_fn` for `@task`: True only for a transient API error the HTTP layer did not retry.

    The engine hands over a Failed state whose data is the exception; `State.result()` would return a
    coroutine inside async tasks, so the exception is read directly and `result` is only the fallback.
    """
    data = getattr(state, "data", None)
    if isinstance(data, BaseException):
        return _not_yet_retried(data)
    try:
        state.result(_sync=True)
    except TransientApiError as exc:
        return _not_yet_retried(exc)
    except Exception:
        return False
    return False


def _not_yet_retried(exc: BaseException) -> bool:
    return isinstance(exc, TransientApiError) and exc.attempts <= 1


# Keyword arguments for connector-facing tasks: two outer retries, jittered, for transient errors not yet retried.
TASK_RETRY: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [5, 30],
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_on_transient,
}
