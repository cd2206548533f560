"""The tuned garbage collector used while generating: scoped, reentrant, and still collecting."""

from __future__ import annotations

import gc
import weakref

from jaxsynth.corpus.collector import YOUNG_THRESHOLD, tuned_collector


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_settings_apply_inside_and_are_restored_after():
    before = gc.get_threshold()
    with tuned_collector():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
        with tuned_collector():  # reentrant: the inner block changes nothing
            assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_restored_after_an_exception():
    before = gc.get_threshold()
    try:
        with tuned_collector():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_cycles_made_inside_are_still_collected_automatically():
    with tuned_collector():
        ref = weakref.ref(_Cycle())
        assert ref() is not None  # a reference cycle keeps it alive until a collection
        keep = [[] for _ in range(3 * YOUNG_THRESHOLD)]  # net allocations: past the young threshold
        assert ref() is None
        del keep
