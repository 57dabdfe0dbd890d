"""The collector's pace during runs: spaced out inside, the process's own thresholds back after the last run."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from common.collector import RUN_THRESHOLDS, run_pace


@pytest.fixture
def own_thresholds() -> Iterator[tuple[int, int, int]]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*saved)


def test_a_run_spaces_collections_out_and_gives_the_process_its_thresholds_back(
    own_thresholds: tuple[int, int, int],
) -> None:
    with run_pace():
        assert gc.get_threshold() == RUN_THRESHOLDS
    assert gc.get_threshold() == own_thresholds


def test_overlapping_runs_keep_the_pace_until_the_last_one_leaves(own_thresholds: tuple[int, int, int]) -> None:
    first, second = run_pace(), run_pace()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == RUN_THRESHOLDS  # the second run is still going
    second.__exit__(None, None, None)
    assert gc.get_threshold() == own_thresholds


def test_a_failing_run_still_gives_the_thresholds_back(own_thresholds: tuple[int, int, int]) -> None:
    with pytest.raises(RuntimeError), run_pace():
        raise RuntimeError("the run failed")
    assert gc.get_threshold() == own_thresholds
