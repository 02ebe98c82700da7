"""Progress reporting and cancellation for long core operations (no Qt)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desktopviz.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """A snapshot of a long operation: what stage, how far, how many bytes."""

    stage: str
    done: int = 0
    total: int | None = None
    bytes_done: int = 0
    bytes_total: int | None = None
    message: str = ""


ProgressFn = Callable[[Progress], None]
CancelFn = Callable[[], bool]


def no_progress(_: Progress) -> None:
    """A progress callback that ignores every report."""


def never_cancel() -> bool:
    """A cancel callback that never cancels."""
    return False


def check_cancel(cancel: CancelFn | None) -> None:
    """Raise :class:`Cancelled` when ``cancel()`` says so."""
    if cancel is not None and cancel():
        raise Cancelled()
