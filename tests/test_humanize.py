"""Sizes and times as people read them (no Qt; the CLI and the window share them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from desktopviz.humanize import age_text, human_size, local_time_text, timestamp_text


def test_sizes_in_binary_units():
    assert human_size(812) == "812 B"
    assert human_size(9_000_000) == "8.6 MB"
    assert human_size(5 * 1024**5) == "5120.0 TB"


def test_times_as_stored_and_local():
    assert timestamp_text("2026-11-25T10:57:22.123456") == "2026-11-25 10:57:22"
    assert timestamp_text("not a date") == "not a date"
    utc = datetime(2026, 11, 25, 10, 57, 22, tzinfo=UTC)
    assert local_time_text("2026-11-25T10:57:22") == utc.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert local_time_text("never") == "never"


def test_ages():
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert age_text((now - timedelta(seconds=5)).isoformat(), now) == "just now"
    assert age_text((now - timedelta(minutes=5)).isoformat(), now) == "5 min ago"
    assert age_text((now - timedelta(hours=3)).isoformat(), now, suffix="") == "3 h"
    assert age_text("2026-11-23T12:00:00", now) == "2 d ago"  # no zone: UTC
    old = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert age_text(old.isoformat(), now) == old.astimezone().strftime("%Y-%m-%d")
