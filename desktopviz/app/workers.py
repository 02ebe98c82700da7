"""Run a core function in a thread pool and hear back through Qt signals on the UI thread.

Public API::

    worker = run_in_worker(fn, *args, on_result=..., on_error=..., on_progress=..., **kwargs)
    worker.cancel()

``fn`` is a plain core function. When it declares ``progress`` and/or ``cancel`` parameters
(the core's ``fn(..., progress=ProgressFn, cancel=CancelFn)`` habit) the worker passes them: the
progress reports reach ``on_progress(Progress)`` on the UI thread, and ``worker.cancel()`` makes
``cancel()`` return True so the function raises :class:`desktopviz.errors.Cancelled`.

Exactly one of these happens on the UI thread when ``fn`` ends:

* ``on_result(value)`` with what ``fn`` returned;
* ``on_error(exc)`` with the exception it raised (``Cancelled`` included: a cancelled job reports
  it as an error, so callers can tell "cancelled" from "done"; pass ``on_cancelled`` to get it
  separately instead).

``worker.finished`` is emitted after either, for "the job is over" bookkeeping. The worker keeps
itself alive until it finishes, so callers need not hold a reference (but may, to cancel).

A widget may be closed (and deleted) before its job ends: pass ``owner=self`` and the callbacks
are dropped once ``owner`` is deleted. Callbacks that are bound methods of a QObject are dropped
when that object is deleted, without ``owner``.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

from desktopviz.errors import Cancelled
from desktopviz.progress import Progress, ProgressFn

PROGRESS_INTERVAL = 0.04
"""Seconds between the progress reports a job sends to the UI thread (more would only queue)."""

_running: set[Worker] = set()
"""Workers that have started and not yet reported: kept alive here until they finish."""


class Worker(QObject):
    """One job in a thread: signals ``progressed(Progress)``, ``succeeded(object)``,
    ``failed(object)`` (the exception), ``cancelled()`` and ``finished()``; :meth:`cancel`."""

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._cancel_event = threading.Event()
        self._done_event = threading.Event()
        self._emitted = threading.Event()  # the worker thread is past its last emit
        self.result: Any = None
        self.error: BaseException | None = None

    def cancel(self) -> None:
        """Ask the job to stop: its ``cancel()`` callback returns True from now on."""
        self._cancel_event.set()

    @property
    def is_cancel_requested(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancel_event.is_set()

    @property
    def is_done(self) -> bool:
        """Whether the job has ended (its outcome signals are queued or delivered)."""
        return self._done_event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends in its thread (for shutdown); True if it did."""
        return self._done_event.wait(timeout)

    def run(self) -> None:
        """Run the job in the calling thread, emitting the outcome signals (queued to the
        receivers' threads by Qt)."""
        kwargs = dict(self._kwargs)
        accepted = _accepted_parameters(self._fn)
        if "progress" in accepted and "progress" not in kwargs:
            kwargs["progress"] = _every(PROGRESS_INTERVAL, self.progressed.emit)
        if "cancel" in accepted and "cancel" not in kwargs:
            kwargs["cancel"] = self._cancel_event.is_set
        try:
            self.result = self._fn(*self._args, **kwargs)
        except Cancelled as exc:
            self.error = exc
            self.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the UI
            self.error = exc
            self.failed.emit(exc)
        else:
            self.succeeded.emit(self.result)
        finally:
            self._done_event.set()
            self.finished.emit()
            self._emitted.set()


class _Runnable(QRunnable):
    def __init__(self, worker: Worker) -> None:
        super().__init__()
        self._worker = worker

    def run(self) -> None:
        self._worker.run()


def _accepted_parameters(fn: Callable[..., Any]) -> set[str]:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return set()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return {"progress", "cancel"}
    return {p.name for p in params}


def _guarded(callback: Callable[..., None] | None, owner: QObject | None) -> Any:
    """``callback``, skipped once ``owner`` (or the QObject it is a method of) is deleted."""
    if callback is None:
        return None
    targets = [t for t in (owner, getattr(callback, "__self__", None)) if isinstance(t, QObject)]
    if not targets:
        return callback

    def call(*args: Any) -> None:
        if all(shiboken6.isValid(t) for t in targets):
            callback(*args)

    return call


def run_in_worker(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    on_finished: Callable[[], None] | None = None,
    owner: QObject | None = None,
    pool: QThreadPool | None = None,
    **kwargs: Any,
) -> Worker:
    """Start ``fn(*args, **kwargs)`` in ``pool`` (the global pool by default) and return its
    :class:`Worker`.

    The callbacks run on the UI thread. ``on_cancelled`` gets a cancellation; without it a
    cancellation goes to ``on_error`` as a :class:`Cancelled`. ``progress``/``cancel`` are passed
    to ``fn`` when it accepts them (see the module docstring). Once ``owner`` is deleted the
    callbacks are no longer called.
    """
    worker = Worker(fn, *args, **kwargs)
    on_result, on_error, on_progress, on_cancelled, on_finished = (
        _guarded(c, owner) for c in (on_result, on_error, on_progress, on_cancelled, on_finished)
    )
    if on_progress is not None:
        worker.progressed.connect(on_progress)
    if on_result is not None:
        worker.succeeded.connect(on_result)
    if on_error is not None:
        worker.failed.connect(on_error)
    if on_cancelled is not None:
        worker.cancelled.connect(on_cancelled)
    elif on_error is not None:
        worker.cancelled.connect(lambda: on_error(worker.error or Cancelled()))
    if on_finished is not None:
        worker.finished.connect(on_finished)
    _running.add(worker)
    worker.finished.connect(lambda: _release(worker))
    app = QCoreApplication.instance()
    if app is not None:
        # Owned by the application, the worker is deleted on the UI thread by _release, never by
        # the pool thread dropping the last Python reference (a QObject deleted in another thread
        # while the UI thread delivers its queued signals crashes the process)
        worker.setParent(app)
    (pool or QThreadPool.globalInstance()).start(_Runnable(worker))
    return worker


def _release(worker: Worker) -> None:
    """On the UI thread, once ``finished`` is delivered (connected last, it runs after the other
    slots): wait until the worker thread is out of its last emit, then delete the worker here."""
    worker._emitted.wait(5)
    _running.discard(worker)
    if worker.parent() is not None:
        worker.deleteLater()


def _every(seconds: float, emit: ProgressFn) -> ProgressFn:
    """``emit`` at most once per ``seconds``, and always for a new stage or a finished one (a job
    reporting every file of 20,000 would otherwise flood the UI thread's queue)."""
    last = {"at": 0.0, "stage": None}

    def report(p: Progress) -> None:
        now = time.monotonic()
        finished = p.total is not None and p.done >= p.total
        if finished or p.stage != last["stage"] or now - last["at"] >= seconds:
            last["at"], last["stage"] = now, p.stage
            emit(p)

    return report
