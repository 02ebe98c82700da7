"""Sizes and times as people read them (the CLI's lines and the window's labels alike; no Qt).

Public API: :func:`human_size`, :func:`timestamp_text`, :func:`local_time_text`, :func:`age_text`.
"""

from __future__ import annotations

from datetime import UTC, datetime


def human_size(n: int) -> str:
    """``812 B``, ``8.6 MB``: a byte count for people (binary units)."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def timestamp_text(iso: str) -> str:
    """``2026-11-25 10:57:22``: an ISO timestamp for people (as stored, UTC)."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def _aware(iso: str) -> datetime | None:
    """The instant of an ISO timestamp (one without a zone is UTC, as the index stores them)."""
    try:
        then = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return then if then.tzinfo is not None else then.replace(tzinfo=UTC)


def local_time_text(iso: str) -> str:
    """An ISO timestamp in the local time zone, to the second."""
    then = _aware(iso)
    return iso if then is None else then.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def age_text(iso: str, now: datetime | None = None, suffix: str = " ago") -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 d ago``, else the local date (``suffix``
    follows the number: " ago", or "" where room is short)."""
    then = _aware(iso)
    if then is None:
        return iso
    seconds = ((now or datetime.now(UTC)) - then).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min{suffix}"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h{suffix}"
    if seconds < 30 * 86400:
        return f"{int(seconds // 86400)} d{suffix}"
    return then.astimezone().strftime("%Y-%m-%d")
