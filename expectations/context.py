"""One Great Expectations context per process, built on first use.

Importing GX costs about two seconds, so nothing here imports it at module level: flows that never
validate (and `prefect deploy`, which imports every flow module) must not pay for it. The context is
ephemeral because the frames live in memory and Prefect already keeps the run history; a file context
would only add state to keep consistent across workers.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition

__all__ = ["VALIDATION_LOCK", "frame_batch_definition"]

# GX's pandas engine caches batch data under one id per asset ("frames-batch"), so two threads
# validating at once could each read the other's frame. Gates take well under a second: serialise them.
VALIDATION_LOCK = threading.Lock()


@functools.cache
def frame_batch_definition() -> BatchDefinition:
    """The batch definition every gate validates its in-memory frame through; call under VALIDATION_LOCK."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Progress bars would write to stderr of every worker, once per gate.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return (
        context.data_sources.add_pandas("frames")
        .add_dataframe_asset("batch")
        .add_batch_definition_whole_dataframe("whole")
    )
