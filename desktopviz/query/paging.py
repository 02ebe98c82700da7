"""Paging a large result for a view: pages of rows kept around the viewport, and the *window* of
result rows exposed to a view that addresses rows with ints and lays them out in int pixels
(no Qt: the table model calls these).

A window of ``rows`` rows starting at result row ``start`` shows result row ``start + i`` as view
row ``i``; it holds at most :data:`ROW_LIMIT` rows, or what fits in 2**31 pixels at the row
height, and the view moves it with its own scroll bar.

Public API: :class:`Page`, :class:`PageCache`, :class:`Window`, :func:`window_size`, and the
defaults ``PAGE_ROWS``, ``MAX_PAGES``, ``ROW_LIMIT``, ``MIN_WINDOW``, ``PIXEL_LIMIT``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from desktopviz.formats.image_cells import ImageCell

PAGE_ROWS = 128
"""Rows read at a time."""
MAX_PAGES = 24
"""Pages kept (those farthest from the viewport are dropped first)."""
ROW_LIMIT = 2_000_000
"""Rows exposed to the view at most (the window); larger results are windowed."""
PIXEL_LIMIT = 2**31 - 1
"""The view's pixel range (Qt's int)."""
MIN_WINDOW = 200
"""A window holds at least this many rows (or all of them)."""


@dataclass
class Page:
    """Rows ``start .. start+len`` of the result: values and display texts per column."""

    start: int
    values: list[list[Any]]
    texts: list[list[str]]
    cells: dict[int, list[Any]]
    """Per media column, each row's :class:`ImageCell` (a gallery's: a list of them) or None."""
    error: str | None = None
    paint: dict[int, list[tuple[str, str, bool]]] = field(default_factory=dict)
    """Per column, what painting needs of each row (made on first paint)."""

    @property
    def row_count(self) -> int:
        """How many rows the page holds."""
        return len(self.values[0]) if self.values else 0

    def images(self) -> list[ImageCell]:
        """The image cells of the page (a gallery's one by one)."""
        seen: list[ImageCell] = []
        for cells in self.cells.values():
            for c in cells:
                if isinstance(c, list):
                    seen.extend(c)
                elif c is not None:
                    seen.append(c)
        return seen


class PageCache:
    """Pages of one result by their first row, at most ``max_pages`` of them: the ones farthest
    from the viewport are dropped first, never one on screen."""

    def __init__(self, page_rows: int = PAGE_ROWS, max_pages: int = MAX_PAGES) -> None:
        self.page_rows = page_rows
        self.max_pages = max(4, max_pages)
        self._pages: dict[int, Page] = {}

    def start_of(self, row: int) -> int:
        """The first row of the page holding ``row``."""
        return row - row % self.page_rows

    def page(self, row: int) -> Page | None:
        """The page holding result row ``row`` (None when not cached)."""
        return self._pages.get(row - row % self.page_rows)

    def __contains__(self, page_start: object) -> bool:
        return page_start in self._pages

    def __len__(self) -> int:
        return len(self._pages)

    def __iter__(self) -> Iterator[Page]:
        return iter(self._pages.values())

    def first(self) -> Page | None:
        """The cached page of the lowest rows."""
        return self._pages[min(self._pages)] if self._pages else None

    def cached_rows(self) -> int:
        """Rows held now."""
        return sum(p.row_count for p in self._pages.values())

    def clear(self) -> None:
        """Forget every page (a new result)."""
        self._pages.clear()

    def add(self, page: Page, viewport: tuple[int, int] | None = None) -> None:
        """Keep a page; beyond ``max_pages``, drop the pages farthest from the ``viewport``
        (first and last result rows on screen) that are off screen."""
        self._pages[page.start] = page
        if len(self._pages) <= self.max_pages or viewport is None:
            return
        first, last = viewport
        middle = (first + last) / 2
        by_distance = sorted(self._pages, key=lambda s: abs(s + self.page_rows / 2 - middle))
        for start in by_distance[self.max_pages :]:
            if start + self.page_rows <= first or start > last:
                del self._pages[start]

    def plan(
        self, first: int, last: int, total_rows: int
    ) -> tuple[list[int], Callable[[int], bool]]:
        """For result rows ``first .. last`` on screen: the first rows of the pages to read, in
        the order to submit them (pages on screen last: a queue reading the newest first reads
        them first; one page on each side before), and whether a queued page is still wanted
        (within two pages of the screen). Cached pages are left out."""
        step = self.page_rows
        start = max(0, first - step) // step * step
        stop = min(total_rows - 1, last + step)
        visible = range(first - first % step, last + 1, step)
        order = [s for s in range(start, stop + 1, step) if s not in visible]
        order += [s for s in reversed(visible) if s < total_rows]
        wanted_first, wanted_last = first - 2 * step, last + 2 * step

        def wanted(page_start: int) -> bool:
            return wanted_first <= page_start + step and page_start <= wanted_last

        return [s for s in order if s not in self._pages], wanted


def window_size(total_rows: int, row_limit: int, row_height: int) -> int:
    """Rows a window holds: all of them, or at most ``row_limit`` and what fits in the view's
    pixel range at ``row_height`` (with room to spare), and at least ``MIN_WINDOW``."""
    fits = PIXEL_LIMIT // max(1, row_height) // 2
    return min(total_rows, max(MIN_WINDOW, min(row_limit, fits)))


@dataclass(frozen=True)
class Window:
    """Result rows ``start .. start+rows`` of ``total`` shown as view rows ``0 .. rows``."""

    start: int
    rows: int
    total: int

    @property
    def windowed(self) -> bool:
        """Whether only some of the result's rows are in the window."""
        return self.rows < self.total

    def result_row(self, view_row: int) -> int:
        """The result row shown at a view row."""
        return self.start + view_row

    def view_row(self, result_row: int) -> int | None:
        """The view row showing a result row (None when outside the window)."""
        row = result_row - self.start
        return row if 0 <= row < self.rows else None

    def clamp(self, start: int) -> int:
        """The start nearest ``start`` that keeps the window inside the result."""
        return max(0, min(start, self.total - self.rows))

    def moved(self, start: int) -> Window:
        """The same window starting at ``start`` (clamped)."""
        return Window(self.clamp(start), self.rows, self.total)

    def resized(self, rows: int) -> Window:
        """The window holding ``rows`` rows, its start clamped to stay inside the result."""
        return Window(min(self.start, max(0, self.total - rows)), rows, self.total)

    def follow(self, view_row: int, new: Window) -> int | None:
        """Where a view row of this window is in ``new`` (None when its result row left it)."""
        return new.view_row(self.result_row(view_row))

    def centred_on(self, result_row: int, margin: int = 0) -> tuple[Window, int]:
        """The window to show ``result_row`` with ``margin`` rows to spare (this one if it
        already does, else one centred on it), and the view row showing it there."""
        result_row = max(0, min(result_row, self.total - 1))
        low = self.start + (margin if self.start > 0 else 0)
        end = self.start + self.rows
        high = end - (margin if end < self.total else 0)
        window = self if low <= result_row < high else self.moved(result_row - self.rows // 2)
        return window, result_row - window.start

    def view_rows(self, first: int, count: int) -> range:
        """The view rows showing result rows ``first .. first+count`` (empty when none)."""
        return range(max(first - self.start, 0), min(first + count - self.start, self.rows))
