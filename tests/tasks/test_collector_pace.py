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


def test_what_existed_before_a_run_is_not_walked_by_its_collections_and_is_collectable_after() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self  # a reference cycle: only the collector frees it

    before = Node()
    with run_pace():
        assert gc.is_tracked(before) and gc.get_freeze_count() > 0  # frozen: the run's collections skip it
        during = Node()
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0  # unfrozen when the last run leaves
    ids = {id(before), id(during)}
    del before, during
    gc.collect()
    assert not any(id(obj) in ids for obj in gc.get_objects())
