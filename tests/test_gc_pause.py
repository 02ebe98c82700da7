"""The collector pauses for an import and comes back after the last of overlapping ones."""

from __future__ import annotations

import gc
import threading

from desktopviz.gc_pause import paused_gc


def test_nested_and_overlapping_pauses_restore_the_collector():
    assert gc.isenabled()
    entered, leave = threading.Event(), threading.Event()

    def other_job() -> None:
        with paused_gc():
            entered.set()
            leave.wait(10)

    t = threading.Thread(target=other_job)
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
        t.start()
        entered.wait(10)
    assert not gc.isenabled()  # the other job still runs
    leave.set()
    t.join(10)
    assert gc.isenabled()


def test_a_failing_job_gives_the_collector_back():
    try:
        with paused_gc():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()
